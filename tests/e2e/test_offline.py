"""The officer's phone without signal: records, photos from the in-app camera and a 50 MB video are kept
in the outbox, survive a reload while offline, and reach the server exactly once when the network
returns (checked on the API and in the S3 object store). A video whose upload is cut several times
continues from the last byte the server has instead of starting again."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, Route, expect

from media_store import open_store
from media_store.base import key_for
from media_store.s3 import S3Store
from tests.e2e import record_form
from tests.e2e.conftest import CHROMIUM_ARGS, VIEWPORT, ApiClient, app_server, sign_in, watch_for_problems
from tests.e2e.test_enforcement import assert_phone_layout
from tests.e2e.test_evidence_view import shot
from tests.s3 import SeaweedFS, seaweedfs

pytestmark = pytest.mark.e2e

GEO = {"latitude": 29.158, "longitude": 107.097, "accuracy": 12}
CG001_NAME = "对占用城市道路违法经营的行政处罚"
PARTNER = "李强"
MB = 1024 * 1024
SYNC_TIMEOUT_MS = 180_000


@dataclass
class S3App:
    base_url: str
    password: str
    weed: SeaweedFS
    bucket: str

    def api(self, username: str) -> ApiClient:
        return ApiClient(self.base_url, username, self.password)


@pytest.fixture(scope="module")
def s3_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3App]:
    """The app storing evidence in a real S3 server (SeaweedFS), as production stores it in MinIO."""
    with seaweedfs(tmp_path_factory.mktemp("weed")) as weed:
        url = weed.fresh_bucket_url("fw-offline")
        store = open_store(url, spool_dir=str(tmp_path_factory.mktemp("spool")))
        assert isinstance(store, S3Store)
        asyncio.run(store.ensure_bucket())  # object-locked, as production's bucket
        bucket = store.bucket
        with app_server({"FIELDWATCH_MEDIA_URL": url}) as (base_url, password, _):
            yield S3App(base_url, password, weed, bucket)


@pytest.fixture
async def phone(browser, s3_app: S3App) -> AsyncIterator[tuple[BrowserContext, Page]]:
    """An officer's phone: camera (Chromium's fake device), location granted and set."""
    ctx = await browser.new_context(
        base_url=s3_app.base_url,
        viewport=VIEWPORT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        service_workers="allow",
        permissions=["geolocation", "camera"],
        geolocation=GEO,
    )
    ctx.set_default_timeout(20_000)
    page = await ctx.new_page()
    problems: list[str] = []
    watch_for_problems(page, problems)
    try:
        yield ctx, page
    finally:
        await ctx.close()
    assert not problems, "\n".join(problems)
    assert CHROMIUM_ARGS  # the fake camera comes from the browser's launch arguments


def video_file(path: Path, size: int) -> tuple[Path, str]:
    """An MP4-typed file of `size` bytes (an ftyp box, then incompressible bytes) and its SHA-256."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    digest = hashlib.sha256()
    with path.open("wb") as f:
        f.write(head)
        digest.update(head)
        left = size - len(head)
        block = hashlib.sha512(path.name.encode()).digest() * 16384  # 1 MiB, different per file
        while left > 0:
            part = block[: min(left, len(block))]
            # Vary each block so no two chunks are alike.
            part = bytes([left & 0xFF]) + part[1:]
            f.write(part)
            digest.update(part)
            left -= len(part)
    return path, digest.hexdigest()


async def start_online(page: Page, s3_app: S3App) -> None:
    """Sign in, let the service worker take the page and go on duty with a partner — nothing else is
    opened online: what the field needs is stored in the background after sign-in."""
    await sign_in(page, "officer1", s3_app.password, "officer")
    await page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)")
    await page.reload()
    await page.wait_for_function("Boolean(navigator.serviceWorker.controller)")
    await page.get_by_test_id("duty-toggle").click()
    partners = page.get_by_test_id("shift-partners")
    await partners.get_by_role("checkbox", name=PARTNER).check()
    await expect(page.get_by_test_id("duty-toggle")).to_have_text("下岗")
    await expect(page.get_by_test_id("field-data-age")).to_contain_text("事项清单更新于")


