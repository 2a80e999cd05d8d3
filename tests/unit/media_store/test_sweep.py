"""Sweeping temporary files of crashed uploads: only old files with the store's own prefix go."""

from __future__ import annotations

import os
import time
from pathlib import Path

from media_store import open_store


async def test_only_stale_temp_files_are_removed(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path / 'media'}")
    tmp = tmp_path / "media" / ".tmp"
    tmp.mkdir(parents=True)
    stale, live, other = tmp / "put-crashed", tmp / "put-in-progress", tmp / "unrelated"
    for path in (stale, live, other):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    for path in (stale, other):
        os.utime(path, (hour_ago, hour_ago))

    assert await store.sweep(600) == 1
    assert not stale.exists() and live.exists() and other.exists()


async def test_s3_spool_files_are_swept_from_the_spool_dir(tmp_path: Path) -> None:
    store = open_store("s3://k:s@127.0.0.1:1/bucket?secure=false", spool_dir=str(tmp_path))
    stale, live = tmp_path / "fieldwatch-spool-a", tmp_path / "fieldwatch-spool-b"
    for path in (stale, live):
        path.write_bytes(b"x")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))

    assert await store.sweep(600) == 1  # local files only: no request reaches the (absent) server
    assert not stale.exists() and live.exists()
