"""On-site actions: recording with the legal gates, the feed, and the detail."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from backend.accounts.certificates import require_valid_certificate
from backend.accounts.tables import User
from backend.actions import schemas
from backend.actions.tables import Action, ActionOfficer
from backend.alerts.services import announce, raise_alert, record_alert
from backend.audit import services as audit
from backend.db import atomic, is_postgres, is_unique_violation, json_value
from backend.db.querystrings import SelectHead, expand_in
from backend.evidence.services import list_for
from backend.evidence.tables import Evidence
from backend.lib import idempotency
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, utcnow
from backend.lib.errors import AppError, ErrorCode, Errors
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.lib.scope import enforcement_units, mask_id_number, sees_personal_data
from backend.live.publish import Publisher
from backend.org import oversight
from backend.org.services import MAY_ACT_SQL

CLOCK_SKEW = timedelta(minutes=5)
# create_action refuses occurred_at later than now + CLOCK_SKEW, so every action's created_at is at
# least occurred_at - CLOCK_SKEW; the feed relies on it with a wide margin.
_STORED_AFTER_MARGIN = timedelta(days=1)
# An occurred_at window up to this long is read whole and sorted (about 1,000 actions a day at the
# scale of docs/benchmarks.md: a few ms); longer ones are walked newest first.
_NARROW_WINDOW = timedelta(days=14)
# OFFSET 0 keeps PostgreSQL from merging the window's query into the ordered one.
_WINDOW_PAGE_SQL = (
    '"actions"."id" IN (SELECT w.id FROM ({} OFFSET 0) w ORDER BY w.created_at DESC, w.id DESC LIMIT {})'
)


async def _refuse(
    events: Publisher,
    actor: CurrentUser,
    data: schemas.ActionCreate,
    error: ErrorCode,
    detail: str,
    **extra: Any,
) -> AppError:
    """Every refused enforcement act is an alert for the supervisors, then a 422 for the caller."""
    await raise_alert(
        events,
        "action.refused",
        detail,
        severity="high",
        unit_id=data.unit_id,
        subject_user_id=actor.id,
        object_type="action",
        object_id=data.id,
        data={"code": error.code, "item_id": str(data.item_id), **{k: str(v) for k, v in extra.items()}},
    )
    return AppError(error, detail, **{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in extra.items()})


# What the rules need about the request, in one round trip: a replay of an earlier request, the
# unit's name, the item, and whether the unit may act on it that day.
_CONTEXT_SQL = f"""
SELECT a.request_hash AS existing_hash, a.created_by AS existing_by, u.name AS unit_name,
  i.id AS item_id, i.code AS item_code, i.name AS item_name, i.kind AS item_kind,
  i.full_recording AS item_full_recording,
  {MAY_ACT_SQL} AS may_act
FROM (SELECT 1 AS one) x
LEFT JOIN actions a ON a.id = {{}}
LEFT JOIN units u ON u.id = {{}}
LEFT JOIN enforcement_items i ON i.id = {{}}
"""  # noqa: S608

# The named officers with their membership of the acting unit and their certificate.
_OFFICERS_SQL = """
SELECT u.id, u.display_name, u.roles, u.active,
  EXISTS (SELECT 1 FROM memberships m WHERE m."user" = u.id AND m.unit = {}) AS member,
  c.number, c.issued_on, c.expires_on, c.status, c.revoked_reason, c.status_reason
