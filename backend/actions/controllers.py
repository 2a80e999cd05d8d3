from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from backend.actions import schemas, services
from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, IdempotencyKey, Limit
from backend.live.publish import Events

OptionalUUID = Annotated[uuid.UUID | None, QueryParameter()]
OptionalTime = Annotated[datetime | None, QueryParameter()]


class ActionController(Controller):
    path = "/actions"
    tags = ["enforcement"]

    @post("/", guards=[requires_roles("officer")], summary="Record an on-site enforcement action")
    async def create_action(
        self,
        events: Events,
        user: SignedIn,
        data: JSONBody[schemas.ActionCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.Action]:
        action, replayed = await services.create_action(user, data, idempotency_key, events)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(action, status_code=HTTP_201_CREATED, headers=headers)

    @get("/", summary="The action feed, newest first")
    async def list_actions(
        self,
        user: SignedIn,
        unit_id: OptionalUUID = None,
        item_id: OptionalUUID = None,
        officer_id: OptionalUUID = None,
        kind: Annotated[schemas.ActionKind | None, QueryParameter()] = None,
        occurred_from: OptionalTime = None,
        occurred_to: OptionalTime = None,
        has_evidence: Annotated[bool | None, QueryParameter()] = None,
        overseen: Annotated[
            bool,
            QueryParameter(
                description="Other units' actions under items the viewer's department owns (四(三)五)"
            ),
        ] = False,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Action]:
        filters = services.ActionFilter(
            unit_id=unit_id,
            item_id=item_id,
            officer_id=officer_id,
            kind=kind,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            has_evidence=has_evidence,
            overseen=overseen,
        )
        return await services.list_actions(user, filters, cursor, limit)

    @get("/{action_id:uuid}", summary="One action with its evidence")
    async def get_action(self, user: SignedIn, action_id: FromPath[uuid.UUID]) -> schemas.Action:
        return await services.get_action(user, action_id)
