"""Resumable uploads, tus 1.0: core, creation, termination, expiration and checksum (sha256).

Bytes received so far live in a file under the data dir, so an upload survives a dropped
connection, a closed app and an API restart; the client asks HEAD for the offset and continues with
PATCH. When the last byte arrives the file is attached as evidence exactly like a streamed upload.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import functools
import hashlib
import os
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, BinaryIO

from backend.audit import services as audit
from backend.db import atomic
from backend.evidence import parents, services
from backend.evidence.tables import Upload
from backend.evidence.uploads import DeviceClock, DeviceLocation, UploadRequest, parse_location, parse_time
from backend.lib.auth import CurrentUser
from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.requests import no_nul
from backend.live.publish import Publisher
from backend.settings import Settings
from media_store import MediaStore, file_chunks, open_binary, remove_stale, run_sync

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration,checksum"
FLUSH_BYTES = 4 * 1024 * 1024
PARENT_KEYS = {"action_id": "action", "case_id": "case", "spot_check_id": "spot_check"}

# In-process running hashes, so finishing an upload does not read the file twice; after a restart
# the file is simply hashed again.
_hashers: dict[uuid.UUID, tuple[int, Any]] = {}


def parse_metadata(header: str | None) -> dict[str, str]:
    """``key base64value,key2 base64value2`` → dict (values decoded as UTF-8)."""
    out: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        try:
            out[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise AppError(
                Errors.VALIDATION, f"Upload-Metadata value for {key!r} is not base64 UTF-8."
            ) from None
        no_nul(out[key], f"Upload-Metadata {key}")
    return out


def device_report(meta: dict[str, str]) -> tuple[DeviceLocation | None, datetime | None]:
    """The phone's location and clock from the metadata keys ``captured_location`` and ``device_time``
    (same formats as the X-Captured-Location and X-Device-Time headers)."""
    return (
        parse_location(meta.get("captured_location"), "captured_location"),
        parse_time(meta.get("device_time"), "device_time"),
    )


def _path(settings: Settings, upload_id: uuid.UUID) -> Path:
    return settings.uploads_dir / f"{upload_id}.part"


@dataclass(frozen=True)
class UploadState:
    id: uuid.UUID
    offset: int
    length: int
    expires_at: datetime
    evidence_id: uuid.UUID | None

    def headers(self) -> dict[str, str]:
        headers = {
            "Upload-Offset": str(self.offset),
            "Upload-Length": str(self.length),
            "Upload-Expires": format_datetime(self.expires_at.astimezone(UTC), usegmt=True),
            "Cache-Control": "no-store",
        }
        if self.evidence_id:
            headers["Evidence-Id"] = str(self.evidence_id)
        return headers


def _state(row: dict[str, Any]) -> UploadState:
    return UploadState(row["id"], row["offset"], row["length"], row["expires_at"], row["evidence_id"])


async def create(
    actor: CurrentUser, length_header: str | None, metadata_header: str | None, settings: Settings
) -> UploadState:
    created = utcnow()  # device_time is compared with this, not with the (maybe much later) finish
    # isascii: str.isdigit() also accepts "²", which int() refuses
    if length_header is None or not (length_header.isascii() and length_header.isdigit()):
        raise AppError(
            Errors.VALIDATION,
            "Upload-Length is required (deferred length is not supported).",
            errors=[{"key": "Upload-Length"}],
        )
    length = int(length_header)
    meta = parse_metadata(metadata_header)
    named = [(PARENT_KEYS[k], v) for k, v in meta.items() if k in PARENT_KEYS]
    if len(named) != 1:
        raise AppError(
            Errors.VALIDATION, "Upload-Metadata needs exactly one of action_id, case_id, spot_check_id."
        )
    parent_type, raw_id = named[0]
    try:
        parent_id = uuid.UUID(raw_id)
    except ValueError:
        raise AppError(Errors.NOT_FOUND, f"No such {parent_type}.") from None
    parent = await parents.resolve(actor, parent_type, parent_id, write=True)
    ctype, kind = services.kind_of(meta.get("filetype"))
    limit = settings.max_bytes(kind)
    if length > limit:
        raise AppError(Errors.TOO_LARGE, f"A {kind} may be at most {limit // 2**20} MiB.", max_bytes=limit)
    captured = parse_time(meta.get("captured_at"), "captured_at")
    device_report(meta)  # refuse a malformed one now, not after hours of uploading
    upload_id = uuid.uuid4()
    path = _path(settings, upload_id)
    await run_sync(_touch, path)
    expires = created + timedelta(hours=settings.upload_expiry_hours)
    await Upload.insert(
        Upload(
            id=upload_id,
            user_id=actor.id,
            parent_type=parent.type,
            parent_id=parent.id,
            unit_id=parent.unit_id,
            content_type=ctype,
            filename=(meta.get("filename") or None) and meta["filename"][:200],
            captured_at=captured,
            length=length,
            created_at=created,
            expires_at=expires,
            metadata=metadata_header or "",
        )
    ).run()
    return UploadState(upload_id, 0, length, expires, None)


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=False)


async def _own(actor: CurrentUser, upload_id: uuid.UUID) -> dict[str, Any]:
    row = await Upload.select().where(Upload.id == upload_id).first()
    if row is None or row["user_id"] != actor.id:
        raise AppError(Errors.NOT_FOUND, "No such upload.")
    if row["expires_at"] <= utcnow() and row["evidence_id"] is None:
        raise AppError(Errors.UPLOAD_GONE, "This upload expired; start it again.")
    return row


async def status(actor: CurrentUser, upload_id: uuid.UUID) -> UploadState:
    return _state(await _own(actor, upload_id))


def _checksum(header: str | None) -> bytes | None:
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise AppError(Errors.BAD_REQUEST, "Only sha256 is supported for Upload-Checksum.").with_headers(
            **{"Tus-Checksum-Algorithm": "sha256"}
        )
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise AppError(Errors.BAD_REQUEST, "Upload-Checksum is not base64.") from None


def _check_offset(row: dict[str, Any], offset_header: str | None) -> None:
    if row["evidence_id"] is not None:
        raise AppError(Errors.UPLOAD_OFFSET, "This upload is complete.", offset=row["offset"])
    if (
        offset_header is None
        or not (offset_header.isascii() and offset_header.isdigit())
        or int(offset_header) != row["offset"]
    ):
        raise AppError(
            Errors.UPLOAD_OFFSET,
            f"The server has {row['offset']} bytes; send from there.",
            offset=row["offset"],
        ).with_headers(**{"Upload-Offset": str(row["offset"])})


async def _open_exclusive(path: Path) -> BinaryIO:
    """The partial file, locked: a second PATCH to the same upload is refused, not interleaved."""
    fh = await run_sync(open_binary, path, "r+b")
    try:
        await run_sync(fcntl.flock, fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        await run_sync(fh.close)
        raise AppError(Errors.UPLOAD_OFFSET, "Another request is writing to this upload.") from None
    return fh


class _Appender:
    """Writes a PATCH body at ``start`` in batches, one worker-thread call per batch rather than a
    thread round trip per network chunk, hashing the chunk only when the client sent a checksum and
    continuing the upload's running hash when it has one."""

    def __init__(self, fh: BinaryIO, upload_id: uuid.UUID, start: int, expected: bytes | None) -> None:
        self.fh, self.start = fh, start
        self.written = 0
        self.buffer = bytearray()
        self.chunk_hash = hashlib.sha256() if expected is not None else None
        running = _hashers.pop(upload_id, None)
        self.running_hash = (
            running[1] if running and running[0] == start else (hashlib.sha256() if start == 0 else None)
        )

    def _write(self, data: bytearray) -> None:
        self.fh.write(data)
        for digest in (self.chunk_hash, self.running_hash):
            if digest is not None:
                digest.update(data)

    @property
    def received(self) -> int:
        return self.written + len(self.buffer)

    async def add(self, chunk: bytes) -> None:
        self.buffer += chunk
        if len(self.buffer) >= FLUSH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self.buffer:
            data, self.buffer = self.buffer, bytearray()
            await run_sync(self._write, data)
            self.written += len(data)


