"""Watermarks for photos recorded while no CJK font was available.

Such photos were stored with their thumbnail only. Once the font is there, each gets the watermarked
copy it would have had: stamped with the server time it was received, its place, its uploader and
unit, rendered by the same ``renditions.make`` as at upload from the stored original (checked
against its SHA-256 first), and added to the record's renditions. The original is only read. Photos
that already have a watermark are skipped, so running it again changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from backend.accounts import services as accounts
from backend.audit import services as audit
from backend.db import atomic, connected, json_value
from backend.evidence import parents, renditions
from backend.evidence.rendering import copy_original
from backend.evidence.services import PHOTO_SPOOL_PREFIX, RENDERABLE
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.settings import Settings
from media_store import MediaStore, open_store, run_sync

logger = logging.getLogger(__name__)
_SYSTEM = frozenset({"supervisor"})  # reads any record; only to look up what the stamp shows


@dataclass
class Backfill:
    rendered: int = 0
    failed: int = 0
    font_problem: str | None = None


async def missing() -> list[uuid.UUID]:
    """Photos with a thumbnail but no watermark: rendered while the font was missing. (A photo that
    Pillow cannot render has neither, and is not tried again.)"""
    rows = await Evidence.select(Evidence.id, Evidence.renditions).where(
        Evidence.content_type.is_in(list(RENDERABLE))
    )
    out = []
    for row in rows:
        made = json_value(row["renditions"], {})
        if "thumbnail" in made and "watermarked" not in made:
            out.append(row["id"])
    return out


async def backfill_watermarks(store: MediaStore, settings: Settings) -> Backfill:
    result = Backfill(font_problem=renditions.font_problem(settings))
    if result.font_problem is not None:
        return result
    for evidence_id in await missing():
        try:
            row = await Evidence.select().where(Evidence.id == evidence_id).first()
            if row is not None and await _watermark(row, store, settings):
                result.rendered += 1
            else:
                result.failed += 1
        except Exception:  # one photo (store away, damaged original) must not stop the others
            logger.exception("watermark backfill failed for evidence %s", evidence_id)
            result.failed += 1
    return result


async def _watermark(row: dict[str, Any], store: MediaStore, settings: Settings) -> bool:
    uploader = await accounts.user_view(row["uploaded_by"], full_phone=False)
    actor = CurrentUser(
        id=row["uploaded_by"],
        username=uploader.username,
        display_name=uploader.display_name,
        roles=_SYSTEM,
        unit_ids=frozenset(),
        session_id=uuid.UUID(int=0),
    )
    parent = await parents.resolve(actor, row["parent_type"], row["parent_id"], write=False)
    located = row["lat"] is not None and row["lon"] is not None
    gps = {"lat": row["lat"], "lon": row["lon"]} if located else None
    lines = renditions.stamp_lines(actor, parent, row["received_at"], gps, row["sha256"])
    path = await copy_original(row, store, settings.data_dir / "tmp", PHOTO_SPOOL_PREFIX)
    try:
        made = await renditions.make(path, lines, store, settings)
    finally:
        await run_sync(path.unlink, True)
    if "watermarked" not in made:
        return False
    async with atomic():
        current = await Evidence.select(Evidence.renditions).where(Evidence.id == row["id"]).first()
        existing = json_value(current["renditions"], {}) if current else {}
        if "watermarked" in existing:
            return False  # another run got there first
        merged = {**made, **existing}  # what the record had stays as it was
        await Evidence.update({Evidence.renditions: merged}).where(Evidence.id == row["id"]).run()
        await audit.record(
            None, "evidence.watermark_backfilled", "evidence", row["id"], {"watermarked": made["watermarked"]}
        )
    return True


async def run_backfill(settings: Settings) -> int:
    """``fieldwatch backfill-watermarks``: exit 1 when the font is missing or a photo failed."""
    async with connected(settings.database_url):
        store = open_store(settings.media_url, spool_dir=str(settings.data_dir / "tmp"))
        result = await backfill_watermarks(store, settings)
    if result.font_problem is not None:
        print(f"error: {result.font_problem}", file=sys.stderr)
        return 1
    print(f"{result.rendered} watermark(s) rendered, {result.failed} failed")
    return 1 if result.failed else 0


async def backfill_periodically(store: MediaStore, settings: Settings, every_s: float = 3600) -> None:
    """At start-up, then hourly while watermarks wait: photos stored while the font was missing get
    theirs once it is installed, without a restart of the API."""
    pending = True  # photos from before this start may wait for a watermark
    while True:
        try:
            pending = renditions.take_skipped() or pending
            if pending and renditions.font_problem(settings) is None:
                if await missing():
                    result = await backfill_watermarks(store, settings)
                    logger.info("watermark backfill: %d rendered, %d failed", result.rendered, result.failed)
                pending = False
        except Exception:  # the database may be briefly away: next round
            logger.exception("watermark backfill failed")
        await asyncio.sleep(every_s)
