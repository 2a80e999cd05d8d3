"""Supervision channels: liaison reports, petitions, lawsuits / reconsideration cases and their
outcomes, the answers to transfers (移送), one supervisor inbox, the 两法衔接 check and the counts.

Who sees what (a foreign object is 404, a list outside one's role 403):

- the bureau (supervisor, admin) sees and triages everything;
- a liaison sees their own reports only, and of them the status, the resolution and the reply;
- petition-office and court users see the registrations of their own unit(s);
- the unit concerned (its officers, legal reviewers and named responders) sees a report once it is
  forwarded, and the petitions and lawsuits about it; never who reported anonymously;
- procuratorate and public-security users see the transfers addressed to their organ.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import operator
import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec
from piccolo.query.functions.aggregate import Count

from backend.accounts import capabilities
from backend.accounts.tables import Membership, User
from backend.actions import services as actions
from backend.actions.tables import Action
from backend.alerts.services import raise_alert
from backend.audit import services as audit
from backend.cases import clocks as case_clocks
from backend.cases import services as cases
from backend.cases.tables import Case
from backend.channels import schemas
from backend.channels.tables import (
    REVERSING,
    ChannelItem,
    ChannelOutcome,
    ChannelStep,
    LiaisonPoint,
    TransferAnswer,
)
from backend.corrective import schemas as corrective_schemas
from backend.corrective import services as corrective
from backend.db import atomic, is_unique_violation, json_value
from backend.documents import schemas as document_schemas
from backend.documents import services as documents
from backend.evidence.parents import Parent
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, today_local, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.idempotency import mismatch, resource_id
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.live.publish import Publisher
from backend.org.tables import Item, Unit
from backend.publication import services as publication
from backend.settings import Settings

PARENT_TYPE = "channel_item"
BUREAU = ("supervisor", "admin")
REGISTRANT_KIND = {"petition_office": "petition", "court": "lawsuit"}
ORGAN_ROLES = ("procuratorate", "public_security")
API = "/api/v1/channels"
_log = logging.getLogger(__name__)


def _field(key: str, message: str, error: Any = Errors.VALIDATION) -> AppError:
    return AppError(error, message, errors=[{"key": key, "message": message}])


def _not_found() -> AppError:
    return AppError(Errors.NOT_FOUND, "No such channel item.")


# --- who sees what ------------------------------------------------------------------------------


def is_bureau(viewer: CurrentUser) -> bool:
    return viewer.has_any(*BUREAU)


async def _unit_scope(viewer: CurrentUser) -> set[uuid.UUID]:
    """The units whose forwarded reports the viewer sees and answers: its responder units and,
    for enforcement staff, their own units (as for corrective actions)."""
    units = await capabilities.responder_units(viewer.id)
    if viewer.has_any("officer", "legal_reviewer"):
        units |= set(viewer.unit_ids)
    return units


class Scope:
    """What one viewer may see, computed once per request."""

    def __init__(self, viewer: CurrentUser, units: set[uuid.UUID]) -> None:
        self.viewer = viewer
        self.bureau = is_bureau(viewer)
        self.units = units  # as the unit concerned
        self.registers = {REGISTRANT_KIND[r] for r in REGISTRANT_KIND if viewer.has_any(r)}

    def reporter(self, row: dict[str, Any]) -> bool:
        return row["reporter_id"] == self.viewer.id

    def registrant(self, row: dict[str, Any]) -> bool:
        return row["kind"] in self.registers and row["registrant_unit_id"] in self.viewer.unit_ids

    def concerned(self, row: dict[str, Any]) -> bool:
        """The unit concerned: a report once forwarded, a petition or lawsuit at once."""
        if row["unit_id"] is None or row["unit_id"] not in self.units:
            return False
        return row["kind"] != "report" or row["forwarded_at"] is not None

    def may_view(self, row: dict[str, Any]) -> bool:
        return self.bureau or self.reporter(row) or self.registrant(row) or self.concerned(row)

    def hides_reporter(self, row: dict[str, Any]) -> bool:
        """The unit (and anyone not the bureau or the reporter) never learns an anonymous reporter."""
        return row["anonymous"] and not (self.bureau or self.reporter(row))

    def sees_evidence(self, row: dict[str, Any]) -> bool:
        # Photos carry the uploader in their watermark and custody: not for the unit when anonymous.
        return self.may_view(row) and not self.hides_reporter(row)

    def sees_triage(self, row: dict[str, Any]) -> bool:
        """The reporter is told status, resolution and reply, not the bureau's exchange with the unit."""
        return self.bureau or self.registrant(row) or self.concerned(row)


async def _scope(viewer: CurrentUser) -> Scope:
    return Scope(viewer, await _unit_scope(viewer))


def _allowed(scope: Scope, row: dict[str, Any]) -> list[str]:
    steps: list[str] = []
    status = row["status"]
    if scope.bureau and status != "closed":
        steps += ["assign", "dismiss", "note", "document", "corrective"]
        if status in ("new", "assigned", "explained"):
            steps.append("forward")  # an item naming no unit takes one with the step
    if status == "forwarded" and scope.concerned(row):
        steps.append("explain")
    if scope.reporter(row) and status == "new":
        steps.append("attach")
    if row["kind"] != "report" and (scope.registrant(row) or scope.bureau):
        steps.append("outcome")
    return steps


# --- views --------------------------------------------------------------------------------------


def _outcome_view(row: dict[str, Any]) -> schemas.Outcome:
    return schemas.Outcome(
        id=row["id"],
        outcome=row["outcome"],
        decided_on=row["decided_on"],
        decision_number=row["decision_number"],
        note=row["note"],
        reverses=row["outcome"] in REVERSING and not row["superseded"],
        supersedes_id=row["supersedes_id"],
        superseded=row["superseded"],
        entered_at=row["entered_at"],
    )


async def _names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(list(ids)))
    return {r["id"]: r["display_name"] for r in rows}


async def _unit_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await Unit.select(Unit.id, Unit.name).where(Unit.id.is_in(list(ids)))
    return {r["id"]: r["name"] for r in rows}


