from __future__ import annotations

import uuid

from backend.alerts.tables import Alert
from backend.cases.tables import Case
from backend.lib.clock import today_local
from tests.conftest import World, assert_problem
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.evidence.photos import mp4

TODAY = str(today_local())


async def _investigate(client, headers, case, **fields) -> dict:
    response = await client.patch(
        f"/api/v1/cases/{case['id']}", json={"version": case["version"], **fields}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _step(client, headers, case, step: str, body: dict | None = None):
    return await client.post(f"/api/v1/cases/{case['id']}/{step}", json=body or {}, headers=headers)


async def _alerts(case_id: str, type_: str) -> int:
    return await Alert.count().where((Alert.object_id == case_id) & (Alert.type == type_))


async def test_major_case_walks_review_decision_service_and_closing(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    # A major case's on-site inspection is recorded on video (全过程记录, see test_recording.py).
    video = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=mp4(50_000),
        headers={**officer, "Content-Type": "video/mp4"},
    )
    assert video.status_code == 201, video.text
    case = await open_case(client, officer, world, [action["id"]])
    assert (
        case["status"] == "filed"
        and case["action_ids"] == [action["id"]]
        and case["number"].startswith("NC-")
    )
    assert "update" in case["allowed_steps"] and "decision" not in case["allowed_steps"]
    detail = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer)).json()
    assert detail["case_ids"] == [case["id"]]

    case = await _investigate(
        client,
        officer,
        case,
        investigation="当事人承认占道经营",
        amount_involved=3000,
        proposed_decision={"fine": 20000},
    )
    assert case["status"] == "investigating" and case["major_case"] is True and case["version"] == 2
    assert case["needs_review"] is True and case["review_pending"] is False

    refused = await _step(client, officer, case, "decision")
    assert "法制审核" in assert_problem(refused, 422, "case.review_required")["detail"]
    assert await _alerts(case["id"], "case.review_required") == 1
    assert (await Case.select(Case.status).where(Case.id == uuid.UUID(case["id"])).first())["status"] == (
        "investigating"
    )

    case = (await _step(client, officer, case, "submit-review")).json()
    assert case["status"] == "review"
    reviewer = await as_user("reviewer_a")
    queue = (await client.get("/api/v1/cases?status=review&limit=200", headers=reviewer)).json()
    assert case["id"] in {c["id"] for c in queue["items"]}
    assert_problem(
        await _step(client, officer, case, "review", {"approved": True, "opinion": "同意"}),
        403,
        "auth.forbidden",
    )
    reviewed = await _step(client, reviewer, case, "review", {"approved": True, "opinion": "事实清楚，同意"})
    assert reviewed.status_code == 200, reviewed.text
    case = reviewed.json()
    assert case["review_pending"] is False and case["needs_review"] is False
    reviewer_view = (await client.get(f"/api/v1/cases/{case['id']}", headers=reviewer)).json()
    assert "review" not in reviewer_view["allowed_steps"]
    assert case["reviews"][-1]["outcome"] == "approved" and case["reviews"][-1]["opinion"] == "事实清楚，同意"

    decided = await _step(client, officer, case, "decision", {"document_number": "水综执罚决〔2026〕12号"})
    assert decided.status_code == 200, decided.text
    case = decided.json()
    assert case["status"] == "decided" and case["decision"]["fine"] == 20000
    case = (await _step(client, officer, case, "serve", {"served_on": TODAY})).json()
    assert case["status"] == "served"
    closed = await _step(client, officer, case, "close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_at"]
    supervisor = await as_user("supervisor")
    trail = (await client.get(f"/api/v1/audit?object_id={case['id']}", headers=supervisor)).json()["items"]
    assert [e["action"] for e in reversed(trail)] == [
        "case.filed",
        "case.updated",
        "case.review_requested",
        "case.reviewed",
        "case.decided",
        "case.served",
        "case.closed",
    ]


