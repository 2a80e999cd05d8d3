"""The admin's set-up screens driven as a person would, shared by the browser tests that set a
district or a township up."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Page, expect


async def said(page: Page, text: str) -> None:
    await expect(page.get_by_test_id("ad-message").filter(has_text=text)).to_be_visible()


async def add_officer(page: Page, town: str, username: str, name: str, password: str) -> None:
    await page.goto("/#/admin/users")
    form = page.get_by_test_id("ad-user-form")
    await form.get_by_label("用户名").fill(username)
    await form.get_by_label("姓名").fill(name)
    await form.get_by_label("初始密码").fill(password)
    await form.get_by_role("checkbox", name=re.compile(f"^{town}")).check()
    await form.get_by_role("button", name="添加用户").click()
    await said(page, f"已添加用户“{name}”。")
    await page.locator(f'[data-testid="ad-user"][data-username="{username}"] a').click()
    await expect(page.get_by_test_id("ad-user-title")).to_have_text(f"{name}（{username}）")
    await expect(page.get_by_test_id("ad-cert-none")).to_be_visible()
    cert = page.get_by_test_id("ad-cert-form")
    await cert.get_by_label("证件编号").fill(f"渝执{uuid.uuid4().hex[:8]}")
    await cert.get_by_label("发证日期").fill("2025-01-01")
    await cert.get_by_label("有效期至").fill("2030-12-31")
    await cert.get_by_role("button", name="发放执法证").click()
    await expect(page.get_by_test_id("ad-cert-status")).to_have_text("有效")