async def _views(scope: Scope, rows: list[dict[str, Any]]) -> list[schemas.Item]:
    ids = [r["id"] for r in rows]
    outcomes: dict[uuid.UUID, list[schemas.Outcome]] = defaultdict(list)
    evidence: dict[uuid.UUID, list[str]] = defaultdict(list)
    if ids:
        for o in (
            await ChannelOutcome.select()
            .where(ChannelOutcome.item_id.is_in(ids))
            .order_by(ChannelOutcome.entered_at)
        ):
            outcomes[o["item_id"]].append(_outcome_view(o))
        for e in (
            await Evidence.select(Evidence.id, Evidence.parent_id)
            .where((Evidence.parent_type == PARENT_TYPE) & Evidence.parent_id.is_in(ids))
            .order_by(Evidence.received_at)
        ):
            evidence[e["parent_id"]].append(str(e["id"]))
    names = await _names({r["reporter_id"] for r in rows if not scope.hides_reporter(r)})
    units = await _unit_names({r["unit_id"] for r in rows if r["unit_id"]})
    out = []
    for r in rows:
        hidden, triage = scope.hides_reporter(r), scope.sees_triage(r)
        location = {"lat": r["lat"], "lon": r["lon"]} if r["lat"] is not None else None
        out.append(
            schemas.Item(
                id=r["id"],
                kind=r["kind"],
                category=r["category"],
                title=r["title"],
                description=r["description"],
                occurred_at=r["occurred_at"],
                location=location,
                address=r["address"],
                unit_id=r["unit_id"],
                unit_name=units.get(r["unit_id"]) if r["unit_id"] else None,
                officer_ids=[str(o) for o in json_value(r["officer_ids"], [])],
                officer_text=r["officer_text"],
                action_id=r["action_id"],
                case_id=r["case_id"],
                anonymous=r["anonymous"],
                reporter_id=None if hidden else r["reporter_id"],
                reporter_name=None if hidden else names.get(r["reporter_id"]),
                registrant_unit_id=r["registrant_unit_id"],
                reference=r["reference"],
                received_on=r["received_on"],
                status=r["status"],
                assignee_id=r["assignee_id"] if triage else None,
                question=r["question"] if triage else None,
                forwarded_at=r["forwarded_at"],
                explanation=r["explanation"] if triage else None,
                explained_at=r["explained_at"] if triage else None,
                resolution=r["resolution"],
                resolution_ref=r["resolution_ref"] if triage or r["resolution"] == "document" else None,
                reason=r["reason"],
                reply=r["reply"],
                closed_at=r["closed_at"],
                created_at=r["created_at"],
                outcomes=outcomes[r["id"]],
                reversed=any(o.reverses for o in outcomes[r["id"]]),
                evidence_ids=evidence[r["id"]] if scope.sees_evidence(r) else [],
                allowed=_allowed(scope, r),
            )
        )
    return out


async def _fresh(item_id: uuid.UUID) -> dict[str, Any]:
    row = await ChannelItem.select().where(ChannelItem.id == item_id).first()
    assert row is not None
    return row


def _may_view(scope: Scope, row: dict[str, Any]) -> bool:
    return scope.may_view(row)


async def _row(viewer: CurrentUser, item_id: uuid.UUID) -> tuple[dict[str, Any], Scope]:
    row = await ChannelItem.select().where(ChannelItem.id == item_id).first()
    scope = await _scope(viewer)
    if row is None or not _may_view(scope, row):
        raise _not_found()
    return row, scope


async def visible_item(viewer: CurrentUser, item_id: uuid.UUID) -> dict[str, Any]:
    return (await _row(viewer, item_id))[0]


async def _step(item_id: uuid.UUID, step: str, actor: CurrentUser | None, data: dict[str, Any]) -> None:
    await ChannelStep.insert(
        ChannelStep(id=uuid.uuid4(), item_id=item_id, step=step, by=actor.id if actor else None, data=data)
    ).run()


async def _publish(events: Publisher, row: dict[str, Any], change: str) -> None:
    """The bureau always hears of it; the unit only once it may see the item; the reporter of their own."""
    data = {"id": str(row["id"]), "kind": row["kind"], "status": row["status"], "change": change}
    await events.publish("channel_item.updated", None, data)  # unit-less: the all-seeing roles
    if row["unit_id"] is not None and (row["kind"] != "report" or row["forwarded_at"] is not None):
        await events.publish("channel_item.updated", row["unit_id"], data)
    await events.publish("channel_item.updated", None, data, to=row["reporter_id"])


async def get_item(viewer: CurrentUser, item_id: uuid.UUID) -> schemas.Item:
    row, scope = await _row(viewer, item_id)
    return (await _views(scope, [row]))[0]


async def history(viewer: CurrentUser, item_id: uuid.UUID) -> list[schemas.Step]:
    """The item's steps as the viewer may see them: the unit never sees who reported anonymously,
    the reporter sees the report and its closing only."""
    row, scope = await _row(viewer, item_id)
    steps = await ChannelStep.select().where(ChannelStep.item_id == item_id).order_by(ChannelStep.at)
    if not scope.sees_triage(row):
        steps = [s for s in steps if s["step"] in ("reported", "closed")]
    names = await _names({s["by"] for s in steps if s["by"]})
    out = []
    for s in steps:
        hidden = scope.hides_reporter(row) and s["by"] == row["reporter_id"]
        out.append(
            schemas.Step(
                step=s["step"],
                at=s["at"],
                by=None if hidden else s["by"],
                by_name=None if hidden or s["by"] is None else names.get(s["by"]),
                data=json_value(s["data"], {}),
            )
        )
    return out


# --- listing and export -------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def _period(query: Any, column: Any, since: date | None, until: date | None) -> Any:
    """[since, until] as Beijing dates, both included."""
    if since is not None and until is not None and since > until:
        raise _field("from", "from must not be after to.")
    if since is not None:
        query = query.where(column >= _day_start(since))
    if until is not None:
        query = query.where(column < _day_start(until + timedelta(days=1)))
    return query


def _scoped(query: Any, scope: Scope) -> Any:
    if scope.bureau:
        return query
    viewer = scope.viewer
    none = [uuid.UUID(int=0)]
    condition: Any = ChannelItem.reporter_id == viewer.id
    if scope.registers:
        condition = condition | (
            ChannelItem.kind.is_in(sorted(scope.registers))
            & ChannelItem.registrant_unit_id.is_in(sorted(viewer.unit_ids) or none)
        )
    if scope.units:
        condition = condition | (
            ChannelItem.unit_id.is_in(sorted(scope.units))
            & ((ChannelItem.kind != "report") | ChannelItem.forwarded_at.is_not_null())
        )
    return query.where(condition)


def _require_lister(scope: Scope) -> None:
    viewer = scope.viewer
    if not (scope.bureau or scope.registers or scope.units or viewer.has_any("liaison")):
        raise AppError(Errors.FORBIDDEN, "Your role does not give access to the supervision channels.")


ITEM_STATUSES = ("new", "assigned", "forwarded", "explained", "closed")


async def _filtered(
    viewer: CurrentUser,
    *,
    kind: str | None = None,
    status: str | None = None,
    unit_id: uuid.UUID | None = None,
    category: str | None = None,
    outcome: str | None = None,
    reversed_only: bool = False,
    since: date | None = None,
    until: date | None = None,
) -> tuple[Any, Scope]:
    scope = await _scope(viewer)
    _require_lister(scope)
    query = _scoped(ChannelItem.select(), scope)
    if kind is not None:
        if kind not in ("report", "petition", "lawsuit"):
            raise _field("kind", "kind must be report, petition or lawsuit.")
        query = query.where(ChannelItem.kind == kind)
    if status is not None:
        if status not in (*ITEM_STATUSES, "open"):
            raise _field("status", f"status must be one of {', '.join((*ITEM_STATUSES, 'open'))}.")
        query = query.where(
            ChannelItem.status != "closed" if status == "open" else ChannelItem.status == status
        )
    if unit_id is not None:
        query = query.where(ChannelItem.unit_id == unit_id)
    if category is not None:
        query = query.where(ChannelItem.category == category)
    if outcome is not None or reversed_only:
        outcomes = [outcome] if outcome is not None else list(REVERSING)
        if outcome is not None and reversed_only and outcome not in REVERSING:
            outcomes = []
        matching = await ChannelOutcome.select(ChannelOutcome.item_id).where(
            ChannelOutcome.outcome.is_in(outcomes or ["-"]) & (ChannelOutcome.superseded == False)  # noqa: E712
        )
        query = query.where(ChannelItem.id.is_in([m["item_id"] for m in matching] or [uuid.UUID(int=0)]))
    query = _period(query, ChannelItem.created_at, since, until)
    return query, scope


