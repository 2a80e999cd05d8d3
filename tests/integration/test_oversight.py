"""Department oversight (四(三)五): the department that delegated an item reads the townships' actions
and cases under it, changes none of them, and raises findings the township must answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.conftest import PASSWORD, World, assert_problem, login, unique
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.evidence.photos import phone_photo

TASKS = "/api/v1/corrective-actions"


async def _staff(client, admin, unit_id, role: str) -> dict[str, str]:
    username = unique(f"dept-{role}")
    made = await client.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": PASSWORD,
            "display_name": "部门监督员",
            "roles": [role],
            "unit_ids": [str(unit_id)],
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    return await login(client, username)


async def _other_department_item(client, admin, world: World) -> str:
    """Another department's item, delegated to town A as well."""
    dept = await client.post(
        "/api/v1/units", json={"name": unique("其他部门"), "kind": "department"}, headers=admin
    )
    item = await client.post(
        "/api/v1/items",
        json={
            "code": unique("OT"),
            "name": "其他部门事项",
            "kind": "inspection",
            "owner_unit_id": dept.json()["id"],
        },
        headers=admin,
    )
    delegated = await client.post(
        f"/api/v1/items/{item.json()['id']}/delegations",
        json={"unit_id": str(world.town_a), "effective_from": "2020-01-01"},
        headers=admin,
    )
    assert delegated.status_code == 201, delegated.text
    return item.json()["id"]


async def test_the_department_reads_the_townships_records_under_its_items_and_changes_none(
    client, as_user, world: World
) -> None:
    admin, officer = await as_user("admin"), await as_user("officer_a1")
    dept = await _staff(client, admin, world.dept, "officer")
    ours = await record_action(client, officer, world)
    case = await open_case(client, officer, world, [ours["id"]])
    elsewhere = await record_action(
        client, officer, world, item_id=await _other_department_item(client, admin, world)
    )

    # Read: the action (party's id number masked), its case and its evidence.
    photo = await client.post(
        f"/api/v1/actions/{ours['id']}/evidence",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert photo.status_code == 201, photo.text
    seen = await client.get(f"/api/v1/actions/{ours['id']}", headers=dept)
    assert seen.status_code == 200, seen.text
    assert seen.json()["party"]["id_number"] == "5001**********1234"
    assert [e["id"] for e in seen.json()["evidence"]] == [photo.json()["id"]]
    assert (await client.get(f"/api/v1/evidence/{photo.json()['id']}", headers=dept)).status_code == 200
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=dept)).json()["id"] == case["id"]

    # Listed only when asked for the overseen records; never another department's item.
    overseen = (await client.get("/api/v1/actions?overseen=true&limit=200", headers=dept)).json()["items"]
    assert ours["id"] in {a["id"] for a in overseen} and elsewhere["id"] not in {a["id"] for a in overseen}
    for item_id in {a["item_id"] for a in overseen}:  # other tests add the department's items too
        owner = (await client.get(f"/api/v1/items/{item_id}", headers=admin)).json()["owner_unit_id"]
        assert owner == str(world.dept), item_id
    own = (await client.get("/api/v1/actions?limit=200", headers=dept)).json()["items"]
    assert ours["id"] not in {a["id"] for a in own}
    cases = (await client.get("/api/v1/cases?overseen=true&limit=200", headers=dept)).json()["items"]
    assert case["id"] in {c["id"] for c in cases}
    assert_problem(await client.get(f"/api/v1/actions/{elsewhere['id']}", headers=dept), 404, "not_found")

    # Changes nothing: the case's steps and new evidence are refused, and the case is as it was.
    refused = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"version": case["version"], "investigation": "部门改写"},
        headers=dept,
    )
    assert_problem(refused, 403, "oversight.read_only")
    added = await client.post(
        f"/api/v1/actions/{ours['id']}/evidence",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**dept, "Content-Type": "image/jpeg"},
    )
    assert_problem(added, 403, "oversight.read_only")
    after = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    assert after["version"] == case["version"] and after.get("investigation") == case.get("investigation")
    assert len((await client.get(f"/api/v1/actions/{ours['id']}", headers=officer)).json()["evidence"]) == 1

    # A township's officer has nothing to oversee.
    assert (await client.get("/api/v1/actions?overseen=true", headers=officer)).json()["items"] == []


