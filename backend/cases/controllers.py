from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.actions.services import count_missing_recordings
from backend.cases import clocks, schemas, services
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.deps import SignedIn
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, IdempotencyKey, Limit
from backend.lib.scope import enforcement_units
from backend.live.publish import Events

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
        self,
        events: Events,
        user: SignedIn,
        data: JSONBody[schemas.CaseCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.Case]:
        case, replayed = await services.create_case(user, data, idempotency_key, events)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(case, status_code=HTTP_201_CREATED, headers=headers)

    @get("/", summary="Cases in scope, newest first (status=review is the legal reviewer's queue)")
    async def list_cases(
        self,
        user: SignedIn,
        status: Status = None,
        unit_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        overseen: Annotated[
            bool,
            QueryParameter(
                description="Other units' cases under items the viewer's department owns (四(三)五)"
            ),
        ] = False,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Case]:
        return await services.list_cases(user, status, unit_id, cursor, limit, overseen=overseen)

    @get("/{case_id:uuid}", summary="One case")
    async def get_case(self, user: SignedIn, case_id: CaseId) -> schemas.Case:
        return await services.get_case(user, case_id)

    @patch("/{case_id:uuid}", guards=[requires_roles("officer")], summary="Record investigation and proposal")
    async def update_case(
        self, events: Events, user: SignedIn, case_id: CaseId, data: JSONBody[schemas.CaseUpdate]
    ) -> schemas.Case:
        return await services.update_case(user, case_id, data, events)

    @post(
        "/{case_id:uuid}/submit-review",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Ask for legal review (法制审核)",
    )
    async def submit_review(
        self,
        events: Events,
        user: SignedIn,
        case_id: CaseId,
        data: JSONBody[schemas.SubmitReview | None] = None,
    ) -> schemas.Case:
        return await services.submit_review(user, case_id, data or schemas.SubmitReview(), events)

    @post(
        "/{case_id:uuid}/review",
        guards=[requires_roles("legal_reviewer")],
        status_code=HTTP_200_OK,
        summary="Legal review: approve, reject or return",
    )
    async def review(
        self, events: Events, user: SignedIn, case_id: CaseId, data: JSONBody[schemas.ReviewCreate]
    ) -> schemas.Case:
        return await services.review(user, case_id, data, events)

    @post(
        "/{case_id:uuid}/decision",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Issue the decision (决定)",
    )
    async def decide(
        self,
        events: Events,
        user: SignedIn,
        case_id: CaseId,
        data: JSONBody[schemas.DecisionCreate | None] = None,
    ) -> schemas.Case:
        return await services.decide(user, case_id, data or schemas.DecisionCreate(), events)

    @post(
        "/{case_id:uuid}/serve",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Record service of the decision (送达)",
    )
    async def serve(
        self, events: Events, user: SignedIn, case_id: CaseId, data: JSONBody[schemas.ServeCreate]
    ) -> schemas.Case:
        return await services.serve(user, case_id, data, events)

    @post(
        "/{case_id:uuid}/close",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Close the case (结案)",
    )
    async def close(
        self,
        events: Events,
        user: SignedIn,
        case_id: CaseId,
        data: JSONBody[schemas.Step | None] = None,
    ) -> schemas.Case:
        return await services.close(user, case_id, data or schemas.Step(), events)

    @post(
        "/{case_id:uuid}/transfer",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Transfer to public security / judicial organs (移送)",
    )
    async def transfer(
        self, events: Events, user: SignedIn, case_id: CaseId, data: JSONBody[schemas.TransferCreate]
    ) -> schemas.Case:
        return await services.transfer(user, case_id, data, events)

    @post(
        "/{case_id:uuid}/override",
        guards=[requires_roles("supervisor")],
        status_code=HTTP_200_OK,
        summary="Record a justified override of the transfer rule",
    )
    async def override(
        self, events: Events, user: SignedIn, case_id: CaseId, data: JSONBody[schemas.OverrideCreate]
    ) -> schemas.Case:
        return await services.override(user, case_id, data, events)

    @post(
        "/{case_id:uuid}/hearing",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="听证: the party told of the right, the party's request, the hearing notice",
    )
    async def hearing(
        self, events: Events, user: SignedIn, case_id: CaseId, data: JSONBody[schemas.HearingStep]
    ) -> schemas.Case:
        return await services.hearing(user, case_id, data, events)

    @post(
        "/{case_id:uuid}/extension",
        guards=[requires_roles("supervisor")],
        status_code=HTTP_200_OK,
        summary="Approve a later due date for a running clock (延长), with a reason",
    )
    async def extend_clock(
        self,
        user: SignedIn,
        case_id: CaseId,
        data: JSONBody[schemas.ExtensionCreate],
    ) -> list[schemas.Clock]:
        return await clocks.extend(user, case_id, data.clock, data)


class ClockController(Controller):
    path = "/clocks"
    tags = ["enforcement"]

    @get("/", summary="The statutory clocks of the units in scope, what is due first on top")
    async def list_clocks(
        self,
        user: SignedIn,
        unit_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        include_done: Annotated[bool, QueryParameter()] = False,
    ) -> schemas.UnitClocks:
        items = await clocks.of_units(user, unit_id, include_done)
        units = enforcement_units(user)
        if unit_id is not None:
            units = [unit_id] if units is None or unit_id in units else [uuid.UUID(int=0)]
        counts = await count_missing_recordings(units)
        return schemas.UnitClocks(
            items=items, recordings_missing=counts["missing"], recordings_overdue=counts["overdue"]
        )
