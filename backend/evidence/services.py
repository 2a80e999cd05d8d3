"""Evidence: attach originals (streamed or from a finished resumable upload) to a registered parent,
and reads (checked by ``integrity``) with chain of custody. Re-verification is ``verify.py``."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import msgspec

from backend.audit import services as audit
from backend.db import atomic, is_unique_violation, json_value
from backend.evidence import integrity, parents, rendering, schemas
from backend.evidence.custody import entries as custody_entries
from backend.evidence.custody import record_fetch
from backend.evidence.custody import summary as custody_summary
from backend.evidence.parents import Parent, kind_of_parent
from backend.evidence.renditions import make as make_renditions
from backend.evidence.renditions import stamp_lines
from backend.evidence.tables import Evidence
from backend.evidence.uploads import UploadRequest
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.signing import IntegrityKey
from backend.live.publish import Publisher
from backend.settings import Settings
from media_store import (
    ChecksumMismatch,
    MediaStore,
    MediaStoreUnavailable,
    ObjectNotFound,
    TooLarge,
    file_chunks,
    images,
    run_sync,
)
from media_store.sniff import matches, normalize, read_head, sniff

logger = logging.getLogger(__name__)

KINDS = {
    "image/jpeg": "photo",
    "image/png": "photo",
    "image/heic": "photo",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/webm": "video",
    "audio/mp4": "audio",
    "audio/aac": "audio",
    "audio/webm": "audio",
    "application/pdf": "document",
}
RENDERABLE = ("image/jpeg", "image/png", "image/heic")  # spooled and rendered in the upload
COPY_CHUNK = 1024 * 1024
MAX_ACCURACY_M = 100_000.0
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


class Truncated(Exception):
    """The body ended before its declared length."""


def kind_of(content_type: str | None) -> tuple[str, str]:
    ctype = normalize(content_type or "")
    kind = KINDS.get(ctype)
    if kind is None:
        raise AppError(
            Errors.UNSUPPORTED_MEDIA,
            f"{content_type or 'no Content-Type'} is not accepted; send one of: " + ", ".join(sorted(KINDS)),
            accepted=sorted(KINDS),
        )
    return ctype, kind


async def _counted(chunks: AsyncIterable[bytes], expected: int | None) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        yield chunk
    if expected is not None and received != expected:
        raise Truncated


PHOTO_SPOOL_PREFIX = "photo-"  # under data_dir/tmp; see sweep.py for what removes a crashed one


async def _spool(chunks: AsyncIterable[bytes], directory: Path, max_bytes: int) -> Path:
    """Photos are small: keep a local copy to check the image before anything is stored."""
    fd, name = await run_sync(_mkstemp, directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            size = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(max_bytes)
                await run_sync(fh.write, chunk)
    except BaseException:
        await run_sync(path.unlink, True)
        raise
    return path


def _mkstemp(directory: Path) -> tuple[int, str]:
    directory.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=directory, prefix=PHOTO_SPOOL_PREFIX)


def _flags(
    captured: datetime | None,
    exif: datetime | None,
    received: datetime,
    parent: Parent,
    skew: timedelta,
    clock_offset_s: float | None = None,
) -> list[str]:
    """Capture times the server cannot vouch for: in the future, long before the act, a phone clock
    that disagrees with the photo's own EXIF time, or a phone clock that disagrees with the server's
    (either is a clock set back to fake a stamp)."""
    flags = []
    for stamp in (captured, exif):
        if stamp is not None and stamp > received + skew:
            flags.append("capture_time_in_future")
            break
    if (
        captured is not None
        and parent.occurred_at is not None
        and captured < parent.occurred_at - timedelta(hours=12)
    ):
        flags.append("captured_long_before_act")
    if (
        captured is not None
        and exif is not None
        and abs((captured - exif).total_seconds()) > skew.total_seconds()
    ):
        flags.append("device_time_disagrees_with_exif")
    if clock_offset_s is not None and abs(clock_offset_s) > skew.total_seconds():
        flags.append("device_clock_off")
    return flags


async def attach(
    actor: CurrentUser,
    parent: Parent,
    upload: UploadRequest,
    store: MediaStore,
    settings: Settings,
    events: Publisher,
) -> tuple[schemas.Evidence, bool]:
    """Validate and store one original, then record it; whether it is new (an identical file sent
    again to the same record is the same evidence). Every refusal leaves nothing behind."""
    ctype, kind = kind_of(upload.content_type)
    limit = settings.max_bytes(kind)
    if upload.content_length is not None and upload.content_length > limit:
        raise AppError(Errors.TOO_LARGE, f"A {kind} may be at most {limit // 2**20} MiB.", max_bytes=limit)
    head, body = await read_head(upload.chunks)
    if not matches(ctype, sniff(head)):
        raise AppError(Errors.EVIDENCE_TYPE_MISMATCH, f"The content is not {ctype}.", sniffed=sniff(head))
    body = _counted(body, upload.content_length)
    spooled: Path | None = None
    meta: dict[str, Any] = {}
    try:
        try:
            if ctype in RENDERABLE:
                spooled = await _spool(body, settings.data_dir / "tmp", limit)
                try:
                    meta = await run_sync(images.metadata, spooled)
                except images.ImageRejected as exc:
                    raise AppError(Errors.EVIDENCE_IMAGE_REJECTED, str(exc)) from None
                _check_fresh(meta.get("captured_at"), parent.not_before)
                body = file_chunks(spooled, COPY_CHUNK)
            stored = await store.put_stream(
                body, content_type=ctype, max_bytes=limit, expected_sha256=upload.expected_sha256
            )
        except TooLarge:
            raise AppError(
                Errors.TOO_LARGE, f"A {kind} may be at most {limit // 2**20} MiB.", max_bytes=limit
            ) from None
        except ChecksumMismatch as exc:
            raise AppError(
                Errors.EVIDENCE_CHECKSUM,
                "The SHA-256 of the body differs from X-Content-SHA256: "
                "the file was damaged on the way. Send it again.",
                actual=exc.actual,
            ) from None
        except Truncated:
            raise AppError(
                Errors.UPLOAD_TRUNCATED, "The body ended before Content-Length bytes arrived."
            ) from None
        original = Original(stored.sha256, stored.size, stored.key, ctype, meta, spooled)
        return await _record(actor, parent, upload, original, store, settings, events)
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)


@dataclass(frozen=True)
class Original:
    """The stored bytes and what was read from them."""

    sha256: str
    size: int
    key: str
    content_type: str
    meta: dict[str, Any]
    spooled: Path | None  # a local copy of a photo, to render from


def _check_fresh(exif_time: datetime | None, not_before: datetime | None) -> None:
    if not_before is None or exif_time is None:
        return
    if exif_time.tzinfo is None:
        exif_time = exif_time.replace(tzinfo=BEIJING)
    if exif_time < not_before - timedelta(minutes=1):
        raise AppError(
            Errors.SPOT_CHECK_STALE,
            "This photo was taken before the spot-check was requested: take a new one with the camera now.",
        )


async def _record(
    actor: CurrentUser,
    parent: Parent,
    upload: UploadRequest,
    original: Original,
    store: MediaStore,
    settings: Settings,
    events: Publisher,
) -> tuple[schemas.Evidence, bool]:
    sha256, meta, location, clock = original.sha256, original.meta, upload.location, upload.clock
    dedupe_key = f"{parent.type}:{parent.id}:{sha256}"
    existing = await Evidence.select(Evidence.id).where(Evidence.dedupe_key == dedupe_key).first()
    if existing:
        return await get_evidence(actor, existing["id"], custody=False), False
    received = utcnow()
    exif_time = meta.get("captured_at")
    if exif_time is not None and exif_time.tzinfo is None:
        exif_time = exif_time.replace(tzinfo=BEIJING)  # phones here write local time without an offset
    # The file's own GPS is preferred: it was written at the shutter, the phone's fix may be later.
    gps: dict[str, float] | None = meta.get("gps") or None
    accuracy: float | None = None
    if gps is None and location is not None:
        gps, accuracy = {"lat": location.lat, "lon": location.lon}, location.accuracy_m
    lat, lon = (gps["lat"], gps["lon"]) if gps else (None, None)
    problems: list[str] = []
    renditions = (
        await make_renditions(
            original.spooled, stamp_lines(actor, parent, received, gps, sha256), store, settings, problems
        )
        if original.spooled
        else {}
    )
    # Videos and PDFs are rendered after the upload (rendering.py); a photo here, or not at all.
    state = rendering.state_at_upload(original.content_type, renditions)
    clock_offset = clock.offset_s if clock else None
    captured_at = upload.captured_at
    flags = _flags(
        captured_at or exif_time,
        exif_time,
        received,
        parent,
        timedelta(minutes=settings.clock_skew_minutes),
        clock_offset,
    )
    evidence_id = uuid.uuid4()
    try:
        async with atomic():
            await Evidence.insert(
                Evidence(
                    id=evidence_id,
                    parent_type=parent.type,
                    parent_id=parent.id,
                    unit_id=parent.unit_id,
                    sha256=sha256,
                    size=original.size,
                    content_type=original.content_type,
                    object_key=original.key,
                    filename=upload.filename,
                    captured_at=captured_at or exif_time,
                    exif_captured_at=exif_time,
                    lat=lat,
                    lon=lon,
                    gps_accuracy_m=accuracy,
                    device_clock_offset_s=clock_offset,
                    device=meta.get("device"),
                    width=meta.get("width"),
                    height=meta.get("height"),
                    received_at=received,
                    uploaded_by=actor.id,
                    flags=flags,
                    renditions=renditions,
                    rendition_state=state,
                    rendition_error="; ".join(problems) or None,
                    upload=upload.upload,
                    dedupe_key=dedupe_key,
                )
            ).run()
            await kind_of_parent(parent.type).attached(parent.id)
            await audit.record(
                actor,
                "evidence.uploaded",
                "evidence",
                evidence_id,
                {
                    "parent": f"{parent.type}:{parent.id}",
                    "sha256": sha256,
                    "size": original.size,
                    "content_type": original.content_type,
                    # What the row points at, so a row re-pointed to other stored bytes shows.
                    "object_key": original.key,
                    "renditions": renditions,
                    "lat": lat,
                    "lon": lon,
                    "gps_accuracy_m": accuracy,
                    "device_clock_offset_s": clock_offset,
                    "flags": flags,
                },
            )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        row = await Evidence.select(Evidence.id).where(Evidence.dedupe_key == dedupe_key).first()
        assert row is not None
        return await get_evidence(actor, row["id"], custody=False), False
    if state == rendering.PENDING:
        rendering.nudge()
    view = await get_evidence(actor, evidence_id, custody=False)
    await events.publish(
        "evidence.added",
        parent.unit_id,
        {"parent_type": parent.type, "parent_id": str(parent.id), "evidence": msgspec.to_builtins(view)},
    )
    return view, True


def _view(row: dict[str, Any], custody: schemas.CustodySummary | None = None) -> schemas.Evidence:
    renditions = json_value(row["renditions"], {})
    flags = json_value(row["flags"], [])
    base = f"/api/v1/evidence/{row['id']}"
    return schemas.Evidence(
        id=row["id"],
        parent_type=row["parent_type"],
        parent_id=row["parent_id"],
        sha256=row["sha256"],
        size=row["size"],
        content_type=row["content_type"],
        filename=row["filename"],
        captured_at=row["captured_at"],
        exif_captured_at=row["exif_captured_at"],
        received_at=row["received_at"],
        location=schemas.GeoPoint(row["lat"], row["lon"]) if row["lat"] is not None else None,
        gps_accuracy_m=row["gps_accuracy_m"],
        device_clock_offset_s=row["device_clock_offset_s"],
        device=row["device"],
        width=row["width"],
        height=row["height"],
        flags=flags,
        renditions=schemas.Renditions(
            thumbnail=f"{base}/thumbnail" if "thumbnail" in renditions else None,
            watermarked=f"{base}/watermarked" if "watermarked" in renditions else None,
            content=f"{base}/content",
            thumbnail_source=(
                (renditions["thumbnail"].get("source") or "server") if "thumbnail" in renditions else None
            ),
            poster=f"{base}/poster" if "poster" in renditions else None,
            preview=f"{base}/preview" if "preview" in renditions else None,
        ),
        upload=row["upload"],
        custody=custody,
        media=_media(row["media"]),
        rendition_state=row["rendition_state"],
        rendition_error=row["rendition_error"],
    )


def _media(value: Any) -> schemas.Media | None:
    facts = json_value(value, None)
    return msgspec.convert(facts, schemas.Media) if isinstance(facts, dict) else None


async def _visible(actor: CurrentUser, row: dict[str, Any]) -> bool:
    return await parents.visible(actor, row["parent_type"], row["parent_id"], row["unit_id"])


async def visible_row(actor: CurrentUser, evidence_id: uuid.UUID) -> dict[str, Any]:
    """The evidence row, or 404 when it does not exist or is outside the actor's scope."""
    row = await Evidence.select().where(Evidence.id == evidence_id).first()
    if row is None or not await _visible(actor, row):
        raise AppError(Errors.NOT_FOUND, "No such evidence.")
    return row


