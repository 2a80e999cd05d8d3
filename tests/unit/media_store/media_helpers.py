"""Helpers shared by the media store tests."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterable

from media_store.local import LocalStore
from media_store.s3 import S3Store


async def snapshot(store: LocalStore | S3Store) -> dict[str, list[str]]:
    """Everything a store holds: files (temp files included) or object versions, incomplete multipart
    uploads and spool files."""
    if isinstance(store, LocalStore):
        files = sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
        return {"files": files}
    versions = sorted(
        f"{entry.object_name}@{entry.version_id}"
        for entry in store.client.list_objects(store.bucket, recursive=True, include_version=True)
    )
    spool = (
        sorted(p.name for p in store.spool_dir.iterdir())
        if store.spool_dir and store.spool_dir.exists()
        else []
    )
    return {"versions": versions, "uploads": await store.incomplete_uploads(""), "spool": spool}


async def chunked(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def repeated(block: bytes, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield block


def sha256(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def random_bytes(size: int, head: bytes = b"") -> bytes:
    return head + os.urandom(size - len(head))
