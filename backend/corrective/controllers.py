from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.corrective import schemas, services
from backend.evidence import schemas as evidence_schemas
from backend.evidence import services as evidence
from backend.evidence.uploads import MAX_UPLOAD, upload_request
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.deps import AppSettings, SignedIn, Store
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, IdempotencyKey, Limit
from backend.live.publish import Events

User = Request[CurrentUser, Any, Any]
TaskId = FromPath[uuid.UUID]


class CorrectiveController(Controller):
    path = "/corrective-actions"
    tags = ["documents"]

    @post(
        "/",
        # officers and legal advisers: a department's finding on a township's record (the service checks)
        guards=[requires_roles("supervisor", "officer", "legal_reviewer")],
        summary="Open a corrective action (by hand or from a source)",
    )
    async def create(
        self,
        user: SignedIn,
        events: Events,
        data: JSONBody[schemas.CorrectiveCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.Corrective]:
        task, replayed = await services.create(user, data, events, idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(task, status_code=HTTP_201_CREATED, headers=headers)

    @get("/", summary="Corrective actions in scope (an officer: theirs and their unit's)")
    async def list_tasks(
        self,
        user: SignedIn,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Corrective]:
        return await services.list_tasks(user, status, cursor, limit)

    @get("/{task_id:uuid}", summary="One corrective action")
    async def get_task(self, user: SignedIn, task_id: TaskId) -> schemas.Corrective:
        return await services.get(user, task_id)

    @post(
        "/{task_id:uuid}/evidence",
        request_max_body_size=MAX_UPLOAD,
        summary="Attach the proof of completion (streamed body like evidence)",
    )
    async def attach(
        self, request: User, settings: AppSettings, store: Store, events: Events, task_id: TaskId
    ) -> Response[evidence_schemas.Evidence]:
        upload = upload_request(request)
        parent = await services.evidence_parent(request.user, task_id, write=True)
        stored, created = await evidence.attach(request.user, parent, upload, store, settings, events)
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(stored, status_code=HTTP_201_CREATED, headers=headers)

    @post(
        "/{task_id:uuid}/complete", status_code=HTTP_200_OK, summary="Done, with the evidence uploaded to it"
    )
    async def complete(
        self, user: SignedIn, events: Events, task_id: TaskId, data: JSONBody[schemas.Complete]
    ) -> schemas.Corrective:
        return await services.complete(user, task_id, data, events)

    @post("/{task_id:uuid}/close", status_code=HTTP_200_OK, summary="Close the task (whoever opened it)")
    async def close(
        self, user: SignedIn, events: Events, task_id: TaskId, data: JSONBody[schemas.Close | None] = None
    ) -> schemas.Corrective:
        return await services.close(user, task_id, data or schemas.Close(), events)
