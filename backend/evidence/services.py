"""Evidence: attach originals (streamed or from a finished resumable upload), renditions, reads
with chain of custody, and re-verification."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from backend.actions.tables import Action
from backend.alerts.services import raise_alert
from backend.audit import services as audit
from backend.audit.tables import AuditEntry
from backend.cases.tables import Case
from backend.db import atomic, is_unique_violation
from backend.evidence import schemas
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.scope import can_see
from backend.live.publish import publish
from backend.org.tables import Unit
from backend.settings import Settings
from media_store import ChecksumMismatch, MediaStore, TooLarge, images, run_sync
from media_store.base import normalize_sha256
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
RENDERABLE = ("image/jpeg", "image/png")
COPY_CHUNK = 1024 * 1024
MAX_ACCURACY_M = 100_000.0
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


class Truncated(Exception):
    """The body ended before its declared length."""


@dataclass(frozen=True)
class Parent:
    type: str
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    occurred_at: datetime | None
    lat: float | None
    lon: float | None


async def resolve_parent(
    actor: CurrentUser, parent_type: str, parent_id: uuid.UUID, *, write: bool
) -> Parent:
    """The record evidence is attached to; 404 when it is not the caller's to see (or to add to)."""
    row: dict[str, Any] | None = None
    if parent_type == "action":
        row = (
            await Action.select(
                Action.id,
                Action.unit,
                Action.occurred_at,
                Action.lat,
                Action.lon,
                Action.unit.name.as_alias("unit_name"),
            )
            .where(Action.id == parent_id)
            .first()
        )
    elif parent_type == "spot_check":
        from backend.supervision import services as supervision

        if write:
            check = await supervision.answer_parent(actor, parent_id)
        else:
            check = await supervision._row(actor, parent_id)
        unit = await Unit.select(Unit.name).where(Unit.id == check["unit_id"]).first()
        return Parent(
            "spot_check",
            check["id"],
            check["unit_id"],
            unit["name"] if unit else "",
            check["requested_at"],
            None,
            None,
        )
    elif parent_type == "case":
        row = (
            await Case.select(Case.id, Case.unit, Case.unit.name.as_alias("unit_name"))
            .where(Case.id == parent_id)
            .first()
        )
    missing = AppError(Errors.NOT_FOUND, f"No such {parent_type}.")
    if row is None or not can_see(actor, row["unit"]):
        raise missing
    if write and not (actor.has_any("officer") and row["unit"] in actor.unit_ids):
        raise missing
    return Parent(
        parent_type,
        row["id"],
        row["unit"],
        row["unit_name"],
        row.get("occurred_at"),
        row.get("lat"),
        row.get("lon"),
    )


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


