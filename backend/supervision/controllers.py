from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.accounts.middleware import optional_user
from backend.evidence.uploads import MAX_UPLOAD, upload_request
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.deps import AppSettings, SignedIn, Store, Tokens
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.live.publish import Events
from backend.supervision import roster, schemas, services

User = Request[CurrentUser, Any, Any]
CheckId = FromPath[uuid.UUID]
SUPERVISOR = [requires_roles("supervisor", "admin")]
NominationId = FromPath[uuid.UUID]


def _origin(request: Request[Any, Any, Any]) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def nomination_rate_limit(per_minute: int) -> RateLimitConfig:
    """Per-client cap on nominations: a person applies once; a script filling the queue is stopped
    (its own window, apart from the sign-in and public-check ones)."""
    return RateLimitConfig(rate_limit=("minute", per_minute), store="nomination_rate_limit")


class InvitationController(Controller):
    path = "/invitations"
    tags = ["supervision"]

    @post(
        "/",
        guards=SUPERVISOR,
        summary="Invite an outside supervisor (特邀监督员): a one-time link and QR code",
    )
    async def create(self, request: User, data: JSONBody[schemas.InvitationCreate]) -> schemas.InvitationLink:
        return await services.create_invitation(request.user, data, _origin(request))

    @get("/", guards=SUPERVISOR, summary="Invitations and their state")
    async def list_invitations(self) -> list[schemas.Invitation]:
        return await services.list_invitations()

    @post(
        "/check",
        exclude_from_auth=True,
        status_code=HTTP_200_OK,
        summary="Whether an invitation link can still be accepted (the token in the body, never a URL)",
    )
    async def check(self, data: JSONBody[schemas.InvitationCheck]) -> schemas.InvitationPreview:
        return await services.check_invitation(data)

    @post(
        "/accept",
        exclude_from_auth=True,
        status_code=HTTP_201_CREATED,
        summary="Accept an invitation: set a password, get an account and a session",
    )
    async def accept(
        self, settings: AppSettings, tokens: Tokens, data: JSONBody[schemas.InvitationAccept]
    ) -> schemas.Accepted:
        return await services.accept_invitation(data, settings, tokens)

    @delete(
        "/{invitation_id:uuid}",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        summary="Revoke: the link stops working and the account loses access at once",
    )
    async def revoke(
        self, events: Events, user: SignedIn, invitation_id: FromPath[uuid.UUID]
    ) -> schemas.Invitation:
        return await services.revoke_invitation(user, invitation_id, events)