async def take_photo(page: Page) -> None:
    before = await page.get_by_test_id("media-item").count()
    await page.get_by_test_id("take-photo").click()
    shoot = page.get_by_role("button", name="拍照", exact=True)
    await expect(shoot).to_be_enabled()
    await shoot.click()
    await page.get_by_role("button", name="使用这张照片").click()
    await expect(page.get_by_test_id("media-item")).to_have_count(before + 1)


async def record(page: Page, notes: str, video: Path | None = None) -> None:
    """Fill a new record on the form (the partner comes from the shift), with one photo, maybe a video."""
    await page.get_by_role("button", name="新建执法记录").click()
    await expect(page.get_by_role("heading", level=1, name="新建执法记录")).to_be_visible()

    async def shift_partner(page: Page) -> None:
        partners = page.get_by_test_id("partners")
        await expect(partners.get_by_role("checkbox", name=re.compile(PARTNER))).to_be_checked()

    async def media(page: Page) -> None:
        await take_photo(page)
        if video is not None:
            await page.get_by_test_id("video-input").set_input_files(video)
            await expect(page.get_by_test_id("media-item")).to_have_count(2)
            await expect(page.get_by_test_id("media-status")).to_contain_text("视频已保存在手机上")
            await shot(page, "offline-form-media")

    await record_form.fill_record(page, CG001_NAME, notes, on_people=shift_partner, on_evidence=media)
    await record_form.submit(page)


async def outbox_entries(page: Page) -> list[dict[str, Any]]:
    """The outbox as IndexedDB holds it (what survives a closed app)."""
    return await page.evaluate(
        """() => new Promise((resolve, reject) => {
            const req = indexedDB.open('fieldwatch');
            req.onerror = () => reject(req.error);
            req.onsuccess = () => {
              const tx = req.result.transaction('outbox');
              const all = tx.objectStore('outbox').getAll();
              all.onsuccess = () => { resolve(all.result); req.result.close(); };
            };
          })"""
    )


@dataclass
class Traffic:
    """What the phone sent to the server, counted where the requests leave the browser."""

    action_posts: int = 0
    evidence_posts: int = 0
    tus_creations: int = 0
    patch_bytes: int = 0
    patch_offsets: list[int] = field(default_factory=list)
    cuts: int = 0


async def watch_traffic(ctx: BrowserContext, traffic: Traffic, cut_at: set[int] = frozenset()) -> None:
    """Count API writes; a PATCH whose number is in `cut_at` is lost with the network (the phone goes
    offline for a moment, as when a lorry passes a weak cell)."""
    patches = 0

    async def back_online() -> None:
        await asyncio.sleep(1.5)
        await ctx.set_offline(False)

    async def handle(route: Route) -> None:
        nonlocal patches
        req = route.request
        path = req.url.split("/api/v1", 1)[1]
        if req.method == "POST" and path == "/actions":
            traffic.action_posts += 1
        elif req.method == "POST" and path.endswith("/evidence"):
            traffic.evidence_posts += 1
        elif req.method == "POST" and path == "/uploads":
            traffic.tus_creations += 1
        elif req.method == "PATCH" and path.startswith("/uploads/"):
            patches += 1
            if patches in cut_at:
                traffic.cuts += 1
                await ctx.set_offline(True)
                await route.abort("internetdisconnected")
                asyncio.get_running_loop().create_task(back_online())
                return
            traffic.patch_offsets.append(int(req.headers["upload-offset"]))
            traffic.patch_bytes += len(req.post_data_buffer or b"")
        await route.continue_()

    await ctx.route(re.compile(r".*/api/v1/(actions|uploads).*"), handle)


