"""The officer in the field, on a phone: what works after going out of signal, and what the screen
says about the connection, the duty status and the photos taken."""

from __future__ import annotations

import http.client
import io
import os
import re
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from tests.e2e import record_form
from tests.e2e.conftest import sign_in
from tests.e2e.record_form import expect_step, next_step, submit
from tests.e2e.test_spotcheck import go_on_duty

pytestmark = pytest.mark.e2e

GEO = {"latitude": 29.15, "longitude": 107.1, "accuracy": 12}
CG001_NAME = "对占用城市道路违法经营的行政处罚"
ZH_DATETIME = re.compile(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}")


async def officer_phone(new_page, password: str, username: str = "officer1") -> Page:
    page = await new_page(permissions=["geolocation"], geolocation=GEO)
    await sign_in(page, username, password, "officer")
    # The app shell is on the phone once the service worker controls the page.
    await page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
    )
    return page


async def test_signed_in_officer_can_record_offline_without_opening_the_form_first(
    new_page, password: str
) -> None:
    page = await officer_phone(new_page, password)
    # Only sign-in happened online: the items, partners and checklist are stored in the background.
    age = page.get_by_test_id("field-data-age")
    await expect(age).to_contain_text("事项清单更新于")
    await expect(age).to_contain_text(ZH_DATETIME)

    await page.context.set_offline(True)
    try:
        await page.get_by_role("button", name="新建执法记录").click()
        await expect(page).to_have_url(re.compile(r"#/officer/new$"))
        await expect(page.get_by_role("radio", name=re.compile(CG001_NAME))).to_be_visible()
        await expect(page.get_by_test_id("catalogue-note")).to_contain_text("保存在手机上")
        await page.get_by_role("radio", name=re.compile(CG001_NAME)).check()
        await page.get_by_role("radio", name="检查", exact=True).check()
        await next_step(page, "人员")
        partners = page.get_by_test_id("partners")
        await expect(partners.get_by_role("checkbox", name=re.compile("李强"))).to_be_visible()
        await expect(page.get_by_test_id("partners-blocked")).to_contain_text("冯军（执法证已注销）")
        stored = await page.evaluate(
            """async () => {
                const db = await new Promise((ok, bad) => {
                    const r = indexedDB.open('fieldwatch');
                    r.onsuccess = () => ok(r.result);
                    r.onerror = () => bad(r.error);
                });
                const keys = await new Promise((ok) => {
                    const r = db.transaction('cache').objectStore('cache').getAllKeys();
                    r.onsuccess = () => ok(r.result);
                });
                db.close();
                return keys;
            }"""
        )
        assert any(k.endswith(":checklist") for k in stored), stored
    finally:
        await page.context.set_offline(False)


async def fill_record(page: Page, notes: str, **kw) -> None:
    await page.get_by_role("button", name="新建执法记录").click()
    await expect(page.get_by_role("heading", level=1, name="新建执法记录")).to_be_visible()
    await record_form.fill_record(page, CG001_NAME, notes, partner="李强", **kw)


async def take_photo(page: Page) -> None:
    before = await page.get_by_test_id("media-item").count()
    await page.get_by_test_id("take-photo").click()
    shoot = page.get_by_role("button", name="拍照", exact=True)
    await expect(shoot).to_be_enabled()
    await shoot.click()
    await page.get_by_role("button", name="使用这张照片").click()
    await expect(page.get_by_test_id("media-item")).to_have_count(before + 1)


def stored_with(api, notes: str) -> list[dict]:
    client = api("officer1")
    return [
        a
        for a in client.get("/actions", officer_id=client.user["id"], limit=200)["items"]
        if a["notes"] == notes
    ]


