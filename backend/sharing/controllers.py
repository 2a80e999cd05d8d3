"""Share links: made, listed and revoked by supervisors; opened and read by the outside recipient
(no account: the link, its code, then a share session)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.lib.auth import requires_roles
from backend.lib.deps import AppSettings, Integrity, SignedIn, Store
from backend.live.publish import Events
from backend.sharing import schemas, services
from media_store.base import content_disposition

SHARERS = [requires_roles("supervisor", "admin")]
# Shared bytes are the recipient's alone: never kept by a cache on the way.
NO_STORE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


class ShareController(Controller):
    path = "/shares"
    tags = ["sharing"]

    @post("/", guards=SHARERS, status_code=HTTP_201_CREATED, summary="Share evidence or a case file")
    async def create(
        self,
        request: Request[Any, Any, Any],
        user: SignedIn,
        settings: AppSettings,
        data: JSONBody[schemas.ShareCreate],
    ) -> dict[str, Any]:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return await services.create(user, data, origin, settings)

    @get("/", guards=SHARERS, summary="Share links, newest first")
    async def list_shares(
        self,
        share_state: Annotated[
            Literal["active", "expired", "revoked", "locked"] | None, QueryParameter(name="state")
        ] = None,
    ) -> list[dict[str, Any]]:
        return await services.list_shares(share_state)

    @get("/{share_id:uuid}", guards=SHARERS, summary="One share and every view and download of it")
    async def get_share(self, share_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        return await services.get_share(share_id)

    @post("/{share_id:uuid}/revoke", guards=SHARERS, status_code=HTTP_200_OK, summary="End a share at once")
    async def revoke(
        self, user: SignedIn, share_id: FromPath[uuid.UUID], data: JSONBody[schemas.ShareRevoke]
    ) -> dict[str, Any]:
        return await services.revoke(user, share_id, data.reason)


class ShareOpenController(Controller):
    """Rate-limited like the other doors without a sign-in (the app mounts it behind the limiter)."""

    path = "/shared"
    tags = ["sharing"]

    @post(
        "/open",
        exclude_from_auth=True,
        security=[{}],
        status_code=HTTP_200_OK,
        summary="Open a share link (its token and code in the body, never a URL)",
    )
    async def open_share(self, data: JSONBody[schemas.ShareOpen]) -> dict[str, Any]:
        return await services.open_share(data)


class SharedController(Controller):
    """The recipient's reads, with ``Authorization: Share <session>``."""

    path = "/shared"
    tags = ["sharing"]

    @get("/", exclude_from_auth=True, security=[{}], summary="What the share holds")
    async def contents(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        share = await services.share_of_session(request.headers.get("authorization"))
        return await services.recipient_view(share)

    @get(
        "/evidence/{evidence_id:uuid}/preview",
        exclude_from_auth=True,
        security=[{}],
        summary="A picture of the evidence stamped with the recipient's name and the viewing time",
    )
    async def preview(
        self,
        request: Request[Any, Any, Any],
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
        settings: AppSettings,
    ) -> Response[bytes]:
        share = await services.share_of_session(request.headers.get("authorization"))
        body = await services.preview(share, evidence_id, store, integrity, events, settings)
        return Response(body, media_type="image/jpeg", headers=NO_STORE)

    @get(
        "/evidence/{evidence_id:uuid}/link",
        exclude_from_auth=True,
        security=[{}],
        summary="A short-lived download link to the original, or url null when the API streams it",
    )
    async def link(
        self,
        request: Request[Any, Any, Any],
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
        settings: AppSettings,
    ) -> dict[str, Any]:
        share = await services.share_of_session(request.headers.get("authorization"))
        return await services.download_link(share, evidence_id, store, integrity, events, settings)

    @get(
        "/evidence/{evidence_id:uuid}/content",
        exclude_from_auth=True,
        security=[{}],
        summary="The original file, streamed by the API",
    )
    async def content(
        self,
        request: Request[Any, Any, Any],
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
    ) -> Stream:
        share = await services.share_of_session(request.headers.get("authorization"))
        row, size, body = await services.open_original(share, evidence_id, store, integrity, events)
        headers = {
            **NO_STORE,
            "Content-Length": str(size),
            "ETag": f'"{row["sha256"]}"',
            "Content-Disposition": content_disposition(row["filename"], inline=False),
        }
        return Stream(body, media_type=row["content_type"], headers=headers)
