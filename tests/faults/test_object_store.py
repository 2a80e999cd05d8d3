"""The S3 object store (a private SeaweedFS) killed mid-run and started again: uploads during the
outage are 503 with Retry-After and leave nothing behind; uploads after the restart work."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.app import create_app
from backend.evidence.tables import Evidence
from media_store import open_store
from tests.conftest import World, assert_problem, login, make_settings, serve
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import mp4, phone_photo
from tests.s3 import seaweedfs

pytestmark = pytest.mark.faults


def _leftovers(data_dir: Path) -> list[Path]:
    """Spool and temp files the app keeps while an upload is on its way (not resumable partials,
    which are meant to stay)."""
    return [p for p in (data_dir / "tmp").rglob("*") if p.is_file()] if (data_dir / "tmp").exists() else []


TUS = {"Tus-Resumable": "1.0.0"}
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}


async def _tus_create(client, headers, action_id: str, length: int) -> str:
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"action_id": action_id, "filetype": "video/mp4"}.items()
    )
    response = await client.post(
        "/api/v1/uploads", headers={**headers, **TUS, "Upload-Length": str(length), "Upload-Metadata": meta}
    )
    assert response.status_code == 201, response.text
    return response.headers["location"]


async def _upload(client, headers, action_id: str, body: bytes, content_type: str, sha: bool):
    extra = {"X-Content-SHA256": hashlib.sha256(body).hexdigest()} if sha else {}
    return await client.post(
        f"/api/v1/actions/{action_id}/evidence",
        content=body,
        headers={**headers, "Content-Type": content_type, **extra},
    )


async def test_uploads_while_the_object_store_is_down_are_503_and_leave_nothing(
    migrated, world: World, tmp_path: Path, forget_evidence_stored_elsewhere
) -> None:
    weed_dir, data_dir = tmp_path / "weed", tmp_path / "data"
    taken = datetime.now(UTC).astimezone().replace(microsecond=0) - timedelta(minutes=3)
    with seaweedfs(weed_dir) as server:
        url = server.fresh_bucket_url()
        ports = server.ports
        await open_store(url).ensure_bucket()  # type: ignore[attr-defined]
        app = create_app(make_settings(data_dir=data_dir, media_url=url))
        async with serve(app) as client:
            officer = await login(client, world.username("officer_a1"))
            action = await record_action(client, officer, world)
            photo = phone_photo(taken, seed=1)
            first = await _upload(client, officer, action["id"], photo, "image/jpeg", False)
            assert first.status_code == 201, first.text
    # SeaweedFS is stopped (by PID) here; the app keeps serving with its store gone.
    async with serve(app) as client:
        officer = await login(client, world.username("officer_a1"))
        cases = [
            (phone_photo(taken, seed=2), "image/jpeg", False),  # spooled locally to read its metadata
            (mp4(), "video/mp4", False),  # hash unknown: spooled for S3
            (mp4() + b"\0" * 17, "video/mp4", True),  # hash declared: streamed straight to S3
        ]
        for body, ctype, sha in cases:
            response = await _upload(client, officer, action["id"], body, ctype, sha)
            problem = assert_problem(response, 503, "service.unavailable")
            assert int(response.headers["Retry-After"]) > 0 and problem["service"] == "media"
        # A resumable upload keeps its bytes on the API's disk; finishing it needs the store.
        video = mp4(200_000)
        location = await _tus_create(client, officer, action["id"], len(video))
        last = await client.patch(location, content=video, headers={**officer, **PATCH, "Upload-Offset": "0"})
        assert_problem(last, 503, "service.unavailable")
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["media"].startswith("error")
        assert _leftovers(data_dir) == []
        rows = await Evidence.select(Evidence.id).where(Evidence.parent_id == action["id"])
        assert [str(r["id"]) for r in rows] == [first.json()["id"]]

    with seaweedfs(weed_dir, ports=ports):
        async with serve(app) as client:
            assert (await client.get("/readyz")).status_code == 200
            officer = await login(client, world.username("officer_a1"))
            for body, ctype, sha in cases:
                response = await _upload(client, officer, action["id"], body, ctype, sha)
                assert response.status_code == 201, response.text
            head = await client.head(location, headers={**officer, **TUS})
            assert head.headers["Upload-Offset"] == str(len(video)) and "Evidence-Id" not in head.headers
            done = await client.patch(
                location, content=b"", headers={**officer, **PATCH, "Upload-Offset": str(len(video))}
            )
            assert done.status_code == 204, done.text
            finished = await client.get(f"/api/v1/evidence/{done.headers['Evidence-Id']}", headers=officer)
            assert finished.json()["sha256"] == hashlib.sha256(video).hexdigest()
        assert _leftovers(data_dir) == []
        assert list((data_dir / "uploads").glob("*.part")) == []  # the finished upload's bytes are stored