async def test_duty_card_says_when_the_position_cannot_be_reported(new_page, password: str) -> None:
    page = await officer_phone(new_page, password, "officer2")
    status = page.get_by_test_id("duty-status")
    await page.get_by_test_id("duty-toggle").click()
    await expect(status).to_contain_text("位置已于")
    sent = re.search(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}", await status.inner_text())
    assert sent
    await page.context.set_offline(True)
    try:
        # The command center sees the last position that reached it, and the card says so.
        await expect(status).to_contain_text("现在没有网络")
        await expect(status).to_contain_text(f"指挥中心看到的是您 {sent.group(0)} 的位置")
        await expect(status).not_to_contain_text("可以看到您")
        await page.reload()
        await expect(status).to_contain_text("现在没有网络")
    finally:
        await page.context.set_offline(False)
    await expect(status).to_contain_text("位置已于")
    await page.get_by_test_id("duty-toggle").click()
    await expect(status).to_contain_text("未在岗")


async def test_each_photo_shows_when_and_where_it_was_taken(new_page, password: str) -> None:
    page = await officer_phone(new_page, password)
    await fill_record(page, "拍照取证", stop_at="取证")
    await take_photo(page)
    stamp = page.get_by_test_id("media-stamp")
    await expect(stamp).to_contain_text(re.compile(r"拍摄于 \d{4}年\d{2}月\d{2}日 \d{2}:\d{2}"))
    await expect(stamp).to_contain_text("位置 29.15000, 107.10000（精度约 12 米）")


async def test_a_short_window_of_signal_is_used_at_once(new_page, api, password: str) -> None:
    """The phone believes it is online but requests fail (no data in a weak cell); the record waits.
    When requests get through again, the next one that does sends the outbox — not a 30 s timer."""
    page = await officer_phone(new_page, password)
    notes = f"信号时有时无 {uuid.uuid4().hex[:8]}"
    await fill_record(page, notes)

    async def no_data(route) -> None:
        if route.request.method == "POST" and route.request.url.endswith("/api/v1/actions"):
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await page.route("**/api/v1/**", no_data)
    await page.get_by_role("button", name="保存并提交").click()
    await expect(page).to_have_url(re.compile(r"#/officer/outbox$"))
    await page.wait_for_timeout(7000)  # a few failed tries: the backoff has grown past this window
    assert stored_with(api, notes) == []
    await page.unroute("**/api/v1/**", no_data)
    opened = time.monotonic()
    # Any request that gets through (here the officer looks up their records) sends the outbox.
    await page.get_by_role("link", name=re.compile("今日执法")).first.click()
    await page.get_by_role("link", name="我的执法记录").click()
    while not stored_with(api, notes):
        assert time.monotonic() - opened < 4, "the record waited although requests got through"
        await page.wait_for_timeout(250)

    # The browser reporting a network sends at once as well.
    await page.get_by_role("link", name=re.compile("今日执法")).first.click()
    notes2 = f"信号恢复 {uuid.uuid4().hex[:8]}"
    await fill_record(page, notes2)
    await page.context.set_offline(True)
    await page.get_by_role("button", name="保存并提交").click()
    await expect(page).to_have_url(re.compile(r"#/officer/outbox$"))
    await page.context.set_offline(False)
    opened = time.monotonic()
    while not stored_with(api, notes2):
        assert time.monotonic() - opened < 4, "the record waited although the browser reported a network"
        await page.wait_for_timeout(250)


async def test_a_video_upload_shows_bytes_sent_and_left(new_page, password: str, tmp_path) -> None:
    page = await officer_phone(new_page, password)
    video = tmp_path / "clip.mp4"
    video.write_bytes(os.urandom(12 * 1024 * 1024))
    held: list = []
    patches = 0

    async def second_patch_hangs(route) -> None:
        nonlocal patches
        if route.request.method == "PATCH":
            patches += 1
            if patches >= 2:
                held.append(route)  # the signal went in the middle of the upload
                return
        await route.continue_()

    await page.route("**/api/v1/uploads**", second_patch_hangs)
    await fill_record(page, f"录像取证 {uuid.uuid4().hex[:8]}", stop_at="取证")
    await page.get_by_test_id("video-input").set_input_files(video)
    await expect(page.get_by_test_id("media-status")).to_contain_text("视频已保存在手机上")
    await next_step(page, "提交")
    await submit(page)
    await expect(page).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    await page.goto("/#/officer/outbox")
    state = page.locator('[data-testid="outbox-media-state"][data-state="sending"]')
    await expect(state).to_contain_text(re.compile(r"已发送 \d+(\.\d)? MB，还剩 \d+(\.\d)? MB"))
    # The first 4 MB part is all through once the second part has started (and is held): only then
    # is the count read, so a slow machine still mid-part does not decide the test.
    for _ in range(300):
        if held:
            break
        await page.wait_for_timeout(100)
    assert held, "the second part never started"
    await expect(state).to_contain_text(re.compile(r"已发送 ([4-9]|1[01])(\.\d)? MB"))
    text = await state.inner_text()
    sent, left = (float(x) for x in re.findall(r"(\d+(?:\.\d)?) MB", text))
    assert sent >= 4 and left > 0 and abs(sent + left - 12) < 0.2, text


