"""Evidence upload (streamed body) and reads (Range, renditions, custody)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, head, patch, post, put, route
from litestar.params import FromPath
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.evidence import parents, poster, schemas, services, tus
from backend.evidence.uploads import MAX_UPLOAD, upload_request
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.deps import AppSettings, Integrity, SignedIn, Store
from backend.lib.errors import AppError, Errors
from backend.live.publish import Events
from media_store import InvalidRange
from media_store.base import content_disposition, resolve_range

User = Request[CurrentUser, Any, Any]
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
OFFICER = [requires_roles("officer")]


async def _upload(
    request: User,
    parent_type: str,
    parent_id: uuid.UUID,
    store: Store,
    settings: AppSettings,
    events: Events,
) -> Response[schemas.Evidence]:
    upload = upload_request(request)
    parent = await parents.resolve(request.user, parent_type, parent_id, write=True)
    evidence, created = await services.attach(request.user, parent, upload, store, settings, events)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return Response(evidence, status_code=HTTP_201_CREATED, headers=headers)


class EvidenceUploadController(Controller):
    """POST the raw bytes (Content-Type image/jpeg, video/mp4 …) to attach them to a record."""

    path = "/"
    tags = ["evidence"]
    request_max_body_size = MAX_UPLOAD

    @post(
        "/actions/{action_id:uuid}/evidence",
        guards=OFFICER,
        summary="Attach evidence to an on-site action (streamed body)",
    )
    async def to_action(
        self,
        request: User,
        action_id: FromPath[uuid.UUID],
        store: Store,
        settings: AppSettings,
        events: Events,
    ) -> Response[schemas.Evidence]:
        return await _upload(request, "action", action_id, store, settings, events)

    @post(
        "/cases/{case_id:uuid}/evidence", guards=OFFICER, summary="Attach evidence to a case (streamed body)"
    )
    async def to_case(
        self,
        request: User,
        case_id: FromPath[uuid.UUID],
        store: Store,
        settings: AppSettings,
        events: Events,
    ) -> Response[schemas.Evidence]:
        return await _upload(request, "case", case_id, store, settings, events)

    @get("/actions/{action_id:uuid}/evidence", summary="Evidence of an action")
    async def of_action(self, user: SignedIn, action_id: FromPath[uuid.UUID]) -> list[schemas.Evidence]:
        await parents.resolve(user, "action", action_id, write=False)
        return await services.list_for(user, "action", action_id)


async def _send(
    request: User, evidence_id: uuid.UUID, which: str, store: Store, integrity: Integrity, events: Events
) -> Stream:
    byte_range = request.headers.get("range")
    content = await services.content_for(request.user, evidence_id, which, store, integrity, events)
    start, end, status = 0, content.size - 1, 200
    if byte_range:
        match = _RANGE.match(byte_range.strip())
        try:
            if match is None or (match.group(1) == "" and match.group(2) == ""):
                raise InvalidRange("unsupported range")
            if match.group(1) == "":  # the last N bytes
                start, end = max(content.size - int(match.group(2)), 0), content.size - 1
            else:
                start, end = resolve_range(
                    int(match.group(1)), int(match.group(2)) if match.group(2) else None, content.size
                )
            status = 206
        except InvalidRange:
            raise AppError(
                Errors.RANGE_NOT_SATISFIABLE, f"The content has {content.size} bytes."
            ).with_headers(**{"Content-Range": f"bytes */{content.size}"}) from None
    body = await services.open_content(request.user, content, start, end, byte_range, store, events)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start + 1 if content.size else 0),
        "ETag": f'"{content.sha256}"',
        # Every fetch must reach the server, to be recorded in the chain of custody.
        "Cache-Control": "private, no-store",
        "Content-Disposition": content_disposition(content.filename, inline=which != "content"),
        "X-Content-Type-Options": "nosniff",
    }
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{content.size}"
    return Stream(body, status_code=status, media_type=content.content_type, headers=headers)


class EvidenceController(Controller):
    path = "/evidence"
    tags = ["evidence"]

    @get("/{evidence_id:uuid}", summary="Evidence metadata, renditions and custody summary")
    async def get_evidence(self, user: SignedIn, evidence_id: FromPath[uuid.UUID]) -> schemas.Evidence:
        return await services.get_evidence(user, evidence_id)

    @get("/{evidence_id:uuid}/content", summary="The original bytes (HTTP Range supported)")
    async def content(
        self,
        request: User,
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
    ) -> Stream:
        return await _send(request, evidence_id, "content", store, integrity, events)

    @get("/{evidence_id:uuid}/thumbnail", summary="Thumbnail (JPEG)")
    async def thumbnail(
        self,
        request: User,
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
    ) -> Stream:
        return await _send(request, evidence_id, "thumbnail", store, integrity, events)

    @get(
        "/{evidence_id:uuid}/watermarked", summary="Watermarked copy stamped with server time, place, officer"
    )
    async def watermarked(
        self,
        request: User,
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
    ) -> Stream:
        return await _send(request, evidence_id, "watermarked", store, integrity, events)

    @get("/{evidence_id:uuid}/poster", summary="A video's poster frame made by the server (JPEG)")
    async def server_poster(
        self,
        request: User,
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
    ) -> Stream:
        return await _send(request, evidence_id, "poster", store, integrity, events)

    @get("/{evidence_id:uuid}/preview", summary="A PDF's first page made by the server (JPEG)")
    async def pdf_preview(
        self,
        request: User,
        evidence_id: FromPath[uuid.UUID],
        store: Store,
        integrity: Integrity,
        events: Events,
    ) -> Stream:
        return await _send(request, evidence_id, "preview", store, integrity, events)

    @put(
        "/{evidence_id:uuid}/poster",
        guards=OFFICER,
        request_max_body_size=poster.POSTER_MAX_BYTES,
        summary="A video's poster frame (a JPEG still sent by the phone that recorded it)",
    )
    async def set_poster(
        self, request: User, evidence_id: FromPath[uuid.UUID], store: Store, settings: AppSettings
    ) -> schemas.Evidence:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        return await poster.add_poster(request.user, evidence_id, content_type, body, store, settings)

    @get(
        "/{evidence_id:uuid}/custody",
        guards=[requires_roles("supervisor", "admin")],
        summary="Chain of custody: every upload, view and download",
    )
    async def custody(self, user: SignedIn, evidence_id: FromPath[uuid.UUID]) -> list[dict[str, Any]]:
        return await services.custody(evidence_id, user)


def _tus_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Tus-Resumable": tus.TUS_VERSION, **(extra or {})}


def _require_tus(request: Request[Any, Any, Any]) -> None:
    version = request.headers.get("tus-resumable")
    if version != tus.TUS_VERSION:
        raise AppError(Errors.PRECONDITION_FAILED, f"Send Tus-Resumable: {tus.TUS_VERSION}.").with_headers(
            **{"Tus-Version": tus.TUS_VERSION}
        )


class UploadController(Controller):
    """tus 1.0 resumable uploads for large video; finishing attaches the file as evidence and the
    final PATCH/HEAD answer carries Evidence-Id."""

    path = "/uploads"
    tags = ["evidence"]
    request_max_body_size = MAX_UPLOAD

    @route(
        "/",
        http_method=["OPTIONS"],
        exclude_from_auth=True,
        guards=[],
        status_code=HTTP_204_NO_CONTENT,
        summary="tus capabilities",
    )
    async def capabilities(self, settings: AppSettings) -> Response[None]:
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            headers=_tus_headers(
                {
                    "Tus-Version": tus.TUS_VERSION,
                    "Tus-Extension": tus.EXTENSIONS,
                    "Tus-Checksum-Algorithm": "sha256",
                    "Tus-Max-Size": str(settings.max_bytes("video")),
                }
            ),
        )

    @post("/", guards=OFFICER, summary="Create a resumable upload (Upload-Length, Upload-Metadata)")
    async def create(self, request: User, settings: AppSettings) -> Response[None]:
        _require_tus(request)
        state = await tus.create(
            request.user,
            request.headers.get("upload-length"),
            request.headers.get("upload-metadata"),
            settings,
        )
        return Response(
            None,
            status_code=HTTP_201_CREATED,
            headers=_tus_headers({"Location": f"/api/v1/uploads/{state.id}", **state.headers()}),
        )

    @head("/{upload_id:uuid}", guards=OFFICER, summary="How many bytes the server has")
    async def offset(self, request: User, upload_id: FromPath[uuid.UUID]) -> Response[None]:
        _require_tus(request)
        state = await tus.status(request.user, upload_id)
        return Response(None, status_code=200, headers=_tus_headers(state.headers()))

    @patch(
        "/{upload_id:uuid}",
        guards=OFFICER,
        status_code=HTTP_204_NO_CONTENT,
        summary="Append bytes at Upload-Offset",
    )
    async def append(
        self,
        request: User,
        upload_id: FromPath[uuid.UUID],
        store: Store,
        settings: AppSettings,
        events: Events,
    ) -> Response[None]:
        _require_tus(request)
        if (request.headers.get("content-type") or "").split(";")[
            0
        ].strip() != "application/offset+octet-stream":
            raise AppError(Errors.UNSUPPORTED_MEDIA, "PATCH bodies are application/offset+octet-stream.")
        state = await tus.append(
            request.user,
            upload_id,
            request.headers.get("upload-offset"),
            request.headers.get("upload-checksum"),
            request.stream(),
            settings,
            store,
            events,
        )
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=_tus_headers(state.headers()))

    @delete("/{upload_id:uuid}", guards=OFFICER, summary="Terminate an upload")
    async def terminate(
        self, request: User, upload_id: FromPath[uuid.UUID], settings: AppSettings
    ) -> Response[None]:
        _require_tus(request)
        await tus.terminate(request.user, upload_id, settings)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=_tus_headers())