async def _receive(
    appender: _Appender, chunks: AsyncIterable[bytes], length: int, expected: bytes | None
) -> tuple[int, AppError | None, BaseException | None]:
    """Bytes to keep, a refusal, and an interruption: a body over Upload-Length or failing its
    checksum is discarded; a dropped connection keeps what arrived, unless it was to be checked."""
    try:
        await run_sync(appender.fh.seek, appender.start)
        async for chunk in chunks:
            if appender.start + appender.received + len(chunk) > length:
                return (
                    0,
                    AppError(Errors.TOO_LARGE, "More bytes than Upload-Length; the chunk was discarded."),
                    None,
                )
            await appender.add(chunk)
        await appender.flush()
    except Exception as exc:
        if expected is not None:
            return 0, None, exc
        await appender.flush()
        return appender.written, None, exc
    if appender.chunk_hash is not None and appender.chunk_hash.digest() != expected:
        return (
            0,
            AppError(
                Errors.UPLOAD_CHECKSUM,
                "The chunk's SHA-256 does not match Upload-Checksum; it was discarded. Send it again.",
            ),
            None,
        )
    return appender.written, None, None


async def append(
    actor: CurrentUser,
    upload_id: uuid.UUID,
    offset_header: str | None,
    checksum_header: str | None,
    chunks: AsyncIterable[bytes],
    settings: Settings,
    store: MediaStore,
    events: Publisher,
) -> UploadState:
    row = await _own(actor, upload_id)
    _check_offset(row, offset_header)
    expected = _checksum(checksum_header)
    start = row["offset"]
    fh = await _open_exclusive(_path(settings, upload_id))
    appender = _Appender(fh, upload_id, start, expected)
    kept, refusal, interrupted = 0, None, None
    try:
        kept, refusal, interrupted = await _receive(appender, chunks, row["length"], expected)
    finally:
        # Whatever happened, the file and the row agree on the offset before anyone else writes.
        await run_sync(fh.truncate, start + kept)
        await run_sync(os.fsync, fh.fileno())
        await run_sync(fh.close)
        new_offset = start + kept
        await (
            Upload.update({Upload.offset: new_offset})
            .where((Upload.id == upload_id) & (Upload.offset == start))
            .run()
        )
        if appender.running_hash is not None and kept == appender.written:
            _hashers[upload_id] = (new_offset, appender.running_hash)
    if refusal is not None:
        raise refusal
    if interrupted is not None:
        raise interrupted
    if new_offset == row["length"]:
        await _finish(actor, row, settings, store, events)
    return await status(actor, upload_id)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


