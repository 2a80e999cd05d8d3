"""The liaison channel in real browsers, on phones: a liaison reports an officer's conduct with the
phone's location, anonymously; the supervisor forwards it to the unit; the unit's responder, who
never sees who reported it, explains; the supervisor turns it into a supervision document; the
liaison sees the bureau's reply."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
LIAISON_NAME = "陈静"  # the demo liaison's display name: never on the unit's screen


async def test_a_liaison_report_becomes_a_document_and_the_liaison_sees_the_reply(
    new_page, api, password: str
) -> None:
    title = f"执法人员当街呵斥摊贩 {uuid.uuid4().hex[:6]}"
    reply = "已向水江镇制发监督意见书，要求规范执法用语。"

    liaison = await new_page(
        viewport=PHONE,
        permissions=["geolocation"],
        geolocation={"latitude": 29.157, "longitude": 107.098, "accuracy": 12},
    )
    await sign_in(liaison, "liaison", password, "liaison")
    submit = liaison.get_by_test_id("ch-submit")
    await submit.click()
    await expect(liaison.get_by_test_id("ch-error")).to_have_text("请用一句话写明问题（至少 2 个字）。")
    await liaison.get_by_test_id("ch-title").fill(title)
    await submit.click()
    await expect(liaison.get_by_test_id("ch-error")).to_have_text("请使用位置或填写地址。")
    await liaison.get_by_test_id("ch-category").select_option("态度作风")
    await liaison.get_by_test_id("ch-description").fill(
        "上午十点在和平路市场，两名执法人员当众大声呵斥摊贩。"
    )
    await liaison.get_by_test_id("ch-locate").click()
    await expect(liaison.get_by_text(re.compile(r"已记录位置"))).to_be_visible()
    await liaison.get_by_test_id("ch-unit").select_option(label="水江镇")
    await expect(liaison.get_by_test_id("ch-anonymous")).to_be_checked()
    await submit.click()
    await expect(liaison.get_by_test_id("ch-flash")).to_contain_text("已提交")
    mine = liaison.get_by_test_id("ch-mine").get_by_role("link", name=re.compile(re.escape(title)))
    await expect(mine).to_contain_text("待处理")
    stored = [
        i for i in api("supervisor").get("/channels/items", kind="report")["items"] if i["title"] == title
    ]
    assert len(stored) == 1 and stored[0]["anonymous"] is True and stored[0]["location"], stored

    supervisor = await new_page(viewport=PHONE)
    await sign_in(supervisor, "supervisor", password, "supervisor")
    await supervisor.get_by_test_id("channels-link").click()
    await (
        supervisor.get_by_test_id("ch-inbox-open")
        .get_by_role("link", name=re.compile(re.escape(title)))
        .click()
    )
    await expect(supervisor.get_by_test_id("ch-reporter")).to_contain_text(LIAISON_NAME)
    await supervisor.get_by_test_id("ch-question").fill("请说明当日现场执法情况。")
    await supervisor.get_by_test_id("ch-forward").click()
    await expect(supervisor.get_by_test_id("ch-status")).to_have_text("待单位说明")

    unit = await new_page(viewport=PHONE)
    await sign_in(unit, "officer1", password, "officer")  # 水江镇's responder
    await unit.goto("/#/inbox")
    await unit.get_by_test_id("inbox-channels").click()
    await unit.get_by_test_id("ch-unit-list").get_by_role("link", name=re.compile(re.escape(title))).click()
    await expect(unit.get_by_test_id("ch-question-shown")).to_have_text("请说明当日现场执法情况。")
    await expect(unit.get_by_test_id("ch-reporter")).to_have_text("匿名（对单位保密）")
    await expect(unit.locator("main")).not_to_contain_text(LIAISON_NAME)
    await unit.get_by_test_id("ch-explain-text").fill("当日系依法劝离占道摊贩，个别队员言语确有不当。")
    await unit.get_by_test_id("ch-explain").click()
    await expect(unit.get_by_test_id("ch-status")).to_have_text("单位已说明")

    await supervisor.reload()
    await expect(supervisor.get_by_test_id("ch-explanation")).to_contain_text("言语确有不当")
    await supervisor.get_by_test_id("ch-reply").fill(reply)
    await supervisor.get_by_test_id("ch-requirement").fill("请规范执法用语，十五个工作日内书面报告整改情况。")
    await supervisor.get_by_test_id("ch-document").click()
    await expect(supervisor.get_by_test_id("ch-status")).to_have_text("已办结")
    await supervisor.get_by_test_id("ch-document-link").click()
    await expect(supervisor).to_have_url(re.compile(r"#/documents/[0-9a-f-]+$"))
    await expect(supervisor.locator("main")).to_contain_text("言语确有不当")

    await liaison.reload()
    mine = liaison.get_by_test_id("ch-mine").get_by_role("link", name=re.compile(re.escape(title)))
    await expect(mine).to_contain_text("已办结")
    await expect(mine).to_contain_text(reply)
    await mine.click()
    await expect(liaison.get_by_test_id("ch-reply-shown")).to_have_text(reply)
    # The reporter is told the outcome, not the exchange between the bureau and the unit.
    await expect(liaison.get_by_test_id("ch-explanation")).to_have_count(0)
    await expect(liaison.get_by_test_id("ch-question-shown")).to_have_count(0)


async def test_a_revoked_act_is_marked_on_the_action_and_the_case(new_page, api, password: str) -> None:
    """The court records 撤销 on a lawsuit about an action and its case: the unit's officer sees the
    mark on the action's page, in the case list and on the case's page."""
    officer, other = api("officer1"), api("officer2")
    unit = officer.user["units"][0]["id"]
    item = officer.get("/items", unit_id=unit)["items"][0]["id"]
    action = officer.post(
        "/actions",
        {
            "unit_id": unit,
            "item_id": item,
            "kind": "inspection",
            "officer_ids": [officer.user["id"], other.user["id"]],
            "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
            "location": {"lat": 29.157, "lon": 107.098, "accuracy_m": 8},
            "address": "水江镇和平路",
        },
    )
    case = officer.post(
        "/cases", {"unit_id": unit, "item_id": item, "action_ids": [action["id"]], "summary": "诉讼案件"}
    )
    court = api("court")
    number = f"(2026)渝0119行初{uuid.uuid4().hex[:4]}号"
    lawsuit = court.post(
        "/channels/lawsuits",
        {
            "title": "某商户诉水江镇行政强制案",
            "reference": number,
            "received_on": datetime.now(UTC).date().isoformat(),
            "unit_id": unit,
            "action_id": action["id"],
            "case_id": case["id"],
        },
    )
    court.post(
        f"/channels/items/{lawsuit['id']}/outcomes",
        {"outcome": "撤销", "decided_on": datetime.now(UTC).date().isoformat(), "decision_number": number},
    )

    page = await new_page(viewport=PHONE)
    await sign_in(page, "officer1", password, "officer")
    await page.goto(f"/#/officer/actions/{action['id']}")
    await expect(page.get_by_test_id("reversed")).to_contain_text(f"已被撤销（{number}）")
    await page.goto("/#/cases")
    row = page.locator(f'[data-testid="case-row"][data-id="{case["id"]}"]')
    await expect(row.get_by_test_id("reversed")).to_contain_text("已被撤销")
    await row.click()
    await expect(page.get_by_test_id("reversed")).to_contain_text(number)
