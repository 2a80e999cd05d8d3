"""MinIO or any S3 server through the minio SDK.

The evidence bucket is object-locked (COMPLIANCE retention) in production: every object version
written there is permanent. So nothing is ever written to a temporary key and "moved" later, and a
body is never completed before its SHA-256 is verified:

* SHA-256 known in advance: the body streams into a multipart upload at its final key; the upload is
  completed only when the last byte hashed to the expected value, and aborted on a mismatch, an
  oversize body, a failing chunk iterator, an SDK error or a cancellation. Bodies smaller than one
  part are held in memory (at most one part) and written with a single PUT after verification.
* SHA-256 unknown: the body is spooled to a local temporary file while it is hashed, then uploaded
  from that file to its final key the same way.

An incomplete multipart upload is not an object version (retention does not apply to it), so an
abort removes it. A bucket lifecycle rule aborts any that a crashed process leaves behind.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import itertools
import logging
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.abc
import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.datatypes import Part
from minio.error import MinioException, S3Error
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, LifecycleConfig, Rule
from minio.objectlockconfig import DAYS, YEARS, ObjectLockConfig
from minio.retention import COMPLIANCE, Retention
from urllib3.exceptions import HTTPError

from media_store.base import (
    KEY_PREFIX,
    MAX_PRESIGN_SECONDS,
    READ_CHUNK,
    Fingerprint,
    InvalidRange,
    KeyLocks,
    LockConfig,
    MediaStoreUnavailable,
    Meter,
    ObjectInfo,
    ObjectLocked,
    ObjectNotFound,
    StoredObject,
    check_content_type,
    content_disposition,
    drain,
    key_for,
    normalize_sha256,
    one_chunk,
    remove_stale,
    run_sync,
    sha256_of_key,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PART_SIZE = 8 * 1024 * 1024
PARTS_IN_FLIGHT = 2
SPOOL_WRITE_BATCH = 1024 * 1024
SPOOL_PREFIX = "fieldwatch-spool-"
HASH_CHUNK = 1024 * 1024
LIST_PAGE = 1000
LIFECYCLE_RULE_ID = "fieldwatch-abort-incomplete-multipart"
_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound", "NoSuchVersion"}
_UNSUPPORTED = {"NotImplemented", "MalformedXML"}
_NO_LOCK = {"ObjectLockConfigurationNotFoundError", "InvalidRequest", "NoSuchObjectLockConfiguration"}
_LOCKED = {"AccessDenied", "ObjectLocked", "InvalidRequest"}


def _translate(exc: BaseException, what: str, key: str | None = None) -> Exception:
    if isinstance(exc, S3Error):
        if exc.code in _MISSING and key is not None:
            return ObjectNotFound(key)
        if exc.code == "InvalidRange":
            return InvalidRange(f"range not satisfiable for {key}")
        return MediaStoreUnavailable(f"object store refused {what}: {exc.code}")
    return MediaStoreUnavailable(f"object store unreachable during {what}: {type(exc).__name__}")


_SDK_ERRORS = (MinioException, HTTPError, OSError)


class _MultipartUpload:
    """One S3 multipart upload driven part by part, through the SDK's lower-level calls.

    minio's public ``put_object`` completes an upload as soon as its input stream ends, so it cannot
    hold back completion until the SHA-256 of the whole body has been checked; with parallel parts it
    also reports a failed part only after reading the whole input, and on an error it leaves its
    part-upload threads waiting on their queue. These four calls are the ones ``put_object`` itself
    uses; keeping them in this class confines the dependency on the SDK's private API to one place."""

    def __init__(self, client: Minio, bucket: str, key: str, upload_id: str) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id
        self.etags: dict[int, str] = {}

    @classmethod
    def start(cls, client: Minio, bucket: str, key: str, content_type: str) -> _MultipartUpload:
        upload_id = client._create_multipart_upload(bucket, key, {"Content-Type": content_type})
        return cls(client, bucket, key, upload_id)

    def upload_part(self, number: int, data: memoryview) -> None:
        self.etags[number] = self.client._upload_part(
            self.bucket,
            self.key,
            data,  # type: ignore[arg-type]  # typed bytes, sends any buffer: no copy of the part
            None,
            self.upload_id,
            number,
        )

    def complete(self) -> None:
        parts = [Part(number, self.etags[number]) for number in sorted(self.etags)]
        self.client._complete_multipart_upload(self.bucket, self.key, self.upload_id, parts)

    def abort(self) -> None:
        try:
            self.client._abort_multipart_upload(self.bucket, self.key, self.upload_id)
        except _SDK_ERRORS as exc:
            # The bucket's lifecycle rule (or MinIO's stale-upload expiry) removes it later.
            log.warning("could not abort multipart upload of %s: %s", self.key, exc)

    @staticmethod
    def pending(client: Minio, bucket: str, prefix: str) -> list[str]:
        """Keys of the incomplete multipart uploads under ``prefix`` (first 1000)."""
        result = client._list_multipart_uploads(bucket, prefix=prefix, max_uploads=1000)
        return [upload.object_name for upload in result.uploads]