async def list_items(
    viewer: CurrentUser, cursor: str | None, limit: int, **filters: Any
) -> Page[schemas.Item]:
    """The inbox for the bureau; everyone else's own slice of it."""
    query, scope = await _filtered(viewer, **filters)
    query = (
        query.order_by(ChannelItem.created_at, ascending=False)
        .order_by(ChannelItem.id, ascending=False)
        .limit(limit + 1)
    )
    after = newest_first_after(ChannelItem.created_at, ChannelItem.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = await _views(scope, rows[:limit])
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


EXPORT_COLUMNS = (
    "id",
    "kind",
    "category",
    "title",
    "description",
    "unit_name",
    "reference",
    "status",
    "resolution",
    "reply",
    "reporter_name",
    "created_at",
    "closed_at",
)


async def export_csv(viewer: CurrentUser, **filters: Any) -> str:
    """The same rows as the list (at most 5000), as CSV; an anonymous reporter stays blank for the unit."""
    query, scope = await _filtered(viewer, **filters)
    rows = await query.order_by(ChannelItem.created_at, ascending=False).limit(5000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for item in await _views(scope, rows):
        writer.writerow([_cell(getattr(item, k)) for k in EXPORT_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula (=, +, -, @) is quoted with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- liaison points -----------------------------------------------------------------------------


def _point_view(row: dict[str, Any], names: dict[uuid.UUID, str]) -> schemas.Point:
    today = today_local()
    active = row["active_from"] <= today and (row["active_to"] is None or row["active_to"] >= today)
    return schemas.Point(
        id=row["id"],
        organisation=row["organisation"],
        address=row["address"],
        liaison_user_id=row["liaison_user_id"],
        liaison_name=names.get(row["liaison_user_id"]),
        active_from=row["active_from"],
        active_to=row["active_to"],
        active=active,
        created_at=row["created_at"],
    )


async def _check_liaison(user_id: uuid.UUID) -> None:
    user = await User.select(User.roles).where(User.id == user_id).first()
    if user is None or " liaison " not in user["roles"]:
        raise _field(
            "liaison_user_id", "The liaison must be a user with the liaison role.", Errors.USER_NOT_FOUND
        )


def _check_period(active_from: date, active_to: date | None) -> None:
    if active_to is not None and active_to < active_from:
        raise _field("active_to", "active_to must not be before active_from.")


async def create_point(actor: CurrentUser, data: schemas.PointCreate) -> schemas.Point:
    await _check_liaison(data.liaison_user_id)
    _check_period(data.active_from, data.active_to)
    point_id = uuid.uuid4()
    async with atomic():
        await LiaisonPoint.insert(
            LiaisonPoint(
                id=point_id,
                organisation=data.organisation,
                address=data.address,
                liaison_user_id=data.liaison_user_id,
                active_from=data.active_from,
                active_to=data.active_to,
                created_by=actor.id,
            )
        ).run()
        await audit.record(
            actor,
            "liaison_point.created",
            "liaison_point",
            point_id,
            {"organisation": data.organisation, "liaison_user_id": str(data.liaison_user_id)},
        )
    row = await LiaisonPoint.select().where(LiaisonPoint.id == point_id).first()
    assert row is not None
    return _point_view(row, await _names({row["liaison_user_id"]}))


async def update_point(actor: CurrentUser, point_id: uuid.UUID, data: schemas.PointUpdate) -> schemas.Point:
    row = await LiaisonPoint.select().where(LiaisonPoint.id == point_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such liaison point.")
    changes: dict[Any, Any] = {}
    for name in ("organisation", "address", "liaison_user_id", "active_from", "active_to"):
        value = getattr(data, name)
        if value is not msgspec.UNSET:
            changes[name] = value
    if "liaison_user_id" in changes:
        await _check_liaison(changes["liaison_user_id"])
    _check_period(
        changes.get("active_from") or row["active_from"], changes.get("active_to", row["active_to"])
    )
    if changes:
        async with atomic():
            await (
                LiaisonPoint.update({getattr(LiaisonPoint, k): v for k, v in changes.items()})
                .where(LiaisonPoint.id == point_id)
                .run()
            )
            await audit.record(
                actor,
                "liaison_point.updated",
                "liaison_point",
                point_id,
                {k: str(v) if v is not None else None for k, v in changes.items()},
            )
    row = await LiaisonPoint.select().where(LiaisonPoint.id == point_id).first()
    assert row is not None
    return _point_view(row, await _names({row["liaison_user_id"]}))


async def list_points(viewer: CurrentUser) -> list[schemas.Point]:
    """The bureau sees every point; a liaison their own."""
    query = LiaisonPoint.select().order_by(LiaisonPoint.organisation)
    if not is_bureau(viewer):
        if not viewer.has_any("liaison"):
            raise AppError(Errors.FORBIDDEN, "Your role does not give access to liaison points.")
        query = query.where(LiaisonPoint.liaison_user_id == viewer.id)
    rows = await query
    names = await _names({r["liaison_user_id"] for r in rows})
    return [_point_view(r, names) for r in rows]


async def _active_point(liaison_id: uuid.UUID) -> uuid.UUID | None:
    today = today_local()
    rows = await LiaisonPoint.select(LiaisonPoint.id, LiaisonPoint.active_to).where(
        (LiaisonPoint.liaison_user_id == liaison_id) & (LiaisonPoint.active_from <= today)
    )
    for r in rows:
        if r["active_to"] is None or r["active_to"] >= today:
            return r["id"]
    return None


# --- reports and registrations ------------------------------------------------------------------


async def _check_officers(unit_id: uuid.UUID | None, officer_ids: list[uuid.UUID]) -> list[str]:
    if not officer_ids:
        return []
    if unit_id is None:
        raise _field("officer_ids", "Name the unit of the officers (unit_id).")
    members = {
        m["user"]
        for m in await Membership.select(Membership.user).where(
            Membership.user.is_in(officer_ids) & (Membership.unit == unit_id)
        )
    }
    for i, officer_id in enumerate(officer_ids):
        if officer_id not in members:
            raise _field(f"officer_ids[{i}]", "Not an officer of the unit.", Errors.USER_NOT_FOUND)
    return [str(o) for o in dict.fromkeys(officer_ids)]


async def _check_unit(unit_id: uuid.UUID | None) -> None:
    if unit_id is not None and not await Unit.exists().where(Unit.id == unit_id):
        raise _field("unit_id", "No such unit.", Errors.UNIT_NOT_FOUND)


def _text(value: str, key: str) -> str:
    if "\x00" in value:
        raise _field(key, f"{key} contains a NUL character.")
    return value.strip()


async def _rate_limit(actor: CurrentUser, settings: Settings) -> None:
    since = utcnow() - timedelta(hours=1)
    recent = await ChannelItem.count().where(
        (ChannelItem.reporter_id == actor.id)
        & (ChannelItem.kind == "report")
        & (ChannelItem.created_at >= since)
    )
    if recent >= settings.liaison_reports_per_hour:
        raise AppError(
            Errors.RATE_LIMITED,
            f"At most {settings.liaison_reports_per_hour} reports an hour; try again later.",
        ).with_headers(**{"Retry-After": "600"})


async def _existing(item_id: uuid.UUID, actor: CurrentUser, kind: str, title: str) -> dict[str, Any] | None:
    row = await ChannelItem.select().where(ChannelItem.id == item_id).first()
    if row is not None and (row["reporter_id"] != actor.id or row["kind"] != kind or row["title"] != title):
        raise mismatch()
    return row


async def create_report(
    actor: CurrentUser,
    data: schemas.ReportCreate,
    settings: Settings,
    events: Publisher,
    idempotency_key: str | None = None,
) -> tuple[schemas.Item, bool]:
    if not actor.has_any("liaison"):
        raise AppError(Errors.FORBIDDEN, "Only a liaison files reports.")
    item_id = resource_id(data.id, idempotency_key, actor.id, "channel_report")
    scope = await _scope(actor)
    existing = await _existing(item_id, actor, "report", data.title)
    if existing is not None:
        return (await _views(scope, [existing]))[0], True
    title, description = _text(data.title, "title"), _text(data.description, "description")
    address, officer_text = _text(data.address, "address"), _text(data.officer_text, "officer_text")
    if len(title) < 2:
        raise _field("title", "title is empty.")
    if data.occurred_at is not None:
        if data.occurred_at.tzinfo is None:
            raise _field("occurred_at", "occurred_at needs a time zone.")
        if data.occurred_at > utcnow() + timedelta(minutes=settings.clock_skew_minutes):
            raise _field("occurred_at", "occurred_at is in the future.")
    if data.location is None and not address:
        raise _field("location", "Say where: a map pin (location) or an address.")
    await _check_unit(data.unit_id)
    officers = await _check_officers(data.unit_id, data.officer_ids)
    await _rate_limit(actor, settings)
    point_id = await _active_point(actor.id)
    async with atomic():
        await ChannelItem.insert(
            ChannelItem(
                id=item_id,
                kind="report",
                category=data.category,
                title=title,
                description=description,
                occurred_at=data.occurred_at,
                lat=data.location.lat if data.location else None,
                lon=data.location.lon if data.location else None,
                address=address,
                unit_id=data.unit_id,
                officer_ids=officers,
                officer_text=officer_text,
                point_id=point_id,
                anonymous=data.anonymous,
                reporter_id=actor.id,
            )
        ).run()
        await _step(item_id, "reported", actor, {"category": data.category})
        await audit.record(
            actor,
            "channel_item.reported",
            "channel_item",
            item_id,
            {
                "category": data.category,
                "unit_id": str(data.unit_id) if data.unit_id else None,
                "anonymous": data.anonymous,
            },
        )
    row = await _fresh(item_id)
    await _publish(events, row, "reported")
    return (await _views(scope, [row]))[0], False


async def create_registration(
    actor: CurrentUser,
    kind: str,
    data: schemas.RegistrationCreate,
    events: Publisher,
    idempotency_key: str | None = None,
) -> tuple[schemas.Item, bool]:
    role = "petition_office" if kind == "petition" else "court"
    if not actor.has_any(role):
        raise AppError(Errors.FORBIDDEN, f"Only {role} users register a {kind}.")
    if len(actor.unit_ids) != 1:
        raise AppError(
            Errors.FORBIDDEN,
            f"A {role} user registers for exactly one unit; this account has {len(actor.unit_ids)}.",
        )
    (registrant_unit,) = actor.unit_ids
    item_id = resource_id(data.id, idempotency_key, actor.id, f"channel_{kind}")
    scope = await _scope(actor)
    existing = await _existing(item_id, actor, kind, data.title)
    if existing is not None:
        return (await _views(scope, [existing]))[0], True
    title, description = _text(data.title, "title"), _text(data.description, "description")
    reference = _text(data.reference, "reference")
    if len(title) < 2 or not reference:
        raise _field("title" if len(title) < 2 else "reference", "It is empty.")
    if data.received_on > today_local():
        raise _field("received_on", "received_on is in the future.")
    await _check_unit(data.unit_id)
    officers = await _check_officers(data.unit_id, data.officer_ids)
    # The act and the case must be the unit's: they are looked up directly (the registrant is not
    # an enforcement role and cannot see them through their own domains).
    if data.action_id is not None:
        act = await Action.select(Action.unit).where(Action.id == data.action_id).first()
        if act is None or act["unit"] != data.unit_id:
            raise _field("action_id", "No such action of the unit.", Errors.NOT_FOUND)
    if data.case_id is not None:
        found = await Case.select(Case.unit).where(Case.id == data.case_id).first()
        if found is None or found["unit"] != data.unit_id:
            raise _field("case_id", "No such case of the unit.", Errors.NOT_FOUND)
    async with atomic():
        await ChannelItem.insert(
            ChannelItem(
                id=item_id,
                kind=kind,
                title=title,
                description=description,
                unit_id=data.unit_id,
                officer_ids=officers,
                action_id=data.action_id,
                case_id=data.case_id,
                reporter_id=actor.id,
                registrant_unit_id=registrant_unit,
                reference=reference,
                received_on=data.received_on,
            )
        ).run()
        await _step(item_id, "registered", actor, {"reference": reference})
        await audit.record(
            actor,
            "channel_item.registered",
            "channel_item",
            item_id,
            {
                "kind": kind,
                "reference": reference,
                "unit_id": str(data.unit_id),
                "action_id": str(data.action_id) if data.action_id else None,
                "case_id": str(data.case_id) if data.case_id else None,
            },
        )
    row = await _fresh(item_id)
    await _publish(events, row, "registered")
    return (await _views(scope, [row]))[0], False


async def evidence_parent(actor: CurrentUser, item_id: uuid.UUID, *, write: bool) -> Parent:
    """Photos of a report: added by its reporter while it is new; seen by whoever sees the item,
    except the unit when the reporter is anonymous (the watermark and custody name the uploader)."""
    row, scope = await _row(actor, item_id)
    if write:
        if not scope.reporter(row):
            raise AppError(Errors.FORBIDDEN, "Only whoever filed it adds photos or files.")
        if row["status"] != "new":
            raise AppError(Errors.CHANNEL_STATE, "It is already being handled; it takes no more attachments.")
    elif not scope.sees_evidence(row):
        raise _not_found()
    unit_id = row["unit_id"] or row["registrant_unit_id"] or uuid.UUID(int=0)
    names = await _unit_names({unit_id})
    return Parent(
        PARENT_TYPE,
        row["id"],
        unit_id,
        names.get(unit_id, "监督联系点"),
        occurred_at=row["occurred_at"],
        lat=row["lat"],
        lon=row["lon"],
    )


# --- outcomes and reversed acts -----------------------------------------------------------------


async def _reversal_marks(row: dict[str, Any]) -> None:
    """Recompute the reversed marks of the item's action and case from the live outcomes of every
    item about them (inside the caller's transaction)."""
    for column, target, setter in (
        (ChannelItem.action_id, row["action_id"], actions.set_reversal),
        (ChannelItem.case_id, row["case_id"], cases.set_reversal),
    ):
        if target is None:
            continue
        items = [i["id"] for i in await ChannelItem.select(ChannelItem.id).where(column == target)]
        live = (
            await ChannelOutcome.select()
            .where(
                ChannelOutcome.item_id.is_in(items)
                & (ChannelOutcome.superseded == False)  # noqa: E712
                & ChannelOutcome.outcome.is_in(list(REVERSING))
            )
            .order_by(ChannelOutcome.decided_on, ascending=False)
            .first()
        )
        mark = (
            {
                "outcome": live["outcome"],
                "decision_number": live["decision_number"],
                "decided_on": str(live["decided_on"]),
            }
            if live
            else None
        )
        await setter([target], mark)
        if column is ChannelItem.case_id:
            # A published decision that now stands reversed must leave the public page within 3
            # working days (行政处罚法 第四十八条): its withdrawal clock starts; lifted, it stops.
            if mark is not None:
                await publication.reversal_recorded(target)
            else:
                await case_clocks.stop(target, ["withdrawal"])


def _may_record_outcome(scope: Scope, row: dict[str, Any]) -> None:
    if row["kind"] == "report":
        raise AppError(
            Errors.CHANNEL_STATE, "Outcomes are recorded on petitions and lawsuits, not on reports."
        )
    if not (scope.registrant(row) or scope.bureau):
        raise AppError(Errors.FORBIDDEN, "Only the registering office or the bureau records outcomes.")


async def record_outcome(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.OutcomeCreate, events: Publisher
) -> schemas.Item:
    row, scope = await _row(actor, item_id)
    _may_record_outcome(scope, row)
    number = _text(data.decision_number, "decision_number")
    if not number:
        raise _field("decision_number", "decision_number is empty.")
    if data.decided_on > today_local():
        raise _field("decided_on", "decided_on is in the future.")
    if await ChannelOutcome.exists().where(ChannelOutcome.decision_number == number):
        raise _duplicate_number(number)
    outcome_id = uuid.uuid4()
    try:
        async with atomic():
            await ChannelOutcome.insert(
                ChannelOutcome(
                    id=outcome_id,
                    item_id=item_id,
                    outcome=data.outcome,
                    decided_on=data.decided_on,
                    decision_number=number,
                    live_number=number,
                    note=data.note,
                    entered_by=actor.id,
                )
            ).run()
            await _reversal_marks(row)
            await _step(item_id, "outcome", actor, {"outcome": data.outcome, "decision_number": number})
            await audit.record(
                actor,
                "channel_outcome.recorded",
                "channel_item",
                item_id,
                {
                    "outcome_id": str(outcome_id),
                    "outcome": data.outcome,
                    "decided_on": str(data.decided_on),
                    "decision_number": number,
                    "action_id": str(row["action_id"]) if row["action_id"] else None,
                    "case_id": str(row["case_id"]) if row["case_id"] else None,
                },
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise _duplicate_number(number) from None
        raise
    await _publish(events, row, "outcome")
    return (await _views(scope, [await _fresh(item_id)]))[0]


def _duplicate_number(number: str) -> AppError:
    return AppError(
        Errors.DUPLICATE,
        f"An outcome with decision number {number} is already recorded; change it instead.",
        errors=[{"key": "decision_number", "message": "already recorded"}],
    )


async def change_outcome(
    actor: CurrentUser, outcome_id: uuid.UUID, data: schemas.OutcomeChange, events: Publisher
) -> schemas.Item:
    """Supersede a live outcome with a new entry under the same decision number."""
    old = await ChannelOutcome.select().where(ChannelOutcome.id == outcome_id).first()
    if old is None:
        raise AppError(Errors.NOT_FOUND, "No such outcome.")
    try:
        row, scope = await _row(actor, old["item_id"])
    except AppError:
        raise AppError(Errors.NOT_FOUND, "No such outcome.") from None
    _may_record_outcome(scope, row)
    if old["superseded"]:
        raise AppError(Errors.CHANNEL_STATE, "This outcome was already changed; change the newest entry.")
    if data.decided_on > today_local():
        raise _field("decided_on", "decided_on is in the future.")
    new_id = uuid.uuid4()
    async with atomic():
        won = (
            await ChannelOutcome.update({ChannelOutcome.superseded: True, ChannelOutcome.live_number: None})
            .where((ChannelOutcome.id == outcome_id) & (ChannelOutcome.superseded == False))  # noqa: E712
            .returning(ChannelOutcome.id)
        )
        if not won:
            raise AppError(Errors.CHANNEL_STATE, "The outcome changed meanwhile; reload it.")
        await ChannelOutcome.insert(
            ChannelOutcome(
                id=new_id,
                item_id=old["item_id"],
                outcome=data.outcome,
                decided_on=data.decided_on,
                decision_number=old["decision_number"],
                live_number=old["decision_number"],
                note=data.reason,
                supersedes_id=outcome_id,
                entered_by=actor.id,
            )
        ).run()
        await _reversal_marks(row)
        await _step(
            old["item_id"],
            "outcome_changed",
            actor,
            {"from": old["outcome"], "to": data.outcome, "decision_number": old["decision_number"]},
        )
        await audit.record(
            actor,
            "channel_outcome.changed",
            "channel_item",
            old["item_id"],
            {
                "outcome_id": str(new_id),
                "supersedes_id": str(outcome_id),
                "from": old["outcome"],
                "to": data.outcome,
                "decided_on": str(data.decided_on),
                "decision_number": old["decision_number"],
                "reason": data.reason,
            },
        )
    await _publish(events, row, "outcome")
    return (await _views(scope, [await _fresh(old["item_id"])]))[0]


# --- triage -------------------------------------------------------------------------------------


def _require_bureau(actor: CurrentUser) -> None:
    if not is_bureau(actor):
        raise AppError(Errors.FORBIDDEN, "Only the bureau (supervisors) triages channel items.")


async def _move(
    actor: CurrentUser,
    row: dict[str, Any],
    from_states: tuple[str, ...],
    changes: dict[Any, Any],
    step: str,
    data: dict[str, Any],
    events: Publisher,
) -> dict[str, Any]:
    """Compare-and-set on the status; the step and the audit entry in the same transaction. The
    audit data never carries the reporter."""
    if row["status"] not in from_states:
        raise AppError(
            Errors.CHANNEL_STATE, f"Not possible while the item is {row['status']}.", status_now=row["status"]
        )
    async with atomic():
        won = (
            await ChannelItem.update(changes)
            .where((ChannelItem.id == row["id"]) & (ChannelItem.status == row["status"]))
            .returning(ChannelItem.id)
        )
        if not won:
            raise AppError(Errors.CHANNEL_STATE, "The item changed meanwhile; reload it.")
        await _step(row["id"], step, actor, data)
        await audit.record(actor, f"channel_item.{step}", "channel_item", row["id"], data)
    fresh = await _fresh(row["id"])
    await _publish(events, fresh, step)
    return fresh


OPEN_STATES = ("new", "assigned", "forwarded", "explained")


async def assign(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.Assign, events: Publisher
) -> schemas.Item:
    _require_bureau(actor)
    row, scope = await _row(actor, item_id)
    user = await User.select(User.roles, User.active).where(User.id == data.user_id).first()
    if user is None or not user["active"] or " supervisor " not in user["roles"]:
        raise _field("user_id", "Assign to an active supervisor.", Errors.USER_NOT_FOUND)
    status = "assigned" if row["status"] == "new" else row["status"]
    fresh = await _move(
        actor,
        row,
        OPEN_STATES,
        {ChannelItem.assignee_id: data.user_id, ChannelItem.status: status},
        "assigned",
        {"assignee_id": str(data.user_id)},
        events,
    )
    return (await _views(scope, [fresh]))[0]


async def forward(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.Forward, events: Publisher
) -> schemas.Item:
    """Ask the unit to explain: from now on the unit sees the item (never an anonymous reporter)."""
    _require_bureau(actor)
    row, scope = await _row(actor, item_id)
    unit_id = row["unit_id"]
    if data.unit_id is not None and data.unit_id != unit_id:
        if unit_id is not None:
            raise _field(
                "unit_id", "The item already names its unit; it is forwarded there.", Errors.CHANNEL_STATE
            )
        await _check_unit(data.unit_id)
        unit_id = data.unit_id
    if unit_id is None:
        raise _field(
            "unit_id", "The item names no unit: say which unit to forward it to.", Errors.CHANNEL_STATE
        )
    question = _text(data.question, "question")
    fresh = await _move(
        actor,
        row,
        ("new", "assigned", "explained"),
        {
            ChannelItem.status: "forwarded",
            ChannelItem.unit_id: unit_id,
            ChannelItem.question: question,
            ChannelItem.forwarded_at: row["forwarded_at"] or utcnow(),
        },
        "forwarded",
        {"unit_id": str(unit_id), "question": question},
        events,
    )
    return (await _views(scope, [fresh]))[0]


async def explain(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.Explain, events: Publisher
) -> schemas.Item:
    row, scope = await _row(actor, item_id)
    if not scope.concerned(row):
        raise AppError(Errors.FORBIDDEN, "Only the unit concerned explains.")
    text = _text(data.text, "text")
    fresh = await _move(
        actor,
        row,
        ("forwarded",),
        {
            ChannelItem.status: "explained",
            ChannelItem.explanation: text,
            ChannelItem.explained_by: actor.id,
            ChannelItem.explained_at: utcnow(),
        },
        "explained",
        {"text": text},
        events,
    )
    return (await _views(scope, [fresh]))[0]


async def _close(
    actor: CurrentUser,
    row: dict[str, Any],
    resolution: str,
    reply: str,
    events: Publisher,
    *,
    reason: str | None = None,
    ref: uuid.UUID | None = None,
) -> dict[str, Any]:
    data = {"resolution": resolution, "reply": reply}
    if reason is not None:
        data["reason"] = reason
    if ref is not None:
        data["ref"] = str(ref)
    return await _move(
        actor,
        row,
        OPEN_STATES,
        {
            ChannelItem.status: "closed",
            ChannelItem.resolution: resolution,
            ChannelItem.resolution_ref: ref,
            ChannelItem.reason: reason,
            ChannelItem.reply: reply,
            ChannelItem.closed_by: actor.id,
            ChannelItem.closed_at: utcnow(),
        },
        "closed",
        data,
        events,
    )


async def dismiss(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.Dismiss, events: Publisher
) -> schemas.Item:
    _require_bureau(actor)
    row, scope = await _row(actor, item_id)
    reason, reply = _text(data.reason, "reason"), _text(data.reply, "reply")
    fresh = await _close(
        actor, row, "dismissed", reply or f"经核查，不予处理：{reason}", events, reason=reason
    )
    return (await _views(scope, [fresh]))[0]


async def note(actor: CurrentUser, item_id: uuid.UUID, data: schemas.Note, events: Publisher) -> schemas.Item:
    _require_bureau(actor)
    row, scope = await _row(actor, item_id)
    fresh = await _close(actor, row, "noted", _text(data.reply, "reply") or "已收悉，感谢您的反映。", events)
    return (await _views(scope, [fresh]))[0]


def _links(row: dict[str, Any]) -> list[document_schemas.Link]:
    links = []
    if row["action_id"]:
        links.append(document_schemas.Link(kind="action", id=row["action_id"]))
    if row["case_id"]:
        links.append(document_schemas.Link(kind="case", id=row["case_id"]))
    return links


def _facts(row: dict[str, Any]) -> str:
    """The document's facts: what was reported, never by whom."""
    parts = [row["description"] or row["title"]]
    if row["address"]:
        parts.append(f"地点：{row['address']}")
    if row["explanation"]:
        parts.append(f"单位说明：{row['explanation']}")
    return "\n".join(parts)[:8000]


async def to_document(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.ToDocument, settings: Settings, events: Publisher
) -> schemas.Item:
    """Draft a supervision document to the unit from the item (issued through the documents flow)."""
    _require_bureau(actor)
    row, scope = await _row(actor, item_id)
    if row["unit_id"] is None:
        raise AppError(Errors.CHANNEL_STATE, "The item names no unit; a document needs one.")
    if row["status"] not in OPEN_STATES:
        raise AppError(Errors.CHANNEL_STATE, f"Not possible while the item is {row['status']}.")
    title = data.title or f"关于{row['title']}的监督意见"[:200]
    draft = document_schemas.DocumentCreate(
        type=data.type,
        unit_id=row["unit_id"],
        title=title,
        facts=_facts(row),
        requirement=data.requirement or "",
        links=_links(row),
        id=uuid.uuid5(row["id"], "document"),  # one document per item, even when the request is repeated
    )
    document, _ = await documents.create_draft(actor, draft, settings, events)
    reply = _text(data.reply, "reply") or "您反映的问题已核实，区司法局已向有关单位制发监督文书。"
    fresh = await _close(actor, row, "document", reply, events, ref=document.id)
    return (await _views(scope, [fresh]))[0]


async def to_corrective(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.ToCorrective, events: Publisher
) -> schemas.Item:
    _require_bureau(actor)
    row, scope = await _row(actor, item_id)
    if row["unit_id"] is None:
        raise AppError(Errors.CHANNEL_STATE, "The item names no unit; a corrective action needs one.")
    if row["status"] not in OPEN_STATES:
        raise AppError(Errors.CHANNEL_STATE, f"Not possible while the item is {row['status']}.")
    task, _ = await corrective.create(
        actor,
        corrective_schemas.CorrectiveCreate(
            title=data.title or f"整改：{row['title']}"[:200],
            description=_facts(row)[:4000],
            unit_id=row["unit_id"],
            assignee_user_id=data.assignee_user_id,
            due_days=data.due_days,
            id=uuid.uuid5(row["id"], "corrective"),
        ),
        events,
    )
    reply = _text(data.reply, "reply") or "您反映的问题已核实，区司法局已要求有关单位整改。"
    fresh = await _close(actor, row, "corrective", reply, events, ref=task.id)
    return (await _views(scope, [fresh]))[0]


# --- transfers (移送) ----------------------------------------------------------------------------

_UNTRACKED_SQL = """
SELECT c.id, c.unit, c.transfer FROM cases c
LEFT JOIN channel_transfers t ON t.case_id = c.id
WHERE c.status = 'transferred' AND t.id IS NULL
"""


async def sync_transfers() -> int:
    """Track every transferred case not yet tracked; ``organ`` is matched to a unit by its name.
    Cases do not know this domain, so it reads what they recorded."""
    rows = await Case.raw(_UNTRACKED_SQL)
    if not rows:
        return 0
    # Unit names are unique; a procuratorate or police unit is the usual addressee, but the name
    # decides (only procuratorate / public-security users of that unit answer).
    wanted = sorted({str((json_value(r["transfer"], {}) or {}).get("organ") or "").strip() for r in rows})
    organs = {
        u["name"]: u["id"] for u in await Unit.select(Unit.id, Unit.name).where(Unit.name.is_in(wanted))
    }
    added = 0
    for r in rows:
        record = json_value(r["transfer"], {}) or {}
        organ = str(record.get("organ") or "")
        try:
            transferred_on = date.fromisoformat(str(record.get("transferred_on")))
        except ValueError:
            transferred_on = today_local()
        try:
            await TransferAnswer.insert(
                TransferAnswer(
                    id=uuid.uuid4(),
                    case_id=r["id"],
                    unit_id=r["unit"],
                    organ=organ[:100],
                    organ_unit_id=organs.get(organ.strip()),
                    transferred_on=transferred_on,
                )
            ).run()
            added += 1
        except Exception as exc:  # tracked meanwhile by another process
            if not is_unique_violation(exc):
                raise
    return added


def _organ_scope(viewer: CurrentUser) -> list[uuid.UUID] | None:
    if is_bureau(viewer):
        return None
    if viewer.has_any(*ORGAN_ROLES):
        return sorted(viewer.unit_ids)
    raise AppError(Errors.FORBIDDEN, "Your role does not give access to transfers.")


async def _transfer_views(
    viewer: CurrentUser, rows: list[dict[str, Any]], settings: Settings
) -> list[schemas.Transfer]:
    numbers = {
        c["id"]: c["number"]
        for c in await Case.select(Case.id, Case.number).where(
            Case.id.is_in([r["case_id"] for r in rows] or [uuid.UUID(int=0)])
        )
    }
    units = await _unit_names({r["unit_id"] for r in rows})
    today = today_local()
    out = []
    for r in rows:
        due = r["transferred_on"] + timedelta(days=settings.transfer_answer_days)
        answers = (
            r["status"] == "pending"
            and r["organ_unit_id"] in viewer.unit_ids
            and viewer.has_any(*ORGAN_ROLES)
        )
        out.append(
            schemas.Transfer(
                id=r["id"],
                case_id=r["case_id"],
                case_number=numbers.get(r["case_id"]),
                unit_id=r["unit_id"],
                unit_name=units.get(r["unit_id"]),
                organ=r["organ"],
                organ_unit_id=r["organ_unit_id"],
                transferred_on=r["transferred_on"],
                due_on=due,
                overdue=r["status"] == "pending" and today > due,
                status=r["status"],
                receipt_on=r["receipt_on"],
                receipt_number=r["receipt_number"],
                return_reason=r["return_reason"],
                answered_at=r["answered_at"],
                allowed=["accept", "return"] if answers else [],
            )
        )
    return out


async def list_transfers(
    viewer: CurrentUser,
    settings: Settings,
    status: str | None,
    unit_id: uuid.UUID | None,
    since: date | None,
    until: date | None,
) -> list[schemas.Transfer]:
    organs = _organ_scope(viewer)
    await sync_transfers()
    query = TransferAnswer.select().order_by(TransferAnswer.transferred_on, ascending=False).limit(500)
    if organs is not None:
        query = query.where(TransferAnswer.organ_unit_id.is_in(organs or [uuid.UUID(int=0)]))
    if status is not None:
        if status not in ("pending", "accepted", "returned", "overdue"):
            raise _field("status", "status must be pending, accepted, returned or overdue.")
        if status == "overdue":
            cutoff = today_local() - timedelta(days=settings.transfer_answer_days)
            query = query.where(
                (TransferAnswer.status == "pending") & (TransferAnswer.transferred_on < cutoff)
            )
        else:
            query = query.where(TransferAnswer.status == status)
    if unit_id is not None:
        query = query.where(TransferAnswer.unit_id == unit_id)
    if since is not None and until is not None and since > until:
        raise _field("from", "from must not be after to.")
    if since is not None:
        query = query.where(TransferAnswer.transferred_on >= since)
    if until is not None:
        query = query.where(TransferAnswer.transferred_on <= until)
    return await _transfer_views(viewer, await query, settings)


async def _transfer_row(viewer: CurrentUser, transfer_id: uuid.UUID) -> dict[str, Any]:
    organs = _organ_scope(viewer)
    row = await TransferAnswer.select().where(TransferAnswer.id == transfer_id).first()
    if row is None or (organs is not None and row["organ_unit_id"] not in organs):
        raise AppError(Errors.NOT_FOUND, "No such transfer addressed to your organ.")
    return row


async def get_transfer(viewer: CurrentUser, transfer_id: uuid.UUID, settings: Settings) -> schemas.Transfer:
    return (await _transfer_views(viewer, [await _transfer_row(viewer, transfer_id)], settings))[0]


async def _answer(
    actor: CurrentUser,
    transfer_id: uuid.UUID,
    changes: dict[Any, Any],
    action: str,
    data: dict[str, Any],
    settings: Settings,
    events: Publisher,
) -> schemas.Transfer:
    row = await _transfer_row(actor, transfer_id)
    case_id = row["case_id"]
    if not actor.has_any(*ORGAN_ROLES) or row["organ_unit_id"] not in actor.unit_ids:
        raise AppError(Errors.FORBIDDEN, "Only the organ the case was transferred to answers.")
    if row["status"] != "pending":
        raise AppError(Errors.CHANNEL_STATE, f"The transfer was already {row['status']}.")
    async with atomic():
        won = (
            await TransferAnswer.update(
                {**changes, TransferAnswer.answered_by: actor.id, TransferAnswer.answered_at: utcnow()}
            )
            .where((TransferAnswer.id == row["id"]) & (TransferAnswer.status == "pending"))
            .returning(TransferAnswer.id)
        )
        if not won:
            raise AppError(Errors.CHANNEL_STATE, "The transfer was answered meanwhile; reload it.")
        await audit.record(actor, action, "case", case_id, data)
    await events.publish(
        "transfer.answered",
        row["unit_id"],
        {"case_id": str(case_id), "status": changes[TransferAnswer.status]},
    )
    return await get_transfer(actor, transfer_id, settings)


async def accept_transfer(
    actor: CurrentUser,
    transfer_id: uuid.UUID,
    data: schemas.TransferAccept,
    settings: Settings,
    events: Publisher,
) -> schemas.Transfer:
    number = _text(data.number, "number")
    if not number:
        raise _field("number", "number is empty.")
    if data.received_on > today_local():
        raise _field("received_on", "received_on is in the future.")
    changes = {
        TransferAnswer.status: "accepted",
        TransferAnswer.receipt_on: data.received_on,
        TransferAnswer.receipt_number: number,
    }
    record = {"received_on": str(data.received_on), "number": number}
    return await _answer(actor, transfer_id, changes, "transfer.accepted", record, settings, events)


async def return_transfer(
    actor: CurrentUser,
    transfer_id: uuid.UUID,
    data: schemas.TransferReturn,
    settings: Settings,
    events: Publisher,
) -> schemas.Transfer:
    reason = _text(data.reason, "reason")
    if data.returned_on > today_local():
        raise _field("returned_on", "returned_on is in the future.")
    changes = {TransferAnswer.status: "returned", TransferAnswer.return_reason: reason}
    record = {"returned_on": str(data.returned_on), "reason": reason}
    return await _answer(actor, transfer_id, changes, "transfer.returned", record, settings, events)


async def alert_unanswered(settings: Settings, events: Publisher) -> int:
    """Periodic: a transfer pending past ``transfer_answer_days`` raises one alert."""
    await sync_transfers()
    cutoff = today_local() - timedelta(days=settings.transfer_answer_days)
    rows = await TransferAnswer.select().where(
        (TransferAnswer.status == "pending")
        & (TransferAnswer.transferred_on < cutoff)
        & TransferAnswer.alerted_at.is_null()
    )
    raised = 0
    for r in rows:
        won = (
            await TransferAnswer.update({TransferAnswer.alerted_at: utcnow()})
            .where((TransferAnswer.id == r["id"]) & TransferAnswer.alerted_at.is_null())
            .returning(TransferAnswer.id)
        )
        if not won:
            continue
        number = await Case.select(Case.number).where(Case.id == r["case_id"]).first()
        await raise_alert(
            events,
            "transfer.unanswered",
            f"移送未获答复：{number['number'] if number else r['case_id']} → {r['organ']}",
            severity="high",
            unit_id=r["unit_id"],
            object_type="case",
            object_id=r["case_id"],
            data={
                "organ": r["organ"],
                "transferred_on": str(r["transferred_on"]),
                "days": settings.transfer_answer_days,
            },
        )
        raised += 1
    return raised


# --- 两法衔接 check -------------------------------------------------------------------------------


async def _missed_query(unit_id: uuid.UUID | None, since: date | None, until: date | None) -> Any:
    """Closed cases at or above their item's criminal threshold, as one query: a condition per item
    that carries a threshold (there are few), ``item = X AND amount_involved >= its threshold``, so
    the index on cases (item, status, amount_involved) finds a planted miss among a great many
    closed cases without scanning them. None when no item has a threshold."""
    thresholds = await Item.select(Item.id, Item.criminal_amount_at_least).where(
        (Item.kind == "penalty") & Item.criminal_amount_at_least.is_not_null()
    )
    if not thresholds:
        return None
    reached = functools.reduce(
        operator.or_,
        [
            (Case.item == t["id"]) & (Case.amount_involved >= t["criminal_amount_at_least"])
            for t in thresholds
        ],
    )
    query = Case.select(
        Case.id,
        Case.number,
        Case.unit,
        Case.unit.name.as_alias("unit_name"),
        Case.item,
        Case.item.code.as_alias("item_code"),
        Case.item.name.as_alias("item_name"),
        Case.item.criminal_amount_at_least.as_alias("threshold"),
        Case.amount_involved,
        Case.closed_at,
        Case.override,
    ).where((Case.status == "closed") & reached)
    if unit_id is not None:
        query = query.where(Case.unit == unit_id)
    return _period(query, Case.closed_at, since, until)


async def missed_transfers(
    viewer: CurrentUser, unit_id: uuid.UUID | None, since: date | None, until: date | None, limit: int
) -> list[schemas.MissedTransfer]:
    _require_bureau(viewer)
    query = await _missed_query(unit_id, since, until)
    if query is None:
        return []
    rows = await query.order_by(Case.closed_at, ascending=False).limit(limit)
    return [
        schemas.MissedTransfer(
            case_id=r["id"],
            number=r["number"],
            unit_id=r["unit"],
            unit_name=r["unit_name"],
            item_id=r["item"],
            item_code=r["item_code"],
            item_name=r["item_name"],
            amount_involved=float(r["amount_involved"]),
            criminal_threshold=float(r["threshold"]),
            closed_at=r["closed_at"],
            override=json_value(r["override"]),
        )
        for r in rows
    ]


# --- counts for the assessment ------------------------------------------------------------------


def _link(path: str, **params: Any) -> str:
    query = {k: str(v) for k, v in params.items() if v is not None}
    return f"{API}/{path}?{urlencode(query)}" if query else f"{API}/{path}"


async def counts(
    viewer: CurrentUser, settings: Settings, unit_id: uuid.UUID | None, since: date | None, until: date | None
) -> schemas.Counts:
    """Per unit and period: reports (received, forwarded), petitions, lawsuits, outcomes by kind,
    reversed acts, transfers (pending, overdue, accepted, returned) and missed transfers; each with
    the list link that shows the records behind it."""
    _require_bureau(viewer)
    per: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    items = _period(
        ChannelItem.select(ChannelItem.unit_id, ChannelItem.kind, Count(ChannelItem.id, alias="n")).where(
            ChannelItem.unit_id.is_not_null()
        ),
        ChannelItem.created_at,
        since,
        until,
    )
    if unit_id is not None:
        items = items.where(ChannelItem.unit_id == unit_id)
    for r in await items.group_by(ChannelItem.unit_id, ChannelItem.kind):
        per[r["unit_id"]][r["kind"]] += r["n"]
    period = {"from": since, "to": until}
    links: dict[str, dict[str, Any]] = {
        "report": {"path": "items", "kind": "report"},
        "petition": {"path": "items", "kind": "petition"},
        "lawsuit": {"path": "items", "kind": "lawsuit"},
    }
    # Outcomes count by their decision date; an item counts once per live outcome kind.
    outcome_rows = await ChannelOutcome.select(
        ChannelOutcome.item_id, ChannelOutcome.outcome, ChannelOutcome.decided_on
    ).where(ChannelOutcome.superseded == False)  # noqa: E712
    item_units = {
        r["id"]: r["unit_id"]
        for r in await ChannelItem.select(ChannelItem.id, ChannelItem.unit_id).where(
            ChannelItem.id.is_in([o["item_id"] for o in outcome_rows] or [uuid.UUID(int=0)])
        )
    }
    for o in outcome_rows:
        unit = item_units.get(o["item_id"])
        if unit is None or (unit_id is not None and unit != unit_id):
            continue
        if (since and o["decided_on"] < since) or (until and o["decided_on"] > until):
            continue
        per[unit][f"outcome:{o['outcome']}"] += 1
        if o["outcome"] in REVERSING:
            per[unit]["reversed"] += 1
    for outcome in ("维持", "驳回", "确认违法", "撤销", "变更", "责令履行"):
        links[f"outcome:{outcome}"] = {"path": "items", "outcome": outcome}
    links["reversed"] = {"path": "items", "reversed": "true"}
    await sync_transfers()
    transfers = TransferAnswer.select(
        TransferAnswer.unit_id, TransferAnswer.status, TransferAnswer.transferred_on
    )
    if unit_id is not None:
        transfers = transfers.where(TransferAnswer.unit_id == unit_id)
    cutoff = today_local() - timedelta(days=settings.transfer_answer_days)
    for t in await transfers:
        if (since and t["transferred_on"] < since) or (until and t["transferred_on"] > until):
            continue
        per[t["unit_id"]][f"transfer:{t['status']}"] += 1
        if t["status"] == "pending" and t["transferred_on"] < cutoff:
            per[t["unit_id"]]["transfer:overdue"] += 1
    for status in ("pending", "accepted", "returned", "overdue"):
        links[f"transfer:{status}"] = {"path": "transfers", "status": status}
    missed_query = await _missed_query(unit_id, since, until)
    for m in await missed_query.limit(10_000) if missed_query is not None else []:
        per[m["unit"]]["missed_transfer"] += 1
    links["missed_transfer"] = {"path": "criminal-check"}
    names = await _unit_names(set(per))
    units = []
    for unit, values in sorted(per.items(), key=lambda kv: names.get(kv[0], "")):
        counted = {}
        for key, spec in links.items():
            params = {k: v for k, v in spec.items() if k != "path"}
            counted[key] = schemas.Count(
                count=values.get(key, 0), link=_link(spec["path"], unit_id=unit, **params, **period)
            )
        units.append(schemas.UnitCounts(unit_id=unit, unit_name=names.get(unit, ""), counts=counted))
    return schemas.Counts(period_from=since, period_to=until, units=units)
