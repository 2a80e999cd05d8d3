"""Monthly reports and the assessment in a real browser: 水江镇's responder (officer1) opens last
month's report from the inbox, the actions figure opens exactly the records it counts, a submission
without the whole narrative is refused in words, a complete one is submitted; the supervisor sees it
submitted in the month's overview and accepts it; the assessment shows the bar chart and the table,
and an indicator's value opens as many records as it counts; the unit's 更正 opens a new draft version."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e

BEIJING = timezone(timedelta(hours=8))
ACTIONS = 3


def last_month() -> tuple[int, int]:
    today = datetime.now(BEIJING).date()
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def record_last_month(api: Callable[[str], ApiClient], n: int) -> dict[str, Any]:
    """`n` on-site inspections by officer1 and officer2 of 水江镇 in the middle of last month."""
    client = api("officer1")
    unit = next(u for u in client.user["units"] if u["name"] == "水江镇")
    item = next(
        i for i in client.get("/items", unit_id=unit["id"], limit=200)["items"] if i["code"] == "CG-001"
    )
    year, month = last_month()
    for day in range(10, 10 + n):
        client.post(
            "/actions",
            {
                "unit_id": unit["id"],
                "item_id": item["id"],
                "kind": "inspection",
                "officer_ids": [client.user["id"], api("officer2").user["id"]],
                "occurred_at": datetime(year, month, day, 10, 0, tzinfo=BEIJING).isoformat(),
                "location": {"lat": 29.158, "lon": 107.097, "accuracy_m": 12},
                "address": "水江镇滨江路12号门前",
                "notes": "月度报告测试：现场检查",
            },
        )
    return unit


async def test_a_unit_submits_its_month_and_the_bureau_accepts_and_ranks_it(
    page: Page, new_page: Callable[..., Awaitable[Page]], api: Callable[[str], ApiClient], password: str
) -> None:
    unit = record_last_month(api, ACTIONS)
    page.on("dialog", lambda dialog: dialog.accept())  # 报送 asks first

    # The responder opens last month's report from the inbox.
    await sign_in(page, "officer1", password, "officer")
    await page.goto("/#/inbox")
    await page.get_by_test_id("home-report").click()
    await expect(page.get_by_test_id("report-status")).to_have_text("草稿")
    figure = page.locator('[data-testid="figure"][data-key="actions.total"]')
    await expect(figure).to_have_text(str(ACTIONS))
    await figure.click()
    await expect(page.get_by_test_id("records-count")).to_have_attribute("data-count", str(ACTIONS))
    await expect(page.get_by_test_id("records-count")).to_have_text(f"共 {ACTIONS} 条记录")
    await expect(page.get_by_test_id("record")).to_have_count(ACTIONS)
    first = page.get_by_test_id("record").first
    await expect(first.locator("a")).to_have_attribute(
        "href", f"#/actions/{await first.get_attribute('data-id')}"
    )
    await page.get_by_role("link", name="返回报告").click()

    # Only 进展 written: the server refuses, in words; with all three the report is submitted.
    await page.get_by_label("进展", exact=True).fill("本月开展现场检查3次，均全程记录。")
    await page.get_by_test_id("report-submit").click()
    await expect(page.get_by_test_id("report-message")).to_have_text("请先填写进展、问题和下一步，再报送。")
    await page.get_by_label("问题", exact=True).fill("个别执法人员取证不规范。")
    await page.get_by_label("下一步", exact=True).fill("开展取证规范培训。")
    await page.get_by_test_id("report-submit").click()
    await expect(page.get_by_test_id("report-status")).to_have_text("已报送")
    await expect(page.get_by_test_id("submitted-at")).to_contain_text("报送于")
    await expect(page.get_by_test_id("narrative-progress")).to_have_text("本月开展现场检查3次，均全程记录。")
    await expect(page.get_by_test_id("report-submit")).to_have_count(0)  # read-only once submitted
    await expect(page.get_by_test_id("trend-chart").locator("rect")).to_have_count(6)
    async with page.expect_download() as started:  # a blob behind the bearer header
        await page.get_by_test_id("export-csv").click()
    download = await started.value
    assert download.suggested_filename.endswith(".csv") and "token" not in download.url
    assert "执法行为" in (await download.path()).read_text(encoding="utf-8-sig")

    # The bureau sees it submitted in the overview and accepts it.
    sup = await new_page()
    await sign_in(sup, "supervisor", password, "supervisor")
    await sup.get_by_test_id("reports-link").click()
    row = sup.locator(f'[data-testid="overview-unit"][data-unit="{unit["id"]}"]')
    await expect(row.get_by_test_id("report-status")).to_have_text("已报送")
    await row.get_by_role("link").click()
    await expect(sup.locator('[data-testid="figure"][data-key="actions.total"]')).to_have_text(str(ACTIONS))
    await sup.get_by_test_id("report-accept").click()
    await expect(sup.get_by_test_id("report-status")).to_have_text("已采纳")
    await expect(sup.get_by_test_id("report-accept")).to_have_count(0)
    await sup.get_by_label("写意见").fill("请继续保持全过程记录。")
    await sup.get_by_test_id("comment-send").click()
    await expect(sup.get_by_test_id("comment")).to_contain_text("请继续保持全过程记录。")

    # The assessment: the chart and the table; a value opens as many records as it counts.
    await sup.goto("/#/supervisor")
    await sup.get_by_test_id("ranking-link").click()
    table = sup.get_by_test_id("assessment-table")
    await expect(table).to_be_visible()
    rows = await sup.get_by_test_id("assessment-row").count()
    scored = await sup.get_by_test_id("score").filter(has_not_text="—").count()
    assert rows >= 1 and scored >= 1
    await expect(sup.get_by_test_id("score-chart").locator("rect")).to_have_count(scored)
    ours = sup.locator(
        f'[data-testid="assessment-row"][data-unit="{unit["id"]}"] [data-testid="indicator-value"]'
    )
    numerators = [
        float(await ours.nth(i).get_attribute("data-numerator") or 0) for i in range(await ours.count())
    ]
    pick = next(i for i, n in enumerate(numerators) if n > 0)
    counted = int(numerators[pick])
    await ours.nth(pick).click()
    await expect(sup.get_by_test_id("records-count")).to_have_attribute("data-count", str(counted))
    await expect(sup.get_by_test_id("record")).to_have_count(min(counted, 50))
    await expect(sup.get_by_test_id("tab-numerator")).to_contain_text(f"（{counted}）")

    # 更正 makes a new draft version and opens it; the accepted one stays as it was.
    accepted_url = page.url
    await page.reload()
    await expect(page.get_by_test_id("report-status")).to_have_text("已采纳")
    await page.get_by_test_id("report-correct").click()
    await expect(page).not_to_have_url(accepted_url)
    await expect(page.get_by_test_id("report-status")).to_have_text("草稿")
    await expect(page.get_by_text("第 2 版")).to_be_visible()
    await expect(page.get_by_label("进展", exact=True)).to_have_value("本月开展现场检查3次，均全程记录。")
