"""全过程记录 and 执法公示 on a phone: the officer sees that a coercive act's video is missing (on the
record and on the unit's clocks screen) until it arrives; an anonymous phone opens the public page
and finds the published decision, masked, with no personal identifier in the HTML or the JSON."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import sign_in
from tests.integration.evidence.photos import mp4

pytestmark = pytest.mark.e2e

ID_NUMBER = "500119198707070036"
PHONE = "13912340987"
PARTY = {"name": "王小明", "type": "person", "id_number": ID_NUMBER}


def _coercive_act(officer, partner) -> dict:
    unit_id = officer.user["units"][0]["id"]
    items = officer.get("/items", unit_id=unit_id, limit=200)["items"]
    item = next(i for i in items if i["code"] == "CG-001")
    return officer.post(
        "/actions",
        {
            "id": str(uuid.uuid4()),
            "unit_id": unit_id,
            "item_id": item["id"],
            "kind": "coercive",
            "officer_ids": [officer.user["id"], partner.user["id"]],
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
            "location": {"lat": 29.15, "lon": 107.1, "accuracy_m": 10},
            "address": "水江镇滨江路20号",
            "party": PARTY,
            "notes": f"扣押占道经营三轮车一辆，当事人电话{PHONE}",
        },
    )


async def test_the_officer_sees_the_missing_video_and_the_public_sees_a_masked_decision(
    new_page, api, password
) -> None:
    officer, partner = api("officer1"), api("officer2")
    action = _coercive_act(officer, partner)
    assert action["recording_missing"] is True

    phone = await new_page()
    await sign_in(phone, "officer1", password, "officer")
    await phone.goto(f"/#/officer/actions/{action['id']}")
    missing = phone.get_by_test_id("recording-missing")
    await expect(missing).to_be_visible()
    await expect(missing).to_contain_text("缺少全过程录音录像")
    await expect(phone.get_by_test_id("action-recording")).to_contain_text("缺少录音录像")
    await phone.goto("/#/officer/actions")
    row = phone.locator(f'[data-testid="action-row"][data-id="{action["id"]}"]')
    await expect(row.get_by_test_id("row-recording-missing")).to_have_text("缺少录音录像")
    await phone.goto("/#/clocks")
    await expect(phone.get_by_test_id("recordings-missing")).to_contain_text("缺少全过程录音录像")

    # The video arrives (as the outbox sends it); the record is complete.
    officer.upload(f"/actions/{action['id']}/evidence", mp4(80_000), "video/mp4")
    await phone.goto(f"/#/officer/actions/{action['id']}")
    await expect(phone.get_by_test_id("action-recording")).to_contain_text("已有录音录像")
    await expect(phone.get_by_test_id("recording-missing")).to_have_count(0)

    # A case on it is decided and published; its clocks show on the case.
    case = officer.post(
        "/cases",
        {
            "unit_id": action["unit_id"],
            "item_id": action["item_id"],
            "action_ids": [action["id"]],
            "summary": f"王小明占道经营案，电话{PHONE}",
            "party": PARTY,
        },
    )
    case = officer.patch(f"/cases/{case['id']}", {"version": case["version"], "investigation": "经查属实"})
    officer.post(f"/cases/{case['id']}/decision", {"fine": 200, "measures": ["警告"]}, expect=200)
    published = officer.post("/publications", {"case_id": case["id"]})
    await phone.goto(f"/#/cases/{case['id']}")
    clocks = phone.get_by_test_id("case-clocks")
    await expect(clocks.locator('[data-kind="delivery"]')).to_contain_text("送达决定书")
    await expect(clocks.locator('[data-kind="publication"]')).to_contain_text("已完成")

    # An anonymous phone: no sign-in, the public page.
    public = await new_page()
    await public.goto(f"/public?unit_id={action['unit_id']}")
    await expect(public.get_by_role("heading", name="行政执法公示", level=1)).to_be_visible()
    record = public.locator(f'[data-testid="publication"][data-id="{published["id"]}"]')
    await expect(record).to_contain_text("王**")
    await expect(record).to_contain_text(case["number"])
    await expect(record).to_contain_text("罚款 200.00 元")
    html = await public.content()
    for secret in (ID_NUMBER, PHONE, "王小明", "滨江路20号"):
        assert secret not in html
    overflow = await public.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    await record.get_by_role("link", name=case["number"]).click()
    await expect(public).to_have_url(re.compile(rf"/public/{published['id']}$"))
    await expect(public.locator("article")).to_contain_text("王**")
    answer = await public.request.get(f"/api/v1/public/publications?unit_id={action['unit_id']}")
    assert answer.ok
    text = await answer.text()
    assert published["id"] in text
    for secret in (ID_NUMBER, PHONE, "王小明"):
        assert secret not in text
