"""The review loop as supervisors and legal reviewers meet it on a phone: every record they are shown
opens, with its evidence, and a decision that differs from the approved proposal goes back to review
without a dead end or a false alarm."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_command import attach_photo, record_action

pytestmark = pytest.mark.e2e


def case_in_review(api, fine: float = 20000) -> tuple[dict, dict, dict]:
    """A record with a photo, a case filed from it with a major fine, submitted for legal review.
    Returns (action, photo evidence, case)."""
    officer = api("officer1")
    action = record_action(api)
    photo = attach_photo(officer, action["id"])
    case = officer.post(
        "/cases",
        {
            "id": str(uuid.uuid4()),
            "unit_id": action["unit_id"],
            "item_id": action["item_id"],
            "action_ids": [action["id"]],
            "summary": f"占用城市道路经营，经劝导未改正。{uuid.uuid4().hex[:6]}",
        },
    )
    case = officer.patch(
        f"/cases/{case['id']}",
        {
            "version": case["version"],
            "investigation": "占道经营约 20 平方米，持续三个月。",
            "amount_involved": 36000,
            "proposed_decision": {"fine": fine, "measures": ["责令改正"]},
        },
    )
    status, case = officer.call("POST", f"/cases/{case['id']}/submit-review", {"version": case["version"]})
    assert status == 200, case
    return action, photo, case


async def test_supervisor_opens_a_feed_record_and_its_photo(new_page, api, password: str) -> None:
    action = record_action(api)
    photo = attach_photo(api("officer1"), action["id"])
    page: Page = await new_page()
    await sign_in(page, "supervisor", password, "supervisor")
    item = page.locator(f'[data-testid="feed-item"][data-action-id="{action["id"]}"]')
    await item.get_by_test_id("feed-item-link").click()
    await expect(page).to_have_url(re.compile(rf"#/actions/{action['id']}$"))
    await expect(page.get_by_test_id("action-officers")).to_contain_text("张伟")
    tile = page.locator(f'[data-testid="evidence-link"][data-id="{photo["id"]}"]')
    await expect(tile.locator("img")).to_be_visible()
    # Only the unit's officers file a case from a record.
    await expect(page.get_by_role("button", name="立案", exact=True)).to_have_count(0)
    await tile.click()
    await expect(page).to_have_url(re.compile(rf"#/evidence/{photo['id']}$"))


async def test_legal_reviewer_sees_the_evidence_beside_the_proposal(new_page, api, password: str) -> None:
    action, photo, case = case_in_review(api)
    page: Page = await new_page()
    await sign_in(page, "reviewer", password, "reviewer")
    await page.locator(f'[data-testid="case-row"][data-id="{case["id"]}"]').click()
    await expect(page).to_have_url(re.compile(rf"#/cases/{case['id']}$"))
    await expect(page.get_by_test_id("case-fine")).to_have_text("20,000 元")
    records = page.get_by_test_id("case-actions")
    tile = records.locator(f'[data-testid="evidence-link"][data-id="{photo["id"]}"]')
    await expect(tile.locator("img")).to_be_visible()
    # The photo's thumbnail is there without leaving the case; the record opens too.
    await records.locator(f'[data-testid="case-action-link"][data-id="{action["id"]}"]').click()
    await expect(page).to_have_url(re.compile(rf"#/actions/{action['id']}$"))
    await expect(page.get_by_test_id("action-kind")).to_have_text("检查")
    await page.go_back()
    await (
        page.get_by_test_id("case-actions")
        .locator(f'[data-testid="evidence-link"][data-id="{photo["id"]}"]')
        .click()
    )
    await expect(page).to_have_url(re.compile(rf"#/evidence/{photo['id']}$"))
    await expect(page.get_by_test_id("show-watermarked")).to_be_visible()


def review_required_alerts(api, case_id: str) -> list[dict]:
    page = api("command").get("/alerts", type="case.review_required", limit=200)
    return [a for a in page["items"] if a.get("object_id") == case_id]


async def test_a_changed_decision_goes_back_to_review_with_one_tap_and_no_alarm(
    new_page, api, password: str
) -> None:
    _, _, case = case_in_review(api)
    reviewer = api("reviewer")
    reviewer.post(
        f"/cases/{case['id']}/review",
        {"approved": True, "outcome": "approved", "opinion": "同意", "version": case["version"]},
        expect=200,
    )
    page: Page = await new_page(
        permissions=["geolocation"], geolocation={"latitude": 29.15, "longitude": 107.1}
    )
    await sign_in(page, "officer1", password, "officer")
    await page.goto(f"/#/cases/{case['id']}")
    await page.get_by_role("button", name="作出决定", exact=True).click()
    await page.get_by_label("罚款", exact=True).fill("30000")
    await page.get_by_role("button", name="确认作出决定", exact=True).click()
    refusal = page.get_by_test_id("step-error")
    await expect(refusal).to_contain_text("与审核意见不一致")
    await expect(refusal).to_contain_text("20,000 元")
    await expect(refusal).to_contain_text("30,000 元")
    await expect(refusal).not_to_contain_text("请先点击")
    assert review_required_alerts(api, case["id"]) == []

    await page.get_by_test_id("resubmit-review").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("已提交法制审核")
    await expect(page.get_by_test_id("case-fine")).to_have_text("30,000 元")
    stored = api("officer1").get(f"/cases/{case['id']}")
    assert stored["status"] == "review" and stored["review_pending"] is True
    assert stored["proposed_decision"]["fine"] == 30000
    assert review_required_alerts(api, case["id"]) == []
