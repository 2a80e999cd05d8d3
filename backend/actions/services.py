"""On-site actions: recording with the legal gates, the feed, and the detail."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from backend.accounts.services import certificate_view
from backend.accounts.tables import Certificate, Membership, User
from backend.actions import schemas
from backend.actions.tables import Action, ActionOfficer
from backend.alerts.services import raise_alert
from backend.audit import services as audit
from backend.db import atomic, is_unique_violation
from backend.lib import idempotency
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, utcnow
from backend.lib.errors import AppError, ErrorCode, Errors
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.lib.scope import can_see, enforcement_units, mask_id_number, sees_personal_data
from backend.live.publish import publish
from backend.org.services import unit_may_act
from backend.org.tables import Item

CLOCK_SKEW = timedelta(minutes=5)


async def _refuse(
    actor: CurrentUser, data: schemas.ActionCreate, error: ErrorCode, detail: str, **extra: Any
) -> AppError:
    """Every refused enforcement act is an alert for the supervisors, then a 422 for the caller."""
    await raise_alert(
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


async def _check_rules(actor: CurrentUser, data: schemas.ActionCreate, officer_ids: list[uuid.UUID]) -> None:
    if data.occurred_at > utcnow() + CLOCK_SKEW:
        raise AppError(Errors.ACTION_IN_FUTURE, "occurred_at is in the future; check the phone's clock.")
    if actor.id not in officer_ids:
        raise AppError(Errors.ACTION_RECORDER_NOT_LISTED, "You must be one of the officers named.")
    if not await Item.exists().where(Item.id == data.item_id):
        raise AppError(Errors.ITEM_NOT_FOUND, "The enforcement item does not exist.")
    if len(officer_ids) < 2:
        raise await _refuse(
            actor,
            data,
            Errors.ACTION_TWO_OFFICERS,
            "On-site enforcement needs at least two officers (行政处罚法第四十二条).",
        )
    users = {
        r["id"]: r
        for r in await User.select(User.id, User.display_name, User.roles, User.active).where(
            User.id.is_in(officer_ids)
        )
    }
    members = {
        r["user"]
        for r in await Membership.select(Membership.user).where(
            (Membership.unit == data.unit_id) & Membership.user.is_in(officer_ids)
        )
    }
    certs = {r["user"]: r for r in await Certificate.select().where(Certificate.user.is_in(officer_ids))}
    for officer_id in officer_ids:
        user = users.get(officer_id)
        name = user["display_name"] if user else str(officer_id)
        if (
            user is None
            or not user["active"]
            or " officer " not in user["roles"]
            or officer_id not in members
        ):
            raise await _refuse(
                actor,
                data,
                Errors.ACTION_OFFICER_NOT_IN_UNIT,
                f"{name} is not an officer of the acting unit.",
                officer_id=officer_id,
                officer_name=name,
            )
        cert = certificate_view(certs.get(officer_id))
        if cert is None or cert.status != "valid":
            status = cert.status if cert else "missing"
            raise await _refuse(
                actor,
                data,
                Errors.CERTIFICATE_INVALID,
                f"The enforcement certificate of {name} is {status}.",
                officer_id=officer_id,
                officer_name=name,
                certificate_status=status,
            )
    on = data.occurred_at.astimezone(BEIJING).date()
    if not await unit_may_act(data.unit_id, data.item_id, on):
        raise await _refuse(
            actor,
            data,
            Errors.ITEM_NOT_AUTHORISED,
            f"The unit may not act on this item on {on.isoformat()}: it is not the unit's own "
            "and no delegation is in effect.",
            item_id=data.item_id,
        )


async def create_action(
    actor: CurrentUser, data: schemas.ActionCreate, idempotency_key: str | None
) -> tuple[schemas.Action, bool]:
    """Returns the action and whether this was a replay of an earlier identical request."""
    action_id = idempotency.resource_id(data.id, idempotency_key, actor.id, "action")
    data = msgspec.structs.replace(data, id=action_id, occurred_at=data.occurred_at.astimezone(UTC))
    digest = idempotency.request_hash(data)
    existing = (
        await Action.select(Action.request_hash, Action.created_by).where(Action.id == action_id).first()
    )
    if existing:
        return await _replay(actor, action_id, existing, digest), True
    if data.unit_id not in actor.unit_ids:
        raise AppError(Errors.FORBIDDEN, "You are not a member of this unit.")
    officer_ids = list(dict.fromkeys(data.officer_ids))
    await _check_rules(actor, data, officer_ids)
    party = data.party
    try:
        async with atomic():
            await Action.insert(
                Action(
                    id=action_id,
                    unit=data.unit_id,
                    item=data.item_id,
                    kind=data.kind,
                    occurred_at=data.occurred_at,
                    lat=data.location.lat,
                    lon=data.location.lon,
                    accuracy_m=data.location.accuracy_m,
                    address=data.address,
                    party_name=party.name if party else None,
                    party_type=party.type if party else None,
                    party_id_number=party.id_number if party else None,
                    notes=data.notes,
                    created_by=actor.id,
                    request_hash=digest,
                )
            ).run()
            await ActionOfficer.insert(
                *[ActionOfficer(id=uuid.uuid4(), action=action_id, officer=o) for o in officer_ids]
            ).run()
            await audit.record(
                actor,
                "action.created",
                "action",
                action_id,
                {"unit_id": str(data.unit_id), "item_id": str(data.item_id), "kind": data.kind},
            )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        # A concurrent retry won the race: answer as a replay.
        existing = (
            await Action.select(Action.request_hash, Action.created_by).where(Action.id == action_id).first()
        )
        if existing is None:
            raise
        return await _replay(actor, action_id, existing, digest), True
    view = await get_action(actor, action_id)
    await publish("action.created", data.unit_id, msgspec.to_builtins(_masked(view)))
    return view, False


async def _replay(
    actor: CurrentUser, action_id: uuid.UUID, existing: dict[str, Any], digest: str
) -> schemas.Action:
    if existing["created_by"] != actor.id or existing["request_hash"] != digest:
        raise idempotency.mismatch()
    return await get_action(actor, action_id)


_COLUMNS = (
    Action.all_columns(),
    Action.unit.name.as_alias("unit_name"),
    Action.item.code.as_alias("item_code"),
    Action.item.name.as_alias("item_name"),
)


async def _views(rows: list[dict[str, Any]], viewer: CurrentUser, *, detail: bool) -> list[schemas.Action]:
    ids = [r["id"] for r in rows]
    officers: dict[uuid.UUID, list[schemas.OfficerRef]] = defaultdict(list)
    if ids:
        for o in await ActionOfficer.select(
            ActionOfficer.action, ActionOfficer.officer.id, ActionOfficer.officer.display_name
        ).where(ActionOfficer.action.is_in(ids)):
            officers[o["action"]].append(schemas.OfficerRef(o["officer.id"], o["officer.display_name"]))
    case_ids: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if detail and ids:
        from backend.cases.tables import CaseAction

        for c in await CaseAction.select(CaseAction.case, CaseAction.action).where(
            CaseAction.action.is_in(ids)
        ):
            case_ids[c["action"]].append(c["case"])
    views = []
    for r in rows:
        party = None
        if r["party_name"]:
            id_number = r["party_id_number"]
            if not (detail and sees_personal_data(viewer, r["unit"])):
                id_number = mask_id_number(id_number)
            party = schemas.Party(name=r["party_name"], type=r["party_type"] or "person", id_number=id_number)
        views.append(
            schemas.Action(
                id=r["id"],
                unit_id=r["unit"],
                unit_name=r["unit_name"],
                item_id=r["item"],
                item_code=r["item_code"],
                item_name=r["item_name"],
                kind=r["kind"],
                officer_ids=[o.id for o in officers[r["id"]]],
                officers=officers[r["id"]],
                occurred_at=r["occurred_at"],
                created_at=r["created_at"],
                location=schemas.Location(lat=r["lat"], lon=r["lon"], accuracy_m=r["accuracy_m"]),
                address=r["address"],
                party=party,
                notes=r["notes"],
                status=r["status"],
                created_by=r["created_by"],
                evidence_count=r["evidence_count"],
                case_ids=case_ids[r["id"]],
            )
        )
    return views


def _masked(view: schemas.Action) -> schemas.Action:
    if view.party and view.party.id_number:
        party = msgspec.structs.replace(view.party, id_number=mask_id_number(view.party.id_number))
        return msgspec.structs.replace(view, party=party)
    return view


async def get_action(viewer: CurrentUser, action_id: uuid.UUID) -> schemas.Action:
    from backend.evidence.services import list_for

    row = await Action.select(*_COLUMNS).where(Action.id == action_id).first()
    if row is None or not can_see(viewer, row["unit"]):
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


async def list_actions(
    viewer: CurrentUser, filters: ActionFilter, cursor: str | None, limit: int
) -> Page[schemas.Action]:
    units = enforcement_units(viewer)
    query = (
        Action.select(*_COLUMNS)
        .order_by(Action.created_at, ascending=False)
        .order_by(Action.id, ascending=False)
        .limit(limit + 1)
    )
    if units is not None:
        if filters.unit_id is not None and filters.unit_id not in units:
            return Page(items=[], next_cursor=None)
        query = query.where(Action.unit.is_in(units or [uuid.UUID(int=0)]))
    if filters.unit_id:
        query = query.where(Action.unit == filters.unit_id)
    if filters.item_id:
        query = query.where(Action.item == filters.item_id)
    if filters.kind:
        query = query.where(Action.kind == filters.kind)
    if filters.officer_id:
        query = query.where(
            Action.id.is_in(
                ActionOfficer.select(ActionOfficer.action).where(ActionOfficer.officer == filters.officer_id)
            )
        )
    if filters.occurred_from:
        query = query.where(Action.occurred_at >= filters.occurred_from)
    if filters.occurred_to:
        query = query.where(Action.occurred_at < filters.occurred_to)
    if filters.has_evidence is not None:
        query = query.where(Action.evidence_count > 0 if filters.has_evidence else Action.evidence_count == 0)
    after = newest_first_after(Action.created_at, Action.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = await _views(rows[:limit], viewer, detail=False)
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
