"""Cases as parents of evidence: officers of the case's unit add to them."""

from __future__ import annotations

import uuid

from backend.cases.tables import Case
from backend.evidence.parents import Parent
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.lib.scope import can_see
from backend.org import oversight


class CaseParent:
    async def resolve(self, actor: CurrentUser, parent_id: uuid.UUID, *, write: bool) -> Parent:
        row = (
            await Case.select(Case.id, Case.unit, Case.item, Case.unit.name.as_alias("unit_name"))
            .where(Case.id == parent_id)
            .first()
        )
        if row is None or not await oversight.may_read(actor, row["unit"], row["item"]):
            raise AppError(Errors.NOT_FOUND, "No such case.")
        if write and not (actor.has_any("officer") and row["unit"] in actor.unit_ids):
            await oversight.writable(actor, row["unit"], row["item"], "case")
            raise AppError(Errors.NOT_FOUND, "No such case.")
        return Parent("case", row["id"], row["unit"], row["unit_name"])

    async def visible(self, actor: CurrentUser, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        if can_see(actor, unit_id):
            return True
        item = await Case.select(Case.item).where(Case.id == parent_id).first()
        return item is not None and await oversight.oversees(actor, unit_id, item["item"])

    async def attached(self, parent_id: uuid.UUID) -> None:
        return None
