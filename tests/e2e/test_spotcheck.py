"""Spot-checks in real browsers: an invited supervisor accepts the link and starts a check on an officer
on duty; the officer answers with the in-app camera (fake camera device); the checker sees the photo
arrive live and scores it; the officer sees 不合格 and appeals. Plus the supervisor's invitation screen
and the messages for links that no longer work."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
GEO = {"latitude": 29.16, "longitude": 107.11, "accuracy": 15}
SHOTS = os.environ.get("FIELDWATCH_E2E_SCREENSHOTS")
ZH_SECONDS = re.compile(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}:\d{2}")
INVITEE_PASSWORD = "Jiandu-2026-renda"


async def shot(page: Page, name: str) -> None:
    """Save the screen when FIELDWATCH_E2E_SCREENSHOTS names a folder."""
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def unit_id(api, name: str) -> str:
    units = api("supervisor").get("/units", limit=200)["items"]
    return next(u["id"] for u in units if u["name"] == name)


def invite(api, name: str, units: list[str], expires_in: timedelta = timedelta(days=30)) -> dict:
    return api("supervisor").post(
        "/invitations",
        {
            "name": name,
            "phone": "13900001111",
            "unit_ids": units,
            "expires_at": (datetime.now(UTC) + expires_in).isoformat(),
        },
    )


def go_on_duty(api, username: str) -> None:
    officer = api(username)
    status, body = officer.call(
        "POST",
        "/positions",
        {"lat": 29.16, "lon": 107.11, "accuracy_m": 12, "at": datetime.now(UTC).isoformat()},
    )
    if status != 201:
        # Only refused as too soon after a position already sent, which itself puts the officer on duty.
        assert status == 429 and body["code"] == "rate_limited", body
    me = officer.call("GET", "/me")[1]["id"]
    status, listed = officer.call("GET", "/positions")
    assert status == 200 and me in {p["user_id"] for p in listed}, listed


async def has_pixels(page: Page, testid: str) -> None:
    """Wait until the <img> or <video> with this test id shows a real picture."""
    await page.wait_for_function(
        """(id) => {
            const el = document.querySelector(`[data-testid="${id}"]`);
            return Boolean(el && (el.naturalWidth || el.videoWidth));
        }""",
        arg=testid,
    )


async def no_file_input(page: Page) -> None:
    assert await page.locator("input[type=file]").count() == 0, "the answer must not offer a file picker"


async def test_invited_supervisor_spot_check_end_to_end(new_page, api, password: str) -> None:
    invitation = invite(api, "王代表", [unit_id(api, "水江镇")])
    token = invitation["token"]

    # The invitee opens the link on their own phone, sets a password and lands on the invited home.
    checker = await new_page(viewport=PHONE)
    await checker.goto(invitation["link"])
    await expect(checker.get_by_role("heading", level=1, name="特邀行政执法监督员")).to_be_visible()
    await expect(checker.get_by_test_id("invite-intro")).to_contain_text("设置密码后")
    await expect(checker).to_have_url(re.compile(r"#/invite$"))
    assert token not in checker.url
    await expect(checker.get_by_test_id("invite-greeting")).to_contain_text("王代表")
    # The invitee chooses the user name (nothing generated to forget); an empty one is asked for.
    assert await checker.get_by_label("用户名").input_value() == ""
    await checker.get_by_label("设置密码").fill(INVITEE_PASSWORD)
    await checker.get_by_label("再次输入密码").fill(INVITEE_PASSWORD)
    await checker.get_by_role("button", name="接受邀请").click()
    await expect(checker.get_by_test_id("invite-error")).to_contain_text("请设定一个用户名")
    username = f"wangdb{uuid.uuid4().hex[:6]}"
    await checker.get_by_label("用户名").fill(username)
    await shot(checker, "invite-page")
    await checker.get_by_label("设置密码").fill(INVITEE_PASSWORD)
    await checker.get_by_label("再次输入密码").fill(INVITEE_PASSWORD)
    await checker.get_by_role("button", name="接受邀请").click()
    await expect(checker).to_have_url(re.compile(r"#/invited$"))
    await expect(checker.get_by_role("heading", level=1, name="特邀监督员")).to_be_visible()
    await expect(checker.get_by_test_id("sc-flash")).to_contain_text(username)
    await expect(checker.get_by_test_id("invited-intro")).to_contain_text("发起抽查")
    assert token not in await checker.evaluate("() => location.href")

    # officer1 is on duty and has the app open.
    go_on_duty(api, "officer1")
    officer = await new_page(viewport=PHONE, permissions=["geolocation", "camera"], geolocation=GEO)
    await sign_in(officer, "officer1", password, "officer")

    # The checker starts a spot-check on 张伟 from the on-duty list.
    await checker.reload()
    row = checker.get_by_test_id("duty-row").filter(has_text="张伟")
    await expect(row).to_be_visible()
    await shot(checker, "invited-home")
    await row.get_by_role("button", name="发起抽查").click()
    await row.get_by_role("button", name="确认发起").click()
    await expect(checker).to_have_url(re.compile(r"#/spot-checks/[0-9a-f-]{36}$"))
    check_id = checker.url.rsplit("/", 1)[1]
    await expect(checker.get_by_test_id("sc-waiting")).to_contain_text("正在等待张伟拍照回应")
    await expect(checker.get_by_test_id("sc-flash")).to_contain_text("已通知张伟")

    # The officer's phone shows the banner with a running countdown, whatever page is open.
    banner = officer.get_by_test_id("sc-banner")
    await expect(banner).to_be_visible(timeout=5000)
    await expect(banner).to_contain_text("抽查通知")
    countdown = officer.get_by_test_id("sc-banner-countdown")
    await expect(countdown).to_have_text(re.compile(r"剩余\s+(09:[0-5]\d|10:00)"))
    first = await countdown.inner_text()
    await expect(countdown).not_to_have_text(first, timeout=3000)
    await no_file_input(officer)
    await shot(officer, "spotcheck-officer-banner")

    # It answers with the in-app camera: take the picture, look at it, submit.
    await banner.get_by_role("link", name="立即拍照回应").click()
    await expect(officer).to_have_url(re.compile(rf"#/spot-checks/{check_id}$"))
    await expect(officer.get_by_test_id("sc-banner")).to_have_count(0)
    shoot = officer.get_by_role("button", name="拍照", exact=True)
    await expect(shoot).to_be_enabled()
    await has_pixels(officer, "camera-video")
    await no_file_input(officer)
    await shoot.click()
    await expect(officer.get_by_test_id("camera-preview")).to_be_visible()
    await shot(officer, "spotcheck-officer-camera")
    await no_file_input(officer)
    await officer.get_by_role("button", name="提交照片").click()
    await expect(officer.get_by_test_id("sc-flash")).to_contain_text("照片已提交")
    await expect(officer.get_by_test_id("sc-waiting-review")).to_be_visible()

    # The checker sees the photo arrive by itself, with the server's receipt time and the deadline met.
    photo = checker.get_by_test_id("answer-media")
    await expect(photo).to_be_visible(timeout=10000)
    await has_pixels(checker, "answer-media")
    assert (await photo.get_attribute("src") or "").startswith("blob:")
    await expect(checker.get_by_test_id("received-at")).to_have_text(ZH_SECONDS)
    await expect(checker.get_by_test_id("deadline-met")).to_contain_text("按时回应")
    await shot(checker, "spotcheck-checker-photo")

    # Score: the first item 不合格, every other item 合格.
    checklist = api("supervisor").get(f"/spot-checks/{check_id}")["checklist"]
    failed_key = checklist[0]["key"]
    for i, item in enumerate(checklist):
        verdict = "fail" if i == 0 else "pass"
        await checker.get_by_test_id(f"toggle-{item['key']}-{verdict}").click()
    await expect(checker.get_by_test_id(f"toggle-{failed_key}-fail")).to_contain_text("不合格")
    await expect(checker.get_by_test_id("review-score")).to_have_value("80")
    await checker.get_by_label("评议意见").fill("未按规定佩戴标志")
    await shot(checker, "spotcheck-checker-review")
    await checker.get_by_role("button", name="提交评议").click()
    await expect(checker.get_by_test_id("sc-outcome")).to_contain_text("不合格")
    await expect(checker.get_by_test_id("sc-flash")).to_contain_text("评议已提交")

    # The officer sees 不合格 live and appeals, once.
    await expect(officer.get_by_test_id("sc-outcome")).to_contain_text("不合格", timeout=10000)
    failed_item = officer.get_by_test_id("sc-results").locator(f"[data-key='{failed_key}']")
    await expect(failed_item).to_contain_text("不合格")
    await no_file_input(officer)
    appeal_text = "当时正在处置突发情况，标志在执法记录仪画面中可见"
    await officer.get_by_label("申诉理由").fill(appeal_text)
    await officer.get_by_role("button", name="提交申诉").click()
    await expect(officer.get_by_test_id("sc-flash")).to_contain_text("申诉已提交")
    await expect(officer.get_by_test_id("appeal-state")).to_have_text("申诉待处理")
    await expect(officer.get_by_test_id("appeal-form")).to_have_count(0)
    await shot(officer, "spotcheck-officer-result")

    stored = api("supervisor").get(f"/spot-checks/{check_id}")
    assert stored["status"] == "failed"
    assert stored["results"][failed_key] is False
    assert all(v for k, v in stored["results"].items() if k != failed_key)
    assert stored["score"] == 80 and stored["comment"] == "未按规定佩戴标志"
    assert stored["appeal"]["comment"] == appeal_text and stored["appeal"]["decision"] is None
    assert stored["evidence_id"] and stored["submitted_at"] <= stored["due_at"]
    assert stored["officer_id"] == api("officer1").user["id"]
    assert "decide_appeal" in stored["allowed"]

    # A supervisor decides the appeal on the same page; the officer sees the decision arrive.
    supervisor = await new_page(viewport=PHONE)
    await sign_in(supervisor, "supervisor", password, "supervisor")
    await supervisor.goto(f"/#/spot-checks/{check_id}")
    await expect(supervisor.get_by_test_id("appeal-comment")).to_have_text(appeal_text)
    await supervisor.get_by_label("处理意见").fill("照片中未见标志，维持原评议")
    await supervisor.get_by_role("button", name="维持原评议").click()
    await expect(supervisor.get_by_test_id("appeal-state")).to_have_text("监督科维持原评议")
    await expect(officer.get_by_test_id("appeal-state")).to_have_text("监督科维持原评议", timeout=10000)
    decided = api("supervisor").get(f"/spot-checks/{check_id}")
    assert decided["status"] == "failed" and decided["appeal"]["decision"] == "upheld"


async def test_supervisor_invites_with_qr_code_and_revokes(new_page, api, password: str) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, "supervisor", password, "supervisor")
    await page.get_by_test_id("spot-checks-link").click()
    await expect(page).to_have_url(re.compile(r"#/spot-checks$"))
    await expect(page.get_by_role("heading", level=1, name="抽查与特邀监督员")).to_be_visible()

    form = page.get_by_test_id("inv-form")
    await form.get_by_label("受邀人姓名").fill("李委员")
    await form.get_by_label("手机号").fill("13800005555")
    await form.get_by_label("三泉镇").check()
    await form.get_by_role("button", name="生成邀请").click()
    result = page.get_by_test_id("inv-result")
    await expect(result).to_contain_text("请把邀请交给李委员")
    qr = page.get_by_test_id("inv-qr")
    await expect(qr).to_be_visible()
    assert (await qr.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
    await has_pixels(page, "inv-qr")
    link = await page.get_by_test_id("inv-link").input_value()
    assert "#/invite/" in link
    await result.scroll_into_view_if_needed()
    await shot(page, "supervisor-invitation")

    row = page.get_by_test_id("inv-row").filter(has_text="李委员")
    await expect(row).to_contain_text("待接受")
    await expect(row).to_contain_text("138****5555")
    await expect(row).to_contain_text("三泉镇")
    await row.get_by_role("button", name="撤销").click()
    await row.get_by_role("button", name="确认撤销").click()
    await expect(page.get_by_test_id("inv-row").filter(has_text="李委员")).to_contain_text("已撤销")
    stored = [i for i in api("supervisor").get("/invitations") if i["name"] == "李委员"]
    assert [i["status"] for i in stored] == ["revoked"]


async def test_links_that_no_longer_work_say_so_plainly(new_page, api) -> None:
    town = unit_id(api, "水江镇")
    supervisor = api("supervisor")
    used = invite(api, "赵代表", [town])
    status, _ = supervisor.call(
        "POST", "/invitations/accept", {"token": used["token"], "password": INVITEE_PASSWORD}, auth=False
    )
    assert status == 201
    revoked = invite(api, "钱代表", [town])
    status, _ = supervisor.call("DELETE", f"/invitations/{revoked['invitation']['id']}")
    assert status == 200
    expiring = invite(api, "孙代表", [town], expires_in=timedelta(seconds=2))
    fresh = invite(api, "周代表", [town])
    tampered = fresh["link"][:-4] + ("aaaa" if not fresh["link"].endswith("aaaa") else "bbbb")
    await asyncio.sleep(2.5)

    cases = [
        (used["link"], "已经使用过"),
        (revoked["link"], "已被撤销"),
        (expiring["link"], "已过期"),
        (tampered, "邀请链接无效"),
    ]
    for link, message in cases:
        page = await new_page(viewport=PHONE)
        await page.goto(link)
        # Said at once: nothing is filled in for a link that cannot work.
        problem = page.get_by_test_id("invite-problem")
        await expect(problem).to_contain_text(message)
        await expect(problem).not_to_contain_text(re.compile(r"[A-Za-z]|\b[45]\d\d\b"))
        await expect(page.get_by_test_id("invite-form")).to_have_count(0)
        assert "#/invite/" not in page.url
