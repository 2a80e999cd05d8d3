"""Server-side renditions of videos and PDFs, made after the upload rather than in it.

A 1 GB video must not hold its POST open while it is decoded, so the upload records the evidence as
``pending`` and nudges this job. The job reads the stored original (checked against its SHA-256)
into a temporary file, decodes it in a child process (``media_store.media``: PyAV for videos,
pypdfium2 for PDFs) that is killed at ``render_timeout_s``, stores the poster frame or first-page
preview and a thumbnail as objects of their own, and records them with the file's facts (duration,
codec, size, pages) in the row and in an ``evidence.rendered`` audit entry, which ``fieldwatch
verify`` reads like the upload's own renditions. A file that cannot be rendered is kept as it is:
its row says ``failed`` and why (``evidence.rendition_failed``). The pending state lives in the
database, so what a restart interrupted is rendered after it; one file at a time per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.audit import services as audit
from backend.db import atomic, json_value
from backend.evidence.tables import Evidence
from backend.settings import Settings
from media_store import MediaStore, MediaStoreUnavailable, ObjectNotFound, StoredObject, run_sync

logger = logging.getLogger(__name__)

PENDING, DONE, FAILED, NONE = "pending", "done", "failed", "none"
RENDERED_LATER = {
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/webm": "video",
    "application/pdf": "pdf",
}
STILL = {"video": "poster", "pdf": "preview"}  # the rendition name of each kind's large still
SPOOL_PREFIX = "render-"  # under data_dir/tmp; sweep.py removes what a crash left
RENDERED = "evidence.rendered"
FAILED_ACTION = "evidence.rendition_failed"
_DECODER_REFUSED = 2  # media_store.media's exit status for a file it cannot render

# Per event loop (a process has one; a test run may make several): the nudge an upload of a pending
# file gives the job, and the lock that keeps decoding to one file at a time (two cores).
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[asyncio.Event, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _loop_state() -> tuple[asyncio.Event, asyncio.Lock]:
    loop = asyncio.get_running_loop()
    state = _per_loop.get(loop)
    if state is None:
        state = _per_loop[loop] = (asyncio.Event(), asyncio.Lock())
    return state


class OriginalChanged(ValueError):
    """The stored bytes no longer hash to the record's SHA-256."""


class Unrenderable(ValueError):
    """The decoder could not make a rendition of the file (the reason is for people to read)."""


@dataclass
class Rendered:
    done: int = 0
    failed: int = 0
    deferred: int = 0  # the store was away: still pending, tried again next round


def state_at_upload(content_type: str, renditions: dict[str, Any]) -> str:
    """``pending`` for what this job renders; for a photo, whether its upload made a thumbnail."""
    if content_type in RENDERED_LATER:
        return PENDING
    if content_type.startswith("image/"):
        return DONE if "thumbnail" in renditions else FAILED
    return NONE


def nudge() -> None:
    """An upload left work for the job: start it now rather than at the next interval."""
    _loop_state()[0].set()


async def pending() -> list[uuid.UUID]:
    rows = (
        await Evidence.select(Evidence.id)
        .where(Evidence.rendition_state == PENDING)
        .order_by(Evidence.received_at)
    )
    return [r["id"] for r in rows]


async def render_pending(store: MediaStore, settings: Settings) -> Rendered:
    """Render every pending video and PDF, one after the other; what each came to."""
    result = Rendered()
    async with _loop_state()[1]:
        for evidence_id in await pending():
            try:
                outcome = await render_one(evidence_id, store, settings)
            except Exception:  # one file (a database hiccup) must not stop the others
                logger.exception("rendering evidence %s failed", evidence_id)
                outcome = "deferred"
            if outcome == DONE:
                result.done += 1
            elif outcome == FAILED:
                result.failed += 1
            elif outcome == "deferred":
                result.deferred += 1
    return result