async def test_a_department_finding_goes_to_the_township_which_answers_it(
    client, as_user, world: World
) -> None:
    admin, officer = await as_user("admin"), await as_user("officer_a1")
    dept = await _staff(client, admin, world.dept, "legal_reviewer")
    action = await record_action(client, officer, world)
    finding = await client.post(
        TASKS,
        json={
            "source": {"kind": "action", "id": action["id"]},
            "description": "现场检查未出示执法证件，请说明并整改",
            "due_days": 5,
        },
        headers=dept,
    )
    assert finding.status_code == 201, finding.text
    task = finding.json()
    assert task["unit_id"] == str(world.town_a) and task["assignee_user_id"] is None
    assert task["source"] == {"kind": "action", "id": action["id"]} and task["title"].startswith("监督意见")
    assert task["due_on"] and task["allowed"] == ["close"]
    # The township sees it and answers it; the department that raised it closes it.
    theirs = (await client.get(TASKS, headers=officer)).json()["items"]
    assert task["id"] in {t["id"] for t in theirs}
    assert task["id"] in {t["id"] for t in (await client.get(TASKS, headers=dept)).json()["items"]}
    proof = await client.post(
        f"{TASKS}/{task['id']}/evidence",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    done = await client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"note": "已组织学习亮证执法规定", "evidence_ids": [proof.json()["id"]]},
        headers=officer,
    )
    assert done.json()["status"] == "completed", done.text
    closed = await client.post(f"{TASKS}/{task['id']}/close", json={"comment": "整改到位"}, headers=dept)
    assert closed.json()["status"] == "closed", closed.text
    # Town B's officer never sees it.
    other = (await client.get(TASKS, headers=await as_user("officer_b1"))).json()["items"]
    assert task["id"] not in {t["id"] for t in other}


async def test_a_department_raises_findings_only_on_what_it_oversees(client, as_user, world: World) -> None:
    admin, officer = await as_user("admin"), await as_user("officer_a1")
    dept = await _staff(client, admin, world.dept, "officer")
    action = await record_action(client, officer, world)
    before = len((await client.get(TASKS, headers=dept)).json()["items"])
    # a task by hand is the bureau's
    manual = await client.post(
        TASKS, json={"title": "部门自拟整改", "unit_id": str(world.town_a), "due_days": 3}, headers=dept
    )
    assert_problem(manual, 403, "auth.forbidden")
    # to the township, not to one of its officers
    aimed = await client.post(
        TASKS,
        json={
            "source": {"kind": "action", "id": action["id"]},
            "assignee_user_id": str(world.users["officer_a1"]),
        },
        headers=dept,
    )
    assert_problem(aimed, 400, "validation.failed")
    # a record it cannot read is as missing; another department's item is not its to oversee
    unknown = await client.post(
        TASKS, json={"source": {"kind": "case", "id": str(uuid.uuid4())}}, headers=dept
    )
    assert_problem(unknown, 404, "not_found")
    elsewhere = await record_action(
        client, officer, world, item_id=await _other_department_item(client, admin, world)
    )
    foreign = await client.post(
        TASKS, json={"source": {"kind": "action", "id": elsewhere["id"]}}, headers=dept
    )
    assert_problem(foreign, 404, "not_found")
    # a township's officer oversees nothing, not even its own unit's records
    own = await client.post(TASKS, json={"source": {"kind": "action", "id": action["id"]}}, headers=officer)
    assert_problem(own, 403, "auth.forbidden")
    assert len((await client.get(TASKS, headers=dept)).json()["items"]) == before