class SpotCheckController(Controller):
    path = "/spot-checks"
    tags = ["supervision"]

    @post(
        "/",
        guards=[requires_roles("supervisor", "invited_supervisor")],
        summary="Request a conduct spot-check of an officer (or a random one on duty)",
    )
    async def request_check(
        self, events: Events, user: SignedIn, data: JSONBody[schemas.SpotCheckCreate]
    ) -> schemas.SpotCheck:
        return await services.request_check(user, data, events)

    @get("/", summary="Spot-checks you requested, received or supervise")
    async def list_checks(
        self, user: SignedIn, status: Annotated[str | None, QueryParameter(max_length=20)] = None
    ) -> list[schemas.SpotCheck]:
        return await services.list_checks(user, status)

    @get("/checklist", summary="The checklist new spot-checks start from")
    async def get_checklist(self) -> list[dict[str, str]]:
        return await services.checklist()

    @put("/checklist", guards=[requires_roles("supervisor")], summary="Edit the default checklist")
    async def set_checklist(self, user: SignedIn, data: JSONBody[schemas.Checklist]) -> list[dict[str, str]]:
        return await services.set_checklist(user, data)

    @get("/{check_id:uuid}", summary="One spot-check")
    async def get_check(self, user: SignedIn, check_id: CheckId) -> schemas.SpotCheck:
        return await services.get_check(user, check_id)

    @post(
        "/{check_id:uuid}/submission",
        guards=[requires_roles("officer")],
        request_max_body_size=MAX_UPLOAD,
        summary="The officer's answer: a photo or clip taken now (streamed body like evidence)",
    )
    async def submit(
        self, request: User, check_id: CheckId, store: Store, settings: AppSettings, events: Events
    ) -> Response[schemas.SpotCheck]:
        upload = upload_request(request)
        view = await services.submit_answer(request.user, check_id, upload, store, settings, events)
        return Response(view, status_code=HTTP_201_CREATED)

    @post(
        "/{check_id:uuid}/review", status_code=HTTP_200_OK, summary="Score the answer against the checklist"
    )
    async def review(
        self, events: Events, user: SignedIn, check_id: CheckId, data: JSONBody[schemas.Review]
    ) -> schemas.SpotCheck:
        return await services.review(user, check_id, data, events)

    @post(
        "/{check_id:uuid}/appeal",
        guards=[requires_roles("officer")],
        status_code=HTTP_200_OK,
        summary="Appeal a failed check, once",
    )
    async def appeal(
        self, user: SignedIn, check_id: CheckId, data: JSONBody[schemas.Appeal]
    ) -> schemas.SpotCheck:
        return await services.appeal(user, check_id, data)

    @post(
        "/{check_id:uuid}/appeal/decision",
        guards=[requires_roles("supervisor")],
        status_code=HTTP_200_OK,
        summary="Decide an appeal",
    )
    async def decide(
        self, events: Events, user: SignedIn, check_id: CheckId, data: JSONBody[schemas.AppealDecision]
    ) -> schemas.SpotCheck:
        return await services.decide_appeal(user, check_id, data, events)


class RosterController(Controller):
    path = "/invited-supervisors"
    tags = ["supervision"]

    @get("/", guards=SUPERVISOR, summary="The roster of invited supervisors with their spot-check record")
    async def list_roster(
        self,
        status: Annotated[
            schemas.RosterStatus | None, QueryParameter(description="invited, active, expired or revoked")
        ] = None,
        category: Annotated[
            schemas.Category | None, QueryParameter(description="deputy, cppcc, retired or other")
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.RosterEntry]:
        return await roster.roster(status, category, cursor, limit)


class NominationFormController(Controller):
    """Open to everyone (the public form), rate-limited per client; a signed-in officer or supervisor
    nominates for their unit through the same operation."""

    path = "/nominations"
    tags = ["supervision"]

    @post(
        "/",
        exclude_from_auth=True,
        security=[{}, {"BearerAuth": []}],
        summary="Apply to be an invited supervisor, or nominate someone for your unit",
    )
    async def nominate(
        self, request: Request[Any, Any, Any], tokens: Tokens, data: JSONBody[schemas.NominationCreate]
    ) -> schemas.NominationReceived:
        return await roster.nominate(await optional_user(request, tokens), data)


class NominationController(Controller):
    path = "/nominations"
    tags = ["supervision"]
    guards = SUPERVISOR

    @get("/", summary="The nomination queue, newest first")
    async def list_nominations(
        self,
        status: Annotated[
            schemas.NominationStatus | None, QueryParameter(description="received, selected or declined")
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Nomination]:
        return await roster.list_nominations(status, cursor, limit)

    @post(
        "/{nomination_id:uuid}/select",
        status_code=HTTP_201_CREATED,
        summary="Appoint the nominee: creates the invitation and returns its one-time link, once",
    )
    async def select(
        self, request: User, nomination_id: NominationId, data: JSONBody[schemas.NominationSelect]
    ) -> schemas.Selected:
        return await roster.select(request.user, nomination_id, data, _origin(request))

    @post("/{nomination_id:uuid}/decline", status_code=HTTP_200_OK, summary="Decline with a reason")
    async def decline(
        self, user: SignedIn, nomination_id: NominationId, data: JSONBody[schemas.NominationDecline]
    ) -> schemas.Nomination:
        return await roster.decline(user, nomination_id, data)