async def render_periodically(store: MediaStore, settings: Settings) -> None:
    """At start-up, after each nudge, and every ``render_interval_s`` (which retries a store that
    was away): what is pending gets rendered."""
    wake = _loop_state()[0]
    while True:
        wake.clear()  # before the pass: a nudge during it starts another
        try:
            result = await render_pending(store, settings)
            if result.done or result.failed:
                logger.info("renditions: %d made, %d failed", result.done, result.failed)
        except Exception:  # the database may be briefly away: next round
            logger.exception("the rendition job failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), settings.render_interval_s)


async def render_one(evidence_id: uuid.UUID, store: MediaStore, settings: Settings) -> str:
    """Render one pending file: ``done``, ``failed``, ``deferred`` or ``skipped`` (not pending)."""
    row = (
        await Evidence.select()
        .where((Evidence.id == evidence_id) & (Evidence.rendition_state == PENDING))
        .first()
    )
    if row is None or row["content_type"] not in RENDERED_LATER:
        return "skipped"
    limit = settings.render_max_mb * 2**20
    if row["size"] > limit:
        mib = row["size"] // 2**20
        return await _fail(
            row, f"the file ({mib} MiB) is larger than the {settings.render_max_mb} MiB the server renders"
        )
    try:
        source = await copy_original(row, store, settings.data_dir / "tmp", SPOOL_PREFIX)
    except MediaStoreUnavailable as exc:
        logger.warning("rendition of %s deferred, the store is away: %s", evidence_id, exc)
        return "deferred"
    except ObjectNotFound:
        return await _fail(row, "the stored original is missing")
    except OriginalChanged:
        return await _fail(row, "the stored original no longer matches its SHA-256")
    kind = RENDERED_LATER[row["content_type"]]
    try:
        facts, still, thumb = await _decode(kind, source, settings.render_timeout_s)
    except Unrenderable as exc:
        return await _fail(row, str(exc))
    finally:
        await run_sync(source.unlink, True)
    made = {
        STILL[kind]: _record(await store.put_bytes(still, content_type="image/jpeg")),
        "thumbnail": _record(await store.put_bytes(thumb, content_type="image/jpeg")),
    }
    return await _save(row["id"], made, facts)


def _record(stored: StoredObject) -> dict[str, Any]:
    return {"key": stored.key, "sha256": stored.sha256, "size": stored.size, "source": "server"}


async def _save(evidence_id: uuid.UUID, made: dict[str, dict[str, Any]], facts: dict[str, Any]) -> str:
    async with atomic():
        current = (
            await Evidence.select(Evidence.renditions, Evidence.rendition_state)
            .where(Evidence.id == evidence_id)
            .first()
        )
        if current is None or current["rendition_state"] != PENDING:
            return "skipped"  # another process got there first
        existing = json_value(current["renditions"], {})
        # A frame the phone sent is already vouched for as the thumbnail: it stays.
        added = {name: record for name, record in made.items() if name not in existing}
        await (
            Evidence.update(
                {
                    Evidence.renditions: {**existing, **added},
                    Evidence.media: facts,
                    Evidence.rendition_state: DONE,
                    Evidence.rendition_error: None,
                }
            )
            .where(Evidence.id == evidence_id)
            .run()
        )
        await audit.record(None, RENDERED, "evidence", evidence_id, {"renditions": added, "media": facts})
    return DONE


async def _fail(row: dict[str, Any], reason: str) -> str:
    logger.warning("no rendition for evidence %s: %s", row["id"], reason)
    async with atomic():
        await (
            Evidence.update({Evidence.rendition_state: FAILED, Evidence.rendition_error: reason})
            .where((Evidence.id == row["id"]) & (Evidence.rendition_state == PENDING))
            .run()
        )
        await audit.record(None, FAILED_ACTION, "evidence", row["id"], {"reason": reason})
    return FAILED


async def _decode(kind: str, source: Path, timeout_s: float) -> tuple[dict[str, Any], bytes, bytes]:
    """Run the decoder in a child process: its facts, the large still and the thumbnail."""
    still, thumb = source.with_name(source.name + ".still.jpg"), source.with_name(source.name + ".thumb.jpg")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "media_store.media",
        kind,
        str(source),
        str(still),
        str(thumb),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
        except TimeoutError:
            raise Unrenderable(f"decoding took longer than {timeout_s:.0f} s and was stopped") from None
        finally:
            if proc.returncode is None:  # timed out, or the app is stopping
                proc.kill()
                await proc.wait()
        if proc.returncode == _DECODER_REFUSED:
            raise Unrenderable(_reason(kind, err))
        if proc.returncode != 0:
            logger.error("decoder exit %s: %s", proc.returncode, err.decode("utf-8", "replace")[-2000:])
            raise Unrenderable(f"the decoder stopped unexpectedly (exit status {proc.returncode})")
        return json.loads(out), await run_sync(still.read_bytes), await run_sync(thumb.read_bytes)
    finally:
        for path in (still, thumb):
            await run_sync(path.unlink, True)


def _reason(kind: str, err: bytes) -> str:
    detail = err.decode("utf-8", "replace").strip().splitlines()
    return detail[-1] if detail else f"the {kind} cannot be decoded"


async def copy_original(row: dict[str, Any], store: MediaStore, directory: Path, prefix: str) -> Path:
    """The stored original in a local file, refused unless its bytes still hash to the record's."""

    def _open() -> tuple[int, str]:
        directory.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=directory, prefix=prefix)

    fd, name = await run_sync(_open)
    path = Path(name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in store.open_range(row["object_key"]):
                digest.update(chunk)
                await run_sync(fh.write, chunk)
        if digest.hexdigest() != row["sha256"]:
            raise OriginalChanged(f"stored bytes of evidence {row['id']} do not match its SHA-256")
    except BaseException:
        await run_sync(path.unlink, True)
        raise
    return path
