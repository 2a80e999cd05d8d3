"""The audit log screen in a real browser: a supervisor filters the log by action, sees the entries
the API lists for that filter, checks the hash chain and reads that it holds, and downloads the
filtered log."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e


async def test_a_supervisor_filters_checks_and_downloads_the_audit_log(
    page: Page, api: Callable[[str], ApiClient], password: str
) -> None:
    listed = api("supervisor").get("/audit", action="unit.created", limit=50)["items"]
    assert listed, "the demo's units were created and audited"

    await sign_in(page, "supervisor", password, "supervisor")
    await page.get_by_test_id("audit-link").click()
    await expect(page.get_by_test_id("au-entry").first).to_be_visible()
    await page.get_by_test_id("au-action").fill("unit.created")
    await page.get_by_role("button", name="筛选", exact=True).click()
    await expect(page).to_have_url(re.compile(r"#/audit\?action=unit\.created$"))
    await expect(page.get_by_test_id("au-entry")).to_have_count(len(listed))
    await expect(page.get_by_test_id("au-entry").first).to_have_attribute("data-seq", str(listed[0]["seq"]))
    await expect(page.get_by_test_id("au-entry").first).to_contain_text("unit.created")

    await page.get_by_test_id("au-check").click()
    await expect(page.get_by_test_id("au-check-ok")).to_contain_text("校验通过")

    async with page.expect_download() as got:
        await page.get_by_test_id("export-csv").click()
    text = (await (await got.value).path()).read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("序号,时间（北京）,操作人,操作") and len(lines) == len(listed) + 1
    assert all(",unit.created," in line for line in lines[1:])
