"""The officer in the field, on a phone: what works after going out of signal, and what the screen
says about the connection, the duty status and the photos taken."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

GEO = {"latitude": 29.15, "longitude": 107.1, "accuracy": 12}
CG001_NAME = "对占用城市道路违法经营的行政处罚"
ZH_DATETIME = re.compile(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}")


async def officer_phone(new_page, password: str, username: str = "officer1") -> Page:
    page = await new_page(permissions=["geolocation"], geolocation=GEO)
    await sign_in(page, username, password, "officer")
    # The app shell is on the phone once the service worker controls the page.
    await page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
    )
    return page


async def test_signed_in_officer_can_record_offline_without_opening_the_form_first(
    new_page, password: str
) -> None:
    page = await officer_phone(new_page, password)
    # Only sign-in happened online: the items, partners and checklist are stored in the background.
    age = page.get_by_test_id("field-data-age")
    await expect(age).to_contain_text("事项清单更新于")
    await expect(age).to_contain_text(ZH_DATETIME)

    await page.context.set_offline(True)
    try:
        await page.get_by_role("button", name="新建执法记录").click()
        await expect(page).to_have_url(re.compile(r"#/officer/new$"))
        await expect(page.get_by_role("radio", name=re.compile(CG001_NAME))).to_be_visible()
        partners = page.get_by_test_id("partners")
        await expect(partners.get_by_role("checkbox", name=re.compile("李强"))).to_be_visible()
        await expect(page.get_by_test_id("partners-blocked")).to_contain_text("冯军（执法证已注销）")
        await expect(page.get_by_test_id("catalogue-note")).to_contain_text("保存在手机上")
        stored = await page.evaluate(
            """async () => {
                const db = await new Promise((ok, bad) => {
                    const r = indexedDB.open('fieldwatch');
                    r.onsuccess = () => ok(r.result);
                    r.onerror = () => bad(r.error);
                });
                const keys = await new Promise((ok) => {
                    const r = db.transaction('cache').objectStore('cache').getAllKeys();
                    r.onsuccess = () => ok(r.result);
                });
                db.close();
                return keys;
            }"""
        )
        assert any(k.endswith(":checklist") for k in stored), stored
    finally:
        await page.context.set_offline(False)