async def test_offline_records_survive_a_reload_and_arrive_once(phone, s3_app: S3App, tmp_path: Path) -> None:
    ctx, page = phone
    video, video_sha = video_file(tmp_path / "现场录像.mp4", 50 * MB)
    await start_online(page, s3_app)
    officer = s3_app.api("officer1")
    before = {a["id"] for a in officer.get("/actions", limit=200)["items"]}

    # No signal: three records, each with a photo from the in-app camera, the first with a video.
    await ctx.set_offline(True)
    await expect(page.locator("#net")).to_contain_text("离线")
    for n in range(3):
        await record(page, f"离线记录 {n + 1}", video if n == 0 else None)
        await expect(page).to_have_url(re.compile(r"#/officer/outbox$"))
        await expect(page.get_by_test_id("flash")).to_contain_text("已保存在手机上")
        await page.get_by_role("link", name=re.compile("今日执法")).first.click()
    await expect(page.get_by_test_id("outbox-count")).to_have_text("7")  # 3 records, 3 photos, 1 video

    # The app is closed and opened again, still without signal: everything is still there.
    await page.reload()
    await page.goto("/#/officer/outbox")
    queue = page.get_by_test_id("outbox-queue")
    await expect(queue.get_by_test_id("outbox-entry")).to_have_count(3)
    await expect(queue.get_by_test_id("outbox-state")).to_have_text(["等待发送"] * 3)
    await expect(queue.get_by_test_id("outbox-media-state")).to_have_count(4)
    await expect(queue.get_by_test_id("outbox-media-state").first).to_have_text("等记录发出后发送")
    await expect(page.get_by_test_id("outbox-net")).to_contain_text("现在没有网络")
    await shot(page, "offline-outbox-waiting")
    await assert_phone_layout(page)
    stored = await outbox_entries(page)
    actions = [e for e in stored if e["type"] == "action"]
    assert sorted(e["state"] for e in stored) == ["waiting"] * 7
    assert {a["payload"]["notes"] for a in actions} == {"离线记录 1", "离线记录 2", "离线记录 3"}
    assert not {a["id"] for a in actions} & {a["id"] for a in officer.get("/actions", limit=200)["items"]}
    # Recent records were kept on the phone too.
    await page.goto("/#/officer/actions")
    await expect(page.get_by_test_id("actions-offline")).to_contain_text("保存在手机上的记录")
    await page.goto("/#/officer/outbox")

    # Signal returns: the outbox sends by itself, records first, then photos, then the video.
    traffic = Traffic()
    await watch_traffic(ctx, traffic)
    await ctx.set_offline(False)
    sent = page.get_by_test_id("outbox-sent")
    await expect(sent.get_by_test_id("outbox-entry")).to_have_count(3, timeout=SYNC_TIMEOUT_MS)
    await expect(page.get_by_test_id("outbox-queue")).to_have_count(0)
    await shot(page, "offline-outbox-sent")

    # On the server: exactly these three records, each once, with their evidence.
    after = officer.get("/actions", limit=200)["items"]
    new = [a for a in after if a["id"] not in before]
    assert sorted(a["id"] for a in new) == sorted(a["id"] for a in actions)
    assert traffic.action_posts == 3
    assert traffic.evidence_posts == 3 and traffic.tus_creations == 1
    assert traffic.patch_bytes == 50 * MB  # the video crossed the network once
    photos = {e["id"]: e for e in stored if e["type"] == "evidence" and e["media"] == "photo"}
    client = s3_app.weed.client()
    for entry in actions:
        detail = officer.get(f"/actions/{entry['id']}")
        assert detail["notes"] == entry["payload"]["notes"]
        evidence = [officer.get(f"/evidence/{e['id']}") for e in detail["evidence"]]
        mine = [p for p in photos.values() if p["actionId"] == entry["id"]]
        expected = {p["sha256"] for p in mine} | (
            {video_sha} if entry["payload"]["notes"] == "离线记录 1" else set()
        )
        assert {e["sha256"] for e in evidence} == expected
        for e in evidence:
            obj = client.get_object(s3_app.bucket, key_for(e["sha256"]))
            try:
                assert hashlib.sha256(obj.read()).hexdigest() == e["sha256"]
            finally:
                obj.close()
                obj.release_conn()
            # The phone's capture time and place travelled with it; the server's receipt time is its own.
            assert e["captured_at"] and e["received_at"] >= e["captured_at"]
            if e["content_type"] == "image/jpeg":
                where = e["location"]
                assert (
                    abs(where["lat"] - GEO["latitude"]) < 1e-4 and abs(where["lon"] - GEO["longitude"]) < 1e-4
                )
                assert e["gps_accuracy_m"] == GEO["accuracy"]
            assert "device_clock_off" not in e["flags"]

    # The phone keeps the previews, not the originals, once the server has them.
    blobs = await page.evaluate(
        """() => new Promise((resolve) => {
            const req = indexedDB.open('fieldwatch');
            req.onsuccess = () => {
              const c = req.result.transaction('blobs').objectStore('blobs').count();
              c.onsuccess = () => { resolve(c.result); req.result.close(); };
            };
          })"""
    )
    assert blobs == 0