FROM users u LEFT JOIN certificates c ON c."user" = u.id
WHERE u.id IN ({})
"""


async def _context(data: schemas.ActionCreate) -> dict[str, Any]:
    on = data.occurred_at.astimezone(BEIJING).date()
    rows = await Action.raw(
        _CONTEXT_SQL, data.unit_id, data.unit_id, on, on, data.id, data.unit_id, data.item_id
    )
    return rows[0]


async def _officers(unit_id: uuid.UUID, officer_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await User.raw(expand_in(_OFFICERS_SQL, len(officer_ids)), unit_id, *officer_ids)
    return {r["id"]: r for r in rows}


async def _check_rules(
    events: Publisher,
    actor: CurrentUser,
    data: schemas.ActionCreate,
    officer_ids: list[uuid.UUID],
    context: dict[str, Any],
) -> dict[uuid.UUID, dict[str, Any]]:
    """Refuses an unlawful act; returns the officers' rows."""
    if data.occurred_at > utcnow() + CLOCK_SKEW:
        raise AppError(Errors.ACTION_IN_FUTURE, "occurred_at is in the future; check the phone's clock.")
    if actor.id not in officer_ids:
        raise AppError(Errors.ACTION_RECORDER_NOT_LISTED, "You must be one of the officers named.")
    if context["item_id"] is None:
        raise AppError(Errors.ITEM_NOT_FOUND, "The enforcement item does not exist.")
    if len(officer_ids) < 2:
        raise await _refuse(
            events,
            actor,
            data,
            Errors.ACTION_TWO_OFFICERS,
            "On-site enforcement needs at least two officers (行政处罚法第四十二条).",
        )
    users = await _officers(data.unit_id, officer_ids)
    for officer_id in officer_ids:
        user = users.get(officer_id)
        name = user["display_name"] if user else str(officer_id)
        if user is None or not user["active"] or " officer " not in user["roles"] or not user["member"]:
            raise await _refuse(
                events,
                actor,
                data,
                Errors.ACTION_OFFICER_NOT_IN_UNIT,
                f"{name} is not an officer of the acting unit.",
                officer_id=officer_id,
                officer_name=name,
            )
        try:
            await require_valid_certificate(officer_id, name=name, row=user)
        except AppError as refused:
            extra = {k: v for k, v in refused.extra.items() if v is not None}
            raise await _refuse(events, actor, data, refused.error, refused.detail, **extra) from None
    if not context["may_act"]:
        on = data.occurred_at.astimezone(BEIJING).date()
        raise await _refuse(
            events,
            actor,
            data,
            Errors.ITEM_NOT_AUTHORISED,
            f"The unit may not act on this item on {on.isoformat()}: it is not the unit's own "
            "and no delegation is in effect.",
            item_id=data.item_id,
        )
    return users


# Written out rather than built by the ORM on every POST (building the two inserts cost more than
# running them); the values are bound exactly as the ORM binds them. ``reversal`` starts empty.
_ACTION_INSERTED = (
    "id", "unit", "item", "kind", "occurred_at", "lat", "lon", "accuracy_m", "address", "party_name",
    "party_type", "party_id_number", "notes", "status", "created_by", "created_at", "request_hash",
    "evidence_count", "recording_required", "recording_at", "recording_alerted_at",
)  # fmt: skip
_INSERT_ACTION = """
INSERT INTO actions (id, unit, item, kind, occurred_at, lat, lon, accuracy_m, address, party_name,
  party_type, party_id_number, notes, status, created_by, created_at, request_hash, evidence_count,
  recording_required, recording_at, recording_alerted_at, reversal)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, NULL)
"""


@functools.cache
def _insert_officers(count: int) -> str:
    rows = ", ".join(["({}, {}, {})"] * count)  # one placeholder triple per officer; values are bound
    return f"INSERT INTO action_officers (id, action, officer) VALUES {rows}"  # noqa: S608


