from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.evidence.controllers import MAX_UPLOAD, upload
from backend.lib.auth import CurrentUser, requires_roles
from backend.supervision import schemas, services

User = Request[CurrentUser, Any, Any]
CheckId = FromPath[uuid.UUID]
SUPERVISOR = [requires_roles("supervisor", "admin")]


class InvitationController(Controller):
    path = "/invitations"
    tags = ["supervision"]

    @post(
        "/",
        guards=SUPERVISOR,
        summary="Invite an outside supervisor (特邀监督员): a one-time link and QR code",
    )
    async def create(self, request: User, data: JSONBody[schemas.InvitationCreate]) -> schemas.InvitationLink:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return await services.create_invitation(request.user, data, origin)

    @get("/", guards=SUPERVISOR, summary="Invitations and their state")
    async def list_invitations(self) -> list[schemas.Invitation]:
        return await services.list_invitations()

    @post(
        "/accept",
        exclude_from_auth=True,
        status_code=HTTP_201_CREATED,
        summary="Accept an invitation: set a password, get an account and a session",
    )
    async def accept(
        self, request: Request[Any, Any, Any], data: JSONBody[schemas.InvitationAccept]
    ) -> schemas.Accepted:
        return await services.accept_invitation(data, request.app.state.settings, request.app.state.tokens)

    @delete(
        "/{invitation_id:uuid}",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        summary="Revoke: the link stops working and the account loses access at once",
    )
    async def revoke(self, request: User, invitation_id: FromPath[uuid.UUID]) -> schemas.Invitation:
        return await services.revoke_invitation(request.user, invitation_id)


class SpotCheckController(Controller):
    path = "/spot-checks"
    tags = ["supervision"]

    @post(
        "/",
        guards=[requires_roles("supervisor", "invited_supervisor")],
        summary="Request a conduct spot-check of an officer (or a random one on duty)",
    )
    async def request_check(
        self, request: User, data: JSONBody[schemas.SpotCheckCreate]
    ) -> schemas.SpotCheck:
        return await services.request_check(request.user, data)

    @get("/", summary="Spot-checks you requested, received or supervise")
    async def list_checks(
        self, request: User, status: Annotated[str | None, QueryParameter(max_length=20)] = None
    ) -> list[schemas.SpotCheck]:
        return await services.list_checks(request.user, status)

    @get("/checklist", summary="The checklist new spot-checks start from")
    async def get_checklist(self) -> list[dict[str, str]]:
        return await services.checklist()

    @put("/checklist", guards=[requires_roles("supervisor")], summary="Edit the default checklist")
    async def set_checklist(self, request: User, data: JSONBody[schemas.Checklist]) -> list[dict[str, str]]:
        return await services.set_checklist(request.user, data)

    @get("/{check_id:uuid}", summary="One spot-check")
    async def get_check(self, request: User, check_id: CheckId) -> schemas.SpotCheck:
        return await services.get_check(request.user, check_id)

    @post(
        "/{check_id:uuid}/submission",
        guards=[requires_roles("officer")],
        request_max_body_size=MAX_UPLOAD,
        summary="The officer's answer: a photo or clip taken now (streamed body like evidence)",
    )
    async def submit(self, request: User, check_id: CheckId) -> Response[schemas.SpotCheck]:
        row = await services.answer_parent(request.user, check_id)
        stored = await upload(request, "spot_check", check_id, not_before=row["requested_at"])
        view = await services.record_answer(request.user, check_id, stored.content.id)
        return Response(view, status_code=HTTP_201_CREATED)

    @post(
        "/{check_id:uuid}/review", status_code=HTTP_200_OK, summary="Score the answer against the checklist"
    )
    async def review(
        self, request: User, check_id: CheckId, data: JSONBody[schemas.Review]
    ) -> schemas.SpotCheck:
        return await services.review(request.user, check_id, data)

    @post(
        "/{check_id:uuid}/appeal",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Appeal a failed check, once",
    )
    async def appeal(
        self, request: User, check_id: CheckId, data: JSONBody[schemas.Appeal]
    ) -> schemas.SpotCheck:
        return await services.appeal(request.user, check_id, data)

    @post(
        "/{check_id:uuid}/appeal/decision",
        guards=[requires_roles("supervisor")],
        status_code=HTTP_200_OK,
        summary="Decide an appeal",
    )
    async def decide(
        self, request: User, check_id: CheckId, data: JSONBody[schemas.AppealDecision]
    ) -> schemas.SpotCheck:
        return await services.decide_appeal(request.user, check_id, data)
