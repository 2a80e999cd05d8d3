"""Leading groups (领导小组) and joint meetings (联席会议): members with their legal qualifications,
version-checked changes, resolutions tracked as corrective actions, and who may read what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from backend.audit.tables import AuditEntry
from backend.corrective.tables import CorrectiveAction
from backend.lib.clock import today_local
from backend.meetings.tables import LeadingGroup, Meeting
from tests.conftest import World, assert_problem, unique
from tests.integration.evidence.photos import phone_photo

GROUPS = "/api/v1/leading-groups"
MEETINGS = "/api/v1/meetings"


async def _township(client, admin) -> str:
    created = await client.post(
        "/api/v1/units", json={"name": unique("镇"), "kind": "township"}, headers=admin
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _group(unit_id: str, **overrides) -> dict:
    return {
        "unit_id": unit_id,
        "name": "行政执法协调监督领导小组",
        "set_up_on": str(today_local()),
        "members": [
            {"role": "组长", "name": "张镇长", "post": "镇长"},
            {"role": "副组长", "name": "李律师", "post": "司法所所长", "public_lawyer": True},
            {"role": "办公室主任", "name": "王主任", "legal_qualification": True},
            {"role": "成员", "name": "赵两证", "public_lawyer": True, "legal_qualification": True},
        ],
        **overrides,
    }


async def _audit_count(object_id: str) -> int:
    return await AuditEntry.count().where(AuditEntry.object_id == object_id)


async def test_a_group_counts_its_legal_professionals_and_a_stale_patch_changes_nothing(
    client, as_user, world: World
) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    unit_id = await _township(client, admin)
    created = await client.post(
        GROUPS,
        json=_group(
            unit_id,
            members=[
                *_group(unit_id)["members"],
                {"role": "成员", "user_id": str(world.users["officer_a1"])},
            ],
        ),
        headers=supervisor,
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["counts"] == {"members": 5, "public_lawyers": 2, "legal_qualification": 2, "either": 3}
    assert group["members"][4]["name"] == "测试officer_a1" and group["version"] == 1
    assert await _audit_count(group["id"]) == 1

    changed = await client.patch(
        f"{GROUPS}/{group['id']}",
        json={"version": 1, "members": [{"role": "组长", "name": "新组长", "legal_qualification": True}]},
        headers=supervisor,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.json()["counts"]["members"] == 1

    stale = await client.patch(
        f"{GROUPS}/{group['id']}", json={"version": 1, "members": []}, headers=supervisor
    )
    body = assert_problem(stale, 409, "leading_group.version_conflict")
    assert body["current_version"] == 2
    again = (await client.get(f"{GROUPS}/{group['id']}", headers=supervisor)).json()
    assert again["version"] == 2 and [m["name"] for m in again["members"]] == ["新组长"]
    assert await _audit_count(group["id"]) == 2

    twice = await client.post(GROUPS, json=_group(unit_id), headers=admin)
    assert_problem(twice, 409, "leading_group.exists")


async def test_bad_group_input_is_refused_and_nothing_is_written(client, as_user) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    unit_id = await _township(client, admin)
    before = await LeadingGroup.count()
    cases = [
        (_group(str(uuid.uuid4())), 422, "unit.not_found"),
        (_group(unit_id, members=[{"role": "成员", "user_id": str(uuid.uuid4())}]), 422, "user.not_found"),
        (_group(unit_id, members=[{"role": "队长", "name": "某人"}]), 400, "validation.failed"),
        (_group(unit_id, members=[{"role": "成员"}]), 400, "validation.failed"),
        (_group(unit_id, members=[{"role": "成员", "name": "  "}]), 400, "validation.failed"),
        (_group(unit_id, name=""), 400, "validation.failed"),
        (_group(unit_id, name="   "), 400, "validation.failed"),
        (_group(unit_id, set_up_on=str(today_local() + timedelta(days=3))), 400, "validation.failed"),
    ]
    for body, status, code in cases:
        assert_problem(await client.post(GROUPS, json=body, headers=supervisor), status, code)
    assert await LeadingGroup.count() == before

    group = (await client.post(GROUPS, json=_group(unit_id), headers=supervisor)).json()
    bad = await client.patch(
        f"{GROUPS}/{group['id']}",
        json={"version": 1, "members": [{"role": "成员", "user_id": str(uuid.uuid4())}]},
        headers=supervisor,
    )
    assert_problem(bad, 422, "user.not_found")
    same = (await client.get(f"{GROUPS}/{group['id']}", headers=supervisor)).json()
    assert same["version"] == 1 and len(same["members"]) == 4


async def test_a_township_reads_its_own_group_only_and_others_are_refused(
    client, as_user, world: World
) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    own = (await client.post(GROUPS, json=_group(str(world.town_a)), headers=supervisor)).json()
    other = (
        await client.post(GROUPS, json=_group(await _township(client, admin)), headers=supervisor)
    ).json()
    officer = await as_user("officer_a1")
    assert (await client.get(f"{GROUPS}/{own['id']}", headers=officer)).json()["unit_id"] == str(world.town_a)
    assert_problem(await client.get(f"{GROUPS}/{other['id']}", headers=officer), 404, "not_found")
    listed = (await client.get(GROUPS, headers=officer)).json()["items"]
    assert [g["id"] for g in listed] == [own["id"]]
    denied = await client.patch(
        f"{GROUPS}/{own['id']}", json={"version": 1, "name": "改名了"}, headers=officer
    )
    assert_problem(denied, 403, "auth.forbidden")
    for key in ("liaison", "invited"):
        refused = await as_user(key)
        assert_problem(await client.get(f"{GROUPS}/{own['id']}", headers=refused), 403, "auth.forbidden")
        assert_problem(await client.get(MEETINGS, headers=refused), 403, "auth.forbidden")


def _meeting(world: World, **overrides) -> dict:
    return {
        "held_on": str(today_local()),
        "title": "第一次行政执法协调监督联席会议",
        "kind": "联席会议",
        "unit_ids": [str(world.justice), str(world.town_a), str(world.dept)],
        "attendees": [{"user_id": str(world.users["supervisor"])}, {"name": "区城管局副局长"}],
        "issues": ["乡镇执法人员持证率偏低", "部门下放事项衔接不畅"],
        "resolutions": [
            {
                "text": "甲镇一个月内完成执法人员培训考试",
                "owner_unit_id": str(world.town_a),
                "due_on": str(today_local() + timedelta(days=30)),
            },
            {
                "text": "部门梳理下放事项清单",
                "owner_unit_id": str(world.dept),
                "due_on": str(today_local() + timedelta(days=10)),
            },
        ],
        **overrides,
    }


async def test_a_meetings_resolutions_become_tasks_and_their_status_shows(
    client, as_user, world: World
) -> None:
    supervisor = await as_user("supervisor")
    created = await client.post(MEETINGS, json=_meeting(world), headers=supervisor)
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert [a["name"] for a in meeting["attendees"]] == ["测试supervisor", "区城管局副局长"]
    town, dept = meeting["resolutions"]
    tasks = await CorrectiveAction.select().where(CorrectiveAction.source_id == uuid.UUID(meeting["id"]))
    by_id = {str(t["id"]): t for t in tasks}
    assert set(by_id) == {town["task_id"], dept["task_id"]}
    assert (
        by_id[town["task_id"]]["unit_id"] == world.town_a and by_id[dept["task_id"]]["unit_id"] == world.dept
    )
    assert (
        str(by_id[town["task_id"]]["due_on"]) == town["due_on"]
        and by_id[town["task_id"]]["source_kind"] == "meeting"
    )
    assert town["task_status"] == "open" and not town["overdue"]
    assert await _audit_count(meeting["id"]) == 1

    officer = await as_user("officer_a1")
    task = (await client.get(f"/api/v1/corrective-actions/{town['task_id']}", headers=officer)).json()
    assert task["allowed"] == ["complete"] and task["source"] == {"kind": "meeting", "id": meeting["id"]}
    photo = await client.post(
        f"/api/v1/corrective-actions/{town['task_id']}/evidence",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert photo.status_code == 201, photo.text
    done = await client.post(
        f"/api/v1/corrective-actions/{town['task_id']}/complete",
        json={"note": "已组织培训考试", "evidence_ids": [photo.json()["id"]]},
        headers=officer,
    )
    assert done.status_code == 200, done.text
    seen = (await client.get(f"{MEETINGS}/{meeting['id']}", headers=officer)).json()
    assert [r["task_status"] for r in seen["resolutions"]] == ["completed", "open"]

    other = await as_user("officer_b1")
    assert_problem(await client.get(f"{MEETINGS}/{meeting['id']}", headers=other), 404, "not_found")
    assert meeting["id"] not in [m["id"] for m in (await client.get(MEETINGS, headers=other)).json()["items"]]
    assert meeting["id"] in [m["id"] for m in (await client.get(MEETINGS, headers=officer)).json()["items"]]
    assert_problem(await client.post(MEETINGS, json=_meeting(world), headers=officer), 403, "auth.forbidden")


async def test_bad_meeting_input_is_refused_and_nothing_is_written(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    resolution = _meeting(world)["resolutions"][0]
    meetings, tasks = await Meeting.count(), await CorrectiveAction.count()
    cases = [
        (_meeting(world, unit_ids=[str(uuid.uuid4())]), 422, "unit.not_found"),
        (_meeting(world, attendees=[{"user_id": str(uuid.uuid4())}]), 422, "user.not_found"),
        (
            _meeting(world, resolutions=[resolution, {**resolution, "owner_unit_id": str(uuid.uuid4())}]),
            422,
            "unit.not_found",
        ),
        (
            _meeting(
                world,
                resolutions=[resolution, {**resolution, "owner_user_id": str(world.users["officer_b1"])}],
            ),
            422,
            "user.not_found",
        ),
        (
            _meeting(world, resolutions=[resolution, {**resolution, "due_on": "2020-01-01"}]),
            400,
            "validation.failed",
        ),
        (_meeting(world, kind="座谈会"), 400, "validation.failed"),
        (_meeting(world, title=""), 400, "validation.failed"),
        (_meeting(world, issues=["   "]), 400, "validation.failed"),
        (_meeting(world, unit_ids=[]), 400, "validation.failed"),
    ]
    for body, status, code in cases:
        assert_problem(await client.post(MEETINGS, json=body, headers=supervisor), status, code)
    assert await Meeting.count() == meetings and await CorrectiveAction.count() == tasks