async def test_an_approval_covers_only_the_proposal_it_saw(client, as_user, world: World) -> None:
    officer, reviewer = await as_user("officer_a1"), await as_user("reviewer_a")
    case = await open_case(client, officer, world, [])
    case = await _investigate(client, officer, case, proposed_decision={"fine": 15000})
    case = (await _step(client, officer, case, "submit-review")).json()
    returned = await _step(
        client,
        reviewer,
        case,
        "review",
        {"approved": False, "outcome": "returned", "opinion": "建议修改后提交：补充证据"},
    )
    case = returned.json()
    assert case["status"] == "investigating" and case["reviews"][-1]["outcome"] == "returned"
    case = await _investigate(client, officer, case, proposed_decision={"fine": 12000})
    case = (await _step(client, officer, case, "submit-review")).json()
    case = (await _step(client, reviewer, case, "review", {"approved": True, "opinion": "同意"})).json()
    # Deciding a bigger fine than the one approved is a new proposal: review again.
    assert_problem(
        await _step(client, officer, case, "decision", {"fine": 30000}), 422, "case.review_required"
    )
    assert (await _step(client, officer, case, "decision", {"fine": 12000})).json()["status"] == "decided"


async def test_a_changed_decision_goes_back_to_review_in_one_step_without_an_alert(
    client, as_user, world: World
) -> None:
    officer, reviewer = await as_user("officer_a1"), await as_user("reviewer_a")
    case = await open_case(client, officer, world, [])
    case = await _investigate(
        client, officer, case, proposed_decision={"fine": 12000, "measures": ["责令改正"]}
    )
    case = (await _step(client, officer, case, "submit-review")).json()
    case = (await _step(client, reviewer, case, "review", {"approved": True, "opinion": "同意"})).json()
    assert "submit-review" not in case["allowed_steps"]  # a plain resubmission would change nothing

    # Deciding another fine than approved is refused, names the approved proposal, and alarms nobody.
    refused = assert_problem(
        await _step(client, officer, case, "decision", {"fine": 30000}), 422, "case.review_required"
    )
    assert refused["reason"] == "proposal_changed"
    assert refused["approved"] == {"fine": 12000, "measures": ["责令改正"]}
    assert refused["decision"] == {"fine": 30000, "measures": ["责令改正"]}
    assert await _alerts(case["id"], "case.review_required") == 0

    # Bad input and an unchanged resubmission change nothing.
    assert_problem(
        await _step(
            client,
            officer,
            case,
            "submit-review",
            {"version": case["version"], "proposed_decision": {"fine": -1}},
        ),
        400,
        "validation.failed",
    )
    same = {"version": case["version"], "proposed_decision": {"fine": 12000, "measures": ["责令改正"]}}
    assert_problem(await _step(client, officer, case, "submit-review", same), 422, "case.invalid_transition")
    unchanged = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    assert unchanged["version"] == case["version"] and unchanged["proposed_decision"]["fine"] == 12000

    # One step sends the changed proposal back to review; the old approval no longer covers it.
    changed = {"version": case["version"], "proposed_decision": {"fine": 30000, "measures": ["责令改正"]}}
    resubmitted = await _step(client, officer, case, "submit-review", changed)
    assert resubmitted.status_code == 200, resubmitted.text
    case = resubmitted.json()
    assert case["status"] == "review" and case["review_pending"] is True
    assert case["proposed_decision"]["fine"] == 30000 and case["version"] == unchanged["version"] + 1
    reviewer_view = (await client.get(f"/api/v1/cases/{case['id']}", headers=reviewer)).json()
    assert "review" in reviewer_view["allowed_steps"]
    assert_problem(
        await _step(client, officer, case, "decision", {"fine": 30000}), 422, "case.review_required"
    )
    assert await _alerts(case["id"], "case.review_required") == 1  # deciding before the new review is one
    case = (await _step(client, reviewer, case, "review", {"approved": True, "opinion": "同意变更"})).json()
    decided = await _step(client, officer, case, "decision", {"fine": 30000})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["fine"] == 30000


async def test_minor_case_needs_no_review(client, as_user, world: World) -> None:
    officer = await as_user("officer_a2")
    case = await open_case(client, officer, world, [])
    case = await _investigate(client, officer, case, proposed_decision={"fine": 500})
    assert case["major_case"] is False
    assert (await _step(client, officer, case, "decision")).json()["status"] == "decided"
    licence = await open_case(client, officer, world, [])
    licence = await _investigate(client, officer, licence, proposed_decision={"measures": ["吊销许可证"]})
    assert licence["major_case"] is True
    assert_problem(await _step(client, officer, licence, "decision"), 422, "case.review_required")