async def test_the_duty_card_is_padded_like_every_other_card(new_page, password: str) -> None:
    page = await officer_phone(new_page, password)
    await expect(page.get_by_test_id("duty-status")).to_be_visible()
    pads = await page.evaluate(
        """() => ['[data-testid="certificate"]', '.card.duty'].map((sel) => {
            const s = getComputedStyle(document.querySelector(sel));
            return [s.paddingTop, s.paddingLeft];
        })"""
    )
    assert pads[1] == pads[0] and pads[0] != ["0px", "0px"], pads


def reviewed_spot_check(api, passed: bool) -> dict:
    """A spot-check of officer1, answered with a photo and scored by the supervisor (all through the API)."""
    supervisor, officer = api("supervisor"), api("officer1")
    go_on_duty(api, "officer1")
    check = supervisor.post("/spot-checks", {"officer_id": officer.user["id"]})
    conn = http.client.HTTPConnection(officer.host, int(officer.port), timeout=30)
    try:
        buf = io.BytesIO()
        Image.new("RGB", (320, 240), (20, 90, 160)).save(buf, "JPEG")
        conn.request(
            "POST",
            f"/api/v1/spot-checks/{check['id']}/submission",
            buf.getvalue(),
            {"Authorization": f"Bearer {officer.token}", "Content-Type": "image/jpeg"},
        )
        res = conn.getresponse()
        assert res.status == 201, res.read()
        res.read()
    finally:
        conn.close()
    results = {item["key"]: passed for item in check["checklist"]}
    return supervisor.post(
        f"/spot-checks/{check['id']}/review", {"results": results, "score": 90 if passed else 50}, expect=200
    )


async def test_spot_check_results_do_not_pile_up_on_every_page(new_page, api, password: str) -> None:
    page = await officer_phone(new_page, password)
    first = reviewed_spot_check(api, passed=True)
    second = reviewed_spot_check(api, passed=False)
    banners = page.get_by_test_id("sc-result-banner")
    await expect(banners).to_have_count(1)
    await expect(banners).to_have_attribute("data-check", second["id"])
    await expect(page.get_by_test_id("sc-result-more")).to_contain_text("另有 1 条抽查结果")

    # Another page: still one banner, not one per result.
    await page.get_by_role("link", name="我的执法记录").click()
    await expect(banners).to_have_count(1)

    # The officer opens the newest result: it is seen and does not come back.
    await banners.get_by_role("link", name="查看结果").click()
    await expect(page).to_have_url(re.compile(rf"#/spot-checks/{second['id']}$"))
    await page.go_back()
    await expect(banners).to_have_count(1)
    await expect(banners).to_have_attribute("data-check", first["id"])
    await expect(page.get_by_test_id("sc-result-more")).to_have_count(0)
    await banners.get_by_role("button", name="知道了").click()
    await expect(banners).to_have_count(0)


GEO_STUB = Path(__file__).with_name("geo_stub.js")


