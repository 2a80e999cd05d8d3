from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from backend.evidence.tables import Evidence
from tests.conftest import World, assert_problem, forget_evidence, make_settings, serve
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import bomb_png, mp4, phone_photo, sha, tiny_png


def _media_files(root: Path) -> set[Path]:
    return (
        {p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")} if root.exists() else set()
    )


async def _upload(client, headers, action_id: str, body: bytes, content_type: str = "image/jpeg", **extra):
    return await client.post(
        f"/api/v1/actions/{action_id}/evidence",
        content=body,
        headers={**headers, "Content-Type": content_type, **extra},
    )


async def test_a_photo_is_stored_exactly_with_renditions_and_custody(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    taken = datetime.now(UTC).astimezone().replace(microsecond=0) - timedelta(minutes=3)
    photo = phone_photo(taken)
    response = await _upload(
        client,
        officer,
        action["id"],
        photo,
        **{
            "X-Content-SHA256": sha(photo),
            "X-Captured-At": taken.isoformat(),
            "X-Filename": quote("现场照片.jpg"),
        },
    )
    assert response.status_code == 201, response.text
    evidence = response.json()
    assert evidence["sha256"] == sha(photo) and evidence["size"] == len(photo)
    assert evidence["content_type"] == "image/jpeg" and evidence["device"] == "HUAWEI P60"
    assert (
        abs(evidence["location"]["lat"] - 29.157) < 0.001
        and abs(evidence["location"]["lon"] - 107.098) < 0.001
    )
    assert datetime.fromisoformat(evidence["exif_captured_at"]) == taken and evidence["flags"] == []
    assert evidence["renditions"]["thumbnail"] and evidence["renditions"]["watermarked"]

    original = await client.get(f"/api/v1/evidence/{evidence['id']}/content", headers=officer)
    assert original.status_code == 200 and original.content == photo
    assert original.headers["etag"] == f'"{sha(photo)}"' and "no-store" in original.headers["cache-control"]
    part = await client.get(
        f"/api/v1/evidence/{evidence['id']}/content", headers={**officer, "Range": "bytes=10-19"}
    )
    assert part.status_code == 206 and part.content == photo[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(photo)}"
    tail = await client.get(
        f"/api/v1/evidence/{evidence['id']}/content", headers={**officer, "Range": "bytes=-5"}
    )
    assert tail.content == photo[-5:]
    bad = await client.get(
        f"/api/v1/evidence/{evidence['id']}/content", headers={**officer, "Range": f"bytes={len(photo) + 5}-"}
    )
    assert_problem(bad, 416, "request.range_not_satisfiable")

    thumb = await client.get(f"/api/v1/evidence/{evidence['id']}/thumbnail", headers=officer)
    assert (
        thumb.headers["content-type"] == "image/jpeg"
        and max(Image.open(__import__("io").BytesIO(thumb.content)).size) <= 320
    )
    stamped = await client.get(f"/api/v1/evidence/{evidence['id']}/watermarked", headers=officer)
    assert stamped.status_code == 200 and stamped.content != photo

    detail = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer)).json()
    assert detail["evidence_count"] == 1 and detail["evidence"][0]["id"] == evidence["id"]
    supervisor = await as_user("supervisor")
    trail = (await client.get(f"/api/v1/evidence/{evidence['id']}/custody", headers=supervisor)).json()
    assert [e["action"] for e in trail][:1] == ["evidence.uploaded"]
    assert {e["action"] for e in trail} >= {"evidence.downloaded", "evidence.viewed"}
    assert all(e["actor"] == world.username("officer_a1") for e in trail)
    meta = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=supervisor)).json()
    assert meta["custody"]["views"] >= 4 and meta["custody"]["uploaded_by"] == str(world.users["officer_a1"])
    assert_problem(
        await client.get(f"/api/v1/evidence/{evidence['id']}/custody", headers=officer), 403, "auth.forbidden"
    )


