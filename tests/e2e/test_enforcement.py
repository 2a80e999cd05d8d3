"""Field enforcement in a real browser: an on-site record, a case through legal review to 结案, refusals."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e import record_form
from tests.e2e.conftest import sign_in
from tests.e2e.record_form import expect_step, go_to_step, next_step, submit

pytestmark = pytest.mark.e2e

LATIN = re.compile(r"[A-Za-z]")
HTTP_STATUS = re.compile(r"\b[45]\d\d\b")
ZH_DATETIME = re.compile(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}")
GEO = {"latitude": 29.15, "longitude": 107.1, "accuracy": 12}
CG001_NAME = "对占用城市道路违法经营的行政处罚"
SC001_NAME = "对经营不符合食品安全标准食品的行政处罚"
SHOTS = os.environ.get("FIELDWATCH_E2E_SCREENSHOTS")


async def shot(page: Page, name: str) -> None:
    """Save the phone screen and the full page when FIELDWATCH_E2E_SCREENSHOTS names a folder."""
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))
        await page.screenshot(path=str(Path(SHOTS) / f"{name}-full.png"), full_page=True)


async def officer_page(new_page, password: str, username: str = "officer1", **context) -> Page:
    options = {"permissions": ["geolocation"], "geolocation": GEO} | context
    page = await new_page(**options)
    await sign_in(page, username, password, "officer")
    return page


async def assert_plain_chinese(locator) -> str:
    text = await locator.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert not LATIN.search(text), f"English shown to a Chinese user: {text!r}"
    assert not HTTP_STATUS.search(text), f"HTTP status shown to the user: {text!r}"
    return text


async def assert_phone_layout(page: Page) -> None:
    """Every control is at least 48px tall (checkboxes and radios through their label), no sideways scroll."""
    small = await page.evaluate(
        """() => [...document.querySelectorAll('main button, main input, main textarea, main a.btn,'
                + ' main a.row, main a.back, main label.choice')]
            .filter((el) => el.offsetParent !== null && !['checkbox', 'radio'].includes(el.type))
            .map((el) => ({t: (el.textContent.trim() || el.id || el.name).slice(0, 30),
                           h: Math.round(el.getBoundingClientRect().height)}))
            .filter((s) => s.h < 48)"""
    )
    assert not small, small
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    body_px = await page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 16


async def open_new_record(page: Page) -> None:
    await page.get_by_role("button", name="新建执法记录").click()
    await expect(page).to_have_url(re.compile(r"#/officer/new$"))
    await expect(page.get_by_role("heading", level=1, name="新建执法记录")).to_be_visible()
    await expect(page.get_by_test_id("items").get_by_role("radio").first).to_be_visible()


async def fill_record(page: Page, item_name: str, partner: str, notes: str, **kw) -> None:
    await record_form.fill_record(
        page, item_name, notes, partner=partner, search=True, party=True, located="已定位，精度约 12 米", **kw
    )


def my_actions(client, notes: str) -> list[dict]:
    page = client.get("/actions", officer_id=client.user["id"], limit=200)
    return [a for a in page["items"] if a["notes"] == notes]


async def run_step(page: Page, button: str, confirm: str) -> None:
    await page.get_by_role("button", name=button, exact=True).click()
    await page.get_by_role("button", name=confirm, exact=True).click()


# ---- the whole workflow ----------------------------------------------------------------------------


async def test_action_to_case_through_review_to_closed(new_page, api, password: str) -> None:
    notes = f"占道摆摊，已现场劝导。{uuid.uuid4().hex[:8]}"
    officer = await officer_page(new_page, password)
    await shot(officer, "officer-home")
    await open_new_record(officer)
    await shot(officer, "action-form-top")

    # items: only what 水江镇 may act on; SC-001 is not delegated
    await expect(officer.get_by_role("radio", name=re.compile(CG001_NAME))).to_be_visible()
    await expect(officer.get_by_role("radio", name=re.compile(SC001_NAME))).to_have_count(0)

    async def offered_partners(page: Page) -> None:
        # officer2 is offered, the officers without a valid certificate are not
        partners = page.get_by_test_id("partners")
        await expect(partners.get_by_role("checkbox", name=re.compile("李强"))).to_be_visible()
        await expect(page.get_by_test_id("partners-blocked")).to_contain_text("冯军（执法证已注销）")
        await expect(page.get_by_test_id("partners-blocked")).to_contain_text("郑刚（执法证已过期）")
        await expect(partners.get_by_role("checkbox", name=re.compile("冯军"))).to_have_count(0)
        await expect(partners.get_by_role("checkbox", name=re.compile("张伟"))).to_have_count(0)
        await assert_phone_layout(page)

    await fill_record(officer, CG001_NAME, "李强", notes, on_people=offered_partners)
    # the last step sums the record up before it goes
    review = officer.get_by_test_id("review")
    await expect(review.get_by_test_id("review-item").first).to_contain_text("CG-001")
    await expect(review.get_by_test_id("review-people")).to_contain_text("李强")
    await expect(review.get_by_test_id("review-party")).to_contain_text("滨江小吃店（单位）")
    await expect(review.get_by_test_id("review-scene").nth(2)).to_contain_text("水江镇滨江路12号门前")
    await assert_phone_layout(officer)
    await shot(officer, "action-form")

    # a double tap sends one record
    await officer.get_by_role("button", name="保存并提交").dblclick()
    await expect(officer).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    await expect(officer.get_by_test_id("flash")).to_have_text("执法记录已保存。")
    await expect(officer.get_by_test_id("action-officers")).to_contain_text("张伟")
    await expect(officer.get_by_test_id("action-officers")).to_contain_text("李强")
    action_id = officer.url.rsplit("/", 1)[1]

    client = api("officer1")
    stored = my_actions(client, notes)
    assert [a["id"] for a in stored] == [action_id]
    assert stored[0]["kind"] == "inspection"
    assert stored[0]["item_code"] == "CG-001"
    assert stored[0]["location"]["lat"] == pytest.approx(29.15)
    assert stored[0]["party"]["type"] == "organisation"

    # the list: newest first, names, kind, Beijing time, masked party
    await officer.get_by_role("link", name=re.compile("我的执法记录")).click()
    await expect(officer).to_have_url(re.compile(r"#/officer/actions$"))
    row = officer.locator(f'[data-testid="action-row"][data-id="{action_id}"]')
    await expect(row).to_contain_text(CG001_NAME)
    await expect(row).to_contain_text("检查")
    await expect(row).to_contain_text("水江镇")
    await expect(row).to_contain_text(ZH_DATETIME)
    await expect(row).to_contain_text("滨江小吃店")
    await expect(row).not_to_contain_text("91500119MA5U7X2K3B")
    await expect(officer.get_by_test_id("action-row").first).to_have_attribute("data-id", action_id)

    # open a case from the record
    await row.click()
    await expect(officer).to_have_url(re.compile(rf"#/officer/actions/{action_id}$"))
    await expect(officer.get_by_test_id("action-party")).to_contain_text("91500119MA5U7X2K3B")
    await officer.get_by_role("button", name="立案", exact=True).click()
    await officer.get_by_label("案情摘要").fill("当事人在滨江路占用城市道路经营，经劝导未改正。")
    await officer.get_by_role("button", name="确认立案").click()
    await expect(officer).to_have_url(re.compile(r"#/cases/[0-9a-f-]{36}$"))
    case_id = officer.url.rsplit("/", 1)[1]
    await expect(officer.get_by_test_id("case-title")).to_have_text(re.compile(r"^案件 \S+"))
    stepper = officer.get_by_test_id("stepper")
    await expect(stepper.locator('[aria-current="step"]')).to_contain_text("立案")

    # investigation with a fine that makes it a major case for CG-001
    form = officer.get_by_test_id("investigation")
    await form.get_by_label("调查情况").fill("当事人占道经营约 20 平方米，持续三个月。")
    await form.get_by_label("涉案金额").fill("36000")
    await form.get_by_label("拟处罚款").fill("20000")
    await form.get_by_label("拟采取措施").fill("责令改正")
    await form.get_by_role("button", name="保存调查记录").click()
    await expect(officer.get_by_test_id("flash")).to_have_text("调查记录已保存。")
    await expect(stepper.locator('[aria-current="step"]')).to_contain_text("调查")
    await expect(officer.get_by_test_id("flag-major")).to_contain_text("重大行政处罚案件")

    # deciding before the legal review is refused, in plain Chinese
    await run_step(officer, "作出决定", "确认作出决定")
    refusal = officer.get_by_test_id("step-error")
    await expect(refusal).to_contain_text("须经法制审核同意后才能作出决定")
    await assert_plain_chinese(refusal)
    assert client.get(f"/cases/{case_id}")["status"] == "investigating"

    await run_step(officer, "提交法制审核", "确认提交法制审核")
    await expect(officer.get_by_test_id("flash")).to_contain_text("已提交法制审核")
    await expect(stepper.locator('[aria-current="step"]')).to_contain_text("法制审核")
    await expect(officer.get_by_test_id("case-fine")).to_have_text("20,000 元")
    await expect(officer.get_by_test_id("case-amount")).to_have_text("36,000 元")
    await assert_phone_layout(officer)
    await shot(officer, "case-review")

    # the legal reviewer, on another phone
    reviewer = await new_page()
    await sign_in(reviewer, "reviewer", password, "reviewer")
    queue = reviewer.get_by_test_id("review-queue")
    entry = queue.locator(f'[data-testid="case-row"][data-id="{case_id}"]')
    await expect(entry).to_contain_text(CG001_NAME)
    await expect(entry).to_contain_text("20,000 元")
    await expect(entry).to_contain_text("待审核")
    await assert_phone_layout(reviewer)
    await shot(reviewer, "reviewer-queue")
    await entry.click()
    await expect(reviewer).to_have_url(re.compile(rf"#/cases/{case_id}$"))
    await expect(reviewer.get_by_test_id("case-actions")).to_contain_text("张伟")
    await expect(reviewer.get_by_test_id("case-fine")).to_have_text("20,000 元")
    await expect(reviewer.get_by_role("button", name="作出决定")).to_have_count(0)
    review = reviewer.get_by_test_id("review-form")
    for choice in ("同意", "不同意", "建议修改后提交"):
        await expect(review.get_by_role("radio", name=choice, exact=True)).to_be_visible()
    await review.get_by_role("radio", name="同意", exact=True).check()
    await review.get_by_role("button", name="提交审核意见").click()
    await expect(review.get_by_role("alert")).to_have_text("请填写审核意见。")
    await review.get_by_label("审核意见").fill("事实清楚，证据充分，处罚适当，同意。")
    await assert_phone_layout(reviewer)
    await shot(reviewer, "reviewer-case")
    await review.get_by_role("button", name="提交审核意见").click()
    await expect(reviewer.get_by_test_id("flash")).to_have_text("审核意见已提交。")
    await expect(reviewer.get_by_test_id("reviews")).to_contain_text("同意")
    await expect(reviewer.get_by_test_id("reviews")).to_contain_text("事实清楚，证据充分")
    await expect(reviewer.get_by_test_id("review-form")).to_have_count(0)
    await expect(reviewer.get_by_test_id("review-approved")).to_be_visible()

    # back on the officer's phone: decide, serve, close
    await officer.reload()
    await expect(officer.get_by_test_id("reviews")).to_contain_text("赵律师")
    await run_step(officer, "作出决定", "确认作出决定")
    await expect(officer.get_by_test_id("flash")).to_have_text("已作出处罚决定。")
    await run_step(officer, "送达", "确认已送达")
    await expect(officer.get_by_test_id("flash")).to_have_text("已记录送达。")
    await run_step(officer, "结案", "确认结案")
    await expect(officer.get_by_test_id("flash")).to_have_text("案件已结案。")
    await expect(stepper.locator('[aria-current="step"]')).to_contain_text("结案")
    await expect(officer.locator(".case__status")).to_have_text("已结案")
    await expect(officer.get_by_role("button", name="作出决定")).to_have_count(0)
    await shot(officer, "case-closed")

    case = client.get(f"/cases/{case_id}")
    assert case["status"] == "closed"
    assert case["action_ids"] == [action_id]
    assert case["decision"]["fine"] == 20000
    assert [r["outcome"] for r in case["reviews"]] == ["approved"]
    assert len(my_actions(client, notes)) == 1

    # the unit's case list shows it closed
    await officer.goto("/#/cases")
    listed = officer.locator(f'[data-testid="case-row"][data-id="{case_id}"]')
    await expect(listed).to_contain_text("已结案")


# ---- refusals -----------------------------------------------------------------------------------


async def test_item_not_delegated_is_refused_in_plain_chinese(new_page, api, password: str) -> None:
    """SC-001 belongs to 区市场监管局: the form never offers it, and forcing it in is refused."""
    client = api("officer1")
    unit_id = client.user["units"][0]["id"]
    every = client.get("/items", limit=200)["items"]
    sc001 = next(i for i in every if i["code"] == "SC-001")
    offered = client.get("/items", unit_id=unit_id, limit=200)["items"]
    assert "SC-001" not in {i["code"] for i in offered}

    # The altered catalogue is in place before sign-in, so no earlier fetch of it can win the race.
    officer = await new_page(permissions=["geolocation"], geolocation=GEO)

    async def with_sc001(route):
        response = await route.fetch()
        data = await response.json()
        data["items"].append(sc001 | {"authority": "delegated"})
        await route.fulfill(response=response, json=data)

    await officer.route(re.compile(r"/api/v1/items\?.*unit_id="), with_sc001)
    await sign_in(officer, "officer1", password, "officer")
    notes = f"食品抽检 {uuid.uuid4().hex[:8]}"
    await open_new_record(officer)
    await fill_record(officer, SC001_NAME, "李强", notes)
    await submit(officer)
    alert = officer.get_by_test_id("form-error")
    await expect(alert).to_contain_text("本单位无权实施该执法事项")
    await expect(alert).to_contain_text("请重新选择事项")
    await assert_plain_chinese(alert)
    await expect(officer).to_have_url(re.compile(r"#/officer/new$"))
    await expect_step(officer, "事项")  # the refusal opens the step of the field it is about
    assert my_actions(client, notes) == []

    # choosing a delegated item instead goes through, with a fresh record id
    await officer.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await go_to_step(officer, "提交")
    await submit(officer)
    await expect(officer).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    assert [a["item_code"] for a in my_actions(client, notes)] == ["CG-001"]

    # the next record lists the item just used first
    await officer.goto("/#/officer/new")
    items = officer.get_by_test_id("items")
    await expect(items.locator("fieldset").first.locator("legend")).to_have_text("最近使用")
    await expect(items.get_by_role("radio").first).to_have_accessible_name(re.compile(CG001_NAME))


async def test_revoked_partner_is_refused_naming_the_officer(new_page, api, password: str) -> None:
    """The form hides 冯军 (revoked); with a stale list that still shows him valid, the server refuses."""
    # The stale list is in place before sign-in, so no partner list can be fetched ahead of it.
    officer = await new_page(permissions=["geolocation"], geolocation=GEO)

    async def revoked_looks_valid(route):
        response = await route.fetch()
        data = await response.json()
        for user in data["items"]:
            if user["username"] == "revoked":
                user["certificate"] = user["certificate"] | {"status": "valid", "revoked_reason": None}
        await route.fulfill(response=response, json=data)

    await officer.route(re.compile(r"/api/v1/users\?"), revoked_looks_valid)
    await sign_in(officer, "officer1", password, "officer")
    notes = f"冯军同行 {uuid.uuid4().hex[:8]}"
    await open_new_record(officer)
    await fill_record(officer, CG001_NAME, "冯军", notes)
    await submit(officer)
    await expect_step(officer, "人员")
    alert = officer.get_by_test_id("form-error")
    await expect(alert).to_have_text("同行执法人员冯军的执法证已注销，本记录无法提交。请更换同行人员。")
    await assert_plain_chinese(alert)
    assert my_actions(api("officer1"), notes) == []


async def test_location_denied_is_explained_and_can_be_retried(new_page, password: str) -> None:
    officer = await officer_page(new_page, password, permissions=[])
    await open_new_record(officer)
    await officer.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await officer.get_by_role("radio", name="检查", exact=True).check()
    await next_step(officer, "人员")
    await officer.get_by_role("checkbox", name=re.compile("李强")).check()
    await next_step(officer, "当事人")
    await next_step(officer, "现场")
    status = officer.get_by_test_id("location-status")
    await expect(status).to_contain_text("定位权限被拒绝")
    await expect(status).to_contain_text("重新定位")
    await assert_plain_chinese(status)
    await expect(officer.get_by_test_id("unlocated-note")).to_contain_text("未定位")

    await officer.context.grant_permissions(["geolocation"])
    await officer.context.set_geolocation(GEO)
    await officer.get_by_role("button", name="重新定位").click()
    await expect(status).to_contain_text("已定位，精度约 12 米")
    await expect(officer.get_by_test_id("unlocated-note")).to_be_hidden()


async def test_a_record_without_a_gps_fix_is_saved_with_its_address(new_page, api, password: str) -> None:
    """No fix (indoors, permission denied): the address is required instead, and the record says 未定位."""
    notes = f"室内检查 {uuid.uuid4().hex[:8]}"
    officer = await officer_page(new_page, password, permissions=[])
    await open_new_record(officer)
    await officer.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await officer.get_by_role("radio", name="检查", exact=True).check()
    await next_step(officer, "人员")
    await officer.get_by_role("checkbox", name=re.compile("李强")).check()
    await next_step(officer, "当事人")
    await next_step(officer, "现场")
    await expect(officer.get_by_test_id("location-status")).to_contain_text("定位权限被拒绝")
    await officer.get_by_label("备注").fill(notes)
    await next_step(officer)
    message = officer.get_by_test_id("field-error")
    await expect(message).to_have_text(
        "还没有定位。没有定位也可以保存，记录将标为“未定位”，请填写详细的执法地点。"
    )
    await expect(officer.get_by_label("执法地点")).to_be_focused()
    await expect_step(officer, "现场")
    await officer.get_by_label("执法地点").fill("水江镇农贸市场二楼东侧")
    await expect(message).to_have_count(0)
    await next_step(officer, "取证")
    await next_step(officer, "提交")
    await expect(officer.get_by_test_id("review-scene").nth(1)).to_contain_text("未定位")
    await submit(officer)
    await expect(officer).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    await expect(officer.get_by_test_id("action-location")).to_have_text("未定位")
    stored = my_actions(api("officer1"), notes)
    assert len(stored) == 1 and stored[0]["location"] is None
    assert stored[0]["address"] == "水江镇农贸市场二楼东侧"


async def test_missing_fields_are_named(new_page, password: str) -> None:
    officer = await officer_page(new_page, password)
    await open_new_record(officer)
    error = officer.get_by_test_id("form-error")
    await next_step(officer)
    await expect(error).to_have_text("请选择执法事项。")
    await officer.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await next_step(officer)
    await expect(error).to_have_text("请选择执法类型。")
    await officer.get_by_role("radio", name="调查取证", exact=True).check()
    await next_step(officer, "人员")
    await next_step(officer)
    await expect(error).to_have_text("请至少选择一名同行执法人员。")
    # the strip cannot skip a step that is not done
    await go_to_step(officer, "提交")
    await expect_step(officer, "人员")
    await expect(error).to_have_text("请至少选择一名同行执法人员。")

    # the narrowest phone the app supports
    await officer.set_viewport_size({"width": 360, "height": 740})
    await assert_phone_layout(officer)


async def test_language_switch_keeps_the_draft(new_page, password: str) -> None:
    officer = await officer_page(new_page, password)
    await open_new_record(officer)
    await officer.get_by_role("radio", name=re.compile(CG001_NAME)).check()
    await officer.get_by_role("radio", name="检查", exact=True).check()
    await next_step(officer, "人员")
    await officer.get_by_role("checkbox", name=re.compile("李强")).check()
    await go_to_step(officer, "现场")
    await officer.get_by_label("备注").fill("草稿内容")
    await officer.get_by_role("button", name="切换为英文界面").click()
    await expect(officer.get_by_role("heading", level=1, name="New enforcement record")).to_be_visible()
    await expect(officer.get_by_label("Notes")).to_have_value("草稿内容")  # still on the step it was on
    await officer.get_by_test_id("form-steps").get_by_role("button", name="Officers", exact=True).click()
    await expect(officer.get_by_role("checkbox", name=re.compile("李强"))).to_be_checked()
    await officer.get_by_test_id("form-steps").get_by_role("button", name="Item", exact=True).click()
    await expect(officer.get_by_role("radio", name=re.compile(CG001_NAME))).to_be_checked()
    await officer.get_by_role("button", name=re.compile("Switch to Chinese")).click()
    await expect(officer.get_by_role("heading", level=1, name="新建执法记录")).to_be_visible()


async def test_concurrent_edit_reloads_and_explains(new_page, api, password: str) -> None:
    client = api("officer1")
    partner = api("officer2").user
    unit_id = client.user["units"][0]["id"]
    item = next(i for i in client.get("/items", unit_id=unit_id, limit=200)["items"] if i["code"] == "CG-002")
    action = client.post(
        "/actions",
        {
            "id": str(uuid.uuid4()),
            "unit_id": unit_id,
            "item_id": item["id"],
            "kind": "evidence",
            "officer_ids": [client.user["id"], partner["id"]],
            "occurred_at": (datetime.now().astimezone() - timedelta(minutes=5)).isoformat(),
            "location": {"lat": 29.15, "lon": 107.1, "accuracy_m": 8},
            "address": "水江镇新街8号",
            "notes": "违法搭建彩钢棚",
        },
    )
    case = client.post(
        "/cases",
        {"unit_id": unit_id, "item_id": item["id"], "action_ids": [action["id"]], "summary": "违法搭建"},
    )

    officer = await officer_page(new_page, password)
    await officer.goto(f"/#/cases/{case['id']}")
    form = officer.get_by_test_id("investigation")
    await form.get_by_label("调查情况").fill("我的调查记录")
    # meanwhile a colleague saves first
    client.patch(f"/cases/{case['id']}", {"version": case["version"], "investigation": "同事的调查记录"})
    await form.get_by_role("button", name="保存调查记录").click()
    conflict = officer.get_by_test_id("conflict")
    await expect(conflict).to_contain_text("该案件刚被他人修改过")
    await assert_plain_chinese(conflict)
    fresh = officer.get_by_test_id("investigation").get_by_label("调查情况")
    await expect(fresh).to_have_value("同事的调查记录")
    await expect(officer.locator(".unsaved")).to_contain_text("我的调查记录")
    assert client.get(f"/cases/{case['id']}")["investigation"] == "同事的调查记录"

    # saving again over the fresh version works
    await officer.get_by_test_id("investigation").get_by_label("调查情况").fill("合并后的调查记录")
    await officer.get_by_test_id("investigation").get_by_role("button", name="保存调查记录").click()
    await expect(officer.get_by_test_id("flash")).to_have_text("调查记录已保存。")
    assert client.get(f"/cases/{case['id']}")["investigation"] == "合并后的调查记录"


async def test_every_new_error_code_reads_as_plain_chinese(page: Page) -> None:
    """Refusals naming an officer use the name; the rest come from the catalogue."""
    await page.goto("/#/login")
    messages = await page.evaluate(
        """async () => {
            const api = await import('/js/api.js');
            const e = (code, extra) => new api.ApiError({ code, status: 422, detail: 'x', extra });
            return [
                api.errorMessage(e('certificate.invalid',
                    { officer_id: 'u2', officer_name: '王某', certificate_status: 'revoked' })),
                api.errorMessage(
                    e('certificate.invalid', { officer_id: 'u1', certificate_status: 'expired' }),
                    { me: 'u1' }),
                api.errorMessage(e('action.officer_not_in_unit', { officer_id: 'u3' }),
                    { people: new Map([['u3', '王磊']]) }),
                api.errorMessage(e('case.criminal_threshold')),
                api.errorMessage(e('case.review_required')),
                api.errorMessage(new api.ApiError({ code: 'case.version_conflict', status: 409 })),
            ];
        }"""
    )
    assert messages[0] == "同行执法人员王某的执法证已注销，本记录无法提交。请更换同行人员。"
    assert messages[1].startswith("您的执法证已过期")
    assert messages[2].startswith("王磊不属于本执法单位")
    assert "应移送司法机关，不能仅作行政处罚结案" in messages[3]
    assert "须经法制审核同意" in messages[4]
    assert "刚被他人修改过" in messages[5]
    for message in messages:
        assert not LATIN.search(message), message