async def get_evidence(
    actor: CurrentUser, evidence_id: uuid.UUID, *, custody: bool = True
) -> schemas.Evidence:
    row = await visible_row(actor, evidence_id)
    summary = await custody_summary(evidence_id, row) if custody else None
    return _view(row, summary)


async def list_for(actor: CurrentUser, parent_type: str, parent_id: uuid.UUID) -> list[schemas.Evidence]:
    rows = (
        await Evidence.select()
        .where((Evidence.parent_type == parent_type) & (Evidence.parent_id == parent_id))
        .order_by(Evidence.received_at)
    )
    return [_view(r) for r in rows if await _visible(actor, r)]


@dataclass(frozen=True)
class Content:
    row: dict[str, Any]
    target: integrity.Target
    size: int  # of the stored object as found (and checked) now

    @property
    def key(self) -> str:
        return self.target.key

    @property
    def content_type(self) -> str:
        return self.target.content_type

    @property
    def sha256(self) -> str:
        return self.target.sha256

    @property
    def filename(self) -> str | None:
        return cast(str | None, self.row["filename"])


async def content_for(
    actor: CurrentUser,
    evidence_id: uuid.UUID,
    which: str,
    store: MediaStore,
    key: IntegrityKey,
    events: Publisher,
) -> Content:
    """The object to send for ``which`` (content | a rendition's name), once its bytes are known
    to be genuine: altered or missing bytes are refused (and raise the hash-mismatch alert)."""
    row = await visible_row(actor, evidence_id)
    target = integrity.target(row, which)
    if target is None:
        raise AppError(Errors.NOT_FOUND, f"This evidence has no {which} rendition.")
    size = await integrity.check(row, target, store, key, events)
    return Content(row, target, size)