class S3Store:
    """MinIO or any S3 server, through the minio SDK (blocking calls run in worker threads)."""

    supports_lock = True

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool,
        *,
        region: str | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        public_url: str | None = None,
    ) -> None:
        # The SDK's own pool waits five minutes to connect and retries five times: a store that is
        # down would hold readiness checks and uploads far too long.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=120),
            maxsize=16,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )
        # Presigned links are signed for the host an outside recipient reaches (SigV4 signs the
        # host); its region is given so that signing never asks the store.
        self._signer = self.client
        if public_url:
            public = urlsplit(public_url)
            if public.scheme not in ("http", "https") or not public.netloc or public.path.strip("/"):
                raise ValueError("the object store's public URL is http(s)://host[:port], without a path")
            self._signer = Minio(
                public.netloc,
                access_key=access_key,
                secret_key=secret_key,
                secure=public.scheme == "https",
                region=region or "us-east-1",
                http_client=http,
            )
        self.bucket = bucket
        self.description = f"s3://{endpoint}/{bucket}"
        self.spool_dir = Path(spool_dir) if spool_dir is not None else None
        self._writers = KeyLocks()

    async def _call(self, what: str, func: Callable[..., T], *args: Any, key: str | None = None) -> T:
        """Run a blocking SDK call in a worker thread and turn its failures into this package's errors."""
        try:
            return await run_sync(func, *args)
        except _SDK_ERRORS as exc:
            raise _translate(exc, what, key) from None

    async def ping(self) -> None:
        try:
            exists = await run_sync(self.client.bucket_exists, self.bucket)
        except _SDK_ERRORS as exc:
            raise MediaStoreUnavailable(f"object store unreachable: {type(exc).__name__}") from None
        if not exists:
            raise MediaStoreUnavailable(f"bucket {self.bucket!r} does not exist")

    async def ensure_bucket(self, *, object_lock: bool = True, retention_days: int = 1) -> None:
        """For development and tests: create the bucket when it is missing (object-locked with a
        default COMPLIANCE retention, like production's, where docker-compose sets years) and add a
        lifecycle rule that aborts multipart uploads left incomplete for a day (kept out when the
        server does not support it; MinIO purges them on its own schedule)."""

        def _ensure() -> None:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket, object_lock=object_lock)
                if object_lock:
                    self.client.set_object_lock_config(
                        self.bucket, ObjectLockConfig(COMPLIANCE, retention_days, DAYS)
                    )
            try:
                config = self.client.get_bucket_lifecycle(self.bucket)
                rules = list(config.rules) if config else []
                if any(rule.rule_id == LIFECYCLE_RULE_ID for rule in rules):
                    return
                rules.append(
                    Rule(
                        ENABLED,
                        rule_filter=Filter(prefix=""),
                        rule_id=LIFECYCLE_RULE_ID,
                        abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(1),
                    )
                )
                self.client.set_bucket_lifecycle(self.bucket, LifecycleConfig(rules))
            except S3Error as exc:
                if exc.code not in _UNSUPPORTED:
                    raise

        await self._call("bucket set-up", _ensure)

    async def incomplete_uploads(self, prefix: str = KEY_PREFIX) -> list[str]:
        """Keys with an incomplete multipart upload (normally none once an upload has returned)."""
        return await self._call("listing uploads", _MultipartUpload.pending, self.client, self.bucket, prefix)

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
        if expected_sha256 is None:
            return await self._put_spooled(chunks, content_type, max_bytes)
        expected = normalize_sha256(expected_sha256)
        key = key_for(expected)
        meter = Meter(max_bytes, expected)
        async with self._writers.hold(key):
            if await self.exists(key):
                await drain(chunks, meter)
                return StoredObject(key, expected, meter.size, created=False)
            await self._upload(chunks, key, content_type, meter)
        return StoredObject(key, expected, meter.size, created=True)

    async def put_bytes(self, data: bytes, *, content_type: str) -> StoredObject:
        check_content_type(content_type)
        meter = Meter(len(data), None)
        meter.update(data)
        digest = meter.verify()
        key = key_for(digest)
        async with self._writers.hold(key):
            if await self.exists(key):
                return StoredObject(key, digest, len(data), created=False)
            if len(data) <= PART_SIZE:
                await self._call("upload", self._put_single, key, memoryview(data), content_type)
            else:
                await self._upload(one_chunk(data), key, content_type, None)
        return StoredObject(key, digest, len(data), created=True)

    def _put_single(self, key: str, data: memoryview, content_type: str) -> None:
        """One PUT (``data`` is at most one part, so the SDK does not split it)."""
        self.client.put_object(
            self.bucket, key, io.BytesIO(data), len(data), content_type=content_type, part_size=PART_SIZE
        )

    async def _upload(
        self, chunks: AsyncIterable[bytes], key: str, content_type: str, meter: Meter | None
    ) -> None:
        """Write ``chunks`` to ``key``, committing only after ``meter`` (when given) verified the
        whole body. On any failure or cancellation an open multipart upload is aborted."""
        pump = _Pump(self, key, content_type)
        try:
            await pump.run(chunks, meter)
        except BaseException:
            if pump.upload is not None and not pump.completed:
                with anyio.CancelScope(shield=True):
                    await run_sync(pump.upload.abort)
            raise

    async def _put_spooled(
        self, chunks: AsyncIterable[bytes], content_type: str, max_bytes: int
    ) -> StoredObject:
        meter = Meter(max_bytes, None)
        with anyio.CancelScope(shield=True):  # a cancellation must not lose the spool file's name
            handle, path = await self._call("spooling", self._open_spool)
        try:
            batch: list[bytes] = []
            batched = 0
            async for chunk in chunks:
                meter.update(chunk)
                batch.append(chunk)
                batched += len(chunk)
                if batched >= SPOOL_WRITE_BATCH:
                    await self._call("spooling", handle.writelines, batch)
                    batch, batched = [], 0
            if batch:
                await self._call("spooling", handle.writelines, batch)
            digest = meter.verify()
            key = key_for(digest)
            async with self._writers.hold(key):
                if await self.exists(key):
                    return StoredObject(key, digest, meter.size, created=False)
                await self._call("spooling", handle.seek, 0)
                await self._upload(self._spooled_chunks(handle), key, content_type, None)
            return StoredObject(key, digest, meter.size, created=True)
        finally:
            with anyio.CancelScope(shield=True):
                await run_sync(_discard, handle, path)

    async def sweep(self, older_than_s: float) -> int:
        directory = self.spool_dir or Path(tempfile.gettempdir())
        return await run_sync(remove_stale, directory, SPOOL_PREFIX, older_than_s)

    def _open_spool(self) -> tuple[BinaryIO, Path]:
        directory = self.spool_dir or Path(tempfile.gettempdir())
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=SPOOL_PREFIX)
        return os.fdopen(fd, "w+b"), Path(name)

    async def _spooled_chunks(self, handle: BinaryIO) -> AsyncIterator[bytes]:
        while data := await self._call("spooling", handle.read, SPOOL_WRITE_BATCH):
            yield data

    # -- reading ------------------------------------------------------------------------------------

    async def stat(self, key: str) -> ObjectInfo:
        sha256_of_key(key)
        info = await self._call("stat", self.client.stat_object, self.bucket, key, key=key)
        return ObjectInfo(size=info.size or 0, content_type=info.content_type or "application/octet-stream")

    async def fingerprint(self, key: str) -> Fingerprint:
        sha256_of_key(key)
        info = await self._call("stat", self.client.stat_object, self.bucket, key, key=key)
        size = info.size or 0
        modified = info.last_modified.isoformat() if info.last_modified else ""
        return Fingerprint(size, f"s3:{info.etag}:{size}:{modified}:{info.version_id or ''}")

    async def exists(self, key: str) -> bool:
        try:
            await self.stat(key)
        except ObjectNotFound:
            return False
        return True

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise InvalidRange(f"bad range {start}-{'' if end is None else end}")
        async for chunk in self._read(key, start, 0 if end is None else end - start + 1, READ_CHUNK):
            yield chunk

    async def _read(self, key: str, offset: int, length: int, chunk_size: int) -> AsyncGenerator[bytes, None]:
        sha256_of_key(key)
        fetch = functools.partial(self.client.get_object, self.bucket, key, offset=offset, length=length)
        response = await self._call("download", fetch, key=key)
        try:
            while data := await self._call("download", response.read, chunk_size, key=key):
                yield data
        finally:
            response.close()
            response.release_conn()

    async def presign_get(
        self,
        key: str,
        expires_s: int = 300,
        filename: str | None = None,
        content_type: str | None = None,
        inline: bool = False,
    ) -> str | None:
        sha256_of_key(key)
        if not 1 <= expires_s <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"presigned URLs live 1..{MAX_PRESIGN_SECONDS} seconds")
        headers: dict[str, str | list[str] | tuple[str]] = {}
        if filename is not None or inline:
            headers["response-content-disposition"] = content_disposition(filename, inline=inline)
        if content_type is not None:
            headers["response-content-type"] = check_content_type(content_type)
        sign = functools.partial(
            self._signer.presigned_get_object,
            self.bucket,
            key,
            expires=timedelta(seconds=expires_s),
            response_headers=headers or None,
        )
        return await self._call("presign", sign)

    async def iter_keys(self, prefix: str = KEY_PREFIX) -> AsyncIterator[str]:
        listing = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)  # lazy: no I/O yet

        def _next_page() -> list[str]:
            return [entry.object_name for entry in itertools.islice(listing, LIST_PAGE) if not entry.is_dir]

        while True:
            page = await self._call("listing", _next_page)
            for key in page:
                with contextlib.suppress(ValueError):
                    sha256_of_key(key)
                    yield key
            if len(page) < LIST_PAGE:
                return

    # -- retention ----------------------------------------------------------------------------------

    async def lock_config(self) -> LockConfig | None:
        def _get() -> LockConfig | None:
            try:
                config = self.client.get_object_lock_config(self.bucket)
            except S3Error as exc:
                if exc.code in _NO_LOCK:
                    return None
                raise
            if config.mode is None or config.duration is None:
                return None
            days = config.duration * (365 if config.duration_unit == YEARS else 1)
            return LockConfig(str(config.mode), int(days))

        return await self._call("reading the object lock", _get)

    async def retain(self, key: str, until: datetime, mode: str) -> datetime:
        sha256_of_key(key)

        def _retain() -> datetime:
            current = self._retention(key)
            if current is not None and current >= until:
                return current  # never shortened (COMPLIANCE could not be, GOVERNANCE should not be)
            self.client.set_object_retention(self.bucket, key, Retention(mode, until))
            return until

        return await self._call("setting retention", _retain, key=key)

    def _retention(self, key: str) -> datetime | None:
        try:
            found = self.client.get_object_retention(self.bucket, key)
        except S3Error as exc:
            if exc.code in _NO_LOCK or exc.code == "NoSuchObjectLockConfiguration":
                return None
            raise
        return found.retain_until_date if found is not None else None

    async def dispose(self, key: str) -> None:
        sha256_of_key(key)

        def _versions() -> list[str | None]:
            listing = self.client.list_objects(self.bucket, prefix=key, include_version=True)
            return [entry.version_id for entry in listing if entry.object_name == key]

        # Each version by its id: a plain DELETE on a versioned (locked) bucket only adds a delete
        # marker and keeps the bytes, which would hide evidence without removing it.
        for version in await self._call("listing versions", _versions, key=key):
            try:
                await run_sync(
                    functools.partial(self.client.remove_object, self.bucket, key, version_id=version)
                )
            except S3Error as exc:
                if exc.code in _MISSING:
                    continue
                if exc.code in _LOCKED:
                    raise ObjectLocked(key) from None
                raise _translate(exc, "removing", key) from None
            except _SDK_ERRORS as exc:
                raise _translate(exc, "removing", key) from None

    async def rehash(self, key: str) -> str:
        digest = hashlib.sha256()
        async with contextlib.aclosing(self._read(key, 0, 0, HASH_CHUNK)) as chunks:
            async for chunk in chunks:
                digest.update(chunk)
        return digest.hexdigest()


