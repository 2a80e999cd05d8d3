"""Share links in a real browser: a supervisor shares a photo with a court from its evidence page; the
judge, on another phone with no account, opens the link, types the access code, sees the photo
stamped with their name and downloads the original; the supervisor sees the views in the custody
trail and on the shares page, and revokes the link, which then stops working."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_evidence_view import phone_photo, record_action, upload

pytestmark = pytest.mark.e2e


async def test_a_judge_opens_a_shared_photo_and_the_supervisor_revokes_it(
    page, new_page, api, password
) -> None:
    taken = datetime.now(UTC) - timedelta(minutes=3)
    photo = upload(api("officer1"), record_action(api)["id"], phone_photo(taken), taken)

    await sign_in(page, "supervisor", password, "supervisor")
    await page.goto(f"/#/evidence/{photo['id']}")
    card = page.get_by_test_id("share")
    await card.get_by_test_id("share-open").click()
    await card.get_by_test_id("share-create").click()
    await expect(card.get_by_role("alert")).to_have_text("请填写接收人姓名和接收单位。")  # nothing sent
    await card.get_by_label("接收人姓名").fill("张法官")
    await card.get_by_label("接收单位").fill("南川区人民法院")
    await card.get_by_label("用途").select_option("court")
    await card.get_by_label("需要访问码（另行告知对方）").check()
    await card.get_by_test_id("share-create").click()
    link = await card.get_by_test_id("share-link").input_value()
    code_line = await card.get_by_test_id("share-code-shown").inner_text()
    code = code_line.split("访问码：")[1][:6]
    assert "/#/shared/" in link and code.isdigit()

    judge = await new_page(accept_downloads=True)
    await judge.goto(link)
    await expect(judge.get_by_test_id("shared-code")).to_be_visible()
    assert link.split("#/shared/")[1] not in judge.url  # the token left the address bar
    await judge.get_by_test_id("shared-code").fill("000000" if code != "000000" else "111111")
    await judge.get_by_test_id("shared-code-send").click()
    await expect(judge.get_by_role("alert")).to_have_text("访问码不正确，还可尝试 4 次。")
    await judge.get_by_test_id("shared-code").fill(code)
    await judge.get_by_test_id("shared-code-send").click()
    await expect(judge.get_by_test_id("shared-for")).to_contain_text("仅供 南川区人民法院 张法官 查阅")
    image = judge.get_by_test_id("shared-preview")
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    async with judge.expect_download() as started:
        await judge.get_by_test_id("shared-download").click()
    saved = await (await started.value).path()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == photo["sha256"]

    # The supervisor's trail names the court; the shares page counts the view and the download.
    await page.reload()
    trail = page.get_by_test_id("custody")
    await expect(trail.locator('[data-action="evidence.shared_viewed"]')).to_contain_text(
        "南川区人民法院 张法官"
    )
    await expect(trail.locator('[data-action="evidence.shared_downloaded"]')).to_contain_text("外部下载原件")
    await page.goto("/#/shares")
    row = page.get_by_test_id("share-row").first
    await expect(row.get_by_test_id("share-state")).to_have_text("有效")
    await row.get_by_test_id("share-details").click()
    await expect(row.get_by_test_id("share-counts")).to_contain_text("查看 1 次 · 下载 1 次")
    await row.get_by_test_id("share-revoke").click()
    await row.get_by_test_id("share-revoke-reason").fill("调卷完毕")
    await row.get_by_test_id("share-revoke-send").click()
    await expect(page.get_by_test_id("share-revoked")).to_be_visible()
    await expect(page.get_by_test_id("share-row").first.get_by_test_id("share-state")).to_have_text("已撤回")

    await judge.reload()
    await expect(judge.get_by_test_id("shared-problem")).to_have_text("此分享链接已被发送单位撤回。")
