"""Store behaviour on both backends: addressing, dedupe, ranges, limits, and nothing left behind."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import io
import os
import socket
import stat
import tracemalloc
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from media_helpers import chunked, random_bytes, repeated, sha256, snapshot
from minio.error import S3Error
from minio.objectlockconfig import COMPLIANCE

from media_store import (
    ChecksumMismatch,
    InvalidRange,
    LockConfig,
    MediaStore,
    MediaStoreUnavailable,
    ObjectLocked,
    ObjectNotFound,
    TooLarge,
    key_for,
    open_store,
)
from media_store.local import LocalStore
from media_store.s3 import PART_SIZE, S3Store

JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
MULTIPART = PART_SIZE + 512 * 1024  # two S3 parts


async def read_all(store, key: str, start: int = 0, end: int | None = None) -> bytes:
    async with contextlib.aclosing(store.open_range(key, start, end)) as chunks:
        return b"".join([chunk async for chunk in chunks])


@pytest.mark.parametrize("size", [100_000, MULTIPART], ids=["small", "multipart"])
@pytest.mark.parametrize("announce", [True, False], ids=["expected-sha256", "spooled"])
async def test_round_trip_is_content_addressed_and_deduplicated(store, size: int, announce: bool) -> None:
    data = random_bytes(size, JPEG_HEAD)
    digest = hashlib.sha256(data).hexdigest()
    expected = digest if announce else None

    first = await store.put_stream(
        chunked(data), content_type="image/jpeg", max_bytes=size, expected_sha256=expected
    )
    assert first.created and first.sha256 == digest and first.size == size
    assert first.key == f"sha256/{digest[:2]}/{digest}" == key_for(digest)
    assert await store.exists(first.key)
    info = await store.stat(first.key)
    assert (info.size, info.content_type) == (size, "image/jpeg")
    assert await read_all(store, first.key) == data

    after_first = await snapshot(store)
    again = await store.put_stream(
        chunked(data, 4096), content_type="image/jpeg", max_bytes=size, expected_sha256=digest
    )
    unannounced = await store.put_stream(chunked(data), content_type="image/jpeg", max_bytes=size)
    assert (again.key, again.created) == (first.key, False)
    assert (unannounced.key, unannounced.created, unannounced.size) == (first.key, False, size)
    assert await snapshot(store) == after_first, "a duplicate wrote something"


async def test_put_bytes_uses_the_same_addressing(store) -> None:
    thumb = random_bytes(2048, JPEG_HEAD)
    stored = await store.put_bytes(thumb, content_type="image/jpeg")
    assert stored.created and stored.key == key_for(hashlib.sha256(thumb).hexdigest())
    assert (await store.put_bytes(thumb, content_type="image/jpeg")).created is False
    assert await read_all(store, stored.key) == thumb


async def test_empty_body(store) -> None:
    stored = await store.put_stream(chunked(b""), content_type="application/pdf", max_bytes=10)
    assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert await read_all(store, stored.key) == b""


async def test_range_reads(store) -> None:
    data = random_bytes(600 * 1024 + 7)
    key = (await store.put_stream(chunked(data), content_type="video/mp4", max_bytes=len(data))).key
    last = len(data) - 1

    assert await read_all(store, key, 0, 0) == data[:1]
    assert await read_all(store, key, 1000, 300_000) == data[1000:300_001]
    assert await read_all(store, key, last, last) == data[-1:]
    assert await read_all(store, key, last - 9) == data[-10:]
    assert await read_all(store, key) == data
    assert await read_all(store, key, 10, last + 5000) == data[10:], "an end past the object is clamped"

    async with contextlib.aclosing(store.open_range(key)) as chunks:
        sizes = [len(chunk) async for chunk in chunks]
    assert max(sizes) <= 256 * 1024 and sum(sizes) == len(data)

    with pytest.raises(InvalidRange):
        await read_all(store, key, len(data))
    with pytest.raises(InvalidRange):
        await read_all(store, key, 5, 4)


async def test_missing_and_malformed_keys(store) -> None:
    missing = key_for("ab" * 32)
    assert not await store.exists(missing)
    with pytest.raises(ObjectNotFound):
        await store.stat(missing)
    with pytest.raises(ObjectNotFound):
        await read_all(store, missing)
    with pytest.raises(ObjectNotFound):
        await store.rehash(missing)
    for bad in ("../../etc/passwd", "sha256/ab/../../x", "sha256/cd/" + "ab" * 32, "sha256/AB/" + "AB" * 32):
        with pytest.raises(ValueError):
            await store.stat(bad)


@pytest.mark.parametrize("announce", [True, False], ids=["expected-sha256", "spooled"])
async def test_too_large_stops_at_the_limit_and_leaves_nothing(store, announce: bool) -> None:
    block = os.urandom(1024 * 1024)
    count = 12  # over one S3 part before the limit trips
    limit = 10 * 1024 * 1024 + 5
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(count):
            pulled += 1
            yield block

    before = await snapshot(store)
    expected = sha256([block] * count) if announce else None
    with pytest.raises(TooLarge):
        await store.put_stream(body(), content_type="video/mp4", max_bytes=limit, expected_sha256=expected)
    assert pulled == 11, "the body was read past the chunk that crossed the limit"
    assert await snapshot(store) == before


@pytest.mark.parametrize("size", [50_000, MULTIPART], ids=["small", "multipart"])
async def test_checksum_mismatch_leaves_nothing(store, size: int) -> None:
    data = random_bytes(size)
    wrong = hashlib.sha256(data + b"x").hexdigest()
    before = await snapshot(store)
    with pytest.raises(ChecksumMismatch) as caught:
        await store.put_stream(chunked(data), content_type="video/mp4", max_bytes=size, expected_sha256=wrong)
    assert caught.value.actual == hashlib.sha256(data).hexdigest()
    assert await snapshot(store) == before
    assert not await store.exists(key_for(wrong))
    assert not await store.exists(key_for(caught.value.actual))


class ClientGone(Exception):
    pass


@pytest.mark.parametrize("announce", [True, False], ids=["expected-sha256", "spooled"])
async def test_body_that_fails_midway_leaves_nothing(store, announce: bool) -> None:
    block = os.urandom(1024 * 1024)

    open_uploads: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(10):  # past the first S3 part
            yield block
        if isinstance(store, S3Store):
            open_uploads.extend(await store.incomplete_uploads(""))
        raise ClientGone

    before = await snapshot(store)
    expected = sha256([block] * 20) if announce else None
    with pytest.raises(ClientGone):
        await store.put_stream(body(), content_type="video/mp4", max_bytes=1 << 30, expected_sha256=expected)
    if isinstance(store, S3Store) and announce:
        assert open_uploads == [key_for(expected)], "the body was meant to stream into a multipart upload"
    assert await snapshot(store) == before


@pytest.mark.parametrize("announce", [True, False], ids=["expected-sha256", "spooled"])
async def test_cancelled_upload_leaves_nothing(store, announce: bool) -> None:
    block = os.urandom(1024 * 1024)
    stalled = anyio.Event()
    open_uploads: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield block
        if isinstance(store, S3Store):
            open_uploads.extend(await store.incomplete_uploads(""))
        stalled.set()
        await anyio.sleep_forever()
        yield b""

    before = await snapshot(store)
    expected = sha256([block] * 20) if announce else None
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:

            async def upload() -> None:
                await store.put_stream(
                    body(), content_type="video/mp4", max_bytes=1 << 30, expected_sha256=expected
                )

            tg.start_soon(upload)
            await stalled.wait()
            tg.cancel_scope.cancel()
    if isinstance(store, S3Store) and announce:
        assert open_uploads == [key_for(expected)]
    assert await snapshot(store) == before


@pytest.mark.parametrize("announce", [True, False], ids=["expected-sha256", "spooled"])
async def test_memory_stays_flat_for_a_large_body(store, announce: bool) -> None:
    block = os.urandom(1024 * 1024)
    count = 40
    expected = sha256([block] * count) if announce else None
    gc.collect()
    tracemalloc.start()
    try:
        stored = await store.put_stream(
            repeated(block, count), content_type="video/mp4", max_bytes=1 << 30, expected_sha256=expected
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == count * len(block) and stored.created
    print(f"tracemalloc peak {peak / 2**20:.1f} MiB")
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 40 MiB body"


async def test_concurrent_uploads_of_the_same_bytes_store_it_once(store) -> None:
    data = random_bytes(MULTIPART)
    digest = hashlib.sha256(data).hexdigest()
    results = []

    async def upload() -> None:
        results.append(
            await store.put_stream(
                chunked(data), content_type="video/mp4", max_bytes=len(data), expected_sha256=digest
            )
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(upload)
        tg.start_soon(upload)
    assert sorted(r.created for r in results) == [False, True]
    state = await snapshot(store)
    stored = state.get("versions") or state["files"]
    assert len(stored) == 1


async def test_iter_keys_and_rehash_detect_tampering(store) -> None:
    bodies = [random_bytes(1000 + i) for i in range(3)]
    keys = {(await store.put_bytes(body, content_type="application/pdf")).key for body in bodies}
    assert {key async for key in store.iter_keys()} == keys
    for body in bodies:
        digest = hashlib.sha256(body).hexdigest()
        assert await store.rehash(key_for(digest)) == digest

    victim = key_for(hashlib.sha256(bodies[0]).hexdigest())
    if isinstance(store, LocalStore):
        path = store.root / victim
        path.chmod(0o644)
        path.write_bytes(b"edited")
    else:  # object lock keeps the old version, but a new one now answers reads
        store.client.put_object(store.bucket, victim, io.BytesIO(b"edited"), 6)
    assert await store.rehash(victim) == hashlib.sha256(b"edited").hexdigest()


async def test_presigned_urls(store) -> None:
    data = random_bytes(3000, JPEG_HEAD)
    key = (await store.put_bytes(data, content_type="image/jpeg")).key
    url = await store.presign_get(key, expires_s=120, filename="现场照片.jpg")
    if isinstance(store, LocalStore):
        assert url is None
        return
    assert url is not None and "X-Amz-Expires=120" in url
    response = await anyio.to_thread.run_sync(urllib.request.urlopen, url)
    with response:
        assert response.read() == data
        assert "filename*=UTF-8''%E7%8E%B0" in response.headers["Content-Disposition"]
    with pytest.raises(ValueError):
        await store.presign_get(key, expires_s=7 * 24 * 3600)


async def test_the_store_interface_removes_only_through_dispose(store) -> None:
    # What the app may call is the MediaStore interface: nothing in it overwrites, and its one removal
    # is ``dispose``, for an approved retention disposal; under an object lock the store refuses it
    # (tested below with SeaweedFS).
    interface = [name for name in dir(MediaStore) if not name.startswith("_")]
    assert "put_stream" in interface and "open_range" in interface
    removers = [
        n for n in interface if any(w in n for w in ("delete", "remove", "unlink", "overwrite", "dispose"))
    ]
    assert removers == ["dispose"]
    assert all(callable(getattr(store, n)) for n in interface if n not in ("description", "supports_lock"))


async def test_local_objects_are_read_only(tmp_path) -> None:
    store = LocalStore(tmp_path / "media")
    stored = await store.put_bytes(b"evidence", content_type="application/pdf")
    mode = (store.root / stored.key).stat().st_mode
    assert stat.S_IMODE(mode) == 0o444
    assert list((store.root / ".tmp").iterdir()) == []


async def test_s3_bucket_is_object_locked_and_self_cleaning(s3_server, tmp_path) -> None:
    store = open_store(s3_server.fresh_bucket_url(), spool_dir=str(tmp_path))
    assert isinstance(store, S3Store)
    await store.ensure_bucket()
    await store.ensure_bucket()  # idempotent
    lock = store.client.get_object_lock_config(store.bucket)
    assert lock.mode == COMPLIANCE  # set by ensure_bucket, as docker-compose does in production
    rules = store.client.get_bucket_lifecycle(store.bucket).rules
    assert [r.abort_incomplete_multipart_upload.days_after_initiation for r in rules] == [1]

    stored = await store.put_bytes(b"permanent", content_type="application/pdf")
    version = next(iter(store.client.list_objects(store.bucket, prefix=stored.key, include_version=True)))
    with pytest.raises(S3Error):
        store.client.remove_object(store.bucket, stored.key, version_id=version.version_id)


async def test_s3_dispose_is_refused_under_the_lock_and_removes_every_version_without_one(
    s3_server, tmp_path
) -> None:
    locked = open_store(s3_server.fresh_bucket_url(), spool_dir=str(tmp_path))
    assert isinstance(locked, S3Store)
    await locked.ensure_bucket()
    assert await locked.lock_config() == LockConfig("COMPLIANCE", 1)
    stored = await locked.put_bytes(b"kept by the store", content_type="application/pdf")
    with pytest.raises(ObjectLocked):
        await locked.dispose(stored.key)
    assert await locked.exists(stored.key)  # no delete marker hides it either

    # A retention is extended, never shortened.
    later = datetime.now(UTC) + timedelta(days=30)
    assert await locked.retain(stored.key, later, "COMPLIANCE") == later
    kept = locked.client.get_object_retention(locked.bucket, stored.key).retain_until_date
    assert abs((kept - later).total_seconds()) < 1
    assert (
        abs(
            (
                await locked.retain(stored.key, later - timedelta(days=20), "COMPLIANCE") - later
            ).total_seconds()
        )
        < 1
    )

    free = open_store(s3_server.fresh_bucket_url(), spool_dir=str(tmp_path))
    assert isinstance(free, S3Store)
    await free.ensure_bucket(object_lock=False)
    assert await free.lock_config() is None
    gone = await free.put_bytes(b"may go", content_type="application/pdf")
    await free.dispose(gone.key)
    assert not await free.exists(gone.key)
    assert list(free.client.list_objects(free.bucket, prefix=gone.key, include_version=True)) == []
    await free.dispose(gone.key)  # already gone: no error


async def test_local_dispose_removes_the_file(tmp_path) -> None:
    store = LocalStore(tmp_path / "media")
    assert await store.lock_config() is None
    stored = await store.put_bytes(b"evidence", content_type="application/pdf")
    await store.dispose(stored.key)
    assert not await store.exists(stored.key)


async def test_unavailable_backends_raise_a_typed_error(tmp_path, s3_server) -> None:
    with socket_closed_port() as port:
        down = open_store(f"s3://k:s@127.0.0.1:{port}/evidence?secure=false")
        with anyio.fail_after(30):
            with pytest.raises(MediaStoreUnavailable):
                await down.ping()
            with pytest.raises(MediaStoreUnavailable):
                await down.put_stream(chunked(b"x" * 10), content_type="image/jpeg", max_bytes=10)
            with pytest.raises(MediaStoreUnavailable):
                await down.stat(key_for("ab" * 32))

    no_bucket = open_store(s3_server.fresh_bucket_url())
    with pytest.raises(MediaStoreUnavailable, match="does not exist"):
        await no_bucket.ping()
    wrong_key = open_store(s3_server.url("anything").replace(s3_server.secret_key, "not-the-secret"))
    with pytest.raises(MediaStoreUnavailable):
        await wrong_key.ping()

    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(MediaStoreUnavailable):
        await LocalStore(blocker / "media").ping()


@contextlib.contextmanager
def socket_closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    yield port


def test_open_store_urls(tmp_path) -> None:
    local = open_store(f"file://{tmp_path}/media")
    assert isinstance(local, LocalStore) and local.root == tmp_path / "media"
    remote = open_store("s3://key:p%40ss@minio:9000/fieldwatch-evidence?secure=false&region=us-east-1")
    assert isinstance(remote, S3Store) and remote.bucket == "fieldwatch-evidence"
    assert remote.description == "s3://minio:9000/fieldwatch-evidence"
    with pytest.raises(ValueError):
        open_store("ftp://x/y")
    with pytest.raises(ValueError):
        open_store("s3://k:s@host:9000/")


@pytest.mark.parametrize(
    "public", ["ftp://files.example.cn", "https://files.example.cn/evidence", "files.example.cn"]
)
def test_a_public_address_for_presigned_links_is_a_bare_origin(public: str) -> None:
    """Presigned links are signed for the host itself: a path or another scheme could never match."""
    with pytest.raises(ValueError, match="public URL"):
        open_store("s3://key:secret-key@127.0.0.1:9/bucket?secure=false", public_url=public)


def test_presigned_links_are_signed_for_the_public_address_without_asking_the_store() -> None:
    store = open_store(
        "s3://key:secret-key@127.0.0.1:9/bucket?secure=false", public_url="https://files.example.cn:8443"
    )
    key = "sha256/ab/" + "ab" * 32
    url = asyncio.run(store.presign_get(key, 60, filename="现场.jpg", content_type="image/jpeg"))
    assert url is not None and url.startswith(f"https://files.example.cn:8443/bucket/{key}?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
