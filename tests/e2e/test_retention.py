"""Retention in a real browser: a supervisor reads how long a photo is kept, puts it on hold with a
reason, and on the retention page reviews what is due, approves a batch with its basis and sees it
done; the admin edits a rule."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_evidence_view import phone_photo, record_action, upload
from tests.plant import age_action

pytestmark = pytest.mark.e2e


async def test_supervisor_holds_a_photo_and_approves_a_disposal_batch(page, api, password, live_app) -> None:
    taken = datetime.now(UTC) - timedelta(minutes=5)
    officer = api("officer1")
    fresh = record_action(api)
    kept = upload(officer, fresh["id"], phone_photo(taken), taken)
    old = record_action(api)
    expired = upload(officer, old["id"], phone_photo(taken - timedelta(seconds=7)), taken)
    server = {"FIELDWATCH_DATA_DIR": str(live_app[2])}
    if os.environ.get("FIELDWATCH_TEST_E2E_DATABASE_URL"):
        server["FIELDWATCH_DATABASE_URL"] = os.environ["FIELDWATCH_TEST_E2E_DATABASE_URL"]
    age_action(server, old["id"], days=1500)

    await sign_in(page, "supervisor", password, "supervisor")
    await page.goto(f"/#/evidence/{kept['id']}")
    card = page.get_by_test_id("retention")
    until = datetime.fromisoformat(fresh["occurred_at"]).astimezone(UTC)
    await expect(card.get_by_test_id("retention-until")).to_contain_text(f"保存至 {until.year + 3}年")
    await card.get_by_test_id("retention-hold-btn").click()
    await card.get_by_label("保全理由（如调卷、诉讼）：").fill("区法院调卷（2026）渝0119行初1号")
    await card.get_by_test_id("retention-reason-send").click()
    await expect(card.get_by_test_id("retention-state")).to_have_text("法律保全中：不会到期。")
    await expect(card.get_by_test_id("retention-hold")).to_contain_text("区法院调卷")

    await page.goto("/#/supervisor")
    await page.get_by_test_id("retention-link").click()
    await expect(page.get_by_test_id("retention-holds")).to_contain_text("区法院调卷")
    due = page.get_by_test_id("retention-due")
    row = due.locator(f'[data-testid="retention-due-row"][data-id="{expired["id"]}"]')
    await expect(row).to_be_visible()
    await expect(due.locator(f'[data-id="{kept["id"]}"]')).to_have_count(0)  # held, so never listed

    # Approving without a basis is refused on the screen; nothing is sent.
    await row.get_by_test_id("retention-pick").check()
    await due.get_by_test_id("retention-approve").click()
    await expect(due.get_by_role("alert")).to_have_text("请填写销毁依据。")
    await due.get_by_test_id("retention-batch-reason").fill("档案保管期满，经2026年第1次审核")
    page.once("dialog", lambda dialog: dialog.accept())
    await due.get_by_test_id("retention-approve").click()
    await expect(due.get_by_test_id("retention-batch-done")).to_have_text(
        "已销毁 1 条；存储锁定拒绝 0 条（保留原样）。"
    )
    await expect(row).to_have_count(0)
    await expect(page.get_by_test_id("retention-batch-row").first).to_contain_text("档案保管期满")

    status, _ = api("supervisor").call("GET", f"/evidence/{expired['id']}")
    assert status == 404  # gone from the app, with its audit entry


async def test_admin_changes_a_retention_rule(page, api, password) -> None:
    await sign_in(page, "admin", password, "admin")
    await page.get_by_test_id("retention-link").click()
    video = page.get_by_test_id("rule-action-video")
    await expect(video).to_be_enabled()
    await video.fill("6")
    await page.get_by_test_id("rules-save").click()
    await expect(page.get_by_test_id("rules-saved")).to_be_visible()
    assert api("supervisor").get("/retention/rules")["rules"]["action"]["video"] == 6
    await expect(page.get_by_test_id("rule-action-video")).to_have_value("6")
