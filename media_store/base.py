"""The store contract shared by both backends: addressing, errors, results, the worker-thread limiter."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, TypeVar, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit

import anyio
import anyio.to_thread

T = TypeVar("T")

KEY_PREFIX = "sha256/"
READ_CHUNK = 256 * 1024
"""Chunk size of ``open_range``."""
MAX_PRESIGN_SECONDS = 3600
"""Presigned URLs live minutes, never days (the SDK's default is seven days)."""
WORKER_THREADS = 4

_HEX = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{64})")

# One limiter for every blocking call of this package (SDK requests, file I/O, Pillow), so media work
# can never occupy more than WORKER_THREADS threads whatever the number of concurrent uploads.
LIMITER = anyio.CapacityLimiter(WORKER_THREADS)


async def run_sync(func: Callable[..., T], *args: object) -> T:
    """Run a blocking call in a worker thread, bounded by the package's limiter. Use it for
    ``media_store.images`` too."""
    return await anyio.to_thread.run_sync(func, *args, limiter=LIMITER)


def open_binary(path: str | os.PathLike[str], mode: str = "rb") -> BinaryIO:
    """``open`` in a binary mode, typed as such (run it with ``run_sync``)."""
    if "b" not in mode:
        raise ValueError("binary modes only")
    return cast(BinaryIO, open(path, mode))


async def file_chunks(path: str | os.PathLike[str], chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """A local file's bytes, read in a worker thread a chunk at a time."""
    fh = await run_sync(open_binary, path)
    try:
        while chunk := await run_sync(fh.read, chunk_size):
            yield chunk
    finally:
        await run_sync(fh.close)


def remove_stale(
    directory: str | os.PathLike[str],
    prefix: str,
    older_than_s: float,
    *,
    suffix: str = "",
    keep: frozenset[str] | set[str] = frozenset(),
) -> int:
    """Delete files named ``prefix*suffix`` in ``directory`` (but those in ``keep``) not modified for
    ``older_than_s`` seconds: the temporary files of uploads whose process died (SIGKILL, power
    loss). A live upload writes to its file as bytes arrive, so its file stays younger than any
    sensible age."""
    cutoff = time.time() - older_than_s
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)) or name in keep:
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        with contextlib.suppress(FileNotFoundError):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
    return removed


# -- errors -----------------------------------------------------------------------------------------


class MediaStoreError(Exception):
    """Base class of this package's errors."""


class MediaStoreUnavailable(MediaStoreError):
    """The backing store cannot be reached or is misconfigured (the API answers 503)."""


class ObjectNotFound(MediaStoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no stored object {key}")
        self.key = key


class TooLarge(MediaStoreError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"body exceeds {max_bytes} bytes")
        self.max_bytes = max_bytes


class ChecksumMismatch(MediaStoreError):
    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"body SHA-256 is {actual}, expected {expected}")
        self.expected = expected
        self.actual = actual


class InvalidRange(MediaStoreError, ValueError):
    """The requested byte range lies outside the object (HTTP 416)."""


class ObjectLocked(MediaStoreError):
    """The store refused to remove an object: its retention (object lock) or legal hold is in force."""

    def __init__(self, key: str) -> None:
        super().__init__(f"object {key} is locked by the store")
        self.key = key


# -- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    created: bool
    """False when an object with these bytes already existed (nothing was written)."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    size: int
    content_type: str


@dataclass(frozen=True, slots=True)
class LockConfig:
    """A bucket's default object lock: mode (COMPLIANCE | GOVERNANCE) and period in days."""

    mode: str
    days: int


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a stat reveals of a stored object without reading it; ``token`` changes whenever its
    bytes could have (local file: size, mtime, ctime, inode; S3: ETag, size, last-modified)."""

    size: int
    token: str


# -- addressing -------------------------------------------------------------------------------------


def key_for(sha256_hex: str) -> str:
    digest = normalize_sha256(sha256_hex)
    return f"{KEY_PREFIX}{digest[:2]}/{digest}"


def sha256_of_key(key: str) -> str:
    """The digest a key names; ValueError for anything that is not a key of this store."""
    match = _KEY.fullmatch(key)
    if match is None or match.group(2)[:2] != match.group(1):
        raise ValueError(f"not a media key: {key!r}")
    return match.group(2)


def normalize_sha256(value: str) -> str:
    digest = value.strip().lower()
    if not _HEX.fullmatch(digest):
        raise ValueError("a SHA-256 is 64 hexadecimal digits")
    return digest


def check_content_type(content_type: str) -> str:
    if not content_type or len(content_type) > 200 or not content_type.isprintable():
        raise ValueError(f"invalid content type {content_type!r}")
    return content_type


def content_disposition(filename: str | None, *, inline: bool = False) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…`` (RFC 6266), safe for any file name."""
    kind = "inline" if inline else "attachment"
    if not filename:
        return kind
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def resolve_range(start: int, end: int | None, size: int) -> tuple[int, int]:
    """Inclusive ``(first, last)`` of a byte range, clamped like HTTP Range; ``(0, -1)`` for the
    whole of an empty object."""
    if start < 0 or (end is not None and end < start):
        raise InvalidRange(f"bad range {start}-{'' if end is None else end}")
    if size == 0 and start == 0 and end is None:
        return 0, -1
    if start >= size:
        raise InvalidRange(f"range starts at {start}, object has {size} bytes")
    last = size - 1 if end is None else min(end, size - 1)
    return start, last


