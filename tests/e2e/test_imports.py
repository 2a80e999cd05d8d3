"""Imports in a real browser: the admin previews a 权责清单 CSV with one bad row (拒绝, its reason, 导入
disabled), fixes the file, previews again, imports, and the items are in the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e


def _csv(lines: list[str]) -> dict[str, object]:
    body = ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")
    return {"name": "权责清单.csv", "mimeType": "text/csv", "buffer": body}


async def test_admin_previews_fixes_and_imports_items(
    page: Page, api: Callable[[str], ApiClient], password: str
) -> None:
    suffix = uuid.uuid4().hex[:6].upper()
    good, fixed = f"E2E-{suffix}-1", f"E2E-{suffix}-2"
    header = "事项编码,事项名称,类别,实施依据,主管部门,重大案件罚款标准"
    rows = [f"{good},对占道经营的处罚,行政处罚,《城市市容和环境卫生管理条例》,区城市管理局,10000"]
    page.on("dialog", lambda dialog: dialog.accept())  # 导入 asks first

    await sign_in(page, "admin", password, "admin")
    await page.get_by_test_id("imports-link").click()
    await expect(page.get_by_role("heading", level=1, name="导入清单与用户")).to_be_visible()
    await expect(page.get_by_test_id("import-headers")).to_contain_text("事项编码")

    await page.get_by_test_id("import-file").set_input_files(
        _csv([header, *rows, f"{fixed},对乱倒垃圾的处罚,行政处罚,依据,没有这个局,"])  # type: ignore[list-item]
    )
    await page.get_by_test_id("import-preview").click()
    refused = page.locator('[data-testid="import-row"][data-action="refuse"]')
    await expect(refused).to_have_count(1)
    await expect(refused.get_by_test_id("import-action")).to_have_text("拒绝")
    await expect(refused.get_by_test_id("import-error")).to_have_text(
        "主管部门：没有名为“没有这个局”的单位。"
    )
    await expect(page.locator('[data-testid="import-row"][data-action="create"]')).to_have_count(1)
    await expect(page.get_by_test_id("import-refused")).to_be_visible()
    await expect(page.get_by_test_id("import-apply")).to_be_disabled()

    await page.get_by_test_id("import-file").set_input_files(
        _csv([header, *rows, f"{fixed},对乱倒垃圾的处罚,行政处罚,依据,区城市管理局,"])  # type: ignore[list-item]
    )
    await page.get_by_test_id("import-preview").click()
    await expect(page.locator('[data-testid="import-row"][data-action="create"]')).to_have_count(2)
    await expect(page.get_by_test_id("import-summary")).to_have_text(
        "共 2 行：新建 2，修改 0，不变 0，拒绝 0。"
    )
    await expect(page.get_by_test_id("import-apply")).to_be_enabled()
    await page.get_by_test_id("import-apply").click()
    await expect(page.get_by_test_id("import-done")).to_have_text("已导入：新建 2 行，修改 0 行，0 行不变。")
    await expect(page.get_by_test_id("import-apply")).to_be_disabled()

    codes = {i["code"]: i for i in api("admin").get("/items", limit=200)["items"]}
    assert codes[good]["name"] == "对占道经营的处罚" and codes[good]["kind"] == "penalty"
    assert codes[fixed]["major_case"] is None
