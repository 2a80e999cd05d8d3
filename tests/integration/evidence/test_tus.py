"""Resumable uploads (tus 1.0) through the real app, including a dropped connection and a restart."""

from __future__ import annotations

import base64
import hashlib
import itertools
import socket
from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from backend.app import create_app
from backend.evidence import tus
from backend.evidence.tables import Evidence, Upload
from backend.lib.clock import utcnow
from tests.conftest import World, assert_problem, login, make_settings, serve
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import mp4, sha
from tests.servers import api_process

TUS = {"Tus-Resumable": "1.0.0"}


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


async def _create(client, headers, action_id: str, length: int, filetype: str = "video/mp4") -> str:
    response = await client.post(
        "/api/v1/uploads",
        headers={
            **headers,
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": _meta(action_id=action_id, filetype=filetype, filename="执法视频.mp4"),
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["tus-resumable"] == "1.0.0" and response.headers["upload-expires"]
    return response.headers["location"]


async def _patch(client, headers, url: str, offset: int, data: bytes, checksum: bool = True):
    extra = {"Upload-Checksum": _checksum(data)} if checksum else {}
    return await client.patch(
        url,
        content=data,
        headers={
            **headers,
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **extra,
        },
    )


async def _offset(client, headers, url: str) -> int:
    response = await client.head(url, headers={**headers, **TUS})
    assert response.status_code == 200
    return int(response.headers["upload-offset"])


async def test_upload_in_pieces_then_attach(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    video = mp4(700_000)
    options = await client.options("/api/v1/uploads")
    assert (
        "checksum" in options.headers["tus-extension"]
        and options.headers["tus-checksum-algorithm"] == "sha256"
    )
    url = await _create(client, officer, action["id"], len(video))
    cuts = [0, 250_000, 500_000, len(video)]
    for start, end in itertools.pairwise(cuts):
        response = await _patch(client, officer, url, start, video[start:end])
        assert response.status_code == 204, response.text
        assert int(response.headers["upload-offset"]) == end
    assert response.headers["evidence-id"]
    head = await client.head(url, headers={**officer, **TUS})
    assert head.headers["evidence-id"] == response.headers["evidence-id"]
    evidence = (await client.get(f"/api/v1/evidence/{head.headers['evidence-id']}", headers=officer)).json()
    assert evidence["sha256"] == sha(video) and evidence["upload"] == "resumable"
    assert evidence["filename"] == "执法视频.mp4"
    body = await client.get(f"/api/v1/evidence/{evidence['id']}/content", headers=officer)
    assert body.content == video
    assert not (make_settings().uploads_dir / f"{url.rsplit('/', 1)[-1]}.part").exists()


async def test_an_upload_survives_a_restart_of_the_api(migrated, world: World) -> None:
    video = mp4(400_000)
    async with serve(create_app(make_settings())) as client:
        officer = await login(client, world.username("officer_a2"))
        action = await record_action(
            client,
            officer,
            world,
            officer_ids=[str(world.users["officer_a2"]), str(world.users["officer_a1"])],
        )
        url = await _create(client, officer, action["id"], len(video))
        assert (await _patch(client, officer, url, 0, video[:150_000])).status_code == 204
    tus._hashers.clear()  # a new process remembers nothing but the file and the row
    async with serve(create_app(make_settings())) as client:
        officer = await login(client, world.username("officer_a2"))
        offset = await _offset(client, officer, url)
        assert offset == 150_000
        done = await _patch(client, officer, url, offset, video[offset:])
        assert done.status_code == 204 and done.headers["evidence-id"]
        evidence = (
            await client.get(f"/api/v1/evidence/{done.headers['evidence-id']}", headers=officer)
        ).json()
        assert evidence["sha256"] == sha(video)


async def test_refusals_keep_the_upload_consistent(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    video = mp4(300_000)
    url = await _create(client, officer, action["id"], len(video))
    assert (await _patch(client, officer, url, 0, video[:100_000])).status_code == 204
    wrong_offset = await _patch(client, officer, url, 50_000, video[50_000:150_000])
    assert assert_problem(wrong_offset, 409, "upload.offset_mismatch")["offset"] == 100_000
    corrupted = await client.patch(
        url,
        content=video[100_000:200_000],
        headers={
            **officer,
            **TUS,
            "Upload-Offset": "100000",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": _checksum(b"something else"),
        },
    )
    assert_problem(corrupted, 460, "upload.checksum_mismatch")
    assert await _offset(client, officer, url) == 100_000
    too_much = await _patch(client, officer, url, 100_000, video[100_000:] + b"extra")
    assert_problem(too_much, 413, "request.too_large")
    assert await _offset(client, officer, url) == 100_000
    plain = await client.patch(
        url, content=b"x", headers={**officer, **TUS, "Upload-Offset": "100000", "Content-Type": "text/plain"}
    )
    assert_problem(plain, 415, "request.unsupported_media_type")
    no_version = await client.head(url, headers=officer)
    assert no_version.status_code == 412
    other = await as_user("officer_a2")
    assert (await client.head(url, headers={**other, **TUS})).status_code == 404
    assert (await _patch(client, other, url, 100_000, video[100_000:])).status_code == 404
    gone = await client.delete(url, headers={**officer, **TUS})
    assert gone.status_code == 204
    assert (await client.head(url, headers={**officer, **TUS})).status_code == 404


async def test_creation_is_refused_for_bad_requests(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    before = await Upload.count()
    bad = [
        (
            {"Upload-Length": "100", "Upload-Metadata": _meta(action_id=action["id"], filetype="text/plain")},
            415,
        ),
        (
            {
                "Upload-Length": str(5 * 2**40),
                "Upload-Metadata": _meta(action_id=action["id"], filetype="video/mp4"),
            },
            413,
        ),
        ({"Upload-Metadata": _meta(action_id=action["id"], filetype="video/mp4")}, 400),
        ({"Upload-Length": "100", "Upload-Metadata": _meta(filetype="video/mp4")}, 400),
        ({"Upload-Length": "100", "Upload-Metadata": "action_id !!!"}, 400),
        (
            {
                "Upload-Length": "100",
                "Upload-Metadata": _meta(action_id=str(world.users["admin"]), filetype="video/mp4"),
            },
            404,
        ),
    ]
    for headers, status in bad:
        response = await client.post("/api/v1/uploads", headers={**officer, **TUS, **headers})
        assert response.status_code == status, (headers, response.text)
    foreign = await as_user("officer_b1")
    response = await client.post(
        "/api/v1/uploads",
        headers={
            **foreign,
            **TUS,
            "Upload-Length": "100",
            "Upload-Metadata": _meta(action_id=action["id"], filetype="video/mp4"),
        },
    )
    assert_problem(response, 404, "not_found")
    assert await Upload.count() == before


async def test_an_expired_upload_is_gone(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    url = await _create(client, officer, action["id"], 1000)
    upload_id = url.rsplit("/", 1)[-1]
    await (
        Upload.update({Upload.expires_at: utcnow() - timedelta(minutes=1)})
        .where(Upload.id == upload_id)
        .run()
    )
    assert (await client.head(url, headers={**officer, **TUS})).status_code == 410  # HEAD: status only
    assert await tus.prune(make_settings()) >= 1
    assert not await Upload.exists().where(Upload.id == upload_id)


async def test_a_dropped_connection_keeps_the_bytes_that_arrived(migrated, world: World, tmp_path) -> None:
    with api_process(tmp_path) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            officer = await login(client, world.username("officer_a1"))
            action = await record_action(client, officer, world)
            video = mp4(2_000_000)
            url = await _create(client, officer, action["id"], len(video))
        sent = 600_000
        host = urlsplit(base)
        with socket.create_connection((host.hostname, host.port)) as raw:
            raw.sendall(
                (
                    f"PATCH {url} HTTP/1.1\r\nHost: {host.netloc}\r\n{officer_header(officer)}"
                    f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                    f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(video)}\r\n\r\n"
                ).encode()
                + video[:sent]
            )
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(50):
                offset = await _offset(client, officer, url)
                if offset:
                    break
                await __import__("asyncio").sleep(0.1)
            assert 0 < offset <= sent  # resumes from the last byte the server has, not from zero
            done = await _patch(client, officer, url, offset, video[offset:], checksum=False)
            assert done.status_code == 204, done.text
            evidence = (
                await Evidence.select(Evidence.sha256)
                .where(Evidence.id == done.headers["evidence-id"])
                .first()
            )
            assert evidence is not None and evidence["sha256"] == sha(video)


def officer_header(headers: dict[str, str]) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items())


async def test_lengths_and_offsets_in_other_digits_are_refused(client, as_user, world: World) -> None:
    # Header bytes are Latin-1: b"\xb2" arrives as "²", which str.isdigit() accepts and int() does not
    # (it once answered 500).
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    uploads_before = await Upload.count()
    meta = _meta(action_id=action["id"], filetype="video/mp4", filename="a.mp4")
    for length in (b"\xb2", b"\xb9"):
        response = await client.post(
            "/api/v1/uploads",
            headers={**officer, **TUS, "Upload-Length": length, "Upload-Metadata": meta},
        )
        assert_problem(response, 400, "validation.failed")
    assert await Upload.count() == uploads_before
    url = await _create(client, officer, action["id"], 10)
    response = await client.patch(
        url,
        content=b"12345",
        headers={
            **officer,
            **TUS,
            "Upload-Offset": b"\xb2",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert_problem(response, 409, "upload.offset_mismatch")
    assert await _offset(client, officer, url) == 0
