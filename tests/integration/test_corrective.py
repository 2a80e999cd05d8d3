"""Corrective actions (整改任务): a failed spot-check opens one for the officer, who completes it with
evidence; only its opener closes it; scope as for documents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from backend.corrective.tables import CorrectiveAction
from tests.conftest import World, assert_problem
from tests.integration.document_helpers import issued
from tests.integration.evidence.photos import phone_photo

TASKS = "/api/v1/corrective-actions"


async def _failed_check(client, supervisor, officer, officer_id) -> dict:
    check = (
        await client.post("/api/v1/spot-checks", json={"officer_id": officer_id}, headers=supervisor)
    ).json()
    answer = await client.post(
        f"/api/v1/spot-checks/{check['id']}/submission",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 201, answer.text
    results = {item["key"]: item["key"] != "body_camera" for item in check["checklist"]}
    reviewed = await client.post(
        f"/api/v1/spot-checks/{check['id']}/review",
        json={"results": results, "score": 60},
        headers=supervisor,
    )
    assert reviewed.json()["status"] == "failed"
    return check


async def test_a_failed_spot_check_opens_a_task_the_officer_completes_and_the_opener_closes(
    client, as_user, world: World
) -> None:
    supervisor, officer = await as_user("supervisor"), await as_user("officer_a2")
    check = await _failed_check(client, supervisor, officer, str(world.users["officer_a2"]))
    mine = (await client.get(TASKS, headers=officer)).json()["items"]
    task = next(t for t in mine if t["source"] == {"kind": "spot_check", "id": check["id"]})
    assert task["assignee_user_id"] == str(world.users["officer_a2"]) and task["status"] == "open"
    assert "执法记录仪" in task["description"] and task["due_on"] and task["allowed"] == ["complete"]
    assert await CorrectiveAction.count().where(CorrectiveAction.source_id == check["id"]) == 1
    # Another officer of another unit does not see it; its opener's colleague cannot close it.
    assert_problem(
        await client.get(f"{TASKS}/{task['id']}", headers=await as_user("officer_b1")), 404, "not_found"
    )
    empty = await client.post(
        f"{TASKS}/{task['id']}/complete", json={"note": "已整改", "evidence_ids": []}, headers=officer
    )
    assert_problem(empty, 400, "validation.failed")
    photo = await client.post(
        f"{TASKS}/{task['id']}/evidence",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert photo.status_code == 201, photo.text
    done = await client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"note": "已重新学习执法记录仪使用规定", "evidence_ids": [photo.json()["id"]]},
        headers=officer,
    )
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    assert_problem(
        await client.post(f"{TASKS}/{task['id']}/close", json={}, headers=officer), 403, "auth.forbidden"
    )
    closed = await client.post(
        f"{TASKS}/{task['id']}/close", json={"comment": "验收合格"}, headers=supervisor
    )
    assert closed.json()["status"] == "closed"
    assert_problem(
        await client.post(f"{TASKS}/{task['id']}/close", json={}, headers=supervisor),
        409,
        "corrective_action.invalid_state",
    )


async def test_a_task_from_a_documents_requirement_goes_to_the_unit(client, as_user, world: World) -> None:
    doc = await issued(client, world)
    supervisor = await as_user("supervisor")
    created = await client.post(
        TASKS, json={"source": {"kind": "document", "id": doc["id"]}}, headers=supervisor
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["unit_id"] == str(world.town_a) and task["assignee_user_id"] is None
    assert task["description"] == doc["requirement"] and doc["number"] in task["title"]
    responder = await as_user("officer_a1")
    assert "complete" in (await client.get(f"{TASKS}/{task['id']}", headers=responder)).json()["allowed"]
    missing = await client.post(
        TASKS, json={"source": {"kind": "document", "id": str(uuid.uuid4())}}, headers=supervisor
    )
    body = assert_problem(missing, 404, "not_found")
    assert body["errors"][0]["key"] == "source"


async def test_bad_tasks_are_refused_and_change_nothing(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    count = await CorrectiveAction.count()
    cases = [
        (
            {"title": "整改", "unit_id": str(world.town_a), "due_on": "2020-01-01"},
            400,
            "validation.failed",
            "due_on",
        ),
        ({"unit_id": str(world.town_a)}, 400, "validation.failed", "title"),
        (
            {
                "title": "整改",
                "unit_id": str(world.town_a),
                "assignee_user_id": str(world.users["officer_b1"]),
            },
            422,
            "user.not_found",
            "assignee_user_id",
        ),
    ]
    for body, status, code, key in cases:
        problem = assert_problem(await client.post(TASKS, json=body, headers=supervisor), status, code)
        assert problem["errors"][0]["key"] == key
    officer = await as_user("officer_a1")
    assert_problem(
        await client.post(TASKS, json={"title": "整改", "unit_id": str(world.town_a)}, headers=officer),
        403,
        "auth.forbidden",
    )
    assert await CorrectiveAction.count() == count


async def test_a_failure_overturned_on_appeal_withdraws_its_task(client, as_user, world: World) -> None:
    supervisor, officer = await as_user("supervisor"), await as_user("officer_b2")
    check = await _failed_check(client, supervisor, officer, str(world.users["officer_b2"]))
    appealed = await client.post(
        f"/api/v1/spot-checks/{check['id']}/appeal",
        json={"comment": "执法记录仪已开启，照片角度问题"},
        headers=officer,
    )
    assert appealed.status_code == 200, appealed.text
    decided = await client.post(
        f"/api/v1/spot-checks/{check['id']}/appeal/decision", json={"upheld": False}, headers=supervisor
    )
    assert decided.status_code == 200 and decided.json()["status"] == "passed", decided.text
    task = await CorrectiveAction.select().where(CorrectiveAction.source_id == check["id"]).first()
    assert task["status"] == "closed" and task["closed_by"] == world.users["supervisor"]
