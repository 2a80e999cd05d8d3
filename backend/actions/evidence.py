"""On-site actions as parents of evidence: officers of the acting unit add to them, whoever sees
the unit sees their evidence, and each action counts its evidence."""

from __future__ import annotations

import uuid

from backend.actions.services import mark_recorded
from backend.actions.tables import Action
from backend.evidence.parents import Parent
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.lib.scope import can_see
from backend.org import oversight


class ActionParent:
    async def resolve(self, actor: CurrentUser, parent_id: uuid.UUID, *, write: bool) -> Parent:
        row = (
            await Action.select(
                Action.id,
                Action.unit,
                Action.occurred_at,
                Action.lat,
                Action.lon,
                Action.item,
                Action.unit.name.as_alias("unit_name"),
            )
            .where(Action.id == parent_id)
            .first()
        )
        if row is None or not await oversight.may_read(actor, row["unit"], row["item"]):
            raise AppError(Errors.NOT_FOUND, "No such action.")
        if write and not _adds(actor, row["unit"]):
            await oversight.writable(actor, row["unit"], row["item"], "action")
            raise AppError(Errors.NOT_FOUND, "No such action.")
        return Parent(
            "action", row["id"], row["unit"], row["unit_name"], row["occurred_at"], row["lat"], row["lon"]
        )

    async def visible(self, actor: CurrentUser, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        if can_see(actor, unit_id):
            return True
        item = await Action.select(Action.item).where(Action.id == parent_id).first()
        return item is not None and await oversight.oversees(actor, unit_id, item["item"])

    async def attached(self, parent_id: uuid.UUID) -> None:
        await (
            Action.update({Action.evidence_count: Action.evidence_count + 1})
            .where(Action.id == parent_id)
            .run()
        )
        await mark_recorded(parent_id)


def _adds(actor: CurrentUser, unit_id: uuid.UUID) -> bool:
    """Evidence is added by an officer of the record's unit."""
    return actor.has_any("officer") and unit_id in actor.unit_ids
