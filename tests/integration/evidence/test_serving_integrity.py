"""Evidence reads never pass altered or missing bytes off as genuine, and never answer 200 for a body
they cannot send: on the local store and on S3 (SeaweedFS)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.alerts.tables import Alert
from backend.app import create_app
from backend.audit.tables import AuditEntry
from backend.db import json_value
from backend.evidence.tables import Evidence
from media_store import open_store
from tests.conftest import World, assert_problem, forget_evidence, login, make_settings, serve
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import phone_photo
from tests.s3 import s3_server
from tests.servers import free_port

__all__ = ["s3_server"]


async def _upload(client, officer, world: World) -> dict:
    action = await record_action(client, officer, world)
    response = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=phone_photo(),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _local_path(sha256: str) -> Path:
    root = Path(make_settings().media_url.removeprefix("file://"))
    return root / "sha256" / sha256[:2] / sha256


@contextlib.contextmanager
def _tampered(path: Path, *, keep_mtime: bool = False) -> Iterator[bytes]:
    """Flip the last byte of a stored object in place (as an insider with disk access would, even
    putting its mtime back), and restore it afterwards."""
    original = path.read_bytes()
    st = path.stat()
    path.chmod(0o644)
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    try:
        yield original
    finally:
        path.write_bytes(original)
        path.chmod(0o444)


async def _downloads(evidence_id: str) -> int:
    return await AuditEntry.count().where(
        (AuditEntry.object_id == evidence_id)
        & AuditEntry.action.is_in(["evidence.downloaded", "evidence.viewed"])
    )


async def _mismatch_entries(evidence_id: str) -> int:
    return await AuditEntry.count().where(
        (AuditEntry.object_id == evidence_id) & (AuditEntry.action == "evidence.hash_mismatch")
    )


async def _mismatch_alerts(evidence_id: str) -> int:
    return await Alert.count().where(
        (Alert.type == "evidence.hash_mismatch") & (Alert.object_id == evidence_id)
    )


@pytest.mark.parametrize("keep_mtime", [False, True])
async def test_a_tampered_original_is_refused_not_served(client, as_user, world: World, keep_mtime) -> None:
    officer = await as_user("officer_a1")
    evidence = await _upload(client, officer, world)
    url = f"/api/v1/evidence/{evidence['id']}/content"
    first = await client.get(url, headers=officer)  # verified once, then sealed
    assert first.status_code == 200 and first.headers["etag"] == f'"{evidence["sha256"]}"'
    assert hashlib.sha256(first.content).hexdigest() == evidence["sha256"]
    with _tampered(_local_path(evidence["sha256"]), keep_mtime=keep_mtime):
        fetched, alerts = await _downloads(evidence["id"]), await _mismatch_alerts(evidence["id"])
        for headers in ({}, {"Range": "bytes=0-99"}):
            refused = await client.get(url, headers={**officer, **headers})
            body = assert_problem(refused, 409, "evidence.integrity_failed")
            assert body["expected"] == evidence["sha256"] and "etag" not in refused.headers
        assert await _downloads(evidence["id"]) == fetched  # nothing was sent: no custody entry
        # One open alert, however many reads were refused; each refusal is in the audit log.
        assert await _mismatch_alerts(evidence["id"]) == alerts + 1
        assert await _mismatch_entries(evidence["id"]) == 2
    again = await client.get(url, headers=officer)
    assert again.status_code == 200 and again.content == first.content
    part = await client.get(url, headers={**officer, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == first.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{evidence['size']}"
    assert part.headers["etag"] == f'"{evidence["sha256"]}"'


async def test_a_replaced_thumbnail_is_refused(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    evidence = await _upload(client, officer, world)
    row = await Evidence.select(Evidence.renditions).where(Evidence.id == evidence["id"]).first()
    thumb = json_value(row["renditions"])["thumbnail"]
    url = f"/api/v1/evidence/{evidence['id']}/thumbnail"
    assert (await client.get(url, headers=officer)).status_code == 200
    with _tampered(_local_path(thumb["sha256"])):
        assert_problem(await client.get(url, headers=officer), 409, "evidence.integrity_failed")
    assert (await client.get(url, headers=officer)).status_code == 200


async def test_a_missing_original_is_a_problem_not_an_empty_200(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    evidence = await _upload(client, officer, world)
    path = _local_path(evidence["sha256"])
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    try:
        fetched = await _downloads(evidence["id"])
        response = await client.get(f"/api/v1/evidence/{evidence['id']}/content", headers=officer)
        assert_problem(response, 409, "evidence.object_missing")
        assert await _downloads(evidence["id"]) == fetched
        assert await _mismatch_alerts(evidence["id"]) == 1
    finally:
        aside.rename(path)
    assert (
        await client.get(f"/api/v1/evidence/{evidence['id']}/content", headers=officer)
    ).status_code == 200


async def test_on_s3_missing_replaced_and_unreachable_objects_are_refused(
    migrated, world: World, s3_server, tmp_path
) -> None:
    url = s3_server.fresh_bucket_url()
    store = open_store(url, spool_dir=str(tmp_path))
    await store.ensure_bucket(object_lock=False)  # type: ignore[attr-defined]
    bucket = url.split("/")[3].split("?")[0]
    evidence_id = None
    try:
        # No object lock on this bucket, so the test can rewrite an object: the lock check is off.
        async with serve(create_app(make_settings(evidence_lock_mode="none"), store=store)) as client:
            officer = await login(client, world.username("officer_a1"))
            evidence = await _upload(client, officer, world)
            evidence_id = evidence["id"]
            content = f"/api/v1/evidence/{evidence_id}/content"
            genuine = await client.get(content, headers=officer)
            assert genuine.status_code == 200 and len(genuine.content) == evidence["size"]
            key = f"sha256/{evidence['sha256'][:2]}/{evidence['sha256']}"
            minio = s3_server.client()

            # Rewritten in place at its own key: the ETag changes, the bytes are re-hashed.
            altered = genuine.content[:-1] + bytes([genuine.content[-1] ^ 0xFF])
            minio.put_object(bucket, key, io.BytesIO(altered), len(altered), content_type="image/jpeg")
            fetched = await _downloads(evidence_id)
            assert_problem(await client.get(content, headers=officer), 409, "evidence.integrity_failed")

            minio.remove_object(bucket, key)
            assert_problem(await client.get(content, headers=officer), 409, "evidence.object_missing")
            assert await _downloads(evidence_id) == fetched
            assert await _mismatch_alerts(evidence_id) == 1
            assert await _mismatch_entries(evidence_id) == 2

            minio.put_object(
                bucket, key, io.BytesIO(genuine.content), len(genuine.content), content_type="image/jpeg"
            )
            assert (await client.get(content, headers=officer)).content == genuine.content
            fetched += 1
            assert await _downloads(evidence_id) == fetched

        down = open_store(
            f"s3://{s3_server.access_key}:{s3_server.secret_key}@127.0.0.1:{free_port()}/{bucket}?secure=false"
        )
        async with serve(create_app(make_settings(), store=down)) as client:
            officer = await login(client, world.username("officer_a1"))
            response = await client.get(f"/api/v1/evidence/{evidence_id}/content", headers=officer)
            assert_problem(response, 503, "service.unavailable")
            assert response.headers["retry-after"]
            assert await _downloads(evidence_id) == fetched
    finally:
        # The suite shares one database: `fieldwatch verify` must not meet a row whose bytes live
        # in this test's bucket.
        if evidence_id is not None:
            await forget_evidence(Evidence.id == evidence_id)


async def test_a_row_repointed_to_other_genuine_bytes_is_not_served_as_this_evidence(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    first, second = await _upload(client, officer, world), await _upload(client, officer, world)
    url = f"/api/v1/evidence/{first['id']}/content"
    genuine = await client.get(url, headers=officer)
    assert genuine.status_code == 200
    row = await Evidence.select().where(Evidence.id == first["id"]).first()
    other = await Evidence.select().where(Evidence.id == second["id"]).first()
    fields = (Evidence.object_key, Evidence.sha256, Evidence.size)
    await Evidence.update({f: other[f._meta.name] for f in fields}).where(Evidence.id == first["id"]).run()
    try:
        body = assert_problem(await client.get(url, headers=officer), 409, "evidence.integrity_failed")
        assert body["expected"] == first["sha256"]
        assert await _mismatch_alerts(first["id"]) == 1
    finally:
        await Evidence.update({f: row[f._meta.name] for f in fields}).where(Evidence.id == first["id"]).run()
    again = await client.get(url, headers=officer)
    assert again.status_code == 200 and again.content == genuine.content
