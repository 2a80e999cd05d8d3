from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.alerts import schemas, services
from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.live.publish import Events
from backend.live.schemas import SosCreate

Status = Annotated[Literal["open", "acked", "resolved", "false_alarm"] | None, QueryParameter()]
TypeFilter = Annotated[str | None, QueryParameter(max_length=40)]


class AlertController(Controller):
    path = "/alerts"
    tags = ["alerts"]
    guards = [requires_roles("command", "supervisor", "admin")]

    @get("/", summary="Alert history, newest first")
    async def list_alerts(
        self,
        user: SignedIn,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        status: Status = None,
        type: TypeFilter = None,
    ) -> Page[schemas.Alert]:
        return await services.list_alerts(user, cursor, limit, status, type)

    @post(
        "/{alert_id:uuid}/ack", status_code=HTTP_200_OK, summary="Acknowledge, resolve or mark a false alarm"
    )
    async def ack(
        self,
        events: Events,
        user: SignedIn,
        alert_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.AlertAck | None] = None,
    ) -> schemas.Alert:
        return await services.handle(user, alert_id, data or schemas.AlertAck(), events)


class SosController(Controller):
    path = "/sos"
    tags = ["live"]

    @post("/", guards=[requires_roles("officer")], status_code=HTTP_201_CREATED, summary="Panic alert")
    async def sos(
        self, user: SignedIn, events: Events, data: JSONBody[SosCreate | None] = None
    ) -> dict[str, Any]:
        return await services.sos(user, data or SosCreate(), events)