async def create_action(
    actor: CurrentUser, data: schemas.ActionCreate, idempotency_key: str | None, events: Publisher
) -> tuple[schemas.Action, bool]:
    """Returns the action and whether this was a replay of an earlier identical request."""
    if data.location is None and not data.address.strip():
        raise AppError(
            Errors.VALIDATION,
            "Without a GPS fix (location) the address of the scene is required.",
            errors=[{"key": "address", "message": "required when location is missing"}],
        )
    action_id = idempotency.resource_id(data.id, idempotency_key, actor.id, "action")
    data = msgspec.structs.replace(data, id=action_id, occurred_at=data.occurred_at.astimezone(UTC))
    digest = idempotency.request_hash(data)
    context = await _context(data)
    if context["existing_hash"] is not None:
        existing = {"request_hash": context["existing_hash"], "created_by": context["existing_by"]}
        return await _replay(actor, action_id, existing, digest), True
    if data.unit_id not in actor.unit_ids:
        raise AppError(Errors.FORBIDDEN, "You are not a member of this unit.")
    officer_ids = list(dict.fromkeys(data.officer_ids))
    users = await _check_rules(events, actor, data, officer_ids, context)
    party = data.party
    row = {
        "id": action_id,
        "unit": data.unit_id,
        "item": data.item_id,
        "kind": data.kind,
        "occurred_at": data.occurred_at,
        "lat": data.location.lat if data.location else None,
        "lon": data.location.lon if data.location else None,
        "accuracy_m": data.location.accuracy_m if data.location else None,
        "address": data.address,
        "party_name": party.name if party else None,
        "party_type": party.type if party else None,
        "party_id_number": party.id_number if party else None,
        "notes": data.notes,
        "status": "recorded",
        "created_by": actor.id,
        # Set here rather than by the column default, so the answer needs no read-back.
        "created_at": utcnow(),
        "request_hash": digest,
        "evidence_count": 0,
        "recording_required": needs_recording(
            data.kind, context["item_kind"], context["item_full_recording"]
        ),
        "recording_at": None,
        "recording_alerted_at": None,
    }
    # A new action has no evidence and no case yet: the view is what is about to be written.
    shown = {
        **row,
        "unit_name": context["unit_name"],
        "item_code": context["item_code"],
        "item_name": context["item_name"],
    }
    officers = [schemas.OfficerRef(o, users[o]["display_name"]) for o in officer_ids]
    view = _view(shown, officers, [], actor, detail=True)
    try:
        async with atomic():
            await Action.raw(_INSERT_ACTION, *(row[c] for c in _ACTION_INSERTED)).run()
            officer_rows = [(uuid.uuid4(), action_id, o) for o in officer_ids]
            await ActionOfficer.raw(_insert_officers(len(officer_rows)), *chain(*officer_rows)).run()
            await audit.record(
                actor,
                "action.created",
                "action",
                action_id,
                {"unit_id": str(data.unit_id), "item_id": str(data.item_id), "kind": data.kind},
            )
            event = await events.stage("action.created", data.unit_id, _masked(view))
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        # A concurrent retry won the race: answer as a replay.
        winner = (
            await Action.select(Action.request_hash, Action.created_by).where(Action.id == action_id).first()
        )
        if winner is None:
            raise
        return await _replay(actor, action_id, winner, digest), True
    await events.send(event)
    return view, False


async def _replay(
    actor: CurrentUser, action_id: uuid.UUID, existing: dict[str, Any], digest: str
) -> schemas.Action:
    if existing["created_by"] != actor.id or existing["request_hash"] != digest:
        raise idempotency.mismatch()
    return await get_action(actor, action_id)


# Cases are filed on actions, so they sit above them: the cases domain tells an action's detail view
# which cases it belongs to (``link_cases``, at start-up) rather than actions reading cases' tables.
CaseLinks = Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, list[uuid.UUID]]]]
_case_links: CaseLinks | None = None


def link_cases(case_links: CaseLinks) -> None:
    global _case_links
    _case_links = case_links


async def set_reversal(action_ids: list[uuid.UUID], reversal: dict[str, Any] | None) -> None:
    """Mark actions as reversed by a reconsideration or court outcome (or clear the mark). The
    outcome is recorded by the channels domain, above this one; the mark is kept on the row so the
    feed shows it without a join. Runs in the caller's transaction, which audits the change."""
    if action_ids:
        await Action.update({Action.reversal: reversal}).where(Action.id.is_in(action_ids)).run()


_PAGE_OFFICERS_SQL = """
SELECT ao.action, u.id AS officer_id, u.display_name
FROM action_officers ao LEFT JOIN users u ON u.id = ao.officer
WHERE ao.action IN ({})
"""