async def open_content(
    actor: CurrentUser,
    content: Content,
    start: int,
    end: int,
    byte_range: str | None,
    store: MediaStore,
    events: Publisher,
) -> AsyncIterator[bytes]:
    """Open the object and read its first chunk before any header is sent, so a store that is down or
    an object that vanished is a refusal, not a 200 cut short; only then is the fetch custody."""
    first = b""
    chunks: AsyncIterator[bytes] | None = None
    if content.size:
        chunks = store.open_range(content.key, start, end)
        try:
            first = await anext(chunks, b"")
        except ObjectNotFound:
            raise await integrity.missing(events, content.row, content.target) from None
        except MediaStoreUnavailable as exc:
            raise integrity.unavailable(exc) from None
    try:
        await record_fetch(actor, content.row["id"], content.target.which, byte_range)
    except BaseException:
        if chunks is not None:
            await cast(AsyncGenerator[bytes, None], chunks).aclose()
        raise
    return _rest(first, chunks)


async def _rest(first: bytes, chunks: AsyncIterator[bytes] | None) -> AsyncIterator[bytes]:
    if chunks is None:
        return
    async with contextlib.aclosing(cast(AsyncGenerator[bytes, None], chunks)):
        if first:
            yield first
        async for chunk in chunks:
            yield chunk


async def custody(evidence_id: uuid.UUID, actor: CurrentUser) -> list[dict[str, Any]]:
    await visible_row(actor, evidence_id)
    return await custody_entries(evidence_id)
