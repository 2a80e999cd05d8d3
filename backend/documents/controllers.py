from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.documents import pdf, schemas, services
from backend.evidence import schemas as evidence_schemas
from backend.evidence import services as evidence
from backend.evidence.uploads import MAX_UPLOAD, upload_request
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.deps import AppSettings, SignedIn, Store
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, IdempotencyKey, Limit
from backend.live.publish import Events

User = Request[CurrentUser, Any, Any]
DocumentId = FromPath[uuid.UUID]
SUPERVISOR = [requires_roles("supervisor", "admin")]


class DocumentController(Controller):
    path = "/supervision-documents"
    tags = ["documents"]

    @post("/", guards=[requires_roles("supervisor")], summary="Draft a supervision document to a unit")
    async def draft(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        data: JSONBody[schemas.DocumentCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.Document]:
        view, replayed = await services.create_draft(user, data, settings, events, idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(view, status_code=HTTP_201_CREATED, headers=headers)

    @get("/", summary="Documents in your scope (supervisors: all; a unit's responder: the unit's)")
    async def list_documents(
        self,
        user: SignedIn,
        settings: AppSettings,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        unit_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Document]:
        return await services.list_documents(user, settings, status, unit_id, cursor, limit)

    @get("/counts", summary="Awaiting, overdue, to review, unread and drafts, for your scope")
    async def counts(self, user: SignedIn) -> schemas.Counts:
        return await services.counts(user)

    @get("/{document_id:uuid}", summary="One document with its history (a unit's first read marks it read)")
    async def get_document(
        self, user: SignedIn, settings: AppSettings, events: Events, document_id: DocumentId
    ) -> schemas.Document:
        return await services.get_document(user, document_id, settings, events)

    @post(
        "/{document_id:uuid}/issue",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        summary="Issue (签发): a second supervisor with signing rights; gives the number and the PDF",
    )
    async def issue(
        self, user: SignedIn, settings: AppSettings, store: Store, events: Events, document_id: DocumentId
    ) -> schemas.Issued:
        return await services.issue(user, document_id, settings, events, pdf.renderer(store))

    @get("/{document_id:uuid}/pdf", summary="The issued PDF, as stored at issue")
    async def get_pdf(self, user: SignedIn, store: Store, document_id: DocumentId) -> Stream:
        row = await services.pdf_of(user, document_id)

        async def body() -> Any:
            async for chunk in store.open_range(row["pdf_key"], 0, row["pdf_size"] - 1):
                yield chunk

        return Stream(
            body(),
            media_type="application/pdf",
            headers={
                "Content-Length": str(row["pdf_size"]),
                "ETag": f'"{row["pdf_sha256"]}"',
                "Cache-Control": "private, no-store",
                "Content-Disposition": f"inline; filename=document-{row['id']}.pdf",
            },
        )

    @post(
        "/{document_id:uuid}/evidence",
        request_max_body_size=MAX_UPLOAD,
        summary="Attach a photo or file to the unit's answer (streamed body like evidence)",
    )
    async def attach(
        self, request: User, settings: AppSettings, store: Store, events: Events, document_id: DocumentId
    ) -> Response[evidence_schemas.Evidence]:
        upload = upload_request(request)
        parent = await services.evidence_parent(request.user, document_id, write=True)
        stored, created = await evidence.attach(request.user, parent, upload, store, settings, events)
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(stored, status_code=HTTP_201_CREATED, headers=headers)

    @get("/{document_id:uuid}/evidence", summary="The attachments of the unit's answers")
    async def list_evidence(self, user: SignedIn, document_id: DocumentId) -> list[evidence_schemas.Evidence]:
        await services.evidence_parent(user, document_id, write=False)
        return await evidence.list_for(user, services.PARENT_TYPE, document_id)

    @post(
        "/{document_id:uuid}/response",
        status_code=HTTP_200_OK,
        summary="The unit's rectification (整改情况), with attachments uploaded to this document",
    )
    async def respond(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        document_id: DocumentId,
        data: JSONBody[schemas.Response],
    ) -> schemas.Document:
        return await services.respond(user, document_id, data, settings, events)

    @post(
        "/{document_id:uuid}/review-request",
        status_code=HTTP_200_OK,
        summary="The unit asks for a review (复查申请), within the configured days of issue",
    )
    async def request_review(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        document_id: DocumentId,
        data: JSONBody[schemas.ReviewRequest],
    ) -> schemas.Document:
        return await services.request_review(user, document_id, data, settings, events)

    @post(
        "/{document_id:uuid}/review-decision",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        summary="Decide a review request: the document stands, or it is withdrawn",
    )
    async def decide_review(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        document_id: DocumentId,
        data: JSONBody[schemas.ReviewDecision],
    ) -> schemas.Document:
        return await services.decide_review(user, document_id, data, settings, events)

    @post(
        "/{document_id:uuid}/acceptance",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        summary="验收: 合格 (passed) or 不合格 (back to the unit with a new deadline)",
    )
    async def accept(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        document_id: DocumentId,
        data: JSONBody[schemas.Acceptance],
    ) -> schemas.Document:
        return await services.accept(user, document_id, data, settings, events)

    @post(
        "/{document_id:uuid}/close", guards=SUPERVISOR, status_code=HTTP_200_OK, summary="Close the document"
    )
    async def close(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        document_id: DocumentId,
        data: JSONBody[schemas.Close | None] = None,
    ) -> schemas.Document:
        return await services.close(user, document_id, data or schemas.Close(), settings, events)