_COLUMNS = (
    Action.all_columns(),
    Action.unit.name.as_alias("unit_name"),
    Action.item.code.as_alias("item_code"),
    Action.item.name.as_alias("item_name"),
)
# An action with its unit's name and its item: built once (the joins made building the select cost
# more than running it), each query adds its own WHERE.
_ACTION_ROWS = SelectHead(Action, *_COLUMNS)
_NEWEST_FIRST = ' ORDER BY "actions"."created_at" DESC, "actions"."id" DESC'


async def _views(rows: list[dict[str, Any]], viewer: CurrentUser, *, detail: bool) -> list[schemas.Action]:
    ids = [r["id"] for r in rows]
    officers: dict[uuid.UUID, list[schemas.OfficerRef]] = defaultdict(list)
    if ids:
        # Raw: building this select through the ORM cost more than running it (a feed page has 50).
        for o in await ActionOfficer.raw(expand_in(_PAGE_OFFICERS_SQL, len(ids)), *ids):
            officers[o["action"]].append(schemas.OfficerRef(o["officer_id"], o["display_name"]))
    case_ids: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if detail and ids and _case_links is not None:
        case_ids.update(await _case_links(ids))
    return [_view(r, officers[r["id"]], case_ids[r["id"]], viewer, detail=detail) for r in rows]


def _view(
    r: dict[str, Any],
    officers: list[schemas.OfficerRef],
    case_ids: list[uuid.UUID],
    viewer: CurrentUser,
    *,
    detail: bool,
) -> schemas.Action:
    party = None
    if r["party_name"]:
        id_number = r["party_id_number"]
        if not (detail and sees_personal_data(viewer, r["unit"])):
            id_number = mask_id_number(id_number)
        party = schemas.Party(name=r["party_name"], type=r["party_type"] or "person", id_number=id_number)
    return schemas.Action(
        id=r["id"],
        unit_id=r["unit"],
        unit_name=r["unit_name"],
        item_id=r["item"],
        item_code=r["item_code"],
        item_name=r["item_name"],
        kind=r["kind"],
        officer_ids=[o.id for o in officers],
        officers=officers,
        occurred_at=r["occurred_at"],
        created_at=r["created_at"],
        location=(
            schemas.Location(lat=r["lat"], lon=r["lon"], accuracy_m=r["accuracy_m"])
            if r["lat"] is not None
            else None
        ),
        address=r["address"],
        party=party,
        notes=r["notes"],
        status=r["status"],
        created_by=r["created_by"],
        evidence_count=r["evidence_count"],
        case_ids=case_ids,
        recording_required=bool(r["recording_required"]),
        recording_missing=bool(r["recording_required"]) and r["recording_at"] is None,
        reversed=json_value(r.get("reversal")),
    )


def _masked(view: schemas.Action) -> schemas.Action:
    if view.party and view.party.id_number:
        party = msgspec.structs.replace(view.party, id_number=mask_id_number(view.party.id_number))
        return msgspec.structs.replace(view, party=party)
    return view


async def get_action(viewer: CurrentUser, action_id: uuid.UUID) -> schemas.Action:
    rows = await Action.raw("{} WHERE {}", _ACTION_ROWS.querystring(), (Action.id == action_id).querystring)
    row = rows[0] if rows else None
    if row is None or not await oversight.may_read(viewer, row["unit"], row["item"]):
        raise AppError(Errors.NOT_FOUND, "No such action.")
    view = (await _views([row], viewer, detail=True))[0]
    evidence = [msgspec.to_builtins(e) for e in await list_for(viewer, "action", action_id)]
    return msgspec.structs.replace(view, evidence=evidence)


class ActionFilter(msgspec.Struct, kw_only=True):
    unit_id: uuid.UUID | None = None
    item_id: uuid.UUID | None = None
    officer_id: uuid.UUID | None = None
    kind: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    has_evidence: bool | None = None
    # Records other units made under the viewer's department's items (四(三)五), not its own.
    overseen: bool = False