async def test_a_case_over_the_criminal_threshold_is_transferred_not_fined_away(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    case = await open_case(client, officer, world, [])
    case = await _investigate(client, officer, case, amount_involved=80000, proposed_decision={"fine": 5000})
    assert case["criminal_threshold_reached"] is True
    case = (await _step(client, officer, case, "decision")).json()
    assert await _alerts(case["id"], "case.criminal_threshold") == 1
    case = (await _step(client, officer, case, "serve", {"served_on": TODAY})).json()
    refused = await _step(client, officer, case, "close")
    assert "两法衔接" in assert_problem(refused, 422, "case.criminal_threshold")["detail"]
    assert await _alerts(case["id"], "case.criminal_threshold") == 2
    bad = await _step(
        client, officer, case, "transfer", {"organ": "", "transferred_on": TODAY, "receipt_number": "x"}
    )
    assert_problem(bad, 400, "validation.failed")
    moved = await _step(
        client,
        officer,
        case,
        "transfer",
        {"organ": "区公安局", "transferred_on": TODAY, "receipt_number": "YS-2026-0031"},
    )
    assert moved.status_code == 200 and moved.json()["status"] == "transferred"
    assert moved.json()["transfer"]["receipt_number"] == "YS-2026-0031"
    assert_problem(await _step(client, officer, moved.json(), "close"), 422, "case.invalid_transition")


async def test_a_supervisor_may_record_a_justified_override(client, as_user, world: World) -> None:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    case = await open_case(client, officer, world, [])
    case = await _investigate(client, officer, case, amount_involved=60000, proposed_decision={"fine": 3000})
    case = (await _step(client, officer, case, "decision")).json()
    case = (await _step(client, officer, case, "serve", {"served_on": TODAY})).json()
    assert_problem(
        await _step(client, officer, case, "override", {"reason": "检察院已书面答复不予立案"}),
        403,
        "auth.forbidden",
    )
    overridden = await _step(client, supervisor, case, "override", {"reason": "检察院已书面答复不予立案"})
    assert (
        overridden.status_code == 200
        and overridden.json()["override"]["reason"] == "检察院已书面答复不予立案"
    )
    assert (await _step(client, officer, overridden.json(), "close")).json()["status"] == "closed"


async def test_steps_only_along_the_workflow(client, as_user, world: World) -> None:
    officer = await as_user("officer_a2")
    case = await open_case(client, officer, world, [])
    for step, body in (
        ("close", {}),
        ("serve", {"served_on": TODAY}),
        ("decision", {}),
        ("submit-review", {}),
    ):
        problem = assert_problem(
            await _step(client, officer, case, step, body), 422, "case.invalid_transition"
        )
        assert problem["status_now"] == "filed"
    case = await _investigate(client, officer, case, investigation="调查中")
    assert_problem(await _step(client, officer, case, "submit-review"), 422, "case.proposal_missing")


async def test_concurrent_edits_do_not_overwrite_each_other(client, as_user, world: World) -> None:
    a1, a2 = await as_user("officer_a1"), await as_user("officer_a2")
    case = await open_case(client, a1, world, [])
    first = await client.patch(
        f"/api/v1/cases/{case['id']}", json={"version": 1, "investigation": "张伟的记录"}, headers=a1
    )
    assert first.status_code == 200
    second = await client.patch(
        f"/api/v1/cases/{case['id']}", json={"version": 1, "investigation": "李强的记录"}, headers=a2
    )
    assert assert_problem(second, 409, "case.version_conflict")["current_version"] == 2
    current = (await client.get(f"/api/v1/cases/{case['id']}", headers=a2)).json()
    assert current["investigation"] == "张伟的记录" and current["version"] == 2
    stale = await _step(client, a1, current, "submit-review", {"version": 1})
    assert_problem(stale, 409, "case.version_conflict")
    assert_problem(
        await client.patch(f"/api/v1/cases/{case['id']}", json={"investigation": "无版本"}, headers=a1),
        400,
        "validation.failed",
    )


async def test_case_scope_and_who_may_act(client, as_user, world: World) -> None:
    a1 = await as_user("officer_a1")
    action = await record_action(client, a1, world)
    case = await open_case(client, a1, world, [action["id"]])
    b1 = await as_user("officer_b1")
    assert_problem(await client.get(f"/api/v1/cases/{case['id']}", headers=b1), 404, "not_found")
    assert_problem(
        await client.patch(f"/api/v1/cases/{case['id']}", json={"version": 1, "summary": "改"}, headers=b1),
        404,
        "not_found",
    )
    assert case["id"] not in {
        c["id"] for c in (await client.get("/api/v1/cases?limit=200", headers=b1)).json()["items"]
    }
    body = {
        "unit_id": str(world.town_b),
        "item_id": str(world.items["delegated"]),
        "action_ids": [action["id"]],
        "summary": "跨镇立案",
    }
    assert_problem(await client.post("/api/v1/cases", json=body, headers=b1), 422, "case.actions_invalid")
    assert_problem(
        await client.post("/api/v1/cases", json=dict(body, unit_id=str(world.town_a)), headers=b1),
        403,
        "auth.forbidden",
    )
    revoked = await as_user("officer_a_revoked")
    problem = assert_problem(
        await client.post(
            "/api/v1/cases", json=dict(body, unit_id=str(world.town_a), action_ids=[]), headers=revoked
        ),
        422,
        "certificate.invalid",
    )
    assert problem["certificate_status"] == "revoked"
    dept_item = dict(body, unit_id=str(world.town_a), action_ids=[], item_id=str(world.items["dept_only"]))
    assert_problem(await client.post("/api/v1/cases", json=dept_item, headers=a1), 422, "item.not_authorised")
    for key in ("invited", "liaison"):
        headers = await as_user(key)
        assert_problem(await client.get(f"/api/v1/cases/{case['id']}", headers=headers), 404, "not_found")
        assert_problem(await client.get("/api/v1/cases", headers=headers), 403, "auth.forbidden")
    reviewer = await as_user("reviewer_a")
    case = await _investigate(client, a1, case, proposed_decision={"fine": 20000})
    case = (await _step(client, a1, case, "submit-review")).json()
    assert_problem(await _step(client, reviewer, case, "decision"), 403, "auth.forbidden")


async def test_creating_a_case_twice_with_the_same_id(client, as_user, world: World) -> None:
    a1 = await as_user("officer_a1")
    case_id = str(uuid.uuid4())
    first = await open_case(client, a1, world, [], id=case_id)
    body = {
        "id": case_id,
        "unit_id": str(world.town_a),
        "item_id": str(world.items["delegated"]),
        "action_ids": [],
        "summary": "某某餐馆占道经营案",
    }
    again = await client.post("/api/v1/cases", json=body, headers=a1)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["number"] == first["number"]
    assert_problem(
        await client.post("/api/v1/cases", json=dict(body, summary="另一个案件"), headers=a1),
        409,
        "idempotency.mismatch",
    )
    assert await Case.count().where(Case.id == uuid.UUID(case_id)) == 1


async def test_alerts_list_and_acknowledgement(client, as_user, world: World) -> None:
    officer = await as_user("officer_b1")
    from tests.integration.enforcement_helpers import action_payload

    body = action_payload(
        world,
        unit_id=str(world.town_b),
        officer_ids=[str(world.users["officer_b1"]), str(world.users["officer_a_revoked"])],
    )
    assert (await client.post("/api/v1/actions", json=body, headers=officer)).status_code == 422
    command = await as_user("command")
    alerts = (
        await client.get("/api/v1/alerts?type=action.refused&status=open&limit=200", headers=command)
    ).json()
    alert = next(a for a in alerts["items"] if a["object_id"] == body["id"])
    assert alert["data"]["code"] == "action.officer_not_in_unit"
    acked = await client.post(f"/api/v1/alerts/{alert['id']}/ack", json={"status": "acked"}, headers=command)
    assert acked.status_code == 200 and acked.json()["status"] == "acked" and acked.json()["handled_by"]
    assert_problem(await client.get("/api/v1/alerts", headers=officer), 403, "auth.forbidden")
    assert_problem(
        await client.post(f"/api/v1/alerts/{uuid.uuid4()}/ack", json={}, headers=command), 404, "not_found"
    )
