"""Training in real browsers on phones (390×844): the supervisor takes attendance with one tap per
officer, previews and applies the annual run (年度考核), and the revoked officer's phone, open on
its home page, shows the revocation within seconds; the card's QR opens the public check, which
says 已注销 too."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
REVOCATION_SHOWS_WITHIN_MS = 5000


def township_with_officers(api, password: str) -> tuple[dict, dict[str, ApiClient]]:
    """A fresh township and three certified officers (the demo's officers are left as they are)."""
    admin = api("admin")
    unit = admin.post("/units", {"name": f"培训测试镇{uuid.uuid4().hex[:4]}", "kind": "township"})
    today = date.today()
    people = {}
    for key, name in (("present", "到场甲"), ("excused", "请假乙"), ("absent", "缺席丙")):
        username = f"tr-{key}-{uuid.uuid4().hex[:6]}"
        user = admin.post(
            "/users",
            {
                "username": username,
                "password": password,
                "display_name": name,
                "roles": ["officer"],
                "unit_ids": [unit["id"]],
            },
        )
        status, cert = admin.call(
            "PUT",
            f"/users/{user['id']}/certificate",
            {
                "number": f"TR-{uuid.uuid4().hex[:8]}",
                "issued_on": str(today - timedelta(days=3000)),
                "expires_on": str(today + timedelta(days=700)),
                "field": "综合行政执法",
            },
        )
        assert status == 200, cert
        people[key] = api(username)
    return unit, people


async def test_attendance_on_the_phone_the_annual_run_and_the_revocation_on_the_officers_phone(
    new_page, api, password
) -> None:
    unit, people = township_with_officers(api, password)
    supervisor_api = api("supervisor")
    year = random.randint(2001, date.today().year - 2)  # a past year of its own
    training = supervisor_api.post(
        "/trainings",
        {
            "title": "年度通用法律知识培训",
            "format": "法律知识培训",
            "organiser_unit_id": next(
                u["id"] for u in supervisor_api.get("/units", limit=200)["items"] if u["kind"] == "justice"
            ),
            "held_on": str(date(year, 3, 1)),
            "hours": 8,
            "trainer": "区司法局",
            "unit_ids": [unit["id"]],
        },
    )
    status, rules = supervisor_api.call(
        "PUT", f"/assessments/{year}/rules", {"min_hours": 0, "compulsory_ids": [training["id"]]}
    )
    assert status == 200, rules

    # The officer who will miss it has the app open on the home page, certificate valid, with its QR.
    officer = await new_page(viewport=PHONE)
    await sign_in(officer, people["absent"].user["username"], password, "officer")
    card = officer.get_by_test_id("certificate")
    await expect(card).to_have_attribute("data-state", "valid")
    qr = officer.get_by_test_id("certificate-qr")
    await expect(qr).to_be_visible()
    check_url = await qr.get_attribute("data-url")
    assert check_url and "/c/" in check_url

    # The supervisor takes attendance on a phone: one tap per officer.
    phone = await new_page(viewport=PHONE)
    await sign_in(phone, "supervisor", password, "supervisor")
    await phone.get_by_test_id("trainings-link").click()
    await expect(phone).to_have_url(re.compile(r"#/trainings$"))
    await phone.goto(f"/#/trainings/{training['id']}")
    await expect(phone.get_by_test_id("training-title")).to_have_text("年度通用法律知识培训")
    lines = phone.get_by_test_id("attendance-line")
    await expect(lines).to_have_count(3)
    line = {key: phone.locator(f'[data-officer="{people[key].user["id"]}"]') for key in people}
    await line["present"].get_by_test_id("attend-present").click()
    await expect(line["present"]).to_have_attribute("data-status", "present")
    await line["excused"].get_by_test_id("attend-excused").click()
    await line["excused"].get_by_label("请假原因").fill("执勤")
    await line["excused"].get_by_test_id("attend-reason-save").click()
    await expect(phone.locator(f'[data-officer="{people["excused"].user["id"]}"]')).to_have_attribute(
        "data-status", "excused"
    )
    await expect(
        phone.locator(f'[data-officer="{people["excused"].user["id"]}"]').get_by_test_id("attendance-state")
    ).to_have_text("请假：执勤")
    await (
        phone.locator(f'[data-officer="{people["absent"].user["id"]}"]')
        .get_by_test_id("attend-absent")
        .click()
    )
    await expect(phone.locator(f'[data-officer="{people["absent"].user["id"]}"]')).to_have_attribute(
        "data-status", "absent"
    )
    roster = {
        r["officer_id"]: r["status"] for r in supervisor_api.get(f"/trainings/{training['id']}/attendance")
    }
    assert roster == {p.user["id"]: key for key, p in people.items()}

    # The annual run: the preview names who is revoked and why, and who is exempt.
    await phone.goto(f"/#/assessments/{year}")
    revoke = phone.get_by_test_id("run-revoke")
    absent_card = revoke.locator(f'[data-officer="{people["absent"].user["id"]}"]')
    await expect(absent_card).to_contain_text("缺席丙")
    await expect(absent_card).to_contain_text("无故缺席必训课程《年度通用法律知识培训》")
    await expect(
        phone.get_by_test_id("run-exempt").locator(f'[data-officer="{people["excused"].user["id"]}"]')
    ).to_contain_text("请假：执勤")
    assert not await revoke.locator(f'[data-officer="{people["present"].user["id"]}"]').count()

    async def confirm(dialog) -> None:
        assert "确认注销" in dialog.message
        await dialog.accept()

    phone.on("dialog", confirm)
    await phone.get_by_test_id("run-apply").click()
    await expect(phone.get_by_test_id("run-message")).to_contain_text("已执行")
    await expect(
        phone.get_by_test_id("run-already").locator(f'[data-officer="{people["absent"].user["id"]}"]')
    ).to_be_visible()

    # The officer's phone shows it within seconds, without a reload.
    await expect(card).to_have_attribute("data-state", "revoked", timeout=REVOCATION_SHOWS_WITHIN_MS)
    await expect(officer.get_by_test_id("certificate-reason")).to_contain_text(f"{year}年度考核")
    await expect(officer.get_by_test_id("duty-toggle")).to_be_disabled()
    await officer.get_by_text("证件变更记录").click()
    history = officer.get_by_test_id("certificate-history")
    await expect(history.locator('[data-change="revoked"]')).to_contain_text(f"注销：{year}年度考核")
    await expect(history.locator('[data-change="issued"]')).to_be_visible()
    assert people["absent"].get("/me")["certificate"]["status"] == "revoked"
    assert people["present"].get("/me")["certificate"]["status"] == "valid"

    # Anyone scanning the card sees it is revoked; the page has no personal data and no script.
    citizen = await new_page(viewport=PHONE)
    response = await citizen.goto(check_url)
    assert response is not None and response.status == 200
    await expect(citizen.locator(".s")).to_have_text("已注销")
    await expect(citizen.locator("body")).to_contain_text("缺席丙")
    assert await citizen.locator("script").count() == 0
    assert len(await response.body()) < 4096
