"""Training in real browsers on phones (390×844): the supervisor takes attendance by the card's QR
and with one tap per officer, previews and applies the annual run (年度考核), and the revoked
officer's phone, open on its home page, shows the revocation within seconds; the card's QR opens
the public check, which says 已注销 too. Another revoked officer's record made without signal
stays on the phone, marked and explained, when the server refuses it."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in
from tests.e2e.record_form import fill_record, submit

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
GEO = {"latitude": 29.158, "longitude": 107.097, "accuracy": 12}
ITEM_NAME = "对占用城市道路违法经营的行政处罚"
PARTNER = "到场甲"
REVOCATION_SHOWS_WITHIN_MS = 5000
PEOPLE = (("present", "到场甲"), ("excused", "请假乙"), ("absent", "缺席丙"), ("outbox", "离线丁"))


def township_with_officers(api, password: str) -> tuple[dict, dict[str, ApiClient]]:
    """A fresh township with certified officers (the demo's officers are left as they are), which may
    act on the item 水江镇 acts on."""
    admin = api("admin")
    unit = admin.post("/units", {"name": f"培训测试镇{uuid.uuid4().hex[:4]}", "kind": "township"})
    today = date.today()
    people = {}
    for key, name in PEOPLE:
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
    shuijiang = next(u for u in admin.get("/units", limit=200)["items"] if u["name"] == "水江镇")
    items = admin.get("/items", unit_id=shuijiang["id"], limit=200)["items"]
    item = next(i for i in items if i["name"] == ITEM_NAME)
    admin.post(f"/items/{item['id']}/delegations", {"unit_id": unit["id"], "effective_from": "2020-01-01"})
    return unit, people


async def record_offline(phone: Page, notes: str) -> None:
    """On duty with the partner and the form opened once online; then, without signal, one record."""
    await phone.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)")
    await phone.reload()
    await phone.wait_for_function("Boolean(navigator.serviceWorker.controller)")
    await phone.get_by_test_id("duty-toggle").click()
    await phone.get_by_test_id("shift-partners").get_by_role("checkbox", name=PARTNER).check()
    await phone.get_by_role("button", name="新建执法记录").click()
    await expect(phone.get_by_test_id("items").get_by_role("radio").first).to_be_visible()
    await phone.context.set_offline(True)
    await fill_record(phone, ITEM_NAME, notes, address="培训测试镇和平路1号")
    await submit(phone)
    await expect(phone.get_by_test_id("flash")).to_contain_text("已保存在手机上")


async def outbox_entries(phone: Page) -> list[dict]:
    """The outbox as IndexedDB holds it (what survives a closed app)."""
    return await phone.evaluate(
        """() => new Promise((resolve, reject) => {
            const req = indexedDB.open('fieldwatch');
            req.onerror = () => reject(req.error);
            req.onsuccess = () => {
              const all = req.result.transaction('outbox').objectStore('outbox').getAll();
              all.onsuccess = () => { resolve(all.result); req.result.close(); };
            };
          })"""
    )


def line_of(phone: Page, person: ApiClient):
    return phone.locator(f'[data-officer="{person.user["id"]}"]')


async def test_attendance_on_the_phone_the_annual_run_and_the_revocation_on_the_officers_phone(
    new_page, api, password
) -> None:
    unit, people = township_with_officers(api, password)
    supervisor_api = api("supervisor")
    year = random.randint(2001, date.today().year - 2)  # a past year of its own
    justice = next(u for u in supervisor_api.get("/units", limit=200)["items"] if u["kind"] == "justice")
    training = supervisor_api.post(
        "/trainings",
        {
            "title": "年度通用法律知识培训",
            "format": "法律知识培训",
            "organiser_unit_id": justice["id"],
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

    # One who will miss it recorded an act without signal; it is still on the phone, unsent.
    field_phone = await new_page(viewport=PHONE, permissions=["geolocation"], geolocation=GEO)
    await sign_in(field_phone, people["outbox"].user["username"], password, "officer")
    await record_offline(field_phone, "离线时记录，尚未发出")
    [unsent] = [e for e in await outbox_entries(field_phone) if e["type"] == "action"]
    assert unsent["state"] == "waiting"

    # Another has the app open on the home page: certificate valid, with its check code.
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
    await expect(phone.get_by_test_id("attendance-line")).to_have_count(len(PEOPLE))
    # 到场甲 signs in at the door with the card's QR (a scanner types its link).
    present_card = supervisor_api.get(f"/users/{people['present'].user['id']}/certificate/qr")
    await phone.get_by_test_id("card-input").fill(present_card["url"])
    await phone.get_by_role("button", name="签到", exact=True).click()
    await expect(phone.get_by_test_id("card-message")).to_have_text("已签到。")
    await expect(line_of(phone, people["present"])).to_have_attribute("data-status", "present")
    forged = present_card["url"][:-4] + ("AAAA" if not present_card["url"].endswith("AAAA") else "BBBB")
    await phone.get_by_test_id("card-input").fill(forged)
    await phone.get_by_role("button", name="签到", exact=True).click()
    await expect(phone.get_by_test_id("card-message")).to_contain_text("不是区司法局发放的执法证")
    await line_of(phone, people["excused"]).get_by_test_id("attend-excused").click()
    await line_of(phone, people["excused"]).get_by_label("请假原因").fill("执勤")
    await line_of(phone, people["excused"]).get_by_test_id("attend-reason-save").click()
    await expect(line_of(phone, people["excused"])).to_have_attribute("data-status", "excused")
    await expect(line_of(phone, people["excused"]).get_by_test_id("attendance-state")).to_have_text(
        "请假：执勤"
    )
    for key in ("absent", "outbox"):
        await line_of(phone, people[key]).get_by_test_id("attend-absent").click()
        await expect(line_of(phone, people[key])).to_have_attribute("data-status", "absent")
    stored = supervisor_api.get(f"/trainings/{training['id']}/attendance")
    expected = {"present": "present", "excused": "excused", "absent": "absent", "outbox": "absent"}
    assert {r["officer_id"]: r["status"] for r in stored} == {
        people[k].user["id"]: v for k, v in expected.items()
    }

    # The annual run: the preview names who is revoked and why, and who is exempt.
    await phone.goto(f"/#/assessments/{year}")
    revoke = phone.get_by_test_id("run-revoke")
    absent_card = revoke.locator(f'[data-officer="{people["absent"].user["id"]}"]')
    await expect(absent_card).to_contain_text("缺席丙")
    await expect(absent_card).to_contain_text("无故缺席必训课程《年度通用法律知识培训》")
    await expect(revoke.locator(f'[data-officer="{people["outbox"].user["id"]}"]')).to_be_visible()
    exempt = phone.get_by_test_id("run-exempt")
    await expect(exempt.locator(f'[data-officer="{people["excused"].user["id"]}"]')).to_contain_text(
        "请假：执勤"
    )
    assert not await revoke.locator(f'[data-officer="{people["present"].user["id"]}"]').count()

    async def confirm(dialog) -> None:
        assert "确认注销" in dialog.message
        await dialog.accept()

    phone.on("dialog", confirm)
    await phone.get_by_test_id("run-apply").click()
    await expect(phone.get_by_test_id("run-message")).to_contain_text("已执行")
    already = phone.get_by_test_id("run-already")
    await expect(already.locator(f'[data-officer="{people["absent"].user["id"]}"]')).to_be_visible()
    # 收回: the revoked card waits in the list until its return is recorded, with who received it.
    to_recall = phone.get_by_test_id("unrecalled").locator(f'[data-officer="{people["absent"].user["id"]}"]')
    await expect(to_recall).to_contain_text(f"{year}年度考核")
    await to_recall.get_by_role("button", name="登记收回").click()
    await expect(to_recall.get_by_role("alert")).to_have_text("请填写接收人。")
    await to_recall.get_by_label("接收人").fill("法制科王科长")
    await to_recall.get_by_role("button", name="登记收回").click()
    await expect(phone.get_by_test_id("recall-message")).to_contain_text("已登记收回缺席丙的执法证")
    await expect(to_recall).to_have_count(0)
    recalled = supervisor_api.get(f"/users/{people['absent'].user['id']}")["certificate"]
    assert recalled["recalled_received_by"] == "法制科王科长" and recalled["recalled_on"], recalled

    # The officer's phone shows it within seconds, without a reload, with its reason and history.
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

    # Back in signal, the phone that recorded offline is refused over its own certificate: the record
    # stays on the phone, marked and explained, and nothing reached the server.
    await field_phone.context.set_offline(False)
    await field_phone.goto("/#/officer/outbox")
    held = field_phone.get_by_test_id("outbox-held")
    await expect(held).to_contain_text("已注销", timeout=30_000)
    await expect(held).to_contain_text("保留在本手机上")
    entry = field_phone.get_by_test_id("outbox-attention").locator(f'[data-id="{unsent["id"]}"]')
    await expect(entry).to_have_attribute("data-held", "certificate")
    [kept] = [e for e in await outbox_entries(field_phone) if e["id"] == unsent["id"]]
    assert kept["state"] == "attention" and kept["error"]["code"] == "certificate.invalid"
    assert kept["payload"]["notes"] == "离线时记录，尚未发出"
    status, _ = people["outbox"].call("GET", f"/actions/{unsent['id']}")
    assert status == 404
