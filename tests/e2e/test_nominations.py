"""Nominations of invited supervisors in real browsers: a person applies on #/nominate without
signing in, choosing the unit they would supervise from the public list; the supervisor sees that
choice, selects the application with the unit and a period and gets the invitation link; on the
person's own phone the link sets a password and lands on the invited supervisor's home; the roster
then shows them active with the unit, the period and no spot-checks yet."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
INVITEE_PASSWORD = "Jiandu-2026-tuixiu"


async def test_a_person_applies_is_selected_and_accepts_the_invitation(
    page: Page, new_page: Callable[..., Awaitable[Page]], password: str
) -> None:
    name = f"刘退休{uuid.uuid4().hex[:4]}"

    # The applicant, not signed in, fills in the public form.
    applicant = await new_page(viewport=PHONE)
    await applicant.goto("/#/nominate")
    await expect(applicant.get_by_role("heading", level=1, name="报名特邀行政执法监督员")).to_be_visible()
    await applicant.get_by_role("button", name="提交报名").click()
    await expect(applicant.get_by_test_id("nm-error")).to_have_text("请填写姓名。")
    await applicant.get_by_label("姓名").fill(name)
    await applicant.get_by_label("手机号码").fill("1390000")
    await applicant.get_by_role("button", name="提交报名").click()
    await expect(applicant.get_by_test_id("nm-error")).to_have_text("请填写正确的手机号码或固定电话。")
    await applicant.get_by_label("手机号码").fill("13900005555")
    await applicant.get_by_label("退休干部").check()
    await applicant.get_by_label("工作单位或职业").fill("原水江镇人民政府")
    await applicant.get_by_label("个人简介及报名理由").fill("退休后愿意参与行政执法监督。")
    await applicant.get_by_test_id("nm-units").get_by_label("水江镇", exact=True).check()
    await applicant.get_by_role("button", name="提交报名").click()
    done = applicant.get_by_test_id("nm-done")
    await expect(done).to_contain_text("报名已提交")
    await expect(done).not_to_contain_text(name)
    await expect(applicant).to_have_url(re.compile(r"#/nominate$"))

    # The supervisor selects it from the queue, with a unit and the default one-year period.
    await sign_in(page, "supervisor", password, "supervisor")
    await page.get_by_test_id("nominations-link").click()
    await expect(page).to_have_url(re.compile(r"#/nominations$"))
    row = page.get_by_test_id("nq-row").filter(has_text=name)
    await expect(row.get_by_test_id("nq-state")).to_have_text("待处理")
    await expect(row).to_contain_text("个人报名")
    await expect(row).to_contain_text("希望监督：水江镇")
    await row.get_by_test_id("nq-select").click()
    await expect(row.get_by_label("水江镇", exact=True)).to_be_checked()  # the applicant's choice
    await row.get_by_test_id("nq-select-send").click()
    link = await page.get_by_test_id("nq-link").input_value()
    assert "#/invite/" in link
    await expect(page.get_by_test_id("nq-result")).to_contain_text(name)

    # On the person's own phone the link sets a password and signs them in.
    invitee = await new_page(viewport=PHONE)
    await invitee.goto(link)
    await expect(invitee).to_have_url(re.compile(r"#/invite$"))
    await invitee.get_by_label("用户名").fill(f"liutx{uuid.uuid4().hex[:6]}")
    await invitee.get_by_label("设置密码").fill(INVITEE_PASSWORD)
    await invitee.get_by_label("再次输入密码").fill(INVITEE_PASSWORD)
    await invitee.get_by_role("button", name="接受邀请").click()
    await expect(invitee).to_have_url(re.compile(r"#/invited$"))
    await expect(invitee.get_by_role("heading", level=1, name="特邀监督员")).to_be_visible()

    # The roster shows them active, with the unit, the period and their (empty) spot-check record.
    await page.goto("/#/invited-supervisors")
    entry = page.get_by_test_id("ro-row").filter(has_text=name)
    await expect(entry.get_by_test_id("ro-state")).to_have_text("在聘")
    await expect(entry).to_contain_text("退休干部")
    await expect(entry.get_by_test_id("ro-units")).to_contain_text("水江镇")
    await expect(entry.get_by_test_id("ro-period")).to_contain_text("聘期")
    await expect(entry.get_by_test_id("ro-checks")).to_have_text(
        "抽查：发起 0 次，合格 0，不合格 0，未答复 0"
    )