async def test_a_shift_of_ten_records_arrives_once_over_a_flapping_link(
    phone, s3_app: S3App, tmp_path: Path
) -> None:
    """Signed in online and straight out: ten records, each with a photo, the first with a video, all
    without signal. Then a link that comes and goes every few seconds: everything arrives, once."""
    ctx, page = phone
    video, video_sha = video_file(tmp_path / "巡查录像.mp4", 20 * MB)
    await start_online(page, s3_app)
    officer = s3_app.api("officer1")
    before = {a["id"] for a in officer.get("/actions", limit=200)["items"]}

    await ctx.set_offline(True)
    notes = [f"巡查记录 {n + 1:02d}" for n in range(10)]
    for n, text in enumerate(notes):
        await record(page, text, video if n == 0 else None)
        await expect(page).to_have_url(re.compile(r"#/officer/outbox$"))
        await page.get_by_role("link", name=re.compile("今日执法")).first.click()
    await expect(page.get_by_test_id("outbox-count")).to_have_text("21")  # 10 records, 10 photos, 1 video
    stored = await outbox_entries(page)
    await page.goto("/#/officer/outbox")

    async def flapping() -> None:
        for _ in range(6):
            await ctx.set_offline(False)
            await asyncio.sleep(3)
            await ctx.set_offline(True)
            await asyncio.sleep(1.5)
        await ctx.set_offline(False)

    await flapping()
    sent = page.get_by_test_id("outbox-sent")
    await expect(sent.get_by_test_id("outbox-entry")).to_have_count(10, timeout=SYNC_TIMEOUT_MS)
    await expect(page.get_by_test_id("outbox-queue")).to_have_count(0)

    new = [a for a in officer.get("/actions", limit=200)["items"] if a["id"] not in before]
    actions = [e for e in stored if e["type"] == "action"]
    assert sorted(a["id"] for a in new) == sorted(a["id"] for a in actions)  # each once, none lost
    assert sorted(a["notes"] for a in new) == notes
    photos = [e for e in stored if e["type"] == "evidence" and e["media"] == "photo"]
    for entry in actions:
        detail = officer.get(f"/actions/{entry['id']}")
        expected = {p["sha256"] for p in photos if p["actionId"] == entry["id"]}
        if entry["payload"]["notes"] == notes[0]:
            expected.add(video_sha)
        got = [e["sha256"] for e in detail["evidence"]]
        assert sorted(got) == sorted(expected), entry["payload"]["notes"]  # every piece, and only once


async def test_a_cut_video_upload_continues_from_the_last_byte(phone, s3_app: S3App, tmp_path: Path) -> None:
    ctx, page = phone
    size = 30 * MB
    video, video_sha = video_file(tmp_path / "cut.mp4", size)
    await start_online(page, s3_app)
    traffic = Traffic()
    await watch_traffic(ctx, traffic, cut_at={2, 4, 6})

    await record(page, "断网续传", video)
    await expect(page).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    action_id = page.url.rsplit("/", 1)[1]
    await page.goto("/#/officer/outbox")
    sent = page.get_by_test_id("outbox-sent")
    await expect(sent.locator(f'[data-id="{action_id}"]')).to_be_visible(timeout=SYNC_TIMEOUT_MS)

    assert traffic.cuts == 3
    assert traffic.tus_creations == 1  # one upload, resumed; never a new one
    # Every byte crossed the network once: a restart would have sent the start again.
    assert traffic.patch_bytes == size
    assert traffic.patch_offsets == sorted(set(traffic.patch_offsets))
    assert traffic.patch_offsets[0] == 0 and len(traffic.patch_offsets) == size // (4 * MB) + 1

    officer = s3_app.api("officer1")
    detail = officer.get(f"/actions/{action_id}")
    evidence = [officer.get(f"/evidence/{e['id']}") for e in detail["evidence"]]
    videos = [e for e in evidence if e["content_type"] == "video/mp4"]
    assert len(videos) == 1 and videos[0]["sha256"] == video_sha and videos[0]["size"] == size
    assert videos[0]["upload"] == "resumable"


