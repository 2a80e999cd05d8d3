"""The same store tests on the local filesystem and on a real S3 server (SeaweedFS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from minio.objectlockconfig import COMPLIANCE, DAYS, ObjectLockConfig

from media_store import open_store
from media_store.local import LocalStore
from media_store.s3 import S3Store
from tests.s3 import SeaweedFS, s3_server

__all__ = ["s3_server"]


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> LocalStore | S3Store:
    """A fresh, empty store. The S3 one is a new bucket created like production's: object-locked with
    a default COMPLIANCE retention, so whatever lands there can no longer be deleted."""
    if request.param == "local":
        return LocalStore(tmp_path / "media")
    server: SeaweedFS = request.getfixturevalue("s3_server")
    store = open_store(server.fresh_bucket_url(), spool_dir=str(tmp_path / "spool"))
    assert isinstance(store, S3Store)
    await store.ensure_bucket()
    store.client.set_object_lock_config(store.bucket, ObjectLockConfig(COMPLIANCE, 1, DAYS))
    return store
