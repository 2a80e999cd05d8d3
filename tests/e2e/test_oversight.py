"""Department oversight in a real browser: an officer of the district's city-management bureau opens
the townships' actions under the items the bureau delegated, cannot send an empty finding, sends
one, and the township finds it among its corrective actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e


def _township_action(api: Callable[[str], ApiClient]) -> dict:
    """An inspection by 水江镇 under CG-001, an item of 区城市管理局 delegated to the township."""
    client = api("officer1")
    unit = next(u for u in client.user["units"] if u["name"] == "水江镇")
    items = client.get("/items", unit_id=unit["id"], limit=200)["items"]
    item = next(i for i in items if i["code"] == "CG-001")
    return client.post(
        "/actions",
        {
            "unit_id": unit["id"],
            "item_id": item["id"],
            "kind": "inspection",
            "officer_ids": [client.user["id"], api("officer2").user["id"]],
            "occurred_at": datetime.now(UTC).isoformat(),
            "location": {"lat": 29.158, "lon": 107.097, "accuracy_m": 12},
            "notes": "占道经营检查",
        },
    )


async def test_the_department_reads_a_townships_action_and_raises_a_finding(
    page: Page, api: Callable[[str], ApiClient], password: str
) -> None:
    action = _township_action(api)
    await sign_in(page, "cg1", password, "officer")
    await page.get_by_test_id("oversight-link").click()
    await expect(page.get_by_role("heading", level=1, name="赋权事项执法监督")).to_be_visible()
    row = page.locator(f'[data-testid="overseen-action"][data-id="{action["id"]}"]')
    await expect(row).to_contain_text("水江镇")
    await expect(row).to_contain_text("对占用城市道路违法经营的行政处罚")

    await row.get_by_test_id("raise-finding").click()
    await row.get_by_role("button", name="发送监督意见").click()
    await expect(row.get_by_test_id("finding-note")).to_have_text("请写明监督意见（至少 2 个字）。")
    await row.get_by_label("监督意见").fill("检查时未出示执法证件，请组织学习并说明情况")
    await row.get_by_label("整改期限（工作日）").fill("3")
    await row.get_by_role("button", name="发送监督意见").click()
    await expect(row.get_by_test_id("finding-note")).to_contain_text("监督意见已发送，水江镇需在")
    await expect(page.get_by_test_id("my-findings")).to_contain_text("监督意见")

    # The township sees the finding as its corrective action, pointing at the action.
    tasks = api("officer1").get("/corrective-actions", limit=100)["items"]
    finding = next(t for t in tasks if t["source"] == {"kind": "action", "id": action["id"]})
    assert finding["description"] == "检查时未出示执法证件，请组织学习并说明情况"
    assert finding["status"] == "open"

    # The record opens on its own page, read-only.
    await row.get_by_role("link").first.click()
    await expect(page).to_have_url(f"{page.url.split('#')[0]}#/actions/{action['id']}")
    await expect(page.get_by_text("占道经营检查")).to_be_visible()
