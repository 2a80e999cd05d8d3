"""A video's poster frame, sent by the phone that recorded it: shown to viewers, vouched for in the
audit log, never taken for evidence, and refused from anyone or anything else."""

from __future__ import annotations

import io

from PIL import Image

from backend.audit.tables import AuditEntry
from tests.conftest import World, assert_problem
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import bomb_png, mp4, phone_photo
from tests.integration.evidence.test_verify import _verify


def _frame(size: tuple[int, int] = (320, 180)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, "JPEG", quality=70)
    return out.getvalue()


async def _video(client, officer, world: World) -> tuple[dict, dict]:
    action = await record_action(client, officer, world)
    response = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=mp4(),
        headers={**officer, "Content-Type": "video/mp4"},
    )
    assert response.status_code == 201, response.text
    return action, response.json()


async def _put(client, headers, evidence_id: str, body: bytes, content_type: str = "image/jpeg"):
    return await client.put(
        f"/api/v1/evidence/{evidence_id}/poster",
        content=body,
        headers={**headers, "Content-Type": content_type},
    )


async def test_the_recording_phone_sets_a_poster_every_viewer_sees(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action, video = await _video(client, officer, world)
    assert video["renditions"]["thumbnail"] is None
    answer = await _put(client, officer, video["id"], _frame((1280, 720)))
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["renditions"]["thumbnail"] == f"/api/v1/evidence/{video['id']}/thumbnail"
    assert shown["renditions"]["thumbnail_source"] == "phone_frame"
    assert shown["sha256"] == video["sha256"]  # the video itself is untouched

    reviewer = await as_user("reviewer_a")
    listed = (await client.get(f"/api/v1/actions/{action['id']}/evidence", headers=reviewer)).json()
    assert listed[0]["renditions"]["thumbnail_source"] == "phone_frame"
    still = await client.get(shown["renditions"]["thumbnail"], headers=reviewer)
    assert still.status_code == 200 and still.headers["content-type"].startswith("image/jpeg")
    assert max(Image.open(io.BytesIO(still.content)).size) <= 320  # re-encoded by the server, bounded

    # Sent again (a retry after a lost answer, or another frame): the first stays, nothing new is written.
    before = await AuditEntry.count().where(AuditEntry.action == "evidence.poster_added")
    again = await _put(client, officer, video["id"], _frame((640, 360)))
    assert again.status_code == 200
    assert await AuditEntry.count().where(AuditEntry.action == "evidence.poster_added") == before
    # verify accepts it: the audit log vouches for the added rendition
    done = await _verify()
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_poster_is_refused_from_others_and_for_non_videos(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action, video = await _video(client, officer, world)
    photo = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=phone_photo(),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    photo_id = photo.json()["id"]

    partner = await as_user("officer_a2")  # of the same unit, but not the one who recorded it
    assert_problem(await _put(client, partner, video["id"], _frame()), 403, "evidence.not_uploader")
    other_town = await as_user("officer_b1")
    assert_problem(await _put(client, other_town, video["id"], _frame()), 404, "not_found")
    supervisor = await as_user("supervisor")
    assert_problem(await _put(client, supervisor, video["id"], _frame()), 403, "auth.forbidden")
    assert_problem(await _put(client, officer, photo_id, _frame()), 409, "evidence.not_video")
    assert_problem(await _put(client, officer, video["id"], b"not an image"), 422, "evidence.image_rejected")
    assert_problem(
        await _put(client, officer, video["id"], bomb_png(), "image/png"), 422, "evidence.image_rejected"
    )
    assert_problem(
        await _put(client, officer, video["id"], _frame(), "video/mp4"), 415, "evidence.type_mismatch"
    )
    assert_problem(await _put(client, officer, video["id"], b""), 400, "validation.failed")
    too_big = await _put(client, officer, video["id"], b"\xff" * (600 * 1024))
    assert too_big.status_code == 413
    assert (await client.get(f"/api/v1/evidence/{video['id']}", headers=officer)).json()["renditions"][
        "thumbnail"
    ] is None
    assert (
        await AuditEntry.count().where(
            (AuditEntry.action == "evidence.poster_added") & (AuditEntry.object_id == video["id"])
        )
        == 0
    )
