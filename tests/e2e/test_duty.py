"""Going on duty puts the officer on the command map (position pings from the phone)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
GEO = {"latitude": 29.161, "longitude": 107.104, "accuracy": 12}


async def test_going_on_duty_reports_the_position_and_off_duty_stops(new_page, api, password: str) -> None:
    page = await new_page(permissions=["geolocation"], geolocation=GEO)
    await sign_in(page, "officer2", password, "officer")
    toggle = page.get_by_test_id("duty-toggle")
    await expect(page.get_by_test_id("duty-status")).to_contain_text("未在岗")
    await toggle.click()
    await expect(page.get_by_test_id("duty-status")).to_contain_text("位置已于")
    await expect(toggle).to_have_text("下岗")
    command = api("command")
    me = api("officer2").user["id"]
    on_map = [p for p in command.get("/positions", active_within=900) if p["user_id"] == me]
    assert on_map and abs(on_map[0]["lat"] - GEO["latitude"]) < 1e-6
    await page.reload()
    await expect(toggle).to_have_text("下岗")  # the shift survives a reload
    await toggle.click()
    await expect(page.get_by_test_id("duty-status")).to_contain_text("未在岗")


async def test_an_officer_without_a_valid_certificate_cannot_go_on_duty(new_page, password: str) -> None:
    page = await new_page(permissions=["geolocation"], geolocation=GEO)
    await sign_in(page, "revoked", password, "officer")
    await expect(page.get_by_test_id("duty-toggle")).to_be_disabled()


async def test_an_officer_with_a_revoked_certificate_cannot_go_on_duty(new_page, password: str) -> None:
    page = await new_page(permissions=["geolocation"], geolocation=GEO)
    await sign_in(page, "revoked", password, "officer")
    await expect(page.get_by_test_id("duty-toggle")).to_be_disabled()
    await expect(page.get_by_test_id("duty-blocked")).to_contain_text("执法证无效，不能上岗执法")
    await expect(page.get_by_test_id("certificate")).to_have_attribute("data-state", "revoked")
