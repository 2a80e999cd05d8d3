"""The API SIGKILLed mid streamed upload and mid tus PATCH: after a restart the sweep leaves no
temporary file, every evidence row has its bytes and every stored object its row, and the
resumable upload continues from the stored offset to the right SHA-256."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from backend.evidence.tables import Evidence
from tests.conftest import World
from tests.faults.services import ApiServer
from tests.integration.enforcement_helpers import action_payload
from tests.integration.evidence.photos import mp4
from tests.integration.live.conftest import token_for

pytestmark = pytest.mark.faults
TUS = {"Tus-Resumable": "1.0.0"}
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}
MiB = 1024 * 1024


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    # Its own data dir (keys, media, spool, partials); a short age so the test need not wait an hour.
    env = {"FIELDWATCH_DATA_DIR": str(tmp_path / "data"), "FIELDWATCH_TEMP_MAX_AGE": "1"}
    server = ApiServer(env, tmp_path / "api.log")
    try:
        yield server
    finally:
        server.stop()


def _temp_files(data: Path) -> list[Path]:
    places = [
        (data / "media" / ".tmp", "put-"),
        (data / "tmp", "photo-"),
        (data / "tmp", "fieldwatch-spool-"),
    ]
    return [p for d, prefix in places if d.is_dir() for p in d.iterdir() if p.name.startswith(prefix)]


async def _trickle(body: bytes, sent: asyncio.Event, hold: asyncio.Event) -> AsyncIterator[bytes]:
    """The first part of ``body`` at once, then nothing until the server is gone."""
    half = len(body) // 2
    for i in range(0, half, 256 * 1024):
        yield body[i : i + 256 * 1024]
    sent.set()
    await hold.wait()
    yield body[half:]


async def _wait(predicate, within: float = 15) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_killed_api_leaves_no_temp_files_and_resumes_its_upload(
    migrated, world: World, api: ApiServer, tmp_path: Path, forget_evidence_stored_elsewhere
) -> None:
    data = tmp_path / "data"
    api.start()
    officer = {"Authorization": f"Bearer {await token_for(api.url, world.username('officer_a1'))}"}
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        created = await http.post("/api/v1/actions", json=action_payload(world), headers=officer)
        assert created.status_code == 201, created.text
        action_id = created.json()["id"]
        video = mp4(12 * MiB)
        meta = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}"
            for k, v in {"action_id": action_id, "filetype": "video/mp4", "filename": "v.mp4"}.items()
        )
        upload = await http.post(
            "/api/v1/uploads",
            headers={**officer, **TUS, "Upload-Length": str(len(video)), "Upload-Metadata": meta},
        )
        assert upload.status_code == 201, upload.text
        location = upload.headers["location"]
        first = await http.patch(
            location,
            content=video[: 2 * MiB],
            headers={**officer, **PATCH, "Upload-Offset": "0"},
        )
        assert first.status_code == 204, first.text
        partial = data / "uploads" / f"{location.rsplit('/', 1)[1]}.part"

        # Two uploads on their way when the process is killed.
        hold = asyncio.Event()
        streamed_sent, patch_sent = asyncio.Event(), asyncio.Event()
        other = mp4(10 * MiB)
        streamed = asyncio.create_task(
            http.post(
                f"/api/v1/actions/{action_id}/evidence",
                content=_trickle(other, streamed_sent, hold),
                headers={**officer, "Content-Type": "video/mp4", "Content-Length": str(len(other))},
            )
        )
        patching = asyncio.create_task(
            http.patch(
                location,
                content=_trickle(video[2 * MiB :], patch_sent, hold),
                headers={
                    **officer,
                    **PATCH,
                    "Upload-Offset": str(2 * MiB),
                    "Content-Length": str(len(video) - 2 * MiB),
                },
            )
        )
        await asyncio.wait_for(asyncio.gather(streamed_sent.wait(), patch_sent.wait()), 15)
        await _wait(lambda: _temp_files(data) != [] and partial.stat().st_size > 2 * MiB)
        api.kill()
        hold.set()
        for task in (streamed, patching):
            with contextlib.suppress(httpx.HTTPError):
                await task
        assert _temp_files(data), "the kill left the temporary file this test is about"

    await asyncio.sleep(1.2)  # older than FIELDWATCH_TEMP_MAX_AGE
    api.start()
    await _wait(lambda: _temp_files(data) == [])
    assert partial.exists()  # an unfinished, unexpired upload keeps its bytes
    officer = {"Authorization": f"Bearer {await token_for(api.url, world.username('officer_a1'))}"}
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        head = await http.head(location, headers={**officer, **TUS})
        assert head.status_code == 200
        offset = int(head.headers["Upload-Offset"])
        assert 2 * MiB <= offset < len(video)
        rest = await http.patch(
            location,
            content=video[offset:],
            headers={**officer, **PATCH, "Upload-Offset": str(offset)},
        )
        assert rest.status_code == 204, rest.text
        evidence = (await http.get(f"/api/v1/evidence/{rest.headers['Evidence-Id']}", headers=officer)).json()
        assert evidence["sha256"] == hashlib.sha256(video).hexdigest() and evidence["size"] == len(video)

    # Rows and bytes agree: the one evidence row has its object, and the store holds nothing else.
    rows = await Evidence.select(Evidence.object_key).where(Evidence.parent_id == action_id)
    assert len(rows) == 1
    stored = {p.name for p in (data / "media" / "sha256").rglob("*") if p.is_file()}
    assert stored == {rows[0]["object_key"].rsplit("/", 1)[1]}
    assert not partial.exists()  # attached, so its partial file is gone
