from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from backend.audit import schemas, services
from backend.lib.auth import requires_roles
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit

Filter = Annotated[str | None, QueryParameter(max_length=64)]


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [requires_roles("supervisor", "admin")]

    @get("/", summary="The append-only audit log, newest first")
    async def list_entries(
        self,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        object_type: Filter = None,
        object_id: Filter = None,
        action: Filter = None,
    ) -> Page[schemas.AuditEntry]:
        return await services.list_entries(cursor, limit, object_type, object_id, action)

    @get("/verify", summary="Re-compute the hash chain; reports the first broken entry")
    async def verify(self) -> schemas.ChainCheck:
        report = await services.verify()
        return schemas.ChainCheck(
            ok=report.ok,
            checked=report.checked,
            head_seq=report.head_seq,
            broken_at_seq=report.broken_at_seq,
            problem=report.problem,
        )
