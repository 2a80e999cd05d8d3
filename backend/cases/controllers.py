from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.cases import schemas, services
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, IdempotencyKey, Limit

Status = Annotated[
    Literal["filed", "investigating", "review", "decided", "served", "closed", "transferred"] | None,
    QueryParameter(),
]
CaseId = FromPath[uuid.UUID]
User = Request[CurrentUser, Any, Any]


class CaseController(Controller):
    path = "/cases"
    tags = ["enforcement"]

    @post("/", guards=[requires_roles("officer")], summary="Open a case (立案)")
    async def create_case(
        self, request: User, data: JSONBody[schemas.CaseCreate], idempotency_key: IdempotencyKey = None
    ) -> Response[schemas.Case]:
        case, replayed = await services.create_case(request.user, data, idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(case, status_code=HTTP_201_CREATED, headers=headers)

    @get("/", summary="Cases in scope, newest first (status=review is the legal reviewer's queue)")
    async def list_cases(
        self,
        request: User,
        status: Status = None,
        unit_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Case]:
        return await services.list_cases(request.user, status, unit_id, cursor, limit)

    @get("/{case_id:uuid}", summary="One case")
    async def get_case(self, request: User, case_id: CaseId) -> schemas.Case:
        return await services.get_case(request.user, case_id)

    @patch("/{case_id:uuid}", guards=[requires_roles("officer")], summary="Record investigation and proposal")
    async def update_case(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.CaseUpdate]
    ) -> schemas.Case:
        return await services.update_case(request.user, case_id, data)

    @post(
        "/{case_id:uuid}/submit-review",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Ask for legal review (法制审核)",
    )
    async def submit_review(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.Step | None] = None
    ) -> schemas.Case:
        return await services.submit_review(request.user, case_id, data or schemas.Step())

    @post(
        "/{case_id:uuid}/review",
        guards=[requires_roles("legal_reviewer")],
        status_code=HTTP_200_OK,
        summary="Legal review: approve, reject or return",
    )
    async def review(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.ReviewCreate]
    ) -> schemas.Case:
        return await services.review(request.user, case_id, data)

    @post(
        "/{case_id:uuid}/decision",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Issue the decision (决定)",
    )
    async def decide(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.DecisionCreate | None] = None
    ) -> schemas.Case:
        return await services.decide(request.user, case_id, data or schemas.DecisionCreate())

    @post(
        "/{case_id:uuid}/serve",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Record service of the decision (送达)",
    )
    async def serve(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.ServeCreate]
    ) -> schemas.Case:
        return await services.serve(request.user, case_id, data)

    @post(
        "/{case_id:uuid}/close",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Close the case (结案)",
    )
    async def close(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.Step | None] = None
    ) -> schemas.Case:
        return await services.close(request.user, case_id, data or schemas.Step())

    @post(
        "/{case_id:uuid}/transfer",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Transfer to public security / judicial organs (移送)",
    )
    async def transfer(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.TransferCreate]
    ) -> schemas.Case:
        return await services.transfer(request.user, case_id, data)

    @post(
        "/{case_id:uuid}/override",
        guards=[requires_roles("supervisor")],
        status_code=HTTP_200_OK,
        summary="Record a justified override of the transfer rule",
    )
    async def override(
        self, request: User, case_id: CaseId, data: JSONBody[schemas.OverrideCreate]
    ) -> schemas.Case:
        return await services.override(request.user, case_id, data)