async def list_actions(
    viewer: CurrentUser, filters: ActionFilter, cursor: str | None, limit: int
) -> Page[schemas.Action]:
    overseen = oversight.overseen_condition(viewer, Action.unit, Action.item) if filters.overseen else None
    units = None if overseen is not None else enforcement_units(viewer)
    if units is not None and filters.unit_id is not None and filters.unit_id not in units:
        return Page(items=[], next_cursor=None)
    window_first = _narrow_window(filters)
    # The page's ids first, from a narrow subquery, then the wide rows joined to their unit and item:
    # PostgreSQL then picks the filter's own index for the page instead of walking created_at.
    ids = Action.select(Action.id, Action.created_at) if window_first else Action.select(Action.id)
    for condition in _feed_conditions(units, filters, cursor):
        ids = ids.where(condition)
    if overseen is not None:
        ids = ids.where(overseen)
    if window_first:
        # Read the whole (small) window through occurred_at, then sort it: with an ORDER BY in the
        # same query the planner may walk the feed backwards instead, assuming the window's rows are
        # spread evenly over created_at, which for a past window reads most of the table.
        page: Combinable = WhereRaw(_WINDOW_PAGE_SQL, ids.querystrings[0], limit + 1)
    else:
        page = Action.id.is_in(
            ids.order_by(Action.created_at, ascending=False)
            .order_by(Action.id, ascending=False)
            .limit(limit + 1)
        )
    rows = await Action.raw("{} WHERE {}" + _NEWEST_FIRST, _ACTION_ROWS.querystring(), page.querystring)
    items = await _views(rows[:limit], viewer, detail=False)
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _narrow_window(filters: ActionFilter) -> bool:
    """An occurred_at window short enough to read whole (PostgreSQL only: the form needs OFFSET 0)."""
    return (
        is_postgres(Action._meta.db)
        and filters.occurred_from is not None
        and filters.occurred_to is not None
        and filters.occurred_to - filters.occurred_from <= _NARROW_WINDOW
    )


def _feed_conditions(units: list[uuid.UUID] | None, filters: ActionFilter, cursor: str | None) -> list[Any]:
    conditions: list[Any] = []
    if units is not None:
        conditions.append(Action.unit.is_in(units or [uuid.UUID(int=0)]))
    if filters.unit_id:
        conditions.append(Action.unit == filters.unit_id)
    if filters.item_id:
        conditions.append(Action.item == filters.item_id)
    if filters.kind:
        conditions.append(Action.kind == filters.kind)
    if filters.officer_id:
        conditions.append(
            Action.id.is_in(
                ActionOfficer.select(ActionOfficer.action).where(ActionOfficer.officer == filters.officer_id)
            )
        )
    if filters.occurred_from:
        conditions.append(Action.occurred_at >= filters.occurred_from)
        # Implied (an action is stored after it happened, give or take CLOCK_SKEW), but it lets
        # PostgreSQL read a past window through occurred_at instead of walking the whole feed.
        conditions.append(Action.created_at >= filters.occurred_from - _STORED_AFTER_MARGIN)
    if filters.occurred_to:
        conditions.append(Action.occurred_at < filters.occurred_to)
    if filters.has_evidence is not None:
        conditions.append(Action.evidence_count > 0 if filters.has_evidence else Action.evidence_count == 0)
    after = newest_first_after(Action.created_at, Action.id, cursor)
    if after is not None:
        conditions.append(after)
    return conditions


# --- 全过程记录 (full audio-video recording) --------------------------------------------------------


@dataclass
class RecordingRule:
    """Which acts need an audio or video file: by action kind, or for every act on an item of a kind."""

    kinds: tuple[str, ...] = ("coercive", "hearing", "service_left")
    item_kinds: tuple[str, ...] = ("coercion",)
    grace: timedelta = timedelta(hours=24)


RULE = RecordingRule()


