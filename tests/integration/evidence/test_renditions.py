"""Server-side renditions of every kind: a HEIC photo at upload like a JPEG; videos (PyAV) and PDFs
(pypdfium2) by the job after the upload, vouched for in the audit log; a file that cannot be
rendered is kept, with its failure shown."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from backend.app import create_app
from backend.audit.tables import AuditEntry
from backend.db import json_value
from backend.evidence import rendering
from backend.evidence.tables import Evidence
from media_store import open_store
from tests.conftest import World, assert_problem, forget_evidence, login, make_settings, serve
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import heic_photo, mp4, pattern_video, pdf_document, sha
from tests.integration.evidence.test_verify import _verify
from tests.s3 import s3_server

__all__ = ["s3_server"]

BEIJING = timezone(timedelta(hours=8))
_VIDEOS: dict[tuple[str, str], bytes] = {}  # encoded once per run


def _video(codec: str, container: str) -> bytes:
    if (codec, container) not in _VIDEOS:
        _VIDEOS[codec, container] = pattern_video(codec, container)
    return _VIDEOS[codec, container]


async def _attach(client, officer, world: World, body: bytes, content_type: str) -> dict:
    action = await record_action(client, officer, world)
    response = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=body,
        headers={**officer, "Content-Type": content_type},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _render() -> rendering.Rendered:
    settings = make_settings()
    return await rendering.render_pending(open_store(settings.media_url), settings)


async def _image(client, headers, path: str) -> Image.Image:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/jpeg")
    return Image.open(io.BytesIO(response.content))


async def test_a_heic_photo_gets_a_thumbnail_and_a_watermarked_copy(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    taken = datetime(2026, 12, 1, 10, 20, 30, tzinfo=BEIJING)
    photo = heic_photo(taken)
    assert photo[4:12] == b"ftypheic"  # a phone's brand
    evidence = await _attach(client, officer, world, photo, "image/heic")
    assert evidence["rendition_state"] == "done" and evidence["rendition_error"] is None
    assert evidence["exif_captured_at"] is not None
    assert datetime.fromisoformat(evidence["exif_captured_at"]) == taken
    assert evidence["location"] == {"lat": pytest.approx(29.157), "lon": pytest.approx(107.098)}
    assert (evidence["width"], evidence["height"], evidence["device"]) == (1024, 768, "Apple iPhone 15")
    thumb = await _image(client, officer, evidence["renditions"]["thumbnail"])
    assert max(thumb.size) == 320
    stamped = await _image(client, officer, evidence["renditions"]["watermarked"])
    assert stamped.size == (1024, 768)
    original = await client.get(evidence["renditions"]["content"], headers=officer)
    assert sha(original.content) == evidence["sha256"] == sha(photo)  # the HEIC itself is untouched


@pytest.mark.parametrize(
    ("codec", "container", "content_type", "expected"),
    [("libx264", "mp4", "video/mp4", {"h264"}), ("libvpx-vp9", "webm", "video/webm", {"vp8", "vp9"})],
)
async def test_a_video_gets_a_poster_a_thumbnail_and_its_facts(
    client, as_user, world: World, codec: str, container: str, content_type: str, expected: set[str]
) -> None:
    officer = await as_user("officer_a1")
    evidence = await _attach(client, officer, world, _video(codec, container), content_type)
    # The upload answers before the video is decoded.
    assert evidence["rendition_state"] == "pending"
    assert evidence["renditions"]["poster"] is None and evidence["media"] is None

    assert (await _render()).done >= 1
    reviewer = await as_user("reviewer_a")
    shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=reviewer)).json()
    assert shown["rendition_state"] == "done" and shown["rendition_error"] is None
    media = shown["media"]
    assert media["codec"] in expected
    assert abs(media["duration_s"] - 3.0) <= 0.2
    assert (media["width"], media["height"], media["pages"]) == (640, 480, None)
    assert shown["renditions"]["poster"] == f"/api/v1/evidence/{evidence['id']}/poster"
    assert shown["renditions"]["thumbnail_source"] == "server"
    assert shown["renditions"]["preview"] is None
    assert (await _image(client, reviewer, shown["renditions"]["poster"])).size == (640, 480)
    assert max((await _image(client, reviewer, shown["renditions"]["thumbnail"])).size) == 320
    # The view is custody, like any rendition's.
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "evidence.viewed") & (AuditEntry.object_id == evidence["id"])
    )
    entry = (
        await AuditEntry.select(AuditEntry.data)
        .where((AuditEntry.action == "evidence.rendered") & (AuditEntry.object_id == evidence["id"]))
        .first()
    )
    assert entry is not None
    assert sorted(json_value(entry["data"], {})["renditions"]) == ["poster", "thumbnail"]

    # Run again: nothing is pending for it, nothing changes.
    before = await Evidence.select().where(Evidence.id == evidence["id"]).first()
    await _render()
    assert await Evidence.select().where(Evidence.id == evidence["id"]).first() == before
    assert (
        await AuditEntry.count().where(
            (AuditEntry.action == "evidence.rendered") & (AuditEntry.object_id == evidence["id"])
        )
        == 1
    )
    assert (
        await rendering.render_one(evidence["id"], open_store(make_settings().media_url), make_settings())
    ) == ("skipped")


async def test_a_pdf_gets_a_first_page_preview_and_its_page_count(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    evidence = await _attach(client, officer, world, pdf_document(pages=3), "application/pdf")
    assert evidence["rendition_state"] == "pending"
    await _render()
    shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
    assert shown["rendition_state"] == "done"
    assert shown["media"]["pages"] == 3
    preview = await _image(client, officer, shown["renditions"]["preview"])
    assert max(preview.size) == 1280
    assert preview.getpixel((preview.width // 2, 10))[2] > 80  # the first page's dark blue band
    assert max((await _image(client, officer, shown["renditions"]["thumbnail"])).size) == 320
    assert shown["renditions"]["poster"] is None


async def test_a_corrupt_video_is_kept_and_its_failure_shown(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    body = mp4()  # a valid ftyp head, so the upload's sniff accepts it, then random bytes
    evidence = await _attach(client, officer, world, body, "video/mp4")
    assert evidence["rendition_state"] == "pending"
    await _render()
    shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
    assert shown["rendition_state"] == "failed"
    assert "cannot be decoded" in shown["rendition_error"]
    assert "/" not in shown["rendition_error"]  # no server path in what the client is shown
    assert shown["renditions"]["poster"] is None and shown["renditions"]["thumbnail"] is None
    kept = await client.get(shown["renditions"]["content"], headers=officer)
    assert kept.status_code == 200 and sha(kept.content) == evidence["sha256"] == sha(body)
    failed = (
        await AuditEntry.select(AuditEntry.data)
        .where((AuditEntry.action == "evidence.rendition_failed") & (AuditEntry.object_id == evidence["id"]))
        .first()
    )
    assert failed is not None and json_value(failed["data"], {})["reason"] == shown["rendition_error"]
    assert_problem(
        await client.get(f"/api/v1/evidence/{evidence['id']}/poster", headers=officer), 404, "not_found"
    )
    await _render()  # not tried again: a failure is recorded once
    assert (
        await AuditEntry.count().where(
            (AuditEntry.action == "evidence.rendition_failed") & (AuditEntry.object_id == evidence["id"])
        )
        == 1
    )


async def test_a_phone_frame_stays_and_the_server_poster_is_added_and_verify_is_clean(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    evidence = await _attach(client, officer, world, _video("libx264", "mp4"), "video/mp4")
    frame = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 30, 30)).save(frame, "JPEG")
    put = await client.put(
        f"/api/v1/evidence/{evidence['id']}/poster",
        content=frame.getvalue(),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert put.status_code == 200, put.text
    phone_thumb = put.json()["renditions"]["thumbnail"]
    before = (await client.get(phone_thumb, headers=officer)).content
    await _render()
    shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
    assert shown["rendition_state"] == "done"
    assert shown["renditions"]["thumbnail_source"] == "phone_frame"
    assert (await client.get(phone_thumb, headers=officer)).content == before
    assert shown["renditions"]["poster"] is not None
    done = await _verify()  # the added renditions are vouched for by their audit entries
    assert done.returncode == 0, done.stdout + done.stderr


async def test_renditions_a_file_lacks_are_404_problems(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    photo = await _attach(client, officer, world, heic_photo(datetime.now(BEIJING)), "image/heic")
    assert_problem(
        await client.get(f"/api/v1/evidence/{photo['id']}/poster", headers=officer), 404, "not_found"
    )
    assert_problem(
        await client.get(f"/api/v1/evidence/{photo['id']}/preview", headers=officer), 404, "not_found"
    )
    outsider = await as_user("officer_b1")
    video = await _attach(client, officer, world, _video("libx264", "mp4"), "video/mp4")
    await _render()
    assert_problem(
        await client.get(f"/api/v1/evidence/{video['id']}/preview", headers=officer), 404, "not_found"
    )
    assert_problem(
        await client.get(f"/api/v1/evidence/{video['id']}/poster", headers=outsider), 404, "not_found"
    )


async def test_an_upload_nudges_the_background_job(migrated, world: World) -> None:
    """With the job running (as in production), a video is rendered without anyone calling it."""
    async with serve(create_app(make_settings(render_interval_s=3600))) as client:
        officer = await login(client, world.username("officer_a1"))
        evidence = await _attach(client, officer, world, _video("libx264", "mp4"), "video/mp4")
        for _ in range(150):
            shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
            if shown["rendition_state"] != "pending":
                break
            await asyncio.sleep(0.1)
        assert shown["rendition_state"] == "done", shown


async def test_on_s3_a_video_is_rendered_from_the_stored_original(
    migrated, world: World, s3_server, tmp_path
) -> None:
    url = s3_server.fresh_bucket_url()
    store = open_store(url, spool_dir=str(tmp_path))
    await store.ensure_bucket(object_lock=False)  # type: ignore[attr-defined]
    evidence_id = None
    settings = make_settings(evidence_lock_mode="none")
    try:
        async with serve(create_app(settings, store=store)) as client:
            officer = await login(client, world.username("officer_a1"))
            evidence = await _attach(client, officer, world, _video("libvpx-vp9", "webm"), "video/webm")
            evidence_id = evidence["id"]
            # Only this row: the suite's other pending rows live in the local store.
            assert await rendering.render_one(evidence["id"], store, settings) == "done"
            shown = (await client.get(f"/api/v1/evidence/{evidence_id}", headers=officer)).json()
            assert shown["media"]["codec"] == "vp9"
            assert (await _image(client, officer, shown["renditions"]["poster"])).size == (640, 480)
    finally:
        if evidence_id is not None:
            await forget_evidence(Evidence.id == evidence_id)


async def test_the_work_is_bounded_by_a_decode_timeout_and_a_size_cap(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    store = open_store(make_settings().media_url)
    slow = await _attach(client, officer, world, _video("libx264", "mp4"), "video/mp4")
    outcome = await rendering.render_one(slow["id"], store, make_settings(render_timeout_s=0.001))
    assert outcome == "failed"
    big = await _attach(client, officer, world, pdf_document(pages=1), "application/pdf")
    assert await rendering.render_one(big["id"], store, make_settings(render_max_mb=0)) == "failed"
    for evidence, words in ((slow, "was stopped"), (big, "larger than")):
        shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
        assert shown["rendition_state"] == "failed" and words in shown["rendition_error"], shown
        kept = await client.get(shown["renditions"]["content"], headers=officer)
        assert sha(kept.content) == evidence["sha256"]
    assert not list((make_settings().data_dir / "tmp").glob(f"{rendering.SPOOL_PREFIX}*"))  # nothing left
