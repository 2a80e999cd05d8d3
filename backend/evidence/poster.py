"""A video's poster frame (视频封面): a still of the clip, taken by the phone that recorded it, shown in
the record's evidence grid and on the evidence page until the clip plays.

The server does not decode video, so the frame comes from the phone, sent after the video itself.
It is for viewers only, never evidence: it is re-encoded by Pillow (the same bounded decoder as
photo thumbnails, so a crafted file is refused), stored as the video's `thumbnail` rendition marked
`source: phone_frame`, and vouched for in the audit log (`evidence.poster_added`), which `fieldwatch
verify` reads like the upload's own renditions. The first frame set stays; sending again changes
nothing, so a phone that retries after a lost answer is harmless."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from backend.audit import services as audit
from backend.db import atomic, json_value
from backend.evidence import schemas
from backend.evidence.services import PHOTO_SPOOL_PREFIX, get_evidence, visible_row
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.settings import Settings
from media_store import MediaStore, images, run_sync

POSTER_MAX_BYTES = 512 * 1024  # a phone's 320 px JPEG frame is 10–40 KB
POSTER_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
AUDIT_ACTION = "evidence.poster_added"


def _spool(body: bytes, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=PHOTO_SPOOL_PREFIX)
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    return Path(name)


async def add_poster(
    actor: CurrentUser,
    evidence_id: uuid.UUID,
    content_type: str,
    body: bytes,
    store: MediaStore,
    settings: Settings,
) -> schemas.Evidence:
    row = await visible_row(actor, evidence_id)  # 404 outside the viewer's scope
    if row["uploaded_by"] != actor.id:
        raise AppError(Errors.EVIDENCE_NOT_UPLOADER, "Only the officer who recorded it sets its frame.")
    if not str(row["content_type"]).startswith("video/"):
        raise AppError(Errors.EVIDENCE_NOT_VIDEO, f"This evidence is {row['content_type']}, not a video.")
    if "thumbnail" in json_value(row["renditions"], {}):
        return await get_evidence(actor, evidence_id)
    if content_type.split(";")[0].strip().lower() not in POSTER_TYPES:
        raise AppError(Errors.EVIDENCE_TYPE_MISMATCH, "Send the frame as image/jpeg, image/png or webp.")
    if not body:
        raise AppError(Errors.VALIDATION, "The body is empty: send the frame.", errors=[{"key": "body"}])
    path = await run_sync(_spool, body, settings.data_dir / "tmp")
    try:
        frame = await run_sync(images.thumbnail, path)
    except images.ImageRejected as exc:
        raise AppError(Errors.EVIDENCE_IMAGE_REJECTED, f"The frame is not a readable image: {exc}") from None
    finally:
        await run_sync(path.unlink, True)
    stored = await store.put_bytes(frame, content_type="image/jpeg")
    record = {"key": stored.key, "sha256": stored.sha256, "size": stored.size, "source": "phone_frame"}
    async with atomic():
        current = await Evidence.select(Evidence.renditions).where(Evidence.id == evidence_id).first()
        existing = json_value(current["renditions"], {}) if current else {}
        if "thumbnail" not in existing:  # a retry that crossed this one on the way got there first
            await (
                Evidence.update({Evidence.renditions: {**existing, "thumbnail": record}})
                .where(Evidence.id == evidence_id)
                .run()
            )
            await audit.record(actor, AUDIT_ACTION, "evidence", evidence_id, {"thumbnail": record})
    return await get_evidence(actor, evidence_id)
