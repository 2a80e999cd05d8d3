"""Cases as parents of evidence: officers of the case's unit add to them."""

from __future__ import annotations

import uuid

from backend.cases.tables import Case
from backend.evidence.parents import Parent
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.lib.scope import can_see


class CaseParent:
    async def resolve(self, actor: CurrentUser, parent_id: uuid.UUID, *, write: bool) -> Parent:
        row = (
            await Case.select(Case.id, Case.unit, Case.unit.name.as_alias("unit_name"))
            .where(Case.id == parent_id)
            .first()
        )
        adds = actor.has_any("officer") and row is not None and row["unit"] in actor.unit_ids
        if row is None or not can_see(actor, row["unit"]) or (write and not adds):
            raise AppError(Errors.NOT_FOUND, "No such case.")
        return Parent("case", row["id"], row["unit"], row["unit_name"])

    async def visible(self, actor: CurrentUser, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        return can_see(actor, unit_id)

    async def attached(self, parent_id: uuid.UUID) -> None:
        return None
