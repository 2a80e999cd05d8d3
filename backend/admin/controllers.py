from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromQuery
from litestar.status_codes import HTTP_200_OK

from backend.admin import schemas, services
from backend.admin.sheets import MAX_BYTES
from backend.lib.auth import CurrentUser, requires_roles
from backend.live.publish import Events

User = Request[CurrentUser, Any, Any]
NOTE = (
    "; the body is the file itself (text/csv, UTF-8, or XLSX, first row = headers). dry_run (the default) "
    "plans every row and writes nothing; otherwise nothing is written unless no row is refused"
)


async def _run(
    request: User, events: Events, kind: schemas.ImportKind, dry_run: bool
) -> schemas.ImportResult:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = await request.body()
    return await services.run_import(request.user, kind, content_type, body, dry_run=dry_run, events=events)


class ImportController(Controller):
    path = "/imports"
    tags = ["admin"]
    guards = [requires_roles("admin")]
    request_max_body_size = MAX_BYTES

    @post("/items", status_code=HTTP_200_OK, summary="Import the 权责清单 (enforcement items)" + NOTE)
    async def items(
        self, request: User, events: Events, dry_run: FromQuery[bool] = True
    ) -> schemas.ImportResult:
        return await _run(request, events, "items", dry_run)

    @post(
        "/delegations",
        status_code=HTTP_200_OK,
        summary="Import the 指导目录 (delegations to townships)" + NOTE,
    )
    async def delegations(
        self, request: User, events: Events, dry_run: FromQuery[bool] = True
    ) -> schemas.ImportResult:
        return await _run(request, events, "delegations", dry_run)

    @post(
        "/users",
        status_code=HTTP_200_OK,
        summary="Import a user list (new users get no usable password)" + NOTE,
    )
    async def users(
        self, request: User, events: Events, dry_run: FromQuery[bool] = True
    ) -> schemas.ImportResult:
        return await _run(request, events, "users", dry_run)
