"""An item's page in the admin's catalogue: found by its code on the server, its name and its
full-recording rule changed (the code stays), the change shown in its history, and its delegation
to a township ended on a day, after which the township no longer has the item."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e

BEIJING = timezone(timedelta(hours=8))


async def test_an_admin_changes_an_item_and_ends_its_delegation(
    page: Page, api: Callable[[str], ApiClient], password: str
) -> None:
    admin = api("admin")
    tag = uuid.uuid4().hex[:6]
    code, name = f"CAT-{tag}", f"对擅自占用道路的处罚{tag}"
    [owner] = admin.get("/units", q="区城市管理局", kind="department")["items"]
    [town] = admin.get("/units", q="水江镇", kind="township")["items"]
    item = admin.post("/items", {"code": code, "name": name, "kind": "penalty", "owner_unit_id": owner["id"]})
    admin.post(f"/items/{item['id']}/delegations", {"unit_id": town["id"], "effective_from": "2024-01-01"})
    mine = {i["code"] for i in admin.get("/items", unit_id=town["id"], q=tag)["items"]}
    assert mine == {code}

    await sign_in(page, "admin", password, "admin")
    await page.goto("/#/admin/items")
    await page.get_by_test_id("ad-item-search").fill(tag)
    rows = page.get_by_test_id("ad-item")
    await expect(rows).to_have_count(1)
    await rows.get_by_test_id("ad-item-link").click()
    await expect(page).to_have_url(re.compile(r"#/admin/items\?id="))
    await expect(page.get_by_test_id("ad-item-title")).to_have_text(f"{code} {name}")
    await expect(page.get_by_test_id("ad-ie-code")).to_have_text(code)

    form = page.get_by_test_id("ad-ie-form")
    await form.get_by_label("事项名称").fill(f"{name}（修订）")
    await form.get_by_label("全过程记录（音像记录）").select_option(label="本事项每次执法都须音像记录")
    await form.get_by_role("button", name="保存").click()
    await expect(form.get_by_test_id("ad-message")).to_have_text("已保存。")
    history = page.get_by_test_id("ad-hist").filter(has_text="修改事项")
    await expect(history.get_by_test_id("ad-hist-detail")).to_contain_text(f"名称：{name} → {name}（修订）")
    await expect(history.get_by_test_id("ad-hist-detail")).to_contain_text(
        "全过程记录：按执法行为和事项类别的统一规定 → 本事项每次执法都须音像记录"
    )

    delegation = page.locator('[data-testid="ad-dl"][data-unit="水江镇"]')
    await expect(delegation.get_by_test_id("ad-dl-meta")).to_contain_text("生效中")
    yesterday = (datetime.now(BEIJING) - timedelta(days=1)).date().isoformat()
    await delegation.get_by_test_id("ad-dl-end-date").fill(yesterday)
    await delegation.get_by_test_id("ad-dl-end").click()
    await expect(
        page.locator('[data-testid="ad-dl"][data-unit="水江镇"][data-state="ended"]')
    ).to_be_visible()
    await expect(page.get_by_test_id("ad-hist").filter(has_text="终止赋权")).to_contain_text(yesterday)

    stored = admin.get(f"/items/{item['id']}")
    assert stored["code"] == code and stored["name"] == f"{name}（修订）" and stored["full_recording"] is True
    assert admin.get("/items", unit_id=town["id"], q=tag)["items"] == []
