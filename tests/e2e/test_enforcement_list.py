"""The 执法事项清单 in a real browser: an officer opens their township's list from the home page and
sees exactly what the township may enforce today, each with its authority; a past day shows what was
delegated then; another unit's list opens from the picker; the downloads are files."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e


async def test_an_officer_opens_and_downloads_the_townships_enforcement_list(
    page: Page, api: Callable[[str], ApiClient], password: str
) -> None:
    client = api("officer1")
    unit = next(u for u in client.user["units"] if u["name"] == "水江镇")
    today = client.get(f"/units/{unit['id']}/enforcement-list")
    assert today["entries"], "the demo township may enforce some items"
    delegated = sum(e["authority"] == "delegated" for e in today["entries"])

    await sign_in(page, "officer1", password, "officer")
    link = page.get_by_test_id("enforcement-list-link").filter(has_text="水江镇")
    if await link.count() == 0:  # an officer of one unit: the link has no unit name
        link = page.get_by_test_id("enforcement-list-link")
    await link.first.click()
    await expect(page.get_by_test_id("el-title")).to_have_text("水江镇行政执法事项清单")
    await expect(page.get_by_test_id("el-count")).to_have_attribute("data-count", str(len(today["entries"])))
    await expect(page.get_by_test_id("el-entry")).to_have_count(len(today["entries"]))
    await expect(page.locator('[data-testid="el-entry"][data-authority="delegated"]')).to_have_count(
        delegated
    )
    first = today["entries"][0]["item"]
    await expect(page.locator(f'[data-testid="el-entry"][data-item="{first["id"]}"]')).to_contain_text(
        first["code"]
    )

    # The demo's lapsed delegation (HB-002, the pilot period only) is on the list of a day in it.
    await page.get_by_test_id("el-on").fill("2023-01-10")
    await page.get_by_test_id("el-on").dispatch_event("change")
    then = client.get(f"/units/{unit['id']}/enforcement-list", on="2023-01-10")
    await expect(page.get_by_test_id("el-count")).to_have_attribute("data-count", str(len(then["entries"])))
    await expect(page.get_by_test_id("el-entries")).to_contain_text("HB-002")

    async with page.expect_download() as got:
        await page.get_by_test_id("export-csv").click()
    download = await got.value
    text = (await download.path()).read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("事项编码,事项名称") and "HB-002" in text
    await expect(page.get_by_test_id("el-print")).to_be_visible()

    # The home links of the desk roles open a list straight away: the viewer's own unit's, else the
    # first township's.
    await page.goto("/#/enforcement-list")
    await expect(page).to_have_url(re.compile(r"#/units/[0-9a-f-]+/enforcement-list$"))
    own = sorted(u["name"] for u in client.user["units"])[0]
    await expect(page.get_by_test_id("el-title")).to_have_text(f"{own}行政执法事项清单")
