from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import anyio

from media_store.base import (
    KEY_PREFIX,
    READ_CHUNK,
    Fingerprint,
    LockConfig,
    MediaStoreUnavailable,
    Meter,
    ObjectInfo,
    ObjectNotFound,
    StoredObject,
    check_content_type,
    drain,
    key_for,
    normalize_sha256,
    one_chunk,
    open_binary,
    remove_stale,
    resolve_range,
    run_sync,
    sha256_of_key,
)
from media_store.sniff import sniff

WRITE_BATCH = 1024 * 1024
"""Incoming chunks are gathered up to this size before one write in a worker thread."""
HASH_CHUNK = 4 * 1024 * 1024


class LocalStore:
    """Objects as read-only files under one directory (the embedded default).

    ``ROOT/sha256/ab/abcdef…`` holds the bytes; bodies are written to ``ROOT/.tmp/`` (the same
    filesystem), fsynced, and hard-linked into place, which never replaces an existing file."""

    supports_lock = False

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.description = f"file://{self.root}"
        self._tmp = self.root / ".tmp"

    async def ping(self) -> None:
        def _check() -> None:
            self._tmp.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ping-"):
                pass

        try:
            await run_sync(_check)
        except OSError as exc:
            raise MediaStoreUnavailable(f"media directory not writable: {exc.strerror}") from None

    async def sweep(self, older_than_s: float) -> int:
        return await run_sync(remove_stale, self._tmp, "put-", older_than_s)

    # A directory has no object lock: retention is the app's alone (docs/evidence.md, retention).
    async def lock_config(self) -> LockConfig | None:
        return None

    async def retain(self, key: str, until: datetime, mode: str) -> datetime:
        return until

    async def dispose(self, key: str) -> None:
        path = self._path(key)

        def _remove() -> None:
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)

        await run_sync(_remove)

    def _path(self, key: str) -> Path:
        digest = sha256_of_key(key)
        return self.root / "sha256" / digest[:2] / digest

    # -- writing ------------------------------------------------------------------------------------

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str,
        max_bytes: int,
        expected_sha256: str | None = None,
    ) -> StoredObject:
        check_content_type(content_type)
        expected = normalize_sha256(expected_sha256) if expected_sha256 is not None else None
        meter = Meter(max_bytes, expected)
        if expected is not None and await self.exists(key_for(expected)):
            digest = await drain(chunks, meter)
            return StoredObject(key_for(digest), digest, meter.size, created=False)

        with anyio.CancelScope(shield=True):  # a cancellation must not lose the temp file's name
            handle, tmp = await run_sync(self._open_temp)
        try:
            batch: list[bytes] = []
            batched = 0
            async for chunk in chunks:
                meter.update(chunk)
                batch.append(chunk)
                batched += len(chunk)
                if batched >= WRITE_BATCH:
                    await run_sync(handle.writelines, batch)
                    batch, batched = [], 0
            if batch:
                await run_sync(handle.writelines, batch)
            digest = meter.verify()
            created = await run_sync(self._commit, handle, tmp, self._path(key_for(digest)))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_sync(_discard, handle, tmp)
            raise
        return StoredObject(key_for(digest), digest, meter.size, created)

    async def put_bytes(self, data: bytes, *, content_type: str) -> StoredObject:
        return await self.put_stream(one_chunk(data), content_type=content_type, max_bytes=len(data))

    def _open_temp(self) -> tuple[BinaryIO, Path]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        return os.fdopen(fd, "wb"), Path(name)

    def _commit(self, handle: BinaryIO, tmp: Path, final: Path) -> bool:
        """Make the temp file durable and read-only, then link it into place unless the bytes are
        already there. Returns whether this call created the object."""
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.chmod(tmp, 0o444)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(tmp, final)
            created = True
        except FileExistsError:
            created = False
        except OSError:
            # A filesystem without hard links: rename, which is atomic but would replace a file
            # that appeared since the check; with content addressing that file holds the same bytes.
            if final.exists():
                created = False
            else:
                os.replace(tmp, final)
                created = True
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if created:
            _fsync_dir(final.parent)
        return created

    # -- reading ------------------------------------------------------------------------------------

    async def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)

        def _stat() -> ObjectInfo:
            try:
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    head = f.read(64)
            except FileNotFoundError:
                raise ObjectNotFound(key) from None
            return ObjectInfo(size=size, content_type=sniff(head) or "application/octet-stream")

        return await run_sync(_stat)

    async def exists(self, key: str) -> bool:
        return await run_sync(self._path(key).is_file)

    async def fingerprint(self, key: str) -> Fingerprint:
        path = self._path(key)

        def _stat() -> Fingerprint:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                raise ObjectNotFound(key) from None
            except OSError as exc:
                raise MediaStoreUnavailable(f"media directory unreadable: {exc.strerror}") from None
            # ctime cannot be set from user space: rewriting the file and restoring its mtime shows.
            return Fingerprint(st.st_size, f"file:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}")

        return await run_sync(_stat)

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)

        def _open() -> tuple[BinaryIO, int]:
            try:
                f = open(path, "rb")  # noqa: SIM115 - closed by the generator
            except FileNotFoundError:
                raise ObjectNotFound(key) from None
            return f, os.fstat(f.fileno()).st_size

        handle, size = await run_sync(_open)
        try:
            first, last = resolve_range(start, end, size)
            remaining = last - first + 1
            if remaining > 0:
                await run_sync(handle.seek, first)
            while remaining > 0:
                data = await run_sync(handle.read, min(READ_CHUNK, remaining))
                if not data:
                    break
                remaining -= len(data)
                yield data
        finally:
            handle.close()

    async def presign_get(
        self,
        key: str,
        expires_s: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
        inline: bool = False,
    ) -> str | None:
        return None

    async def iter_keys(self, prefix: str = KEY_PREFIX) -> AsyncIterator[str]:
        base = self.root / "sha256"

        def _list(directory: Path) -> list[str]:
            try:
                return sorted(entry.name for entry in os.scandir(directory))
            except FileNotFoundError:
                return []

        for fan in await run_sync(_list, base):
            if len(fan) != 2:
                continue
            for name in await run_sync(_list, base / fan):
                key = f"{KEY_PREFIX}{fan}/{name}"
                try:
                    sha256_of_key(key)
                except ValueError:
                    continue
                if key.startswith(prefix):
                    yield key

    async def rehash(self, key: str) -> str:
        path = self._path(key)
        try:
            handle = await run_sync(open_binary, path)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        digest = hashlib.sha256()

        def _step() -> bool:
            data = handle.read(HASH_CHUNK)
            digest.update(data)
            return bool(data)

        try:
            while await run_sync(_step):
                pass
        finally:
            handle.close()
        return digest.hexdigest()


def _discard(handle: BinaryIO, tmp: Path) -> None:
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
