"""今日待办 in a real browser: a spot-check asked of an officer waits at the top of the officer's home
and opens from there; a person with nothing to do is told so, and what would appear."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e


async def test_a_spot_check_waits_on_the_officers_home_and_opens_from_it(
    page: Page, api: Callable[[str], ApiClient], password: str
) -> None:
    officer = api("officer6")
    check = api("supervisor").post("/spot-checks", {"officer_id": officer.user["id"]})
    await sign_in(page, "officer6", password, "officer")
    card = page.get_by_test_id("today")
    await expect(card.get_by_role("heading", name="今日待办")).to_be_visible()
    entry = card.locator('[data-testid="today-item"][data-key="spot_checks.to_answer"]')
    await expect(entry).to_contain_text("待回复的现场抽查")
    await expect(entry.get_by_test_id("today-count")).to_have_text(re.compile(r"^\d+ 项$"))
    await expect(entry).to_contain_text("最早")
    await entry.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(r"#/spot-checks/[0-9a-f-]+$"))
    assert check["status"] == "requested"


async def test_a_person_with_nothing_waiting_is_told_what_would_appear(page: Page, password: str) -> None:
    await sign_in(page, "cg2", password, "officer")
    await expect(page.get_by_test_id("today-empty")).to_contain_text("现在没有等您处理的事项")
    await expect(page.get_by_test_id("today-empty")).to_contain_text("待报的月报会出现在这里")