def parse_sha256(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalize_sha256(value)
    except ValueError:
        raise AppError(
            Errors.VALIDATION,
            "X-Content-SHA256 must be 64 hexadecimal digits.",
            errors=[{"key": "X-Content-SHA256"}],
        ) from None


def parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise AppError(
            Errors.VALIDATION, f"{name} must be an RFC 3339 time with an offset.", errors=[{"key": name}]
        )
    return parsed


@dataclass(frozen=True)
class DeviceLocation:
    """Where the phone says it was; used when the file carries no EXIF GPS."""

    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class DeviceClock:
    """The phone's clock and the server's at the same moment (the request that announced the file)."""

    device_time: datetime
    server_time: datetime

    @property
    def offset_s(self) -> float:
        """Server minus device: positive when the phone's clock is behind."""
        return round((self.server_time - self.device_time).total_seconds(), 1)


def parse_location(value: str | None, name: str) -> DeviceLocation | None:
    """``<lat>,<lon>[,<accuracy_m>]`` in decimal degrees and metres."""
    if not value or not value.strip():
        return None
    parts = [p.strip() for p in value.split(",")]
    # Plain decimals only: float() would also take "nan", "inf" and "1_0".
    numbers = [float(p) for p in parts] if all(_DECIMAL.fullmatch(p) for p in parts) else []
    if (
        len(numbers) not in (2, 3)
        or not -90 <= numbers[0] <= 90
        or not -180 <= numbers[1] <= 180
        or (len(numbers) == 3 and not 0 <= numbers[2] <= MAX_ACCURACY_M)
    ):
        raise AppError(
            Errors.VALIDATION,
            f"{name} must be <lat>,<lon>[,<accuracy_m>]: latitude -90..90, longitude -180..180 "
            f"(decimal degrees), accuracy 0..{MAX_ACCURACY_M:.0f} metres.",
            errors=[{"key": name}],
        )
    return DeviceLocation(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None)


async def _counted(chunks: AsyncIterable[bytes], expected: int | None) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        yield chunk
    if expected is not None and received != expected:
        raise Truncated


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    fh = await run_sync(open, path, "rb")
    try:
        while chunk := await run_sync(fh.read, COPY_CHUNK):
            yield chunk
    finally:
        await run_sync(fh.close)


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
    return tempfile.mkstemp(dir=directory, prefix="photo-")


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
    chunks: AsyncIterable[bytes],
    *,
    content_type: str | None,
    content_length: int | None,
    expected_sha256: str | None,
    captured_at: datetime | None,
    filename: str | None,
    store: MediaStore,
    settings: Settings,
    upload: str = "direct",
    not_before: datetime | None = None,
    location: DeviceLocation | None = None,
    clock: DeviceClock | None = None,
) -> tuple[schemas.Evidence, bool]:
    """Validate and store one original, then record it. Every refusal leaves nothing behind.
    ``not_before``: a photo whose EXIF capture time is earlier is refused (an old picture).
    ``location``: the phone's own fix, kept when the file has no EXIF GPS; ``clock``: the phone's
    time against the server's, to flag a phone whose clock is wrong."""
    ctype, kind = kind_of(content_type)
    limit = settings.max_bytes(kind)
    if content_length is not None and content_length > limit:
        raise AppError(Errors.TOO_LARGE, f"A {kind} may be at most {limit // 2**20} MiB.", max_bytes=limit)
    head, body = await read_head(chunks)
    if not matches(ctype, sniff(head)):
        raise AppError(Errors.EVIDENCE_TYPE_MISMATCH, f"The content is not {ctype}.", sniffed=sniff(head))
    body = _counted(body, content_length)
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
                _check_fresh(meta.get("captured_at"), not_before)
                body = _file_chunks(spooled)
            stored = await store.put_stream(
                body, content_type=ctype, max_bytes=limit, expected_sha256=expected_sha256
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
        return await _record(
            actor,
            parent,
            stored.sha256,
            stored.size,
            stored.key,
            ctype,
            meta,
            captured_at,
            filename,
            spooled,
            store,
            settings,
            upload,
            location,
            clock,
        )
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)


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
    sha256: str,
    size: int,
    key: str,
    ctype: str,
    meta: dict[str, Any],
    captured_at: datetime | None,
    filename: str | None,
    spooled: Path | None,
    store: MediaStore,
    settings: Settings,
    upload: str,
    location: DeviceLocation | None,
    clock: DeviceClock | None,
) -> tuple[schemas.Evidence, bool]:
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
    renditions = (
        await _renditions(spooled, actor, parent, received, gps, sha256, store, settings) if spooled else {}
    )
    clock_offset = clock.offset_s if clock else None
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
                    size=size,
                    content_type=ctype,
                    object_key=key,
                    filename=filename,
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
                    upload=upload,
                    dedupe_key=dedupe_key,
                )
            ).run()
            if parent.type == "action":
                await (
                    Action.update({Action.evidence_count: Action.evidence_count + 1})
                    .where(Action.id == parent.id)
                    .run()
                )
            await audit.record(
                actor,
                "evidence.uploaded",
                "evidence",
                evidence_id,
                {
                    "parent": f"{parent.type}:{parent.id}",
                    "sha256": sha256,
                    "size": size,
                    "content_type": ctype,
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
    view = await get_evidence(actor, evidence_id, custody=False)
    await publish(
        "evidence.added",
        parent.unit_id,
        {"parent_type": parent.type, "parent_id": str(parent.id), "evidence": msgspec.to_builtins(view)},
    )
    return view, True


_font: str | None = None


def _cjk_font(settings: Settings) -> str | None:
    global _font
    if _font is None:
        try:
            _font = images.find_cjk_font(settings.cjk_font)
        except images.FontUnavailable as exc:
            logger.warning("no CJK font, watermarks are not made: %s", exc)
            return None
    return _font


async def _renditions(
    path: Path,
    actor: CurrentUser,
    parent: Parent,
    received: datetime,
    gps: dict[str, float] | None,
    sha256: str,
    store: MediaStore,
    settings: Settings,
) -> dict[str, str]:
    """Thumbnail and the 水印相机-style copy, stamped with the server's time, not the phone's."""
    out: dict[str, str] = {}
    try:
        thumb = await run_sync(images.thumbnail, path)
        out["thumbnail"] = (await store.put_bytes(thumb, content_type="image/jpeg")).key
        font = _cjk_font(settings)
        if font:
            lat, lon = (gps["lat"], gps["lon"]) if gps else (parent.lat, parent.lon)
            lines = [
                f"服务器时间 {received.astimezone(BEIJING):%Y-%m-%d %H:%M:%S} 北京时间",
                f"位置 {lat:.5f}, {lon:.5f}" if lat is not None and lon is not None else "",
                f"执法人员 {actor.display_name}",
                f"单位 {parent.unit_name}",
                f"SHA-256 {sha256[:16]}…",
            ]
            stamped = await run_sync(images.watermark, path, lines, font)
            out["watermarked"] = (await store.put_bytes(stamped, content_type="image/jpeg")).key
    except images.ImageRejected as exc:  # the original is kept; it just has no rendition
        logger.warning("no rendition for %s: %s", sha256, exc)
    return out


def _view(row: dict[str, Any], custody: schemas.CustodySummary | None = None) -> schemas.Evidence:
    renditions = row["renditions"]
    renditions = json.loads(renditions) if isinstance(renditions, str) else (renditions or {})
    flags = row["flags"]
    flags = json.loads(flags) if isinstance(flags, str) else (flags or [])
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
        ),
        upload=row["upload"],
        custody=custody,
    )