async def _finish(
    actor: CurrentUser, row: dict[str, Any], settings: Settings, store: MediaStore, events: Publisher
) -> None:
    path = _path(settings, row["id"])
    running = _hashers.pop(row["id"], None)
    sha256 = (
        running[1].hexdigest()
        if running and running[0] == row["length"]
        else await run_sync(_hash_file, path)
    )
    parent = await parents.resolve(actor, row["parent_type"], row["parent_id"], write=True)
    # Validated at creation; the raw metadata kept on the row is the one source for both.
    location, device_time = device_report(parse_metadata(row["metadata"]))
    upload = UploadRequest(
        chunks=file_chunks(path),
        content_type=row["content_type"],
        content_length=row["length"],
        expected_sha256=sha256,
        captured_at=row["captured_at"],
        filename=row["filename"],
        location=location,
        clock=DeviceClock(device_time, row["created_at"]) if device_time else None,
        upload="resumable",
    )
    evidence, _ = await services.attach(actor, parent, upload, store, settings, events)
    await Upload.update({Upload.evidence_id: evidence.id}).where(Upload.id == row["id"]).run()
    await run_sync(path.unlink, True)


async def terminate(actor: CurrentUser, upload_id: uuid.UUID, settings: Settings) -> None:
    row = await _own(actor, upload_id)
    async with atomic():
        await Upload.delete().where(Upload.id == upload_id).run()
        await audit.record(actor, "upload.terminated", "upload", upload_id, {"offset": row["offset"]})
    _hashers.pop(upload_id, None)
    await run_sync(_path(settings, upload_id).unlink, True)


async def remove_orphans(settings: Settings, older_than_s: float) -> int:
    """Partial files no unfinished upload owns: created just before a crash kept the row from being
    written, or left by a crash after the upload was attached. Unfinished, unexpired uploads keep theirs."""
    rows = await Upload.select(Upload.id).where(Upload.evidence_id.is_null())
    keep = {_path(settings, row["id"]).name for row in rows}
    return await run_sync(
        functools.partial(remove_stale, settings.uploads_dir, "", older_than_s, suffix=".part", keep=keep)
    )


async def prune(settings: Settings) -> int:
    """Drop expired, unfinished uploads and their partial files."""
    expired = await Upload.select(Upload.id).where(
        (Upload.expires_at < utcnow()) & Upload.evidence_id.is_null()
    )
    for row in expired:
        with contextlib.suppress(OSError):
            _path(settings, row["id"]).unlink(missing_ok=True)
        _hashers.pop(row["id"], None)
    if expired:
        await Upload.delete().where(Upload.id.is_in([r["id"] for r in expired])).run()
    return len(expired)
