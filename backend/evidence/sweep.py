"""Leftovers of uploads whose process died mid-way (SIGKILL, power loss): photo and S3 spool files,
the local store's temporary files, and resumable-upload partials nothing owns. Run at start-up and
hourly. Age decides: a file nobody has written for ``temp_max_age_s`` belongs to no live upload, as
a live one writes while bytes arrive. Resumable uploads that are unfinished and unexpired are kept
whatever their age, and expired ones go with their rows (``tus.prune``)."""

from __future__ import annotations

import asyncio
import logging

from backend.evidence import rendering, services, tus
from backend.settings import Settings
from media_store import MediaStore, remove_stale, run_sync

logger = logging.getLogger(__name__)


async def sweep(settings: Settings, store: MediaStore) -> dict[str, int]:
    """Remove what crashed uploads left; how many files of each kind."""
    age = settings.temp_max_age_s
    return {
        "photo_spool": await run_sync(
            remove_stale, settings.data_dir / "tmp", services.PHOTO_SPOOL_PREFIX, age
        ),
        "render_spool": await run_sync(remove_stale, settings.data_dir / "tmp", rendering.SPOOL_PREFIX, age),
        "store_temp": await store.sweep(age),
        "expired_uploads": await tus.prune(settings),
        "orphan_partials": await tus.remove_orphans(settings, age),
    }


async def sweep_periodically(settings: Settings, store: MediaStore, every_s: float = 3600) -> None:
    while True:
        try:
            removed = await sweep(settings, store)
            if any(removed.values()):
                logger.info("swept leftovers of interrupted uploads: %s", removed)
        except Exception:  # the database or the disk may be briefly away: next round
            logger.exception("sweeping leftovers of interrupted uploads failed")
        await asyncio.sleep(every_s)
