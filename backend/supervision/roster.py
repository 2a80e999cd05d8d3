"""The roster of invited supervisors (特邀监督员名册) and the nominations it is chosen from
(通过单位推荐、个人报名等方式). An invitation is the appointment: selecting a nomination creates one
through ``services.create_invitation``, and the roster reads invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from backend.audit import services as audit
from backend.db import atomic
from backend.lib.auth import CurrentUser
from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.org.services import require_units
from backend.supervision import schemas, services
from backend.supervision.tables import Invitation, Nomination, SpotCheck

NOMINATORS = ("officer", "supervisor")


def _units(text: str) -> list[uuid.UUID]:
    return [uuid.UUID(u) for u in text.split()]


def _blank(key: str) -> AppError:
    return AppError(Errors.VALIDATION, f"{key} must not be blank.", errors=[{"key": key}])


# --- the roster ---------------------------------------------------------------------------------


def _status(row: dict[str, Any], now: datetime) -> str:
    if row["revoked_at"]:
        return "revoked"
    if row["expires_at"] <= now:
        return "expired"
    return "active" if row["accepted_at"] else "invited"


def _status_filter(status: schemas.RosterStatus, now: datetime) -> Any:
    """The SQL for one roster status, the same order of precedence as ``_status``."""
    if status == "revoked":
        return Invitation.revoked_at.is_not_null()
    if status == "expired":
        return Invitation.revoked_at.is_null() & (Invitation.expires_at <= now)
    live = Invitation.revoked_at.is_null() & (Invitation.expires_at > now)
    if status == "active":
        return live & Invitation.accepted_at.is_not_null()
    return live & Invitation.accepted_at.is_null()


async def _spot_check_records(user_ids: list[uuid.UUID]) -> dict[uuid.UUID, schemas.SpotCheckRecord]:
    counts: dict[uuid.UUID, dict[str, int]] = {}
    if user_ids:
        rows = await (
            SpotCheck.select(SpotCheck.requested_by, SpotCheck.status, Count(alias="n"))
            .where(SpotCheck.requested_by.is_in(user_ids))
            .group_by(SpotCheck.requested_by, SpotCheck.status)
        )
        for r in rows:
            counts.setdefault(r["requested_by"], {})[r["status"]] = r["n"]
    return {
        user_id: schemas.SpotCheckRecord(
            requested=sum(by_status.values()),
            passed=by_status.get("passed", 0),
            failed=by_status.get("failed", 0),
            unanswered=by_status.get("overdue", 0),
        )
        for user_id, by_status in counts.items()
    }


async def roster(
    status: schemas.RosterStatus | None,
    category: schemas.Category | None,
    cursor: str | None,
    limit: int,
) -> Page[schemas.RosterEntry]:
    now = utcnow()
    query = (
        Invitation.select()
        .order_by(Invitation.created_at, ascending=False)
        .order_by(Invitation.id, ascending=False)
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(_status_filter(status, now))
    if category is not None:
        query = query.where(Invitation.category == category)
    after = newest_first_after(Invitation.created_at, Invitation.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    page = rows[:limit]
    records = await _spot_check_records([r["user_id"] for r in page if r["user_id"]])
    none = schemas.SpotCheckRecord(requested=0, passed=0, failed=0, unanswered=0)
    items = [
        schemas.RosterEntry(
            invitation_id=r["id"],
            name=r["name"],
            phone=r["phone"],
            category=r["category"],
            unit_ids=_units(r["unit_ids"]),
            appointed_from=r["appointed_from"] or r["created_at"],
            appointed_to=r["expires_at"],
            status=_status(r, now),
            user_id=r["user_id"],
            spot_checks=records.get(r["user_id"], none),
        )
        for r in page
    ]
    last = page[-1] if page else None
    next_cursor = time_cursor(last["created_at"], last["id"]) if last and len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


# --- nominations --------------------------------------------------------------------------------


def _nomination(row: dict[str, Any]) -> schemas.Nomination:
    return schemas.Nomination(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        category=row["category"],
        organisation=row["organisation"],
        statement=row["statement"],
        unit_ids=_units(row["unit_ids"]),
        nominated_by_unit=row["nominated_by_unit"],
        received_at=row["created_at"],
        status=row["status"],
        decided_at=row["decided_at"],
        decline_reason=row["decline_reason"],
        invitation_id=row["invitation_id"],
    )


def _nominator_unit(actor: CurrentUser | None, data: schemas.NominationCreate) -> uuid.UUID | None:
    """The nominating unit: one of the signed-in nominator's own; none for a personal application."""
    if actor is None:
        if data.nominated_by_unit is not None:
            raise AppError(Errors.AUTH_REQUIRED, "Sign in to nominate on behalf of a unit.")
        return None
    if not actor.has_any(*NOMINATORS):
        raise AppError(Errors.FORBIDDEN, "Only a unit's officers and supervisors nominate for it.")
    if data.nominated_by_unit is None:
        raise AppError(
            Errors.VALIDATION,
            "A signed-in nomination names the nominating unit (nominated_by_unit).",
            errors=[{"key": "nominated_by_unit"}],
        )
    if data.nominated_by_unit not in actor.unit_ids:
        raise AppError(Errors.NOT_FOUND, "No such unit of yours.")
    return data.nominated_by_unit


