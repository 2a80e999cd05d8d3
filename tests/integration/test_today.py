"""今日待办: each person's home lists the work waiting for them, and it leaves as it is done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.lib.clock import today_local
from tests.conftest import PASSWORD, World, assert_problem, login, unique
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.evidence.photos import phone_photo

TODAY = "/api/v1/today"


async def _todo(client, headers) -> dict[str, dict]:
    response = await client.get(TODAY, headers=headers)
    assert response.status_code == 200, response.text
    return {item["key"]: item for item in response.json()["items"]}


async def _new_user(client, admin, world: World, role: str, expires_in_days: int | None = None):
    """A user of a township of its own (the suite's townships hold other tests' cases and clocks)."""
    username = unique(f"today-{role}")
    town = await client.post(
        "/api/v1/units", json={"name": unique("今日镇"), "kind": "township"}, headers=admin
    )
    assert town.status_code == 201, town.text
    made = await client.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": PASSWORD,
            "display_name": "今日待办测试",
            "roles": [role],
            "unit_ids": [town.json()["id"]] if role != "liaison" else [],
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    if expires_in_days is not None:
        today = today_local()
        issued = await client.put(
            f"/api/v1/users/{made.json()['id']}/certificate",
            json={
                "number": unique("TD"),
                "issued_on": str(today - timedelta(days=300)),
                "expires_on": str(today + timedelta(days=expires_in_days)),
            },
            headers=admin,
        )
        assert issued.status_code == 200, issued.text
    return made.json()["id"], await login(client, username)


async def test_an_officers_spot_check_and_its_task_wait_on_the_home_until_done(
    client, as_user, world: World
) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    officer_id, officer = await _new_user(client, admin, world, "officer", expires_in_days=12)
    assert await _todo(client, officer) == {}

    check = await client.post("/api/v1/spot-checks", json={"officer_id": officer_id}, headers=supervisor)
    assert check.status_code == 201, check.text
    waiting = (await _todo(client, officer))["spot_checks.to_answer"]
    assert waiting["count"] == 1 and waiting["overdue"] == 0
    assert datetime.fromisoformat(waiting["due"]) == datetime.fromisoformat(check.json()["due_at"])
    # The admin sees the certificate that runs out within the month.
    expiring = (await _todo(client, admin))["certificates.expiring"]
    assert expiring["count"] >= 1 and expiring["due"] <= str(today_local() + timedelta(days=12))

    answer = await client.post(
        f"/api/v1/spot-checks/{check.json()['id']}/submission",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 201, answer.text
    assert "spot_checks.to_answer" not in await _todo(client, officer)
    assert (await _todo(client, supervisor))["spot_checks.to_review"]["count"] >= 1

    results = {item["key"]: item["key"] != "body_camera" for item in check.json()["checklist"]}
    reviewed = await client.post(
        f"/api/v1/spot-checks/{check.json()['id']}/review",
        json={"results": results, "score": 60},
        headers=supervisor,
    )
    assert reviewed.json()["status"] == "failed", reviewed.text
    task = (await _todo(client, officer))["tasks.assigned"]
    assert task["count"] == 1 and task["due"] and task["overdue"] == 0


async def test_a_case_sent_for_review_waits_on_the_reviewers_home(client, as_user, world: World) -> None:
    officer, reviewer = await as_user("officer_a1"), await as_user("reviewer_a")
    before = (await _todo(client, reviewer)).get("reviews.waiting", {"count": 0})["count"]
    action = await record_action(client, officer, world)
    case = await open_case(client, officer, world, [action["id"]])
    investigated = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"version": case["version"], "proposed_decision": {"fine": 15000}},
        headers=officer,
    )
    assert investigated.status_code == 200, investigated.text
    sent = await client.post(f"/api/v1/cases/{case['id']}/submit-review", json={}, headers=officer)
    assert sent.status_code == 200, sent.text
    assert (await _todo(client, reviewer))["reviews.waiting"]["count"] == before + 1
    # Town B's officer has no part in town A's review.
    assert "reviews.waiting" not in await _todo(client, await as_user("officer_b1"))


async def test_a_person_with_nothing_to_do_gets_an_empty_list(client, as_user, world: World) -> None:
    _, liaison = await _new_user(client, await as_user("admin"), world, "liaison")
    response = await client.get(TODAY, headers=liaison)
    assert response.status_code == 200 and response.json()["items"] == []
    assert_problem(await client.get(TODAY), 401, "auth.required")
