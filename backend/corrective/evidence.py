"""Corrective actions as parents of evidence: the assignee attaches the proof of completion."""

from __future__ import annotations

import uuid

from backend.corrective import services
from backend.evidence.parents import Parent
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError


class CorrectiveParent:
    async def resolve(self, actor: CurrentUser, parent_id: uuid.UUID, *, write: bool) -> Parent:
        return await services.evidence_parent(actor, parent_id, write=write)

    async def visible(self, actor: CurrentUser, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        try:
            await services.evidence_parent(actor, parent_id, write=False)
        except AppError:
            return False
        return True

    async def attached(self, parent_id: uuid.UUID) -> None:
        return None
