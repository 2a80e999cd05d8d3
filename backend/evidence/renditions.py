"""Derived images of a photo: a thumbnail and the 水印相机-style copy stamped with the server's time,
the place, the officer and the unit. Separate objects: the original is never touched."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from backend.evidence.parents import Parent
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING
from backend.settings import Settings
from media_store import MediaStore, StoredObject, images, run_sync

logger = logging.getLogger(__name__)
_fonts: dict[str | None, str] = {}  # found font files by configured path: found once, looked for until
_skipped = False  # a photo was stored without its watermark since the last backfill looked


def _cjk_font(settings: Settings) -> str | None:
    global _skipped
    font = _fonts.get(settings.cjk_font)
    if font is None:
        try:
            font = _fonts[settings.cjk_font] = images.find_cjk_font(settings.cjk_font)
        except images.FontUnavailable as exc:
            logger.warning("no CJK font, watermark left to the backfill: %s", exc)
            _skipped = True
            return None
    return font


def take_skipped() -> bool:
    """Whether a watermark was skipped since the last call (the backfill then has work)."""
    global _skipped
    skipped, _skipped = _skipped, False
    return skipped


def font_problem(settings: Settings) -> str | None:
    """Why watermarks cannot be made now, or None (for readiness: looked up afresh, not logged)."""
    try:
        images.find_cjk_font(settings.cjk_font)
    except images.FontUnavailable as exc:
        return str(exc)
    return None


def stamp_lines(
    actor: CurrentUser, parent: Parent, received: datetime, gps: dict[str, float] | None, sha256: str
) -> list[str]:
    lat, lon = (gps["lat"], gps["lon"]) if gps else (parent.lat, parent.lon)
    return [
        f"服务器时间 {received.astimezone(BEIJING):%Y-%m-%d %H:%M:%S} 北京时间",
        f"位置 {lat:.5f}, {lon:.5f}" if lat is not None and lon is not None else "",
        f"执法人员 {actor.display_name}",
        f"单位 {parent.unit_name}",
        f"SHA-256 {sha256[:16]}…",
    ]


def _record(stored: StoredObject) -> dict[str, Any]:
    return {"key": stored.key, "sha256": stored.sha256, "size": stored.size}


async def make(
    path: Path, lines: list[str], store: MediaStore, settings: Settings, problems: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Store the renditions of the photo at ``path``; by name, each one's object key, SHA-256 and
    size (written into the upload's audit entry too). A photo Pillow can read metadata from but not
    render keeps its original and has no rendition; why is appended to ``problems``."""
    out: dict[str, dict[str, Any]] = {}
    try:
        thumb = await run_sync(images.thumbnail, path)
        out["thumbnail"] = _record(await store.put_bytes(thumb, content_type="image/jpeg"))
        font = _cjk_font(settings)
        if font:
            stamped = await run_sync(images.watermark, path, lines, font)
            out["watermarked"] = _record(await store.put_bytes(stamped, content_type="image/jpeg"))
    except images.ImageRejected as exc:
        logger.warning("no rendition for %s: %s", path.name, exc)
        if problems is not None:
            problems.append(str(exc))
    return out