async def test_a_refused_record_stays_in_the_outbox_with_the_reason(phone, s3_app: S3App) -> None:
    """While the phone was offline the partner's certificate was revoked: the record is refused when it
    arrives, stays in the outbox with the server's reason (its photo waits with it), can be opened
    for correction, and goes once the certificate is valid again."""
    ctx, page = phone
    await start_online(page, s3_app)
    supervisor = s3_app.api("supervisor")
    partner = s3_app.api("officer2").user
    await ctx.set_offline(True)
    await record(page, "搭档证件被注销")
    await expect(page.get_by_test_id("flash")).to_contain_text("已保存在手机上")
    supervisor.post(
        f"/users/{partner['id']}/certificate/revoke", {"reason": "未参加年度执法培训"}, expect=200
    )
    try:
        await ctx.set_offline(False)
        attention = page.get_by_test_id("outbox-attention")
        entry = attention.get_by_test_id("outbox-entry")
        await expect(entry).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
        action_id = await entry.get_attribute("data-id")
        await expect(entry.get_by_test_id("outbox-state")).to_have_text("需要处理")
        await expect(entry.get_by_test_id("outbox-reason")).to_contain_text(PARTNER)
        await expect(entry.get_by_test_id("outbox-reason")).to_contain_text("注销")
        await expect(entry.get_by_test_id("outbox-media-state")).to_have_text("等记录发出后发送")
        await shot(page, "offline-outbox-refused")
        officer = s3_app.api("officer1")
        status, _ = officer.call("GET", f"/actions/{action_id}")
        assert status == 404  # nothing was stored

        # Opened for correction: the form shows what was typed and why it was refused.
        await entry.get_by_role("button", name="修改后重新提交").click()
        await expect(page.get_by_role("heading", level=1, name="新建执法记录")).to_be_visible()
        await expect(page.get_by_label("备注")).to_have_value("搭档证件被注销")
        await expect(page.get_by_test_id("form-error")).to_contain_text(PARTNER)
        await expect(page.get_by_test_id("partners-blocked")).to_contain_text(PARTNER)
        await page.get_by_role("link", name=re.compile("今日执法")).first.click()
        await page.get_by_test_id("outbox").click()
        await expect(attention.get_by_test_id("outbox-entry")).to_have_count(1)
    finally:
        today = datetime.now(UTC).date()
        supervisor.call(
            "PUT",
            f"/users/{partner['id']}/certificate",
            {"number": "NC-RENEWED", "issued_on": str(today), "expires_on": str(today + timedelta(days=365))},
        )

    # The certificate is valid again: sent as it was, with its photo, once.
    await attention.get_by_role("button", name="原样重新发送").click()
    sent = page.get_by_test_id("outbox-sent")
    await expect(sent.locator(f'[data-id="{action_id}"]')).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    await expect(page.get_by_test_id("outbox-attention")).to_have_count(0)
    detail = officer.get(f"/actions/{action_id}")
    assert detail["notes"] == "搭档证件被注销"
    assert len(detail["evidence"]) == 1