async def test_on_duty_the_phone_watches_coarsely_and_sends_only_when_moved(new_page, password: str) -> None:
    page = await new_page()
    await page.add_init_script(path=str(GEO_STUB))
    posts: list[float] = []

    async def count(route) -> None:
        if route.request.method == "POST":
            posts.append(time.monotonic())
            await route.fulfill(status=201, json={})
        else:
            await route.continue_()

    await page.route("**/api/v1/positions", count)
    await sign_in(page, "officer2", password, "officer")
    await page.get_by_test_id("duty-toggle").click()
    await expect(page.get_by_test_id("duty-status")).to_contain_text("位置已于")
    await page.wait_for_timeout(15_000)  # standing at one place
    geo = await page.evaluate("window.__geo")
    assert geo["highWatching"] == 0 and geo["highFixes"] == 0, geo  # no GPS kept on between records
    assert geo["watching"] == 1, geo
    assert len(posts) == 1, posts  # jitter of a few metres is not a move

    await page.evaluate("window.__move(150)")
    moved_at = time.monotonic()
    while len(posts) < 2:
        assert time.monotonic() - moved_at < 5, "a move of 150 m was not reported"
        await page.wait_for_timeout(200)
    await page.get_by_test_id("duty-toggle").click()
    assert (await page.evaluate("window.__geo"))["watching"] == 0


async def in_view(page: Page, locator) -> bool:
    box = await locator.bounding_box()
    height = await page.evaluate("window.innerHeight")
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


async def test_a_missing_field_is_shown_at_the_field_and_clears_when_fixed(new_page, password: str) -> None:
    page = await officer_phone(new_page, password)
    await page.get_by_role("button", name="新建执法记录").click()
    await expect(page.get_by_test_id("items").get_by_role("radio").first).to_be_visible()
    await next_step(page)
    message = page.get_by_test_id("field-error")
    await expect(message).to_have_text("请选择执法事项。")
    await expect(page.get_by_test_id("items").get_by_test_id("field-error")).to_have_count(1)
    assert await in_view(page, message), "the screen did not go to the field"
    await page.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await expect(message).to_have_count(0)  # fixed: the message goes
    await expect(page.get_by_test_id("form-error")).to_have_text("")

    await next_step(page)
    await expect(message).to_have_text("请选择执法类型。")
    assert await in_view(page, message)
    await page.get_by_role("radio", name="检查", exact=True).check()
    await expect(message).to_have_count(0)


async def test_the_record_is_steps_with_the_buttons_in_reach(new_page, password: str) -> None:
    """事项 → 人员 → 当事人 → 现场 → 取证 → 提交: one step on the screen at a time, 下一步 always in reach
    of the thumb (at the bottom of the screen, never scrolled away), 上一步 keeping what was entered."""
    page = await officer_phone(new_page, password)
    await page.get_by_role("button", name="新建执法记录").click()
    await expect(page.get_by_test_id("items").get_by_role("radio").first).to_be_visible()
    nav = page.get_by_test_id("step-next")
    await expect(page.get_by_test_id("step-back")).to_be_hidden()
    assert await in_view(page, nav)
    await page.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await page.get_by_role("radio", name="检查", exact=True).check()
    for step in ("人员", "当事人", "现场", "取证", "提交"):
        await next_step(page, step)
        assert await in_view(page, nav), step
        # only the step's own fields are on the screen
        assert await page.locator(".step:not([hidden])").count() == 1
        if step == "人员":
            await page.get_by_role("checkbox", name=re.compile("李强")).check()
        if step == "现场":
            await page.get_by_label("执法地点").fill("水江镇滨江路12号门前")
    await expect(nav).to_have_text("保存并提交")
    await page.get_by_test_id("step-back").click()
    await expect_step(page, "取证")
    await page.get_by_test_id("step-back").click()
    await expect(page.get_by_label("执法地点")).to_have_value("水江镇滨江路12号门前")
    # The step reached is kept with the draft: leaving and coming back continues there.
    await page.get_by_role("link", name=re.compile("今日执法")).first.click()
    await page.get_by_role("button", name="新建执法记录").click()
    await expect_step(page, "现场")
    await expect(page.get_by_label("执法地点")).to_have_value("水江镇滨江路12号门前")
