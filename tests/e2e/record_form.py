"""The officer's new-record form, in its steps (事项 → 人员 → 当事人 → 现场 → 取证 → 提交), driven as a
thumb would: one step visible at a time, 下一步 at the bottom."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from playwright.async_api import Page, expect

STEPS = ("事项", "人员", "当事人", "现场", "取证", "提交")
Hook = Callable[[Page], Awaitable[None]]


def current_step(page: Page):
    return page.locator(".step:not([hidden]) .step__title")


async def expect_step(page: Page, name: str) -> None:
    n = STEPS.index(name) + 1
    await expect(current_step(page)).to_have_text(f"第 {n} 步，共 {len(STEPS)} 步 {name}")


async def next_step(page: Page, then: str | None = None) -> None:
    """下一步; with `then`, the step it must arrive at."""
    await page.get_by_test_id("step-next").click()
    if then is not None:
        await expect_step(page, then)


async def go_to_step(page: Page, name: str) -> None:
    """A tap on the step strip (going forward checks each step on the way)."""
    await page.get_by_test_id("form-steps").get_by_role("button", name=name, exact=True).click()


async def fill_record(
    page: Page,
    item_name: str,
    notes: str,
    *,
    partner: str | None = None,
    kind: str = "检查",
    search: bool = False,
    party: bool = False,
    address: str = "水江镇滨江路12号门前",
    located: str | None = "已定位",
    on_people: Hook | None = None,
    on_evidence: Hook | None = None,
    stop_at: str = "提交",
) -> None:
    """Fill every step and stop at 提交 (the summary), ready for 保存并提交, or earlier at `stop_at`
    ("取证", for photos). `partner` is ticked on 人员 (None: the shift's partner is already ticked);
    `located` is what the location line must say."""
    await expect_step(page, "事项")
    if search:
        await page.get_by_role("searchbox", name="搜索事项名称或编号").fill(item_name[:6])
    await page.get_by_role("radio", name=re.compile(item_name)).check()
    await page.get_by_role("radio", name=kind, exact=True).check()
    await next_step(page, "人员")
    if on_people is not None:
        await on_people(page)
    partners = page.get_by_test_id("partners")
    if partner is not None:
        await partners.get_by_role("checkbox", name=re.compile(partner)).check()
    else:
        await expect(partners.get_by_role("checkbox", checked=True)).not_to_have_count(0)
    await next_step(page, "当事人")
    if party:
        await page.get_by_label("当事人名称").fill("滨江小吃店")
        await page.get_by_role("radio", name="单位", exact=True).check()
        await page.get_by_label("证件号码").fill("91500119MA5U7X2K3B")
    await next_step(page, "现场")
    await page.get_by_label("执法地点").fill(address)
    await page.get_by_label("备注").fill(notes)
    if located is not None:
        await expect(page.get_by_test_id("location-status")).to_contain_text(located)
    await next_step(page, "取证")
    if stop_at == "取证":
        return
    if on_evidence is not None:
        await on_evidence(page)
    await next_step(page, "提交")


async def submit(page: Page) -> None:
    await page.get_by_role("button", name="保存并提交", exact=True).click()
