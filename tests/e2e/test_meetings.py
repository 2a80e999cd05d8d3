"""Joint meetings in a real browser: the supervisor records a 联席会议 with one resolution for 水江镇
from the supervisor home and sees it as an open task on the meeting page; 水江镇's responder
(officer1) sees the task in the unit's task list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

BEIJING = timezone(timedelta(hours=8))


async def test_a_joint_meetings_resolution_is_an_open_task_the_township_sees(
    page: Page, new_page, password: str
) -> None:
    due = (datetime.now(BEIJING).date() + timedelta(days=14)).isoformat()
    await sign_in(page, "supervisor", password, "supervisor")
    await page.get_by_test_id("meetings-link").click()
    await expect(page.get_by_test_id("meeting-form")).to_contain_text("参会单位")
    await page.get_by_test_id("meeting-title").fill("第一次行政执法协调监督联席会议")
    await page.get_by_label("水江镇", exact=True).check()
    await page.get_by_test_id("meeting-issues").fill("乡镇执法人员持证率偏低")
    await page.get_by_test_id("resolution-text").fill("水江镇一个月内组织执法人员培训考试")
    await page.get_by_test_id("resolution-owner").select_option(label="水江镇")
    await page.get_by_test_id("resolution-due").fill(due)
    await page.get_by_test_id("meeting-send").click()

    await expect(page.get_by_test_id("meeting-name")).to_have_text("第一次行政执法协调监督联席会议")
    row = page.get_by_test_id("resolution-row")
    await expect(row).to_have_count(1)
    await expect(row.get_by_test_id("resolution-status")).to_have_text("待落实")
    task_href = await row.get_by_test_id("resolution-task").get_attribute("href")
    assert task_href and task_href.startswith("#/tasks/")

    responder = await new_page()
    await sign_in(responder, "officer1", password, "officer")
    await responder.goto("/#/tasks")
    await expect(responder.locator(f'[data-testid="task-row"][href="{task_href}"]')).to_have_attribute(
        "data-status", "open"
    )