async def test_a_video_recorded_in_the_app_is_sent_with_its_record(phone, s3_app: S3App) -> None:
    _, page = phone
    await start_online(page, s3_app)
    await page.get_by_role("button", name="新建执法记录").click()
    await page.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await page.get_by_role("radio", name="调查取证", exact=True).check()
    await expect(page.get_by_test_id("location-status")).to_contain_text(
        "已定位"
    )  # else 现场 asks the address
    await record_form.go_to_step(page, "取证")
    await record_form.expect_step(page, "取证")
    await page.get_by_test_id("take-video").click()
    start = page.get_by_role("button", name="开始录像")
    await expect(start).to_be_enabled()
    await start.click()
    await expect(page.get_by_test_id("recorder-status")).to_contain_text("正在录像 00:02")
    await page.get_by_role("button", name="停止录像").click()
    await expect(page.get_by_test_id("media-item")).to_have_count(1)
    await expect(page.get_by_test_id("media-item")).to_have_attribute("data-media", "video")
    # A frame of the video is its preview, shown at once.
    thumb = page.get_by_test_id("media-item").get_by_test_id("media-thumb")
    await expect(thumb).to_have_attribute("src", re.compile(r"^data:image/jpeg;base64,"))
    await record_form.go_to_step(page, "提交")
    await expect(page.get_by_test_id("review-scene").nth(1)).to_contain_text("精度约")
    await record_form.submit(page)
    await expect(page).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    action_id = page.url.rsplit("/", 1)[1]
    await page.goto("/#/officer/outbox")
    await expect(page.get_by_test_id("outbox-sent").locator(f'[data-id="{action_id}"]')).to_be_visible()

    officer = s3_app.api("officer1")
    (only,) = officer.get(f"/actions/{action_id}")["evidence"]
    video = officer.get(f"/evidence/{only['id']}")
    assert video["content_type"] in {"video/webm", "video/mp4"}
    assert video["size"] > 1000
    assert video["upload"] == "resumable"
    assert video["captured_at"] <= video["received_at"]

    # The phone's preview frame follows the video: the reviewer sees a poster, said to be one.
    for _ in range(40):
        video = officer.get(f"/evidence/{only['id']}")
        if video["renditions"]["thumbnail"]:
            break
        await page.wait_for_timeout(250)
    assert video["renditions"]["thumbnail_source"] == "phone_frame"
    await page.goto(f"/#/evidence/{only['id']}")
    await expect(page.get_by_test_id("evidence-thumbnail")).to_be_visible()
    await expect(page.locator(".evidence__caption")).to_have_text(
        "视频封面（录像手机截取的一帧，不是证据原件）"
    )


async def test_a_video_interrupted_by_closing_the_app_continues_when_it_reopens(
    phone, s3_app: S3App, tmp_path: Path
) -> None:
    """The page goes away in the middle of a PATCH (the officer swipes the app closed): on the next
    start the outbox finds the video still marked as sending by nobody and continues the same upload."""
    ctx, page = phone
    size = 20 * MB
    video, video_sha = video_file(tmp_path / "closed.mp4", size)
    await start_online(page, s3_app)
    created = 0
    forwarded = 0
    patches = 0

    async def handle(route: Route) -> None:
        nonlocal created, forwarded, patches
        req = route.request
        if req.method == "POST":
            created += 1
        elif req.method == "PATCH":
            patches += 1
            if patches == 3:
                # This PATCH never completes: the page is reloaded while it hangs.
                asyncio.get_running_loop().create_task(page.reload())
                await asyncio.sleep(3)
                with contextlib.suppress(Exception):  # the page that sent it is gone
                    await route.abort()
                return
            forwarded += len(req.post_data_buffer or b"")
        await route.continue_()

    await ctx.route(re.compile(r".*/api/v1/uploads.*"), handle)
    await record(page, "关闭应用后续传", video)
    await expect(page).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    action_id = page.url.rsplit("/", 1)[1]
    # After the reload the app starts again on the same page and finishes by itself.
    await page.wait_for_load_state()
    await page.goto("/#/officer/outbox")
    sent = page.get_by_test_id("outbox-sent")
    await expect(sent.locator(f'[data-id="{action_id}"]')).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    assert created == 1
    assert patches >= 4
    assert forwarded == size  # continued from the server's offset: no byte sent twice

    officer = s3_app.api("officer1")
    evidence = [officer.get(f"/evidence/{e['id']}") for e in officer.get(f"/actions/{action_id}")["evidence"]]
    assert [e["sha256"] for e in evidence if e["content_type"] == "video/mp4"] == [video_sha]


