"""Supervision documents: two-person issue with a gapless number, the unit's inbox and answer,
验收, close, scope, and refusals that change nothing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from backend.audit.tables import AuditEntry
from backend.documents.tables import DocumentCounter, SupervisionDocument
from backend.lib.clock import today_local
from tests.conftest import World, assert_problem
from tests.integration.document_helpers import draft, ensure_people, issued, signer
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import phone_photo

DOCS = "/api/v1/supervision-documents"
NUMBER = re.compile(r"^南川司监建〔(\d{4})〕([1-9]\d*)号$")


async def test_a_second_supervisor_with_signing_rights_issues_with_the_next_number(
    client, as_user, world: World
) -> None:
    await ensure_people(client, world)
    supervisor = await as_user("supervisor")
    doc = await draft(client, supervisor, world)
    assert doc["status"] == "draft" and doc["number"] is None and doc["type_name"] == "行政执法监督建议书"
    # The drafter may not issue (two people), nor may a supervisor without signing rights.
    assert_problem(
        await client.post(f"{DOCS}/{doc['id']}/issue", headers=supervisor),
        403,
        "document.second_person_required",
    )
    assert (await SupervisionDocument.select().where(SupervisionDocument.id == doc["id"]).first())[
        "status"
    ] == "draft"
    year = today_local().year
    key = f"南川司监建:{year}"
    before = await DocumentCounter.select(DocumentCounter.last).where(DocumentCounter.key == key).first()
    last = before["last"] if before else 0
    response = await client.post(f"{DOCS}/{doc['id']}/issue", headers=await signer(client, world))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "issued" and body["number"] == f"南川司监建〔{year}〕{last + 1}号"
    assert NUMBER.match(body["number"]) and "第" not in body["number"]
    assert body["due_on"] > today_local().isoformat() and body["due_provisional"] in (True, False)
    again = await client.post(f"{DOCS}/{doc['id']}/issue", headers=await signer(client, world))
    assert_problem(again, 409, "document.invalid_state")
    nxt = await issued(client, world)
    assert nxt["number"] == f"南川司监建〔{year}〕{last + 2}号"
    kinds = {
        e["action"]
        for e in await AuditEntry.select(AuditEntry.action).where(AuditEntry.object_id == doc["id"])
    }
    assert {"document.drafted", "document.issued"} <= kinds


async def test_a_supervisor_without_signing_rights_cannot_issue(client, as_user, world: World) -> None:
    await ensure_people(client, world)
    doc = await draft(client, await signer(client, world), world)  # drafted by the signer
    refused = await client.post(f"{DOCS}/{doc['id']}/issue", headers=await as_user("supervisor"))
    assert_problem(refused, 403, "document.signing_right_required")
    assert_problem(
        await client.post(f"{DOCS}/{doc['id']}/issue", headers=await as_user("officer_a1")),
        403,
        "auth.forbidden",
    )
    row = await SupervisionDocument.select().where(SupervisionDocument.id == doc["id"]).first()
    assert row["status"] == "draft" and row["number"] is None


async def test_the_unit_answers_with_a_photo_and_the_supervisor_returns_then_accepts(
    client, as_user, world: World
) -> None:
    doc = await issued(client, world)
    unit = await as_user("officer_a1")  # town A's responder
    inbox = (await client.get(DOCS, headers=unit)).json()["items"]
    mine = next(d for d in inbox if d["id"] == doc["id"])
    assert mine["unread"] is True and "respond" in mine["allowed"]
    unread = (await client.get(f"{DOCS}/counts", headers=unit)).json()["unread"]
    detail = (await client.get(f"{DOCS}/{doc['id']}", headers=unit)).json()
    assert detail["unread"] is False and detail["number"] == doc["number"]
    assert (await client.get(f"{DOCS}/counts", headers=unit)).json()["unread"] == unread - 1
    photo = await client.post(
        f"{DOCS}/{doc['id']}/evidence", content=phone_photo(), headers={**unit, "Content-Type": "image/jpeg"}
    )
    assert photo.status_code == 201, photo.text
    answer = await client.post(
        f"{DOCS}/{doc['id']}/response",
        json={"text": "已组织全员培训，执法记录仪全程开启。", "evidence_ids": [photo.json()["id"]]},
        headers=unit,
    )
    assert answer.status_code == 200, answer.text and answer.json()["status"] == "responded"
    supervisor = await as_user("supervisor")
    seen = await client.get(f"/api/v1/evidence/{photo.json()['id']}", headers=supervisor)
    assert seen.status_code == 200
    returned = await client.post(
        f"{DOCS}/{doc['id']}/acceptance",
        json={"passed": False, "comment": "整改材料不完整", "new_deadline": {"days": 5, "working": True}},
        headers=supervisor,
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned" and returned.json()["round"] == 2
    again = await client.post(f"{DOCS}/{doc['id']}/response", json={"text": "补充材料已上传。"}, headers=unit)
    assert again.status_code == 200 and again.json()["status"] == "responded"
    accepted = await client.post(f"{DOCS}/{doc['id']}/acceptance", json={"passed": True}, headers=supervisor)
    assert accepted.json()["status"] == "accepted"
    closed = await client.post(f"{DOCS}/{doc['id']}/close", json={}, headers=supervisor)
    assert closed.json()["status"] == "closed"
    steps = [s["step"] for s in closed.json()["steps"]]
    assert steps == ["drafted", "issued", "read", "responded", "returned", "responded", "accepted", "closed"]
    # A reply to a closed document is refused and changes nothing.
    late = await client.post(f"{DOCS}/{doc['id']}/response", json={"text": "再次回复。"}, headers=unit)
    assert_problem(late, 409, "document.closed")
    photo2 = await client.post(
        f"{DOCS}/{doc['id']}/evidence", content=phone_photo(), headers={**unit, "Content-Type": "image/jpeg"}
    )
    assert_problem(photo2, 409, "document.closed")
    row = await SupervisionDocument.select().where(SupervisionDocument.id == doc["id"]).first()
    assert row["status"] == "closed" and row["number"] == doc["number"]


async def test_units_see_only_their_documents_and_invited_supervisors_none(
    client, as_user, world: World
) -> None:
    doc = await issued(client, world)
    draft_only = await draft(client, await as_user("supervisor"), world)
    other = await as_user("officer_b1")  # town B's responder
    assert_problem(await client.get(f"{DOCS}/{doc['id']}", headers=other), 404, "not_found")
    assert doc["id"] not in [d["id"] for d in (await client.get(DOCS, headers=other)).json()["items"]]
    answer = await client.post(f"{DOCS}/{doc['id']}/response", json={"text": "不是我们的。"}, headers=other)
    assert_problem(answer, 404, "not_found")
    unit = await as_user("officer_a1")
    assert_problem(
        await client.get(f"{DOCS}/{draft_only['id']}", headers=unit), 404, "not_found"
    )  # drafts stay home
    # An officer of town A who is not its responder sees nothing either.
    assert_problem(
        await client.get(f"{DOCS}/{doc['id']}", headers=await as_user("officer_a2")), 404, "not_found"
    )
    invited = await as_user("invited")
    assert (await client.get(DOCS, headers=invited)).json()["items"] == []
    assert_problem(await client.get(f"{DOCS}/{doc['id']}", headers=invited), 404, "not_found")
    assert_problem(await client.get(f"{DOCS}/{doc['id']}/pdf", headers=invited), 404, "not_found")


async def test_bad_input_names_the_field_and_changes_nothing(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    count = await SupervisionDocument.count()
    past = (today_local() - timedelta(days=1)).isoformat()
    cases = [
        ({"deadline": {"due_on": past}}, 400, "validation.failed", "deadline.due_on"),
        ({"deadline": {"due_on": today_local().isoformat()}}, 400, "validation.failed", "deadline.due_on"),
        ({"links": [{"kind": "action", "id": str(uuid.uuid4())}]}, 404, "not_found", "links[0]"),
        ({"links": [{"kind": "spot_check", "id": str(uuid.uuid4())}]}, 404, "not_found", "links[0]"),
        ({"unit_id": str(uuid.uuid4())}, 422, "unit.not_found", "unit_id"),
    ]
    for overrides, status, code, key in cases:
        from tests.integration.document_helpers import draft_payload

        response = await client.post(DOCS, json=draft_payload(world, **overrides), headers=supervisor)
        body = assert_problem(response, status, code)
        assert [e["key"] for e in body["errors"]] == [key], body
    bad_type = await client.post(DOCS, json={**draft_payload(world), "type": "memo"}, headers=supervisor)
    assert_problem(bad_type, 400, "validation.failed")
    assert_problem(
        await client.post(DOCS, json=draft_payload(world), headers=await as_user("officer_a1")),
        403,
        "auth.forbidden",
    )
    assert await SupervisionDocument.count() == count


async def test_a_draft_links_records_the_author_can_see(client, as_user, world: World) -> None:
    action = await record_action(client, await as_user("officer_a1"), world)
    doc = await draft(
        client, await as_user("supervisor"), world, links=[{"kind": "action", "id": action["id"]}]
    )
    assert doc["links"] == [{"kind": "action", "id": action["id"]}]


async def test_an_attachment_over_the_limit_is_413(client, as_user, world: World) -> None:
    doc = await issued(client, world)
    unit = await as_user("officer_a1")
    big = await client.post(
        f"{DOCS}/{doc['id']}/evidence",
        content=b"%PDF-1.4\n" + b"0" * 1024,
        headers={**unit, "Content-Type": "application/pdf", "Content-Length": str(51 * 1024 * 1024)},
    )
    assert_problem(big, 413, "request.too_large")
    listed = await client.get(f"{DOCS}/{doc['id']}/evidence", headers=unit)
    assert listed.json() == []
    foreign = await client.post(
        f"{DOCS}/{doc['id']}/response",
        json={"text": "见附件。", "evidence_ids": [str(uuid.uuid4())]},
        headers=unit,
    )
    body = assert_problem(foreign, 422, "document.evidence_invalid")
    assert body["errors"][0]["key"] == "evidence_ids[0]"


async def test_a_correction_is_a_new_document_citing_the_old_number(client, as_user, world: World) -> None:
    old = await issued(client, world)
    fixed = await issued(client, world, cites_id=old["id"], title="关于更正监督建议书的通知")
    assert fixed["cites"] == {"id": old["id"], "number": old["number"]} and fixed["number"] != old["number"]
    row = await SupervisionDocument.select().where(SupervisionDocument.id == old["id"]).first()
    assert row["status"] == "issued"  # the old one is untouched


async def test_a_review_request_and_its_decision(client, as_user, world: World) -> None:
    doc = await issued(client, world)
    unit = await as_user("officer_a1")
    asked = await client.post(
        f"{DOCS}/{doc['id']}/review-request", json={"reason": "事实认定有误。"}, headers=unit
    )
    assert asked.status_code == 200 and asked.json()["review_requested_at"]
    twice = await client.post(
        f"{DOCS}/{doc['id']}/review-request", json={"reason": "再次申请。"}, headers=unit
    )
    assert_problem(twice, 409, "document.invalid_state")
    decided = await client.post(
        f"{DOCS}/{doc['id']}/review-decision",
        json={"upheld": False, "comment": "撤回"},
        headers=await as_user("supervisor"),
    )
    assert decided.json()["status"] == "closed"


async def test_a_repeated_draft_request_returns_the_original(client, as_user, world: World) -> None:
    from tests.integration.document_helpers import draft_payload

    supervisor = {**await as_user("supervisor"), "Idempotency-Key": f"draft-{uuid.uuid4()}"}
    first = await client.post(DOCS, json=draft_payload(world), headers=supervisor)
    again = await client.post(DOCS, json=draft_payload(world), headers=supervisor)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await SupervisionDocument.count().where(SupervisionDocument.id == first.json()["id"]) == 1
    other = await client.post(DOCS, json=draft_payload(world, title="另一份建议书"), headers=supervisor)
    assert_problem(other, 409, "idempotency.mismatch")


async def test_a_check_record_expects_no_answer(client, as_user, world: World) -> None:
    record = await issued(client, world, type="check_record", deadline=None, title="现场检查记录")
    assert record["due_on"] is None and record["number"].startswith("南川司监记〔")
    supervisor = await as_user("supervisor")
    awaiting = (
        await client.get(DOCS, params={"status": "awaiting", "limit": 200}, headers=supervisor)
    ).json()
    assert record["id"] not in [d["id"] for d in awaiting["items"]]
    unit = await as_user("officer_a1")
    answer = await client.post(f"{DOCS}/{record['id']}/response", json={"text": "收到。"}, headers=unit)
    assert_problem(answer, 409, "document.invalid_state")
