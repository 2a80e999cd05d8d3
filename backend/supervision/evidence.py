"""Spot-checks as parents of evidence: only the checked officer answers, before the deadline, with a
photo taken after the request; the check's people see the answer."""

from __future__ import annotations

import uuid

from backend.evidence.parents import Parent
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError
from backend.supervision import services


class SpotCheckParent:
    async def resolve(self, actor: CurrentUser, parent_id: uuid.UUID, *, write: bool) -> Parent:
        return await services.evidence_parent(actor, parent_id, write=write)

    async def visible(self, actor: CurrentUser, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        try:
            await services.visible_check(actor, parent_id)
        except AppError:
            return False
        return True

    async def attached(self, parent_id: uuid.UUID) -> None:
        return None