def configure_recording(kinds: tuple[str, ...], item_kinds: tuple[str, ...], grace_h: float) -> None:
    RULE.kinds, RULE.item_kinds, RULE.grace = tuple(kinds), tuple(item_kinds), timedelta(hours=grace_h)


def needs_recording(kind: str, item_kind: str | None, item_rule: bool | int | None = None) -> bool:
    """The acts whose kind the law lists (the setting by action kind: 查封扣押, 听证, 留置送达) always
    need one. Otherwise ``item_rule``, the item's own rule (true: every act; false: none), and when
    it has none the setting by item kind decides."""
    if kind in RULE.kinds:
        return True
    if item_rule is not None:
        return bool(item_rule)
    return item_kind is not None and item_kind in RULE.item_kinds


RECORDING_TYPES = ("video/%", "audio/%")


async def mark_recorded(action_id: uuid.UUID) -> None:
    """In the transaction that attached evidence: the first audio or video file completes the act."""
    has_media = Evidence.select(Evidence.parent_id).where(
        (Evidence.parent_type == "action")
        & (Evidence.parent_id == action_id)
        & (Evidence.content_type.like(RECORDING_TYPES[0]) | Evidence.content_type.like(RECORDING_TYPES[1]))
    )
    await (
        Action.update({Action.recording_at: utcnow()})
        .where((Action.id == action_id) & Action.recording_at.is_null() & Action.id.is_in(has_media))
        .run()
    )


async def missing_recordings(action_ids: list[uuid.UUID], inspections_too: bool) -> list[dict[str, Any]]:
    """The actions among ``action_ids`` still without their recording. ``inspections_too``: a major
    case's on-site inspections (现场检查) need one as well."""
    if not action_ids:
        return []
    needed: Combinable = Action.recording_required.eq(True)
    if inspections_too:
        needed = needed | (Action.kind == "inspection")
    return await Action.select(Action.id, Action.kind, Action.occurred_at).where(
        Action.id.is_in(action_ids) & needed & Action.recording_at.is_null()
    )


async def count_missing_recordings(unit_ids: list[uuid.UUID] | None) -> dict[str, int]:
    """Per unit: acts still without their recording (``missing``) and those past the grace period."""
    query = Action.select(Action.unit, Action.created_at).where(
        Action.recording_required.eq(True) & Action.recording_at.is_null()
    )
    if unit_ids is not None:
        query = query.where(Action.unit.is_in(unit_ids or [uuid.UUID(int=0)]))
    cutoff = utcnow() - RULE.grace
    missing = overdue = 0
    for row in await query:
        missing += 1
        overdue += row["created_at"] < cutoff
    return {"missing": missing, "overdue": overdue}


async def check_recordings(events: Publisher) -> int:
    """Periodic: an act still without its recording a grace period after it reached the server
    raises one alert. State-based (``recording_alerted_at``), so a restart raises no second one."""
    cutoff = utcnow() - RULE.grace
    due = await Action.select(Action.id, Action.unit, Action.kind, Action.occurred_at).where(
        Action.recording_required.eq(True)
        & Action.recording_at.is_null()
        & Action.recording_alerted_at.is_null()
        & (Action.created_at < cutoff)
    )
    raised = 0
    for row in due:
        alert = None
        async with atomic():
            won = await (
                Action.update({Action.recording_alerted_at: utcnow()})
                .where(
                    (Action.id == row["id"])
                    & Action.recording_alerted_at.is_null()
                    & Action.recording_at.is_null()
                )
                .returning(Action.id)
            )
            if won:
                alert = await record_alert(
                    "action.recording_missing",
                    f"No audio-video recording (全过程记录) for the {row['kind']} act of "
                    f"{row['occurred_at'].astimezone(BEIJING):%Y-%m-%d %H:%M}",
                    severity="medium",
                    unit_id=row["unit"],
                    object_type="action",
                    object_id=row["id"],
                    data={"kind": row["kind"], "occurred_at": row["occurred_at"].isoformat()},
                )
        if alert is not None:
            raised += 1
            await announce(events, alert)
    return raised
