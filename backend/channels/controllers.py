from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.channels import schemas, services
from backend.evidence import schemas as evidence_schemas
from backend.evidence import services as evidence
from backend.evidence.uploads import MAX_UPLOAD, upload_request
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.deps import AppSettings, SignedIn, Store
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, IdempotencyKey, Limit
from backend.live.publish import Events

User = Request[CurrentUser, Any, Any]
ItemId = FromPath[uuid.UUID]
Kind = Annotated[str | None, QueryParameter(max_length=20)]
Status = Annotated[str | None, QueryParameter(max_length=20)]
UnitFilter = Annotated[uuid.UUID | None, QueryParameter()]
Category = Annotated[schemas.Category | None, QueryParameter()]
OutcomeFilter = Annotated[schemas.OutcomeKind | None, QueryParameter()]
Since = Annotated[date | None, QueryParameter(name="from", description="first Beijing date, included")]
Until = Annotated[date | None, QueryParameter(name="to", description="last Beijing date, included")]
Reversed = Annotated[bool, QueryParameter(name="reversed")]


def _created(item: Any, replayed: bool) -> Response[Any]:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(item, status_code=HTTP_200_OK if replayed else HTTP_201_CREATED, headers=headers)


class ChannelController(Controller):
    path = "/channels"
    tags = ["channels"]

    # --- liaison points ---------------------------------------------------------------------

    @post("/points", guards=[requires_roles("supervisor", "admin")], summary="Set up a liaison point")
    async def create_point(
        self, user: SignedIn, data: JSONBody[schemas.PointCreate]
    ) -> Response[schemas.Point]:
        return Response(await services.create_point(user, data), status_code=HTTP_201_CREATED)

    @get("/points", summary="Liaison points (a liaison: their own)")
    async def list_points(self, user: SignedIn) -> list[schemas.Point]:
        return await services.list_points(user)

    @patch(
        "/points/{point_id:uuid}",
        guards=[requires_roles("supervisor", "admin")],
        summary="Change a liaison point (its liaison, its active period…)",
    )
    async def update_point(
        self, user: SignedIn, point_id: FromPath[uuid.UUID], data: JSONBody[schemas.PointUpdate]
    ) -> schemas.Point:
        return await services.update_point(user, point_id, data)

    # --- reports and registrations -----------------------------------------------------------

    @post("/reports", guards=[requires_roles("liaison")], summary="A liaison files a report (rate-limited)")
    async def create_report(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        data: JSONBody[schemas.ReportCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.Item]:
        return _created(*await services.create_report(user, data, settings, events, idempotency_key))

    @post("/petitions", guards=[requires_roles("petition_office")], summary="Register a petition (信访件)")
    async def create_petition(
        self,
        user: SignedIn,
        events: Events,
        data: JSONBody[schemas.RegistrationCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.Item]:
        return _created(*await services.create_registration(user, "petition", data, events, idempotency_key))

    @post(
        "/lawsuits",
        guards=[requires_roles("court")],
        summary="Register a lawsuit or reconsideration case (涉法涉诉)",
    )
    async def create_lawsuit(
        self,
        user: SignedIn,
        events: Events,
        data: JSONBody[schemas.RegistrationCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.Item]:
        return _created(*await services.create_registration(user, "lawsuit", data, events, idempotency_key))

    @get("/items", summary="The inbox (the bureau) or one's own slice of it, newest first")
    async def list_items(
        self,
        user: SignedIn,
        kind: Kind = None,
        status: Status = None,
        unit_id: UnitFilter = None,
        category: Category = None,
        outcome: OutcomeFilter = None,
        reversed_only: Reversed = False,
        since: Since = None,
        until: Until = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Item]:
        return await services.list_items(
            user,
            cursor,
            limit,
            kind=kind,
            status=status,
            unit_id=unit_id,
            category=category,
            outcome=outcome,
            reversed_only=reversed_only,
            since=since,
            until=until,
        )

    @get("/items.csv", summary="The same list as CSV (an anonymous reporter stays blank for the unit)")
    async def export(
        self,
        user: SignedIn,
        kind: Kind = None,
        status: Status = None,
        unit_id: UnitFilter = None,
        since: Since = None,
        until: Until = None,
    ) -> Response[str]:
        body = await services.export_csv(
            user, kind=kind, status=status, unit_id=unit_id, since=since, until=until
        )
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="channel-items.csv"'},
        )

    @get("/items/{channel_item_id:uuid}", summary="One channel item")
    async def get_item(self, user: SignedIn, channel_item_id: ItemId) -> schemas.Item:
        return await services.get_item(user, channel_item_id)

    @get(
        "/items/{channel_item_id:uuid}/history",
        summary="Its steps (the unit never sees an anonymous reporter)",
    )
    async def history(self, user: SignedIn, channel_item_id: ItemId) -> list[schemas.Step]:
        return await services.history(user, channel_item_id)

    @post(
        "/items/{channel_item_id:uuid}/evidence",
        request_max_body_size=MAX_UPLOAD,
        summary="A photo for a report (its reporter, while it is new; streamed body like evidence)",
    )
    async def attach(
        self, request: User, settings: AppSettings, store: Store, events: Events, channel_item_id: ItemId
    ) -> Response[evidence_schemas.Evidence]:
        upload = upload_request(request)
        parent = await services.evidence_parent(request.user, channel_item_id, write=True)
        stored, created = await evidence.attach(request.user, parent, upload, store, settings, events)
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(stored, status_code=HTTP_201_CREATED, headers=headers)

    # --- outcomes -------------------------------------------------------------------------------

    @post(
        "/items/{channel_item_id:uuid}/outcomes",
        status_code=HTTP_201_CREATED,
        summary="Record an outcome (维持/驳回/确认违法/撤销/变更/责令履行), once per decision number",
    )
    async def record_outcome(
        self, user: SignedIn, events: Events, channel_item_id: ItemId, data: JSONBody[schemas.OutcomeCreate]
    ) -> schemas.Item:
        return await services.record_outcome(user, channel_item_id, data, events)

    @post(
        "/outcomes/{outcome_id:uuid}/change",
        status_code=HTTP_201_CREATED,
        summary="Change a recorded outcome: a new, audited entry superseding it",
    )
    async def change_outcome(
        self,
        user: SignedIn,
        events: Events,
        outcome_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.OutcomeChange],
    ) -> schemas.Item:
        return await services.change_outcome(user, outcome_id, data, events)

    # --- triage ---------------------------------------------------------------------------------

    @post("/items/{channel_item_id:uuid}/assign", status_code=HTTP_200_OK, summary="Assign to a colleague")
    async def assign(
        self, user: SignedIn, events: Events, channel_item_id: ItemId, data: JSONBody[schemas.Assign]
    ) -> schemas.Item:
        return await services.assign(user, channel_item_id, data, events)

    @post("/items/{channel_item_id:uuid}/forward", status_code=HTTP_200_OK, summary="Ask the unit to explain")
    async def forward(
        self, user: SignedIn, events: Events, channel_item_id: ItemId, data: JSONBody[schemas.Forward]
    ) -> schemas.Item:
        return await services.forward(user, channel_item_id, data, events)

    @post("/items/{channel_item_id:uuid}/explain", status_code=HTTP_200_OK, summary="The unit's explanation")
    async def explain(
        self, user: SignedIn, events: Events, channel_item_id: ItemId, data: JSONBody[schemas.Explain]
    ) -> schemas.Item:
        return await services.explain(user, channel_item_id, data, events)

    @post("/items/{channel_item_id:uuid}/dismiss", status_code=HTTP_200_OK, summary="Dismiss with a reason")
    async def dismiss(
        self, user: SignedIn, events: Events, channel_item_id: ItemId, data: JSONBody[schemas.Dismiss]
    ) -> schemas.Item:
        return await services.dismiss(user, channel_item_id, data, events)

    @post("/items/{channel_item_id:uuid}/note", status_code=HTTP_200_OK, summary="Close as taken note of")
    async def note(
        self,
        user: SignedIn,
        events: Events,
        channel_item_id: ItemId,
        data: JSONBody[schemas.Note | None] = None,
    ) -> schemas.Item:
        return await services.note(user, channel_item_id, data or schemas.Note(), events)

    @post(
        "/items/{channel_item_id:uuid}/document",
        status_code=HTTP_200_OK,
        summary="Turn into a supervision document (a draft to the unit)",
    )
    async def to_document(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        channel_item_id: ItemId,
        data: JSONBody[schemas.ToDocument | None] = None,
    ) -> schemas.Item:
        return await services.to_document(
            user, channel_item_id, data or schemas.ToDocument(), settings, events
        )

    @post(
        "/items/{channel_item_id:uuid}/corrective",
        status_code=HTTP_200_OK,
        summary="Turn into a corrective action for the unit",
    )
    async def to_corrective(
        self,
        user: SignedIn,
        events: Events,
        channel_item_id: ItemId,
        data: JSONBody[schemas.ToCorrective | None] = None,
    ) -> schemas.Item:
        return await services.to_corrective(user, channel_item_id, data or schemas.ToCorrective(), events)

    # --- transfers, 两法衔接, counts -------------------------------------------------------------

    @get("/transfers", summary="Transfers (移送): the organ's own; the bureau all")
    async def list_transfers(
        self,
        user: SignedIn,
        settings: AppSettings,
        status: Status = None,
        unit_id: UnitFilter = None,
        since: Since = None,
        until: Until = None,
    ) -> list[schemas.Transfer]:
        return await services.list_transfers(user, settings, status, unit_id, since, until)

    @get("/transfers/{transfer_id:uuid}", summary="One transfer")
    async def get_transfer(
        self, user: SignedIn, settings: AppSettings, transfer_id: FromPath[uuid.UUID]
    ) -> schemas.Transfer:
        return await services.get_transfer(user, transfer_id, settings)

    @post(
        "/transfers/{transfer_id:uuid}/accept", status_code=HTTP_200_OK, summary="受理回执: date and number"
    )
    async def accept(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        transfer_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.TransferAccept],
    ) -> schemas.Transfer:
        return await services.accept_transfer(user, transfer_id, data, settings, events)

    @post("/transfers/{transfer_id:uuid}/return", status_code=HTTP_200_OK, summary="退回, with the reason")
    async def return_(
        self,
        user: SignedIn,
        settings: AppSettings,
        events: Events,
        transfer_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.TransferReturn],
    ) -> schemas.Transfer:
        return await services.return_transfer(user, transfer_id, data, settings, events)

    @get(
        "/criminal-check",
        guards=[requires_roles("supervisor", "admin")],
        summary="两法衔接: closed penalty cases that reached the criminal threshold without a transfer",
    )
    async def criminal_check(
        self,
        user: SignedIn,
        unit_id: UnitFilter = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> list[schemas.MissedTransfer]:
        return await services.missed_transfers(user, unit_id, since, until, limit)

    @get(
        "/counts",
        guards=[requires_roles("supervisor", "admin")],
        summary="Counts per unit and period, each with the link to its records",
    )
    async def counts(
        self,
        user: SignedIn,
        settings: AppSettings,
        unit_id: UnitFilter = None,
        since: Since = None,
        until: Until = None,
    ) -> schemas.Counts:
        return await services.counts(user, settings, unit_id, since, until)