async def test_the_same_bytes_twice_are_one_record(client, as_user, world: World) -> None:
    officer = await as_user("officer_a2")
    action = await record_action(
        client, officer, world, officer_ids=[str(world.users["officer_a2"]), str(world.users["officer_a1"])]
    )
    video = mp4()
    first = await _upload(client, officer, action["id"], video, "video/mp4")
    again = await _upload(
        client, officer, action["id"], video, "video/mp4", **{"X-Content-SHA256": sha(video)}
    )
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert await Evidence.count().where(Evidence.parent_id == uuid.UUID(action["id"])) == 1
    detail = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer)).json()
    assert detail["evidence_count"] == 1 and first.json()["renditions"]["thumbnail"] is None


async def test_bad_bodies_are_refused_and_leave_nothing(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    media_root = Path(make_settings().media_url.removeprefix("file://"))
    before_files, before_rows = _media_files(media_root), await Evidence.count()
    photo = phone_photo()
    cases = [
        (tiny_png(), "image/jpeg", {}, 415, "evidence.type_mismatch"),
        (b"just some text", "text/plain", {}, 415, "request.unsupported_media_type"),
        (photo, "image/jpeg", {"X-Content-SHA256": "0" * 64}, 422, "evidence.checksum_mismatch"),
        (photo, "image/jpeg", {"X-Content-SHA256": "not-hex"}, 400, "validation.failed"),
        (photo, "image/jpeg", {"X-Captured-At": "yesterday"}, 400, "validation.failed"),
        (bomb_png(), "image/png", {}, 422, "evidence.image_rejected"),
        (b"", "image/jpeg", {}, 415, "evidence.type_mismatch"),
    ]
    for body, ctype, headers, status, code in cases:
        assert_problem(await _upload(client, officer, action["id"], body, ctype, **headers), status, code)
    assert await Evidence.count() == before_rows
    assert _media_files(media_root) == before_files


async def test_size_limits_per_type(migrated, as_user, world: World) -> None:
    app = __import__("backend.app", fromlist=["create_app"]).create_app(make_settings(max_photo_mb=1))
    async with serve(app) as client:
        from tests.conftest import login

        officer = await login(client, world.username("officer_a1"))
        action = await record_action(client, officer, world)
        big = phone_photo(size=(1600, 1200))
        assert len(big) > 2**20
        assert_problem(await _upload(client, officer, action["id"], big), 413, "request.too_large")
        streamed = await client.post(
            f"/api/v1/actions/{action['id']}/evidence",
            content=_chunks(big),
            headers={**officer, "Content-Type": "image/jpeg"},
        )
        assert_problem(streamed, 413, "request.too_large")
        assert await Evidence.count().where(Evidence.parent_id == uuid.UUID(action["id"])) == 0


async def _chunks(data: bytes):
    for i in range(0, len(data), 65536):
        yield data[i : i + 65536]


async def test_capture_times_the_server_cannot_vouch_for_are_flagged(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    real = datetime.now(UTC).astimezone() - timedelta(minutes=1)
    photo = phone_photo(real)
    claimed = (real - timedelta(days=3)).isoformat()  # a phone clock set back
    flagged = (await _upload(client, officer, action["id"], photo, **{"X-Captured-At": claimed})).json()
    assert set(flagged["flags"]) == {"captured_long_before_act", "device_time_disagrees_with_exif"}
    future = phone_photo(datetime.now(UTC).astimezone() + timedelta(hours=2))
    assert "capture_time_in_future" in (await _upload(client, officer, action["id"], future)).json()["flags"]


async def test_evidence_scope(client, as_user, world: World) -> None:
    a1 = await as_user("officer_a1")
    action = await record_action(client, a1, world)
    evidence = (await _upload(client, a1, action["id"], phone_photo())).json()
    b1 = await as_user("officer_b1")
    assert_problem(await _upload(client, b1, action["id"], phone_photo()), 404, "not_found")
    for path in ("", "/content", "/thumbnail", "/watermarked"):
        assert_problem(
            await client.get(f"/api/v1/evidence/{evidence['id']}{path}", headers=b1), 404, "not_found"
        )
    reviewer = await as_user("reviewer_a")
    assert_problem(await _upload(client, reviewer, action["id"], phone_photo()), 403, "auth.forbidden")
    assert (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=reviewer)).status_code == 200
    invited = await as_user("invited")
    assert_problem(await client.get(f"/api/v1/evidence/{evidence['id']}", headers=invited), 404, "not_found")
    missing = await client.post(
        f"/api/v1/actions/{uuid.uuid4()}/evidence",
        content=phone_photo(),
        headers={**a1, "Content-Type": "image/jpeg"},
    )
    assert_problem(missing, 404, "not_found")


async def test_everyone_in_scope_lists_an_actions_evidence(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    evidence = (await _upload(client, officer, action["id"], phone_photo())).json()
    for key in ("supervisor", "command", "reviewer_a", "officer_a2"):
        listed = await client.get(f"/api/v1/actions/{action['id']}/evidence", headers=await as_user(key))
        assert listed.status_code == 200 and [e["id"] for e in listed.json()] == [evidence["id"]], key
    outsider = await as_user("officer_b1")
    assert_problem(
        await client.get(f"/api/v1/actions/{action['id']}/evidence", headers=outsider), 404, "not_found"
    )


async def test_damaged_photos_are_kept_or_refused_never_a_server_error(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    original = phone_photo(datetime(2026, 11, 28, 10, 0, tzinfo=UTC), size=(200, 150), seed=3)
    rng = random.Random(7)
    before = await Evidence.count()
    kept = 0
    for attempt in range(36):
        damaged = bytearray(original)
        if attempt % 3 == 0:  # bytes flipped
            for _ in range(rng.randint(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        elif attempt % 3 == 1:  # cut short
            damaged = damaged[: rng.randrange(10, len(damaged))]
        else:  # bytes inserted
            at = rng.randrange(2, 400)
            damaged[at:at] = rng.randbytes(rng.randint(1, 50))
        response = await client.post(
            f"/api/v1/actions/{action['id']}/evidence",
            content=bytes(damaged),
            headers={**officer, "Content-Type": "image/jpeg"},
        )
        if response.status_code == 201:
            kept += 1
        else:
            code = {415: "evidence.type_mismatch", 422: "evidence.image_rejected"}.get(response.status_code)
            assert code, (attempt, response.status_code, response.text)
            assert_problem(response, response.status_code, code)
    assert await Evidence.count() == before + kept  # a refused photo leaves nothing behind


async def test_an_app_built_with_another_store_keeps_and_serves_evidence_there(
    as_user, client, world: World, tmp_path: Path
) -> None:
    from backend.app import create_app
    from media_store import open_store

    other = tmp_path / "other-store"
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    evidence_id = None
    try:
        async with serve(create_app(make_settings(), store=open_store(f"file://{other}"))) as elsewhere:
            photo = phone_photo(datetime.now(UTC).astimezone().replace(microsecond=0))
            stored = await _upload(elsewhere, officer, action["id"], photo)
            assert stored.status_code == 201, stored.text
            evidence_id = stored.json()["id"]
            assert any(p.read_bytes() == photo for p in _media_files(other))
            back = await elsewhere.get(f"/api/v1/evidence/{evidence_id}/content", headers=officer)
            assert back.status_code == 200 and back.content == photo
        # The store the settings name never saw those bytes.
        assert not any(p.read_bytes() == photo for p in _media_files(make_settings().data_dir / "media"))
    finally:
        # The suite shares one database and one default store: `fieldwatch verify` (another test)
        # must not find a row whose bytes live in this test's store.
        if evidence_id is not None:
            await forget_evidence(Evidence.id == evidence_id)
