"""Supervision documents in real browsers, end to end: a supervisor drafts a 责令纠正通知书 from a failed
spot-check, a second supervisor with signing rights issues it, the unit's responder answers it on the
phone with a photo, and the supervisor accepts the answer. The supervisor home's 待回复文书 count moves
live while this happens and matches the list it links to."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from PIL import Image
from playwright.async_api import Page, expect

from tests.e2e.conftest import ApiClient, sign_in
from tests.e2e.test_spotcheck import go_on_duty

pytestmark = pytest.mark.e2e

DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NUMBER = re.compile(r"^\S+〔20\d\d〕[1-9]\d*号$")
ZH_DATE = re.compile(r"\d{4}年\d{2}月\d{2}日")

DRAFTER = "supervisor"
SIGNER = "signer"  # holds 签发权
RESPONDER = "officer1"  # answers 水江镇's supervision documents
OFFICER = "officer2"  # 水江镇


def jpeg(colour: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buf, "JPEG")
    return buf.getvalue()


def raw_post(client: ApiClient, path: str, body: bytes, content_type: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(client.host, int(client.port), timeout=30)
    try:
        conn.request(
            "POST",
            "/api/v1" + path,
            body,
            {"Authorization": f"Bearer {client.token}", "Content-Type": content_type},
        )
        res = conn.getresponse()
        return res.status, json.loads(res.read() or b"null")
    finally:
        conn.close()


def failed_spot_check(api) -> dict:
    """A check of officer1 answered with a photo and scored 不合格 on one item, through the API."""
    go_on_duty(api, OFFICER)
    supervisor, officer = api(DRAFTER), api(OFFICER)
    check = supervisor.post("/spot-checks", {"officer_id": officer.user["id"]})
    status, answered = raw_post(officer, f"/spot-checks/{check['id']}/submission", jpeg(), "image/jpeg")
    assert status == 201, answered
    results = {item["key"]: item["key"] != "no_phone" for item in check["checklist"]}
    reviewed = supervisor.post(
        f"/spot-checks/{check['id']}/review",
        {"results": results, "score": 70, "comment": "执法中使用个人手机"},
        expect=200,
    )
    assert reviewed["status"] == "failed", reviewed
    return reviewed


async def awaiting(page: Page) -> int:
    value = page.get_by_test_id("docs-awaiting")
    await expect(value).to_have_attribute("data-count", re.compile(r"^\d+$"))
    return int(await value.get_attribute("data-count") or "0")


async def test_draft_issue_answer_accept(new_page, api, password: str, tmp_path: Path) -> None:
    check = failed_spot_check(api)
    signer_api = api(SIGNER)
    before = signer_api.get("/supervision-documents", status="issued", limit=200)["items"]

    # The second supervisor keeps the home open on a desk: its 待回复文书 card counts live.
    home = await new_page(viewport=DESK)
    await sign_in(home, SIGNER, password, "supervisor")
    await expect(home.get_by_test_id("docs-card")).to_be_visible()
    start = await awaiting(home)

    # The drafter opens the failed check and turns it into a document; unit and facts come pre-filled.
    drafter = await new_page(viewport=DESK)
    await sign_in(drafter, DRAFTER, password, "supervisor")
    await drafter.goto(f"/#/spot-checks/{check['id']}")
    await drafter.get_by_test_id("doc-draft-from").click()
    await expect(drafter).to_have_url(re.compile(rf"#/documents/new/spot_check/{check['id']}$"))
    form = drafter.get_by_test_id("doc-form")
    await expect(form.get_by_test_id("doc-unit")).to_have_value(check["unit_id"])
    await expect(form.get_by_test_id("doc-facts")).to_have_value(re.compile(r"不合格"))
    await form.get_by_label("责令纠正通知书").check()

    # Empty required fields are named, and nothing is sent.
    await form.get_by_test_id("doc-requirement").fill("")
    await form.get_by_test_id("doc-save").click()
    await expect(drafter.get_by_test_id("doc-error")).to_contain_text("要求")
    await expect(drafter).to_have_url(re.compile(r"#/documents/new/"))

    await form.get_by_test_id("doc-basis").fill("《行政执法监督条例》第二十条")
    requirement = "对涉事执法人员进行执法风纪教育，并于期限内书面报告整改情况。"
    await form.get_by_test_id("doc-requirement").fill(requirement)
    # A deadline that runs into a year whose holidays are not published yet is marked 暂定.
    await form.get_by_test_id("deadline-days").fill("60")
    await expect(form.get_by_test_id("deadline-provisional")).to_have_text("（暂定）")
    await form.get_by_test_id("deadline-days").fill("0")
    await expect(form.get_by_test_id("deadline-due")).to_have_text("请填写 1 到 365 之间的整数天数。")
    await form.get_by_test_id("deadline-days").fill("5")
    # The due date shown is the server's working-day arithmetic from today.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    due = signer_api.get("/calendar/working-days", **{"from": today, "add": 5})
    y, m, d = due["date"].split("-")
    await expect(form.get_by_test_id("deadline-due-date")).to_have_text(f"{y}年{m}月{d}日")
    await form.get_by_test_id("doc-save").click()
    await expect(drafter).to_have_url(re.compile(r"#/documents/[0-9a-f-]{36}$"))
    doc_id = drafter.url.rsplit("/", 1)[1]
    await expect(drafter.get_by_test_id("doc-status")).to_have_text("草稿")
    # The drafter alone cannot issue it.
    await expect(drafter.get_by_test_id("doc-needs-signer")).to_be_visible()
    assert await drafter.get_by_test_id("doc-issue").count() == 0

    # The second supervisor issues it: it gets its number and the home count moves without a reload.
    signer = await new_page(viewport=DESK)
    await sign_in(signer, SIGNER, password, "supervisor")
    await signer.goto(f"/#/documents/{doc_id}")
    await signer.get_by_test_id("doc-issue").click()
    await expect(signer.get_by_test_id("doc-flash")).to_contain_text("已签发")
    number = signer.get_by_test_id("doc-number")
    await expect(number).to_have_text(NUMBER)
    await expect(signer.get_by_test_id("doc-status")).to_have_text("已签发")
    await expect(home.get_by_test_id("docs-awaiting")).to_have_attribute("data-count", str(start + 1))
    issued = signer_api.get("/supervision-documents", status="issued", limit=200)["items"]
    assert len(issued) == len(before) + 1
    # The number links to the list it counts.
    await home.get_by_test_id("docs-awaiting-link").click()
    await expect(home).to_have_url(re.compile(r"#/documents/filter/awaiting$"))
    await expect(home.get_by_test_id("doc-row")).to_have_count(start + 1)
    await home.go_back()
    await expect(home.get_by_test_id("docs-awaiting")).to_have_attribute("data-count", str(start + 1))

    # The PDF downloads under its number.
    async with signer.expect_download() as info:
        await signer.get_by_test_id("doc-pdf").click()
    pdf = await info.value
    saved = tmp_path / "doc.pdf"
    await pdf.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    assert pdf.suggested_filename == f"{await number.inner_text()}.pdf"

    # The unit's responder, on the phone: the inbox marks it unread, with the days left.
    phone = await new_page(viewport=PHONE)
    await sign_in(phone, RESPONDER, password, "officer")
    # The responder is an officer too: the home screen says documents wait unread.
    await expect(phone.get_by_test_id("home-inbox-unread")).to_have_text(re.compile(r"^未读 [1-9]\d* 份$"))
    await phone.get_by_test_id("home-inbox").click()
    await expect(phone).to_have_url(re.compile(r"#/inbox$"))
    await expect(phone.get_by_test_id("inbox-unread")).not_to_have_text("0")
    row = phone.get_by_test_id("inbox-waiting").locator(f'[data-doc="{doc_id}"]')
    await expect(row.get_by_test_id("doc-days-left")).to_have_text(re.compile(r"还剩 \d+ 天"))
    await row.get_by_test_id("doc-row").click()
    await expect(phone.get_by_test_id("doc-due")).to_contain_text(ZH_DATE)
    # An answer without text is refused on the spot.
    await phone.get_by_test_id("doc-answer-submit").click()
    await expect(phone.get_by_test_id("doc-answer-error")).to_have_text("请填写整改情况。")
    await phone.get_by_test_id("doc-answer").fill("已对李强进行执法风纪教育，执法期间个人手机统一保管。")
    await phone.get_by_test_id("attach-camera").set_input_files(
        {"name": "整改照片.jpg", "mimeType": "image/jpeg", "buffer": jpeg((200, 60, 40))}
    )
    await expect(phone.get_by_test_id("attach-item")).to_have_count(1)
    await phone.get_by_test_id("doc-answer-submit").click()
    await expect(phone.get_by_test_id("doc-flash")).to_contain_text("回复已提交")
    await expect(phone.get_by_test_id("doc-status")).to_have_text("已回复")
    await expect(phone.get_by_test_id("doc-response")).to_contain_text("执法风纪教育")
    await expect(phone.get_by_test_id("doc-evidence").locator("a")).to_have_count(1)
    # Answered: no longer waiting, so the supervisor's count goes back down live.
    await expect(home.get_by_test_id("docs-awaiting")).to_have_attribute("data-count", str(start))

    # The drafter's open page shows the answer without a reload, and accepts it.
    await expect(drafter.get_by_test_id("doc-response")).to_contain_text("执法风纪教育")
    await drafter.get_by_label("合格", exact=True).check()
    await drafter.get_by_test_id("doc-accept-submit").click()
    await expect(drafter.get_by_test_id("doc-flash")).to_contain_text("验收合格")
    await expect(drafter.get_by_test_id("doc-acceptance")).to_contain_text("合格")
    stored = signer_api.get(f"/supervision-documents/{doc_id}")
    assert stored["status"] in {"accepted", "closed"}, stored
    assert stored["number"] == await number.inner_text()


async def test_failed_check_task_on_officer_home(new_page, api, password: str) -> None:
    """The failed spot-check opened a 整改任务 for its officer: it is on the officer's home screen, the
    officer completes it with a note and a photo, and the reviewer who opened it closes it."""
    check = failed_spot_check(api)
    tasks = api(DRAFTER).get("/corrective-actions", status="open", limit=200)["items"]
    task = next(x for x in tasks if x["source"] == {"kind": "spot_check", "id": check["id"]})

    phone = await new_page(viewport=PHONE)
    await sign_in(phone, OFFICER, password, "officer")
    row = phone.get_by_test_id("home-tasks").locator(f'[data-task="{task["id"]}"]')
    await expect(row.get_by_test_id("task-status")).to_have_text("待整改")
    await row.get_by_test_id("task-row").click()
    await expect(phone.get_by_test_id("task-assignee")).to_have_text("我")
    # Completing needs a note and a photo; without them nothing is sent.
    await phone.get_by_test_id("task-complete").click()
    await expect(phone.get_by_test_id("task-error")).to_have_text("请写明完成情况。")
    await phone.get_by_test_id("task-note").fill("已学习执法风纪规定，执法时手机交队里统一保管。")
    await phone.get_by_test_id("task-complete").click()
    await expect(phone.get_by_test_id("task-error")).to_contain_text("请先拍照或选择文件")
    assert api(OFFICER).get(f"/corrective-actions/{task['id']}")["status"] == "open"
    await phone.get_by_test_id("attach-camera").set_input_files(
        {"name": "手机保管.jpg", "mimeType": "image/jpeg", "buffer": jpeg((30, 160, 90))}
    )
    await phone.get_by_test_id("task-complete").click()
    await expect(phone.get_by_test_id("task-flash")).to_contain_text("已提交")
    await expect(phone.get_by_test_id("task-status")).to_have_text("已完成")
    await expect(phone.get_by_test_id("task-evidence").locator("a")).to_have_count(1)
    assert await phone.get_by_test_id("task-close").count() == 0  # only its opener closes it

    desk = await new_page(viewport=DESK)
    await sign_in(desk, DRAFTER, password, "supervisor")
    await desk.goto(f"/#/tasks/{task['id']}")
    await expect(desk.get_by_test_id("task-note-shown")).to_contain_text("统一保管")
    await desk.get_by_test_id("task-close").click()
    await expect(desk.get_by_test_id("task-flash")).to_contain_text("任务已关闭")
    assert api(DRAFTER).get(f"/corrective-actions/{task['id']}")["status"] == "closed"
    # Closed, it leaves the officer's home.
    await phone.goto("/#/officer")
    await expect(phone.get_by_test_id("officer-name")).to_be_visible()
    await expect(phone.locator(f'[data-task="{task["id"]}"]')).to_have_count(0)


def issued_document(base_url: str, password: str, unit: str = "水江镇") -> dict:
    drafter = ApiClient(base_url, DRAFTER, password)
    units = {u["name"]: u["id"] for u in drafter.get("/units", limit=200)["items"]}
    draft = drafter.post(
        "/supervision-documents",
        {
            "type": "proposal",
            "unit_id": units[unit],
            "title": "关于规范执法记录仪使用的监督建议",
            "facts": "抽查发现执法记录仪未全程开启。",
            "basis": "《行政执法监督条例》",
            "requirement": "请整改并书面回复。",
            "deadline": {"days": 3, "working": True},
        },
    )
    signer = ApiClient(base_url, SIGNER, password)
    return signer.post(f"/supervision-documents/{draft['id']}/issue", {}, expect=200)


async def move_deadline_to_yesterday(data_dir: Path, document_id: str) -> None:
    """Where the server keeps its data: the SQLite file in its data directory, or the PostgreSQL
    database the e2e run was given."""
    yesterday = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)
    url = os.environ.get("FIELDWATCH_TEST_E2E_DATABASE_URL")
    if url:
        conn = await asyncpg.connect(url)
        try:
            sql = "UPDATE supervision_documents SET due_on = $1 WHERE id = $2"
            await conn.execute(sql, yesterday, uuid.UUID(document_id))
        finally:
            await conn.close()
        return
    with sqlite3.connect(data_dir / "fieldwatch.sqlite3", timeout=30) as db:
        db.execute(
            "UPDATE supervision_documents SET due_on = ? WHERE id = ?", (yesterday.isoformat(), document_id)
        )


async def test_overdue_counter_moves_live(new_page, live_app) -> None:
    """A document whose deadline passes becomes overdue by itself: the command center's 超期文书 and the
    supervisor's card count it without a reload, the alert reads in Chinese, and the counter opens the
    overdue list with the document in it. The deadline is moved into the past in the database: the
    scheduler (every second in these tests) sees the state it would see days later."""
    base_url, password, data_dir = live_app
    doc = issued_document(base_url, password)

    pages = []
    for viewport, user, home in ((DESK, "command", "command"), (PHONE, DRAFTER, "supervisor")):
        page = await new_page(viewport=viewport)
        await sign_in(page, user, password, home)
        await expect(page.get_by_test_id("live-status")).to_contain_text("实时连接正常")
        pages.append(page)
    command, supervisor = pages
    overdue = command.get_by_test_id("count-overdue").locator(".counter__value")
    await expect(overdue).to_have_text(re.compile(r"^\d+$"))
    before = int(await overdue.inner_text())
    late = supervisor.get_by_test_id("docs-overdue")
    await expect(late).to_have_attribute("data-count", str(before))

    await move_deadline_to_yesterday(data_dir, doc["id"])

    await expect(overdue).to_have_text(str(before + 1), timeout=20_000)
    alert = command.locator('[data-type="document.overdue"]').first
    await expect(alert).to_contain_text(f"监督文书 {doc['number']} 已过回复期限")
    await expect(late).to_have_attribute("data-count", str(before + 1))
    await expect(late).to_have_text(f"其中超期 {before + 1} 份")
    await command.get_by_test_id("count-overdue-link").click()
    await expect(command).to_have_url(re.compile(r"#/documents/filter/overdue$"))
    row = command.locator(f'[data-doc="{doc["id"]}"]')
    await expect(row.get_by_test_id("doc-status")).to_have_text("超期未回复")
    await expect(command.get_by_test_id("doc-row")).to_have_count(before + 1)


async def test_a_supervisor_without_signing_rights_cannot_issue(new_page, api, password: str) -> None:
    """Issuing takes 签发权: a colleague without it is told so on the draft, and the server refuses him
    in words too (the draft stays a draft)."""
    signer = api(SIGNER)
    units = {u["name"]: u["id"] for u in signer.get("/units", limit=200)["items"]}
    draft = signer.post(
        "/supervision-documents",
        {
            "type": "opinion",
            "unit_id": units["三泉镇"],
            "title": "关于案卷归档的监督意见",
            "facts": "案卷未按期归档。",
            "requirement": "请于期限内完成归档。",
            "deadline": {"days": 10, "working": False},
        },
    )
    page = await new_page(viewport=DESK)
    await sign_in(page, DRAFTER, password, "supervisor")
    await page.goto(f"/#/documents/{draft['id']}")
    await expect(page.get_by_test_id("doc-needs-signer")).to_have_text(
        "这份草稿须由有签发权的监督人员签发。您的账号没有签发权。"
    )
    assert await page.get_by_test_id("doc-issue").count() == 0
    status, refused = api(DRAFTER).call("POST", f"/supervision-documents/{draft['id']}/issue", {})
    assert (status, refused["code"]) == (403, "document.signing_right_required"), refused
    assert api(SIGNER).get(f"/supervision-documents/{draft['id']}")["status"] == "draft"


async def test_not_accepted_goes_back_with_a_new_deadline(new_page, api, password: str) -> None:
    """验收 不合格 needs a reason and sends the document back to the unit with a new deadline; the
    unit sees it waiting again and may ask for a review (复查申请)."""
    base_url = f"http://{api(DRAFTER).host}:{api(DRAFTER).port}"
    doc = issued_document(base_url, password)
    responder = api(RESPONDER)
    responder.post(f"/supervision-documents/{doc['id']}/response", {"text": "已整改。"}, expect=200)

    desk = await new_page(viewport=DESK)
    await sign_in(desk, DRAFTER, password, "supervisor")
    await desk.goto(f"/#/documents/{doc['id']}")
    await desk.get_by_label("不合格", exact=False).check()
    await desk.get_by_test_id("doc-accept-submit").click()
    await expect(desk.get_by_test_id("doc-accept-error")).to_have_text(
        "不合格时请写明验收意见，告诉受文单位还需要做什么。"
    )
    assert api(DRAFTER).get(f"/supervision-documents/{doc['id']}")["status"] == "responded"
    await desk.get_by_test_id("doc-accept-comment").fill("未附整改前后对比照片，请补充。")
    await desk.locator("#doc-redo-days").fill("3")
    await desk.get_by_test_id("doc-accept-submit").click()
    await expect(desk.get_by_test_id("doc-flash")).to_contain_text("已退回受文单位重新整改")
    await expect(desk.get_by_test_id("doc-status")).to_have_text("验收不合格，待重新整改")
    await expect(desk.get_by_test_id("doc-acceptance")).to_contain_text("未附整改前后对比照片")
    stored = api(DRAFTER).get(f"/supervision-documents/{doc['id']}")
    assert stored["status"] == "returned" and stored["round"] == 2, stored

    phone = await new_page(viewport=PHONE)
    await sign_in(phone, RESPONDER, password, "officer")
    await phone.get_by_role("link", name="监督文书", exact=True).click()
    row = phone.get_by_test_id("inbox-waiting").locator(f'[data-doc="{doc["id"]}"]')
    await expect(row.get_by_test_id("doc-status")).to_have_text("验收不合格，待重新整改")
    await row.get_by_test_id("doc-row").click()
    await expect(phone.get_by_test_id("doc-answer-form")).to_be_visible()
    await phone.get_by_text("复查申请", exact=True).click()
    await phone.get_by_test_id("doc-review-submit").click()
    await expect(phone.get_by_text("请写明申请复查的理由。")).to_be_visible()
    await phone.get_by_test_id("doc-review-reason").fill("检查时整改已完成，照片已随回复提交。")
    await phone.get_by_test_id("doc-review-submit").click()
    await expect(phone.get_by_test_id("doc-flash")).to_have_text("复查申请已提交。")
    await expect(phone.get_by_test_id("doc-review-request")).to_contain_text("照片已随回复提交")
    assert api(DRAFTER).get(f"/supervision-documents/{doc['id']}")["review_requested_at"]