async def test_background_sync_sends_the_outbox(phone, s3_app: S3App) -> None:
    """The browser's Background Sync (fired here through the DevTools protocol, as Chromium fires it
    when connectivity returns) makes the service worker ask the page to send: the record goes at once,
    without waiting for the app's own retry, which has backed off after the failed tries."""
    ctx, page = phone
    await start_online(page, s3_app)
    cdp = await ctx.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    await cdp.send("ServiceWorker.enable")

    # The server cannot be reached (the phone has a network, but not to us): the record waits.
    async def unreachable(route: Route) -> None:
        await route.abort("connectionrefused")

    await ctx.route(re.compile(r".*/api/v1/actions$"), unreachable)
    await record(page, "后台同步")
    await expect(page.get_by_test_id("flash")).to_contain_text("已保存在手机上")
    queue = page.get_by_test_id("outbox-queue")
    await expect(queue.get_by_test_id("outbox-state")).to_have_text(["等待发送"])
    action_id = await queue.get_by_test_id("outbox-entry").get_attribute("data-id")
    # Tries at about 0, 2 and 6 s fail; the page's own next try is not before about 14 s.
    await page.wait_for_timeout(7000)
    await ctx.unroute(re.compile(r".*/api/v1/actions$"))

    (registration,) = [
        r for r in registrations if r["scopeURL"].startswith(s3_app.base_url) and not r["isDeleted"]
    ]
    await cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": s3_app.base_url,
            "registrationId": registration["registrationId"],
            "tag": "fw-outbox",
            "lastChance": False,
        },
    )
    sent = page.get_by_test_id("outbox-sent")
    await expect(sent.locator(f'[data-id="{action_id}"]')).to_be_visible(timeout=5_000)
    assert s3_app.api("officer1").get(f"/actions/{action_id}")["notes"] == "后台同步"


async def test_a_full_phone_is_told_before_and_when_a_video_does_not_fit(
    phone, s3_app: S3App, tmp_path: Path
) -> None:
    """A phone with 20 MB of quota left. The quota is the browser's and cannot be shrunk here
    (Chromium ignores the DevTools quota override in this setup), so the page sees a simulated one:
    `estimate()` reports it and IndexedDB refuses a blob beyond it as a real browser does."""
    _, page = phone
    video, _ = video_file(tmp_path / "big.mp4", 50 * MB)
    await start_online(page, s3_app)
    await page.add_init_script(
        """(() => {
            const quota = 20 * 1024 * 1024;
            navigator.storage.estimate = async () => ({ usage: 5 * 1024 * 1024, quota });
            const put = IDBObjectStore.prototype.put;
            IDBObjectStore.prototype.put = function (value, key) {
              if (value && value.blob && value.blob.size > quota) {
                throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
              }
              return put.call(this, value, key);
            };
        })()"""
    )
    await page.reload()
    questions: list[str] = []

    async def answer(dialog) -> None:
        questions.append(dialog.message)
        await dialog.accept()  # the officer insists

    page.on("dialog", answer)
    await page.get_by_role("button", name="新建执法记录").click()
    await page.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await page.get_by_role("radio", name="检查", exact=True).check()
    await expect(page.get_by_test_id("location-status")).to_contain_text(
        "已定位"
    )  # else 现场 asks the address
    await record_form.go_to_step(page, "取证")
    await record_form.expect_step(page, "取证")
    await page.get_by_test_id("video-input").set_input_files(video)
    await expect(page.get_by_test_id("media-warning")).to_contain_text("手机存储空间已满，没能保存")
    assert questions and "存储空间不足" in questions[0]  # asked before trying
    await expect(page.get_by_test_id("media-item")).to_have_count(0)
    # A photo still fits, and the form goes on working.
    await take_photo(page)
    await page.goto("/#/officer/outbox")
    await expect(page.get_by_test_id("outbox-draft").get_by_test_id("outbox-entry")).to_have_count(1)
    await expect(page.get_by_test_id("storage")).to_contain_text("还可使用约 15.0 MB")
    await expect(page.get_by_test_id("quota-warning")).to_be_hidden()  # 25 % used: no alarm yet
