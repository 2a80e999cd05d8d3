"""Signing rights (签发权) and unit responders: who may issue supervision documents, and who
receives and answers them for a unit. Admin-managed; both are capabilities, not roles."""

from __future__ import annotations

import uuid
from typing import Any

from backend.accounts import schemas
from backend.accounts.tables import SigningRight, UnitResponder, User
from backend.audit import services as audit
from backend.db import atomic
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.org.services import require_units


async def may_sign(user_id: uuid.UUID) -> bool:
    return bool(await SigningRight.exists().where(SigningRight.user == user_id))


async def responder_units(user_id: uuid.UUID) -> set[uuid.UUID]:
    """The units whose supervision documents this user receives and answers."""
    rows = await UnitResponder.select(UnitResponder.unit).where(UnitResponder.user == user_id)
    return {r["unit"] for r in rows}


async def responders_of(unit_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await UnitResponder.select(UnitResponder.user).where(UnitResponder.unit == unit_id)
    return [r["user"] for r in rows]


async def get_capabilities(viewer: CurrentUser, user_id: uuid.UUID) -> schemas.Capabilities:
    if user_id != viewer.id and not viewer.has_any("admin", "supervisor"):
        raise AppError(Errors.NOT_FOUND, "No such user.")
    if not await User.exists().where(User.id == user_id):
        raise AppError(Errors.NOT_FOUND, "No such user.")
    rows = await UnitResponder.select(UnitResponder.unit, UnitResponder.leader).where(
        UnitResponder.user == user_id
    )
    units: list[dict[str, Any]] = [
        {"unit_id": r["unit"], "leader": r["leader"]} for r in sorted(rows, key=lambda r: str(r["unit"]))
    ]
    return schemas.Capabilities(user_id=user_id, signing=await may_sign(user_id), responder_units=units)


async def set_capabilities(
    actor: CurrentUser, user_id: uuid.UUID, data: schemas.CapabilitiesPut
) -> schemas.Capabilities:
    if not await User.exists().where(User.id == user_id):
        raise AppError(Errors.NOT_FOUND, "No such user.")
    unit_ids = [r.unit_id for r in data.responder_units]
    if len(set(unit_ids)) != len(unit_ids):
        raise AppError(
            Errors.VALIDATION,
            "A unit is listed twice.",
            errors=[{"key": "responder_units", "message": "twice"}],
        )
    await require_units(unit_ids)
    async with atomic():
        signing = await may_sign(user_id)
        if data.signing and not signing:
            await SigningRight.insert(SigningRight(id=uuid.uuid4(), user=user_id, granted_by=actor.id)).run()
        elif not data.signing and signing:
            await SigningRight.delete().where(SigningRight.user == user_id).run()
        await UnitResponder.delete().where(UnitResponder.user == user_id).run()
        if data.responder_units:
            await UnitResponder.insert(
                *(
                    UnitResponder(
                        id=uuid.uuid4(), user=user_id, unit=r.unit_id, leader=r.leader, named_by=actor.id
                    )
                    for r in data.responder_units
                )
            ).run()
        await audit.record(
            actor,
            "user.capabilities_set",
            "user",
            user_id,
            {
                "signing": data.signing,
                "responder_units": [
                    {"unit_id": str(r.unit_id), "leader": r.leader} for r in data.responder_units
                ],
            },
        )
    return await get_capabilities(actor, user_id)
