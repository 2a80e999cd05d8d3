"""Share links: a supervisor shares evidence or a case file with an outside party; the recipient opens
the link (with its code when one was set), sees photos stamped with their name and the viewing time,
downloads originals, and every view and download is in the custody trail under their name. Links
expire, can be revoked, and lock after wrong codes."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta

import httpx
from PIL import Image

from backend.app import create_app
from backend.evidence import rendering
from backend.evidence.tables import Evidence
from backend.lib.clock import utcnow
from backend.sharing.tables import Share, ShareSession
from media_store import images, open_store
from tests.conftest import World, assert_problem, forget_evidence, login, make_settings, serve
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.evidence.photos import pattern_video, phone_photo
from tests.s3 import s3_server

__all__ = ["s3_server"]


async def _photo(client, officer, world: World, seed: int) -> tuple[dict, dict]:
    action = await record_action(client, officer, world)
    response = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=phone_photo(seed=seed),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert response.status_code == 201, response.text
    return action, response.json()


async def _share(client, supervisor, **body) -> dict:  # type: ignore[no-untyped-def]
    payload = {"recipient": "张法官", "organisation": "南川区人民法院", "purpose": "court", **body}
    response = await client.post("/api/v1/shares", json=payload, headers=supervisor)
    assert response.status_code == 201, response.text
    return response.json()


async def _open(client, token: str, code: str | None = None) -> httpx.Response:
    body = {"token": token} if code is None else {"token": token, "code": code}
    return await client.post("/api/v1/shared/open", json=body)


def _as_recipient(opened: httpx.Response) -> dict[str, str]:
    assert opened.status_code == 200, opened.text
    return {"Authorization": f"Share {opened.json()['session']}"}


async def test_a_recipient_sees_stamped_photos_downloads_originals_and_is_named_in_custody(
    client, as_user, world: World
) -> None:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    _, photo = await _photo(client, officer, world, seed=71)
    made = await _share(client, supervisor, evidence_ids=[photo["id"]])
    assert made["link"].endswith(f"/#/shared/{made['token']}")  # the token rides in the fragment only
    assert made["code"] is None and made["share"]["state"] == "active"
    expires = datetime.fromisoformat(made["share"]["expires_at"])
    assert abs((expires - utcnow() - timedelta(days=7)).total_seconds()) < 60  # 7 days by default
    stored = await Share.select(Share.token_hash).where(Share.id == uuid.UUID(made["share"]["id"])).first()
    assert stored is not None and made["token"] not in str(stored)  # only its hash is kept

    recipient = _as_recipient(await _open(client, made["token"]))
    contents = (await client.get("/api/v1/shared", headers=recipient)).json()
    assert contents["share"]["recipient"] == "张法官"
    assert [item["id"] for item in contents["items"]] == [photo["id"]]
    assert "lat" not in contents["items"][0] and "uploaded_by" not in contents["items"][0]

    # The photo on screen: the watermarked copy, stamped at the top with the recipient and the time.
    shown = await client.get(f"/api/v1/shared/evidence/{photo['id']}/preview", headers=recipient)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert "no-store" in shown.headers["cache-control"]
    trail = (await client.get(f"/api/v1/evidence/{photo['id']}/custody", headers=supervisor)).json()
    viewed = [e for e in trail if e["action"] == "evidence.shared_viewed"]
    assert len(viewed) == 1 and viewed[0]["data"]["recipient"] == "张法官"
    assert viewed[0]["data"]["organisation"] == "南川区人民法院"
    at = datetime.fromisoformat(viewed[0]["data"]["viewed_at"])
    field_copy = (await client.get(f"/api/v1/evidence/{photo['id']}/watermarked", headers=supervisor)).content
    expected = _stamped(field_copy, "南川区人民法院 张法官", at, made["share"]["id"])
    assert shown.content == expected  # exactly the field copy with the recipient's band on top
    assert shown.content != _stamped(field_copy, "南川区人民法院 李法官", at, made["share"]["id"])
    assert Image.open(io.BytesIO(shown.content)).size == Image.open(io.BytesIO(field_copy)).size

    # The original, streamed (no public object-store address here), is the recorded bytes.
    original = await client.get(f"/api/v1/shared/evidence/{photo['id']}/content", headers=recipient)
    assert original.status_code == 200 and hashlib.sha256(original.content).hexdigest() == photo["sha256"]
    link = (await client.get(f"/api/v1/shared/evidence/{photo['id']}/link", headers=recipient)).json()
    assert link["url"] is None  # the page then streams it through the API
    detail = (await client.get(f"/api/v1/shares/{made['share']['id']}", headers=supervisor)).json()
    assert detail["views"] == 1 and detail["downloads"] == 1
    assert [e["action"] for e in detail["log"]] == ["evidence.shared_viewed", "evidence.shared_downloaded"]
    assert all(e["recipient"] == "张法官" for e in detail["log"])
    meta = (await client.get(f"/api/v1/evidence/{photo['id']}", headers=supervisor)).json()
    assert meta["custody"]["views"] >= 2

    # Evidence outside the share does not exist for the recipient; no session is no access.
    _, other = await _photo(client, officer, world, seed=72)
    for path in ("preview", "content", "link"):
        assert_problem(
            await client.get(f"/api/v1/shared/evidence/{other['id']}/{path}", headers=recipient),
            404,
            "not_found",
        )
    assert_problem(await client.get("/api/v1/shared"), 401, "share.session_invalid")
    assert_problem(
        await client.get("/api/v1/shared", headers={"Authorization": "Share not-a-session"}),
        401,
        "share.session_invalid",
    )
    # A staff token is not a share session.
    assert_problem(await client.get("/api/v1/shared", headers=supervisor), 401, "share.session_invalid")


def _stamped(field_copy: bytes, who: str, at: datetime, share_id: str) -> bytes:
    from backend.lib.clock import BEIJING

    lines = [
        f"仅供 {who} 查阅",
        f"查看时间 {at.astimezone(BEIJING):%Y-%m-%d %H:%M:%S} 北京时间",
        f"分享编号 {uuid.UUID(share_id).hex[:8]}  不得转发或用于其他用途",
    ]
    path = __import__("tempfile").mktemp(suffix=".jpg")
    with open(path, "wb") as fh:
        fh.write(field_copy)
    try:
        return images.mark_shared(path, lines, images.find_cjk_font())
    finally:
        __import__("os").unlink(path)


async def test_a_case_file_is_shared_whole_and_only_by_supervisors(client, as_user, world: World) -> None:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    action, photo = await _photo(client, officer, world, seed=73)
    case = await open_case(client, officer, world, [action["id"]])
    on_case = await client.post(
        f"/api/v1/cases/{case['id']}/evidence",
        content=phone_photo(seed=74),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert on_case.status_code == 201, on_case.text
    made = await _share(client, supervisor, case_id=case["id"], purpose="procuratorate", days=30)
    assert set(made["share"]["evidence_ids"]) == {photo["id"], on_case.json()["id"]}
    assert made["share"]["case_id"] == case["id"]

    # Only supervisors and admins share; bad requests are refused whole and write nothing.
    before = await Share.count()
    assert_problem(
        await client.post(
            "/api/v1/shares",
            json={"recipient": "x", "organisation": "y", "purpose": "court", "evidence_ids": [photo["id"]]},
            headers=officer,
        ),
        403,
        "auth.forbidden",
    )
    bad_bodies = [
        {"evidence_ids": [photo["id"]], "days": 31},  # at most 30 days
        {"evidence_ids": [photo["id"]], "days": 0},
        {"evidence_ids": [photo["id"]], "recipient": "  "},
        {"evidence_ids": [photo["id"]], "purpose": "friend"},
        {"evidence_ids": [photo["id"]], "case_id": case["id"]},  # one or the other
    ]
    for extra in bad_bodies:
        body = {"recipient": "张法官", "organisation": "南川区人民法院", "purpose": "court", **extra}
        assert_problem(
            await client.post("/api/v1/shares", json=body, headers=supervisor), 400, "validation.failed"
        )
    assert_problem(
        await client.post(
            "/api/v1/shares",
            json={
                "recipient": "张",
                "organisation": "法院",
                "purpose": "court",
                "evidence_ids": [str(uuid.uuid4())],
            },
            headers=supervisor,
        ),
        404,
        "not_found",
    )
    assert_problem(
        await client.post(
            "/api/v1/shares",
            json={"recipient": "张", "organisation": "法院", "purpose": "court"},
            headers=supervisor,
        ),
        422,
        "share.empty",
    )
    assert await Share.count() == before
    listed = (await client.get("/api/v1/shares?state=active", headers=supervisor)).json()
    assert made["share"]["id"] in {s["id"] for s in listed}
    assert_problem(await client.get("/api/v1/shares", headers=officer), 403, "auth.forbidden")
    assert_problem(await client.get(f"/api/v1/shares/{uuid.uuid4()}", headers=supervisor), 404, "not_found")


async def test_expiry_and_revocation_end_access_at_once(client, as_user, world: World) -> None:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    _, photo = await _photo(client, officer, world, seed=75)
    made = await _share(client, supervisor, evidence_ids=[photo["id"]], days=1)
    recipient = _as_recipient(await _open(client, made["token"]))
    share_id = uuid.UUID(made["share"]["id"])

    # Past its expiry the open session stops working and the link no longer opens.
    await Share.update({Share.expires_at: utcnow() - timedelta(seconds=1)}).where(Share.id == share_id)
    assert_problem(await client.get("/api/v1/shared", headers=recipient), 410, "share.expired")
    assert_problem(await _open(client, made["token"]), 410, "share.expired")
    assert (await client.get(f"/api/v1/shares/{share_id}", headers=supervisor)).json()["state"] == "expired"

    again = await _share(client, supervisor, evidence_ids=[photo["id"]])
    recipient = _as_recipient(await _open(client, again["token"]))
    revoked = await client.post(
        f"/api/v1/shares/{again['share']['id']}/revoke", json={"reason": "已移送完毕"}, headers=supervisor
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert revoked.json()["revoke_reason"] == "已移送完毕"
    assert not await ShareSession.exists().where(ShareSession.share_id == uuid.UUID(again["share"]["id"]))
    assert_problem(await client.get("/api/v1/shared", headers=recipient), 401, "share.session_invalid")
    assert_problem(await _open(client, again["token"]), 410, "share.revoked")
    assert_problem(
        await client.post(
            f"/api/v1/shares/{again['share']['id']}/revoke", json={"reason": " "}, headers=supervisor
        ),
        400,
        "validation.failed",
    )
    # A token with a changed secret, or garbage, is not a link.
    forged = again["token"].split(".")[0] + ".AAAA"
    assert_problem(await _open(client, forged), 404, "share.invalid")
    assert_problem(await _open(client, "nonsense"), 404, "share.invalid")


async def test_a_code_is_needed_when_set_and_wrong_codes_lock_the_link(client, as_user, world: World) -> None:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    _, photo = await _photo(client, officer, world, seed=76)
    made = await _share(
        client, supervisor, evidence_ids=[photo["id"]], require_code=True, purpose="reconsideration"
    )
    code = made["code"]
    assert made["share"]["requires_code"] and code and len(code) == 6 and code.isdigit()
    assert_problem(await _open(client, made["token"]), 401, "share.code_required")
    wrong = "000000" if code != "000000" else "111111"
    body = assert_problem(await _open(client, made["token"], wrong), 401, "share.code_wrong")
    assert body["attempts_left"] == 4
    _as_recipient(await _open(client, made["token"], code))  # the right code opens it

    locked = await _share(client, supervisor, evidence_ids=[photo["id"]], require_code=True)
    wrong = "000000" if locked["code"] != "000000" else "111111"
    for _ in range(4):
        assert_problem(await _open(client, locked["token"], wrong), 401, "share.code_wrong")
    assert_problem(await _open(client, locked["token"], wrong), 410, "share.locked")
    assert_problem(await _open(client, locked["token"], locked["code"]), 410, "share.locked")
    detail = (await client.get(f"/api/v1/shares/{locked['share']['id']}", headers=supervisor)).json()
    assert detail["state"] == "locked" and detail["failed_codes"] == 5


async def test_on_s3_with_a_public_address_downloads_are_presigned_links(
    migrated, world: World, s3_server, tmp_path
) -> None:
    public = f"http://{s3_server.endpoint}"
    store = open_store(s3_server.fresh_bucket_url(), spool_dir=str(tmp_path), public_url=public)
    await store.ensure_bucket()  # type: ignore[attr-defined]
    stored: list[uuid.UUID] = []
    try:
        async with serve(create_app(make_settings(s3_public_url=public), store=store)) as client:
            officer = await login(client, world.username("officer_a1"))
            supervisor = await login(client, world.username("supervisor"))
            _, photo = await _photo(client, officer, world, seed=77)
            stored.append(uuid.UUID(photo["id"]))
            made = await _share(client, supervisor, evidence_ids=[photo["id"]])
            recipient = _as_recipient(await _open(client, made["token"]))
            link = (await client.get(f"/api/v1/shared/evidence/{photo['id']}/link", headers=recipient)).json()
            assert link["url"].startswith(public + "/") and link["expires_in"] == 300
            async with httpx.AsyncClient() as outside:
                fetched = await outside.get(link["url"])
            assert (
                fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == photo["sha256"]
            )
            detail = (await client.get(f"/api/v1/shares/{made['share']['id']}", headers=supervisor)).json()
            assert [(e["action"], e["via"]) for e in detail["log"]] == [
                ("evidence.shared_downloaded", "presigned")
            ]
    finally:
        await forget_evidence(Evidence.id.is_in(stored or [uuid.uuid4()]))


async def test_a_shared_video_shows_its_poster_frame_stamped_for_the_recipient(
    client, as_user, world: World
) -> None:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    action = await record_action(client, officer, world)
    clip = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=pattern_video("h264", "mp4"),
        headers={**officer, "Content-Type": "video/mp4"},
    )
    assert clip.status_code == 201, clip.text
    video = clip.json()
    settings = make_settings()
    await rendering.render_pending(open_store(settings.media_url), settings)
    made = await _share(client, supervisor, evidence_ids=[video["id"]])
    recipient = _as_recipient(await _open(client, made["token"]))
    [item] = (await client.get("/api/v1/shared", headers=recipient)).json()["items"]
    assert item["kind"] == "video" and item["preview"]
    shown = await client.get(f"/api/v1/shared/evidence/{video['id']}/preview", headers=recipient)
    assert shown.status_code == 200, shown.text
    poster = (await client.get(f"/api/v1/evidence/{video['id']}/poster", headers=supervisor)).content
    assert Image.open(io.BytesIO(shown.content)).size == Image.open(io.BytesIO(poster)).size
    trail = (await client.get(f"/api/v1/evidence/{video['id']}/custody", headers=supervisor)).json()
    [viewed] = [e for e in trail if e["action"] == "evidence.shared_viewed"]
    assert viewed["data"]["rendition"] == "poster" and viewed["data"]["recipient"] == "张法官"