class _Pump:
    """Copies a body into part-sized buffers and uploads full parts while the next one fills."""

    def __init__(self, store: S3Store, key: str, content_type: str) -> None:
        self.store = store
        self.key = key
        self.content_type = content_type
        self.upload: _MultipartUpload | None = None
        self.completed = False

    async def run(self, chunks: AsyncIterable[bytes], meter: Meter | None) -> None:
        store = self.store
        free: list[bytearray] = []
        slots = anyio.Semaphore(PARTS_IN_FLIGHT)
        number = 0

        async def send(part_number: int, part: bytearray, length: int) -> None:
            try:
                assert self.upload is not None
                await store._call("upload", self.upload.upload_part, part_number, memoryview(part)[:length])
            finally:
                free.append(part)
                slots.release()

        async def dispatch(tg: anyio.abc.TaskGroup, part: bytearray, length: int) -> None:
            nonlocal number
            if self.upload is None:
                with anyio.CancelScope(shield=True):  # a cancellation must not lose the upload id
                    self.upload = await store._call(
                        "upload",
                        _MultipartUpload.start,
                        store.client,
                        store.bucket,
                        self.key,
                        self.content_type,
                    )
            await slots.acquire()
            number += 1
            tg.start_soon(send, number, part, length)

        buffer = bytearray(PART_SIZE)
        filled = 0
        try:
            async with anyio.create_task_group() as tg:
                async for chunk in chunks:
                    if meter is not None:
                        meter.update(chunk)
                    view = memoryview(chunk)
                    while view:
                        n = min(len(view), PART_SIZE - filled)
                        buffer[filled : filled + n] = view[:n]
                        filled += n
                        view = view[n:]
                        if filled == PART_SIZE:
                            await dispatch(tg, buffer, filled)
                            buffer = free.pop() if free else bytearray(PART_SIZE)
                            filled = 0
                if meter is not None:
                    meter.verify()
                if self.upload is not None and filled:
                    await dispatch(tg, buffer, filled)
        except BaseExceptionGroup as group:
            raise _primary(group) from None
        if self.upload is None:
            await store._call(
                "upload", store._put_single, self.key, memoryview(buffer)[:filled], self.content_type
            )
        else:
            await store._call("upload", self.upload.complete)
            self.completed = True


def _primary(group: BaseExceptionGroup) -> BaseException:
    """The error that made a task group fail, rather than the cancellations it caused."""
    cancelled = anyio.get_cancelled_exc_class()
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        else:
            leaves.append(exc)
    return next((exc for exc in leaves if not isinstance(exc, cancelled)), leaves[0])


def _discard(handle: BinaryIO, path: Path) -> None:
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