async def nominate(actor: CurrentUser | None, data: schemas.NominationCreate) -> schemas.NominationReceived:
    unit = _nominator_unit(actor, data)
    name, organisation, statement = data.name.strip(), data.organisation.strip(), data.statement.strip()
    for key, value in (("name", name), ("organisation", organisation), ("statement", statement)):
        if not value:
            raise _blank(key)
    await require_units(data.unit_ids)
    nomination_id = uuid.uuid4()
    async with atomic():
        await Nomination.insert(
            Nomination(
                id=nomination_id,
                name=name,
                phone=data.phone,
                organisation=organisation,
                statement=statement,
                category=data.category,
                unit_ids=" ".join(str(u) for u in dict.fromkeys(data.unit_ids)),
                nominated_by_unit=unit,
                submitted_by=actor.id if actor else None,
            )
        ).run()
        # The log names the nomination, not what the person wrote about themselves.
        await audit.record(
            actor,
            "nomination.received",
            "nomination",
            nomination_id,
            {"category": data.category, "nominated_by_unit": str(unit) if unit else None},
        )
    row = await Nomination.select(Nomination.created_at).where(Nomination.id == nomination_id).first()
    assert row is not None
    return schemas.NominationReceived(id=nomination_id, status="received", received_at=row["created_at"])


async def list_nominations(
    status: schemas.NominationStatus | None, cursor: str | None, limit: int
) -> Page[schemas.Nomination]:
    query = (
        Nomination.select()
        .order_by(Nomination.created_at, ascending=False)
        .order_by(Nomination.id, ascending=False)
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(Nomination.status == status)
    after = newest_first_after(Nomination.created_at, Nomination.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = [_nomination(r) for r in rows[:limit]]
    next_cursor = time_cursor(items[-1].received_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def _undecided(nomination_id: uuid.UUID) -> dict[str, Any]:
    row = await Nomination.select().where(Nomination.id == nomination_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such nomination.")
    if row["status"] != "received":
        raise AppError(Errors.NOMINATION_DECIDED, f"This nomination was already {row['status']}.")
    return row


async def _decide(actor: CurrentUser, nomination_id: uuid.UUID, changes: dict[Any, Any]) -> None:
    """Compare-and-set from received, so of two deciders at once only one succeeds."""
    now = utcnow()
    claimed = await (
        Nomination.update({Nomination.decided_by: actor.id, Nomination.decided_at: now, **changes})
        .where((Nomination.id == nomination_id) & (Nomination.status == "received"))
        .returning(Nomination.id)
    )
    if not claimed:
        raise AppError(Errors.NOMINATION_DECIDED, "This nomination was already decided.")


async def _fresh(nomination_id: uuid.UUID) -> schemas.Nomination:
    row = await Nomination.select().where(Nomination.id == nomination_id).first()
    assert row is not None
    return _nomination(row)


async def select(
    actor: CurrentUser, nomination_id: uuid.UUID, data: schemas.NominationSelect, origin: str
) -> schemas.Selected:
    """Appoint the nominee: the invitation (and so the roster row) is made by the one service that
    makes invitations; its one-time link is in this answer only."""
    if data.appointed_to <= max(data.appointed_from, utcnow()):
        raise AppError(
            Errors.VALIDATION,
            "The appointment must end after it starts and after now.",
            errors=[{"key": "appointed_to"}],
        )
    row = await _undecided(nomination_id)
    invite = schemas.InvitationCreate(
        name=row["name"],
        phone=row["phone"],
        unit_ids=data.unit_ids,
        expires_at=data.appointed_to,
        category=row["category"],
        appointed_from=data.appointed_from,
    )
    async with atomic():
        # One transaction: a refused invitation leaves the nomination undecided.
        await _decide(actor, nomination_id, {Nomination.status: "selected"})
        link = await services.create_invitation(actor, invite, origin)
        await (
            Nomination.update({Nomination.invitation_id: link.invitation.id})
            .where(Nomination.id == nomination_id)
            .run()
        )
        await audit.record(
            actor,
            "nomination.selected",
            "nomination",
            nomination_id,
            {"invitation_id": str(link.invitation.id)},
        )
    return schemas.Selected(nomination=await _fresh(nomination_id), invitation=link)


async def decline(
    actor: CurrentUser, nomination_id: uuid.UUID, data: schemas.NominationDecline
) -> schemas.Nomination:
    reason = data.reason.strip()
    if not reason:
        raise _blank("reason")
    await _undecided(nomination_id)
    async with atomic():
        await _decide(
            actor, nomination_id, {Nomination.status: "declined", Nomination.decline_reason: reason}
        )
        await audit.record(actor, "nomination.declined", "nomination", nomination_id, {"reason": reason})
    return await _fresh(nomination_id)
