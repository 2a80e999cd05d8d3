"""What a person must do today (今日待办), by role: the to-do card on every home.

Each entry counts open work the viewer is the one to do, with the earliest due date and how many
are past it; entries with nothing to do are left out, so an empty list means "nothing waits for
you". The counts follow the same scope rules as the lists they open."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from backend.accounts import capabilities
from backend.accounts.tables import Certificate, User
from backend.actions.tables import Action, ActionOfficer
from backend.alerts.tables import Alert
from backend.cases.tables import Case, CaseClock
from backend.channels.tables import ChannelItem
from backend.corrective.tables import CorrectiveAction
from backend.documents import services as documents
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.reports.tables import Report
from backend.supervision.tables import Nomination, SpotCheck

CLOCK_HORIZON_DAYS = 7  # a statutory clock shows up this many calendar days before it is due
CERTIFICATE_HORIZON_DAYS = 30  # an admin renews a certificate in its last month


class Todo(msgspec.Struct):
    key: str  # what to do, e.g. spot_checks.to_answer (the PWA names it and links its list)
    count: int
    overdue: int = 0  # of them, past their due date or time
    due: str | None = None  # the earliest due date (YYYY-MM-DD) or time (ISO 8601), when they have one
    first: uuid.UUID | None = None  # the id of the one due first, to open it straight away


class Today(msgspec.Struct):
    items: list[Todo]
    as_of: datetime


def _none() -> list[uuid.UUID]:
    return [uuid.UUID(int=0)]


def _dated(key: str, rows: list[dict[str, Any]], column: str, now: date | datetime) -> Todo | None:
    if not rows:
        return None
    dated = sorted((r for r in rows if r[column] is not None), key=lambda r: r[column])
    return Todo(
        key=key,
        count=len(rows),
        overdue=sum(1 for r in dated if r[column] < now),
        due=dated[0][column].isoformat() if dated else None,
        first=dated[0]["id"] if dated else None,
    )


def _counted(key: str, count: int) -> Todo | None:
    return Todo(key=key, count=count) if count else None


# --- what each role does -------------------------------------------------------------------------


async def _officer(viewer: CurrentUser, now: datetime, today: date) -> list[Todo | None]:
    units = sorted(viewer.unit_ids) or _none()
    checks = await SpotCheck.select(SpotCheck.id, SpotCheck.due_at).where(
        (SpotCheck.officer_id == viewer.id) & (SpotCheck.status == "requested")
    )
    tasks = await CorrectiveAction.select(CorrectiveAction.id, CorrectiveAction.due_on).where(
        (CorrectiveAction.assignee_user_id == viewer.id) & (CorrectiveAction.status == "open")
    )
    recordings = await Action.count().where(
        Action.recording_required.eq(True)
        & Action.recording_at.is_null()
        & Action.id.is_in(
            ActionOfficer.select(ActionOfficer.action).where(ActionOfficer.officer == viewer.id)
        )
    )
    clocks = await CaseClock.select(CaseClock.case.as_alias("id"), CaseClock.due_on).where(
        CaseClock.unit.is_in(units)
        & (CaseClock.status == "running")
        & (CaseClock.due_on <= today + timedelta(days=CLOCK_HORIZON_DAYS))
    )
    return [
        _dated("spot_checks.to_answer", checks, "due_at", now),
        _dated("tasks.assigned", tasks, "due_on", today),
        _counted("recordings.missing", recordings),
        _dated("clocks.due_soon", clocks, "due_on", today),
    ]


async def _reviewer(viewer: CurrentUser, now: datetime, today: date) -> list[Todo | None]:
    units = sorted(viewer.unit_ids) or _none()
    waiting = await Case.count().where(Case.unit.is_in(units) & (Case.status == "review"))
    return [_counted("reviews.waiting", waiting)]


async def _responder(viewer: CurrentUser, now: datetime, today: date) -> list[Todo | None]:
    units = sorted(await capabilities.responder_units(viewer.id))
    if not units:
        return []
    counted = await documents.counts(viewer)
    tasks = await CorrectiveAction.select(CorrectiveAction.id, CorrectiveAction.due_on).where(
        CorrectiveAction.assignee_user_id.is_null()
        & CorrectiveAction.unit_id.is_in(units)
        & (CorrectiveAction.status == "open")
    )
    explain = await ChannelItem.count().where(
        ChannelItem.unit_id.is_in(units) & (ChannelItem.status == "forwarded")
    )
    reports = await Report.select(Report.id, Report.due_on).where(
        Report.unit_id.is_in(units)
        & (Report.kind == "monthly")
        & (Report.status == "draft")
        & (Report.period_to <= today)
    )
    answer = (
        Todo(key="documents.to_answer", count=counted.awaiting, overdue=counted.overdue)
        if counted.awaiting
        else None
    )
    return [
        answer,
        _dated("tasks.unit", tasks, "due_on", today),
        _counted("channels.to_explain", explain),
        _dated("reports.due", reports, "due_on", today),
    ]


async def _checker(viewer: CurrentUser, now: datetime, today: date) -> list[Todo | None]:
    """Invited supervisors review the answers to their own checks; the bureau reviews all."""
    mine: Any = SpotCheck.status == "submitted"
    if not viewer.has_any("supervisor"):
        mine = mine & (SpotCheck.requested_by == viewer.id)
    return [_counted("spot_checks.to_review", await SpotCheck.count().where(mine))]


async def _bureau(viewer: CurrentUser, now: datetime, today: date) -> list[Todo | None]:
    counted = await documents.counts(viewer)
    appeals = await SpotCheck.select(SpotCheck.appeal).where(SpotCheck.appeal.is_not_null())
    pending = sum(1 for r in appeals if isinstance(r["appeal"], dict) and r["appeal"].get("decision") is None)
    return [
        _counted("appeals.to_decide", pending),
        _counted("documents.to_accept", counted.to_review),
        _counted("documents.overdue", counted.overdue),
        _counted("reports.to_accept", await Report.count().where(Report.status == "submitted")),
        _counted("channels.new", await ChannelItem.count().where(ChannelItem.status == "new")),
        _counted("nominations.received", await Nomination.count().where(Nomination.status == "received")),
    ]


async def _admin(viewer: CurrentUser, now: datetime, today: date) -> list[Todo | None]:
    expiring = await Certificate.select(Certificate.user.as_alias("id"), Certificate.expires_on).where(
        (Certificate.status == "valid")
        & (Certificate.expires_on <= today + timedelta(days=CERTIFICATE_HORIZON_DAYS))
        & (Certificate.expires_on >= today)
    )
    locked = await User.count().where(User.locked_until > now)
    return [
        _dated("certificates.expiring", expiring, "expires_on", today),
        _counted("accounts.locked", locked),
    ]


async def _command(viewer: CurrentUser, now: datetime, today: date) -> list[Todo | None]:
    return [_counted("alerts.open", await Alert.count().where(Alert.status == "open"))]


Part = Callable[[CurrentUser, datetime, date], Awaitable[list[Todo | None]]]
PARTS: list[tuple[tuple[str, ...], Part]] = [
    (("officer",), _officer),
    (("legal_reviewer",), _reviewer),
    (("officer", "legal_reviewer", "supervisor", "admin"), _responder),
    (("supervisor", "invited_supervisor"), _checker),
    (("supervisor",), _bureau),
    (("admin",), _admin),
    (("command",), _command),
]


async def today_for(viewer: CurrentUser) -> Today:
    now, today = utcnow(), today_local()
    items: list[Todo] = []
    for roles, part in PARTS:
        if viewer.has_any(*roles):
            items.extend(todo for todo in await part(viewer, now, today) if todo is not None)
    return Today(items=items, as_of=now)