async def _visible(actor: CurrentUser, row: dict[str, Any]) -> bool:
    if row["parent_type"] == "spot_check":
        from backend.supervision import services as supervision

        try:
            await supervision._row(actor, row["parent_id"])
        except AppError:
            return False
        return True
    return can_see(actor, row["unit_id"])


async def _row(actor: CurrentUser, evidence_id: uuid.UUID) -> dict[str, Any]:
    row = await Evidence.select().where(Evidence.id == evidence_id).first()
    if row is None or not await _visible(actor, row):
        raise AppError(Errors.NOT_FOUND, "No such evidence.")
    return row


async def get_evidence(
    actor: CurrentUser, evidence_id: uuid.UUID, *, custody: bool = True
) -> schemas.Evidence:
    row = await _row(actor, evidence_id)
    summary = None
    if custody:
        views = (
            await AuditEntry.select(AuditEntry.at)
            .where(
                (AuditEntry.object_type == "evidence")
                & (AuditEntry.object_id == str(evidence_id))
                & AuditEntry.action.is_in(["evidence.viewed", "evidence.downloaded"])
            )
            .order_by(AuditEntry.seq, ascending=False)
        )
        summary = schemas.CustodySummary(
            uploaded_by=row["uploaded_by"],
            uploaded_at=row["received_at"],
            views=len(views),
            last_viewed_at=views[0]["at"] if views else None,
        )
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
    key: str
    content_type: str
    size: int
    sha256: str
    filename: str | None


async def content_for(
    actor: CurrentUser, evidence_id: uuid.UUID, which: str, store: MediaStore, byte_range: str | None
) -> Content:
    """The object to send for ``which`` (content | thumbnail | watermarked); each fetch is custody."""
    row = await _row(actor, evidence_id)
    if which == "content":
        key, ctype, size, sha = row["object_key"], row["content_type"], row["size"], row["sha256"]
    else:
        renditions = row["renditions"]
        renditions = json.loads(renditions) if isinstance(renditions, str) else (renditions or {})
        if which not in renditions:
            raise AppError(Errors.NOT_FOUND, f"This evidence has no {which} rendition.")
        key, ctype = renditions[which], "image/jpeg"
        size = (await store.stat(key)).size
        sha = key.rsplit("/", 1)[-1]
    action = "evidence.downloaded" if which == "content" else "evidence.viewed"
    async with atomic():
        await audit.record(actor, action, "evidence", evidence_id, {"rendition": which, "range": byte_range})
    return Content(key, ctype, size, sha, row["filename"])


async def custody(evidence_id: uuid.UUID, actor: CurrentUser) -> list[dict[str, Any]]:
    await _row(actor, evidence_id)
    rows = (
        await AuditEntry.select()
        .where((AuditEntry.object_type == "evidence") & (AuditEntry.object_id == str(evidence_id)))
        .order_by(AuditEntry.seq)
    )
    return [
        {
            "seq": r["seq"],
            "at": r["at"],
            "actor_id": r["actor_id"],
            "actor": r["actor"],
            "action": r["action"],
            "data": json.loads(r["data"]),
        }
        for r in rows
    ]


async def verify_all(store: MediaStore, progress: Any = None) -> list[dict[str, Any]]:
    """Re-hash every stored original; a mismatch is an alert and an audit entry."""
    rows = await Evidence.select(
        Evidence.id, Evidence.object_key, Evidence.sha256, Evidence.unit_id, Evidence.size
    )
    mismatches = []
    for index, row in enumerate(rows, 1):
        try:
            actual = await store.rehash(row["object_key"])
        except Exception as exc:  # a missing object is as bad as an altered one
            actual = f"unreadable: {type(exc).__name__}"
        if actual != row["sha256"]:
            mismatches.append({"id": str(row["id"]), "expected": row["sha256"], "actual": actual})
            async with atomic():
                await audit.record(
                    None,
                    "evidence.hash_mismatch",
                    "evidence",
                    row["id"],
                    {"expected": row["sha256"], "actual": actual},
                )
            await raise_alert(
                "evidence.hash_mismatch",
                f"Stored evidence {row['id']} no longer matches its SHA-256",
                severity="high",
                unit_id=row["unit_id"],
                object_type="evidence",
                object_id=row["id"],
                data={"expected": row["sha256"], "actual": actual},
            )
        if progress is not None:
            progress(index, len(rows), row["size"])
    return mismatches