class Meter:
    """Counts and hashes a body as it arrives; enforces the size limit and the expected digest."""

    __slots__ = ("_hash", "expected", "max_bytes", "size")

    def __init__(self, max_bytes: int, expected: str | None) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.max_bytes = max_bytes
        self.expected = expected
        self.size = 0
        self._hash = hashlib.sha256()

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(self.max_bytes)
        self._hash.update(chunk)

    def verify(self) -> str:
        digest = self._hash.hexdigest()
        if self.expected is not None and digest != self.expected:
            raise ChecksumMismatch(self.expected, digest)
        return digest


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def drain(chunks: AsyncIterable[bytes], meter: Meter) -> str:
    """Consume a body without storing it (its object already exists) and return its verified digest."""
    async for chunk in chunks:
        meter.update(chunk)
    return meter.verify()


class KeyLocks:
    """One writer per key in this process: a second upload of the same bytes waits for the first,
    then finds the object and writes nothing."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (anyio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


# -- the contract -----------------------------------------------------------------------------------


class MediaStore(Protocol):
    """Content-addressed, write-once evidence storage. The only removal is ``dispose``, for an
    approved retention disposal (backend/retention), and the store itself may refuse it."""

    description: str
    supports_lock: bool  # whether the store can hold objects under a lock of its own (S3 object lock)

    async def ping(self) -> None:
        """Raise MediaStoreUnavailable when the store cannot take writes."""

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str,
        max_bytes: int,
        expected_sha256: str | None = None,
    ) -> StoredObject:
        """Store a body while hashing it. Raises TooLarge as soon as more than ``max_bytes`` arrived,
        ChecksumMismatch when ``expected_sha256`` differs, or whatever the chunk iterator raised; in
        every failure nothing is left behind."""
        ...

    async def put_bytes(self, data: bytes, *, content_type: str) -> StoredObject: ...

    async def stat(self, key: str) -> ObjectInfo: ...

    async def exists(self, key: str) -> bool: ...

    async def fingerprint(self, key: str) -> Fingerprint:
        """Raises ObjectNotFound, or MediaStoreUnavailable when the store cannot answer."""
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (inclusive, like HTTP Range) in chunks of READ_CHUNK. Close it
        (``contextlib.aclosing``) when not reading to the end."""
        ...

    async def presign_get(
        self,
        key: str,
        expires_s: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
        inline: bool = False,
    ) -> str | None:
        """A short-lived direct download URL, or None when the API must stream the object itself."""
        ...

    def iter_keys(self, prefix: str = KEY_PREFIX) -> AsyncIterator[str]: ...

    async def rehash(self, key: str) -> str:
        """SHA-256 of the stored bytes, read back from the store."""
        ...

    async def sweep(self, older_than_s: float) -> int:
        """Delete this store's local temporary files left by a process that died mid-upload (not
        touched for ``older_than_s`` seconds); how many. Stored objects are never touched."""
        ...

    async def lock_config(self) -> LockConfig | None:
        """The bucket's default object lock, or None when the store has none (a local directory,
        or a bucket created without object lock). Raises MediaStoreUnavailable."""
        ...

    async def retain(self, key: str, until: datetime, mode: str) -> datetime:
        """Keep the object at least ``until`` (per-object retention; never shortened: a later
        retention in force stays). The retention now in force; a store without locks returns
        ``until`` unchanged."""
        ...

    async def dispose(self, key: str) -> None:
        """Remove every stored version of the object. Raises ObjectLocked when the store refuses
        (retention or legal hold in force); a key already gone is no error."""
        ...


def open_store(url: str, *, spool_dir: str | None = None, public_url: str | None = None) -> MediaStore:
    """``file:///path`` or ``s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false[&region=R]``.
    ``spool_dir`` is where the S3 store keeps bodies whose SHA-256 is not known in advance;
    ``public_url`` the S3 store's address as outside recipients of presigned links reach it."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        from media_store.local import LocalStore

        return LocalStore(unquote(parts.path))
    if parts.scheme == "s3":
        from media_store.s3 import S3Store

        query = parse_qs(parts.query)
        bucket = parts.path.strip("/")
        if not bucket or not parts.hostname:
            raise ValueError("s3 media URL needs a host and a bucket: s3://KEY:SECRET@HOST:PORT/BUCKET")
        return S3Store(
            endpoint=f"{parts.hostname}:{parts.port or 9000}",
            access_key=unquote(parts.username or ""),
            secret_key=unquote(parts.password or ""),
            bucket=bucket,
            secure=query.get("secure", ["true"])[0].lower() not in ("false", "0", "no"),
            region=query.get("region", [None])[0],
            spool_dir=spool_dir,
            public_url=public_url or None,
        )
    raise ValueError(f"unsupported media URL scheme {parts.scheme!r}: use file:// or s3://")
