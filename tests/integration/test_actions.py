from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from backend.actions.tables import Action
from backend.alerts.tables import Alert
from tests.conftest import World, assert_problem
from tests.integration.enforcement_helpers import action_payload, record_action


async def _count(action_id: str) -> int:
    return await Action.count().where(Action.id == uuid.UUID(action_id))


async def test_an_officer_records_an_action_seen_by_the_unit_and_supervisors(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    assert action["unit_id"] == str(world.town_a) and action["status"] == "recorded"
    assert {o["id"] for o in action["officers"]} == {
        str(world.users["officer_a1"]),
        str(world.users["officer_a2"]),
    }
    assert action["party"]["id_number"] == "500119199001011234"  # own unit's detail: in full
    assert action["evidence"] == [] and action["created_at"]
    colleague = await as_user("officer_a2")
    feed = (await client.get("/api/v1/actions?limit=200", headers=colleague)).json()
    listed = next(a for a in feed["items"] if a["id"] == action["id"])
    assert listed["party"]["id_number"] == "5001**********1234"
    assert listed["item_name"].startswith("测试事项") and listed["unit_name"]
    supervisor = await as_user("supervisor")
    assert (await client.get(f"/api/v1/actions/{action['id']}", headers=supervisor)).status_code == 200
    audit = (await client.get(f"/api/v1/audit?object_id={action['id']}", headers=supervisor)).json()
    assert [e["action"] for e in audit["items"]] == ["action.created"]


async def test_resending_the_same_record_creates_it_once(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    body = action_payload(world)
    first = await client.post("/api/v1/actions", json=body, headers=officer)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    # The outbox re-sends it hours later, the time spelled in Beijing time this once.
    again = dict(
        body,
        occurred_at=datetime.fromisoformat(body["occurred_at"])
        .astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
        .isoformat(),
    )
    for payload in (body, again, body):
        replay = await client.post("/api/v1/actions", json=payload, headers=officer)
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
    assert await _count(body["id"]) == 1
    changed = await client.post("/api/v1/actions", json=dict(body, notes="另一条记录"), headers=officer)
    assert_problem(changed, 409, "idempotency.mismatch")
    other = await as_user("officer_a2")
    assert_problem(
        await client.post("/api/v1/actions", json=body, headers=other), 409, "idempotency.mismatch"
    )
    assert await _count(body["id"]) == 1


async def test_idempotency_key_header_without_client_id(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    body = action_payload(world)
    del body["id"]
    headers = {**officer, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/api/v1/actions", json=body, headers=headers)
    second = await client.post("/api/v1/actions", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"] and second.headers["idempotent-replayed"] == "true"
    fresh = await client.post("/api/v1/actions", json=body, headers=officer)
    assert fresh.json()["id"] != first.json()["id"]


async def _refused(client, headers, body, status: int, code: str) -> dict:
    response = await client.post("/api/v1/actions", json=body, headers=headers)
    problem = assert_problem(response, status, code)
    assert await _count(body["id"]) == 0
    return problem


async def test_rule_every_officer_certified(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    for partner, status in (
        ("officer_a_revoked", "revoked"),
        ("officer_a_expired", "expired"),
        ("officer_a_nocert", "missing"),
    ):
        body = action_payload(world, officer_ids=[str(world.users["officer_a1"]), str(world.users[partner])])
        problem = await _refused(client, officer, body, 422, "certificate.invalid")
        assert problem["officer_id"] == str(world.users[partner]) and problem["certificate_status"] == status
        assert problem["officer_name"] == f"测试{partner}"
        alert = (
            await Alert.select()
            .where((Alert.object_id == body["id"]) & (Alert.type == "action.refused"))
            .first()
        )
        assert alert is not None and alert["unit_id"] == world.town_a and alert["severity"] == "high"
    revoked = await as_user("officer_a_revoked")
    body = action_payload(
        world, officer_ids=[str(world.users["officer_a_revoked"]), str(world.users["officer_a1"])]
    )
    await _refused(client, revoked, body, 422, "certificate.invalid")


async def test_rule_two_officers_of_the_acting_unit(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    me = str(world.users["officer_a1"])
    await _refused(
        client, officer, action_payload(world, officer_ids=[me]), 422, "action.two_officers_required"
    )
    await _refused(
        client, officer, action_payload(world, officer_ids=[me, me]), 422, "action.two_officers_required"
    )
    foreign = action_payload(world, officer_ids=[me, str(world.users["officer_b1"])])
    problem = await _refused(client, officer, foreign, 422, "action.officer_not_in_unit")
    assert problem["officer_id"] == str(world.users["officer_b1"])
    not_officer = action_payload(world, officer_ids=[me, str(world.users["reviewer_a"])])
    await _refused(client, officer, not_officer, 422, "action.officer_not_in_unit")
    others = action_payload(
        world, officer_ids=[str(world.users["officer_a2"]), str(world.users["officer_a_revoked"])]
    )
    await _refused(client, officer, others, 422, "action.recorder_not_listed")


async def test_rule_item_own_or_delegated_in_effect_on_the_day(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    problem = await _refused(
        client,
        officer,
        action_payload(world, item_id=str(world.items["dept_only"])),
        422,
        "item.not_authorised",
    )
    assert problem["item_id"] == str(world.items["dept_only"])
    await _refused(
        client, officer, action_payload(world, item_id=str(world.items["lapsed"])), 422, "item.not_authorised"
    )
    # Recorded late for a day inside the lapsed delegation: that day, the power was delegated.
    in_period = action_payload(
        world, item_id=str(world.items["lapsed"]), occurred_at="2021-06-01T10:00:00+08:00"
    )
    assert (await client.post("/api/v1/actions", json=in_period, headers=officer)).status_code == 201
    refusals = await Alert.count().where((Alert.type == "action.refused") & (Alert.unit_id == world.town_a))
    assert refusals >= 2
    await _refused(client, officer, action_payload(world, item_id=str(uuid.uuid4())), 422, "item.not_found")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await _refused(
        client, officer, action_payload(world, occurred_at=future), 422, "action.occurred_in_future"
    )


async def test_bad_input_is_refused_and_nothing_written(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    for change in (
        {"location": {"lat": 91, "lon": 107, "accuracy_m": 5}},
        {"location": {"lat": 29, "lon": 107}},
        {"occurred_at": "2026-11-27T10:00:00"},
        {"kind": "arrest"},
        {"surprise": 1},
        {"party": {"name": "x", "type": "person", "id_number": "DROP TABLE"}},
        {"notes": "长" * 4001},
        {"officer_ids": []},
    ):
        body = action_payload(world, **change)
        problem = await _refused(client, officer, body, 400, "validation.failed")
        assert problem["errors"], change


async def test_a_record_without_a_gps_fix_is_kept_with_its_address(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    # 未定位: no location at all, the address of the scene instead.
    body = action_payload(world, address="水江镇和平路12号（室内，无定位）")
    del body["location"]
    created = await client.post("/api/v1/actions", json=body, headers=officer)
    assert created.status_code == 201, created.text
    assert created.json()["location"] is None
    shown = (await client.get(f"/api/v1/actions/{body['id']}", headers=await as_user("supervisor"))).json()
    assert shown["location"] is None and shown["address"] == "水江镇和平路12号（室内，无定位）"
    feed = (await client.get("/api/v1/actions?limit=200", headers=officer)).json()
    assert next(a for a in feed["items"] if a["id"] == body["id"])["location"] is None
    # Evidence on it still works: its watermark simply has no place line from the record.
    replay = await client.post("/api/v1/actions", json=body, headers=officer)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"


async def test_without_a_gps_fix_the_address_is_required(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    for address in ("", "   "):
        body = action_payload(world, address=address)
        del body["location"]
        problem = await _refused(client, officer, body, 400, "validation.failed")
        assert [e["key"] for e in problem["errors"]] == ["address"]
    body = action_payload(world, location=None, address="")
    problem = await _refused(client, officer, body, 400, "validation.failed")
    assert [e["key"] for e in problem["errors"]] == ["address"]


async def test_scope_across_townships(client, as_user, world: World) -> None:
    a1 = await as_user("officer_a1")
    action = await record_action(client, a1, world)
    b1 = await as_user("officer_b1")
    assert_problem(await client.get(f"/api/v1/actions/{action['id']}", headers=b1), 404, "not_found")
    feed = (await client.get("/api/v1/actions?limit=200", headers=b1)).json()
    assert action["id"] not in {a["id"] for a in feed["items"]}
    filtered = (await client.get(f"/api/v1/actions?unit_id={world.town_a}", headers=b1)).json()
    assert filtered["items"] == []
    into_a = action_payload(
        world, officer_ids=[str(world.users["officer_b1"]), str(world.users["officer_b2"])]
    )
    assert_problem(await client.post("/api/v1/actions", json=into_a, headers=b1), 403, "auth.forbidden")
    for key in ("invited", "liaison"):
        headers = await as_user(key)
        assert_problem(await client.get("/api/v1/actions", headers=headers), 403, "auth.forbidden")
        assert_problem(await client.get(f"/api/v1/actions/{action['id']}", headers=headers), 404, "not_found")
        assert_problem(
            await client.post("/api/v1/actions", json=action_payload(world), headers=headers),
            403,
            "auth.forbidden",
        )


async def test_feed_filters_and_keyset_pages(client, as_user, world: World) -> None:
    b1 = await as_user("officer_b1")
    pair = [str(world.users["officer_b1"]), str(world.users["officer_b2"])]
    made = []
    for i, kind in enumerate(("inspection", "evidence", "service", "inspection", "coercive")):
        occurred = (datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=i)).isoformat()
        made.append(
            await record_action(
                client,
                b1,
                world,
                unit_id=str(world.town_b),
                officer_ids=pair,
                kind=kind,
                occurred_at=occurred,
            )
        )
    # Other tests record in town B too: this test's records are the only ones on these March days.
    base = (
        f"/api/v1/actions?unit_id={world.town_b}&officer_id={world.users['officer_b2']}"
        "&occurred_from=2026-03-01T00:00:00Z&occurred_to=2026-03-06T00:00:00Z"
    )
    kinds = (await client.get(base + "&kind=inspection", headers=b1)).json()["items"]
    assert [a["id"] for a in kinds] == [made[3]["id"], made[0]["id"]]
    narrow = base.replace("03-01T", "03-02T").replace("03-06T", "03-04T")
    window = (await client.get(narrow, headers=b1)).json()["items"]
    assert {a["id"] for a in window} == {made[1]["id"], made[2]["id"]}
    assert (await client.get(base + "&has_evidence=true", headers=b1)).json()["items"] == []
    seen, cursor = [], None
    while True:
        page = (
            await client.get(base + "&limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=b1)
        ).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [a["id"] for a in reversed(made)]  # newest first, no duplicates, no gaps


async def test_a_forged_cursor_is_a_clear_400(client, as_user) -> None:
    officer = await as_user("officer_a1")
    import base64
    import json

    for raw in (["not-a-time", "x"], ["2026-01-01T00:00:00+00:00", "not-a-uuid"], ["only-one"]):
        cursor = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
        for path in ("/api/v1/actions", "/api/v1/cases"):
            assert_problem(
                await client.get(f"{path}?cursor={cursor}", headers=officer), 400, "validation.failed"
            )


async def test_the_answer_to_a_new_record_is_the_stored_record(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    party = {"name": "张三", "id_number": "500119199001011234"}
    created = await record_action(client, officer, world, party=party)
    stored = (await client.get(f"/api/v1/actions/{created['id']}", headers=officer)).json()

    def by_id(view: dict) -> dict:  # the stored officers come in no particular order
        return dict(view, officers=sorted(view["officers"], key=str), officer_ids=sorted(view["officer_ids"]))

    assert by_id(created) == by_id(stored)
    assert created["party"] == {"name": "张三", "type": "person", "id_number": "500119199001011234"}
    assert [o["id"] for o in created["officers"]] == created["officer_ids"]


async def test_feed_windows_find_records_made_at_the_edge_of_the_clock_skew(
    client, as_user, world: World
) -> None:
    """A phone clock up to five minutes ahead is accepted: its record is stored before it happened."""
    officer = await as_user("officer_b1")
    pair = [str(world.users["officer_b1"]), str(world.users["officer_b2"])]
    ahead = datetime.now(UTC) + timedelta(minutes=4)
    made = await record_action(
        client, officer, world, unit_id=str(world.town_b), officer_ids=pair, occurred_at=ahead.isoformat()
    )
    start = (ahead - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    for days in (1, 30):  # a short window is read whole, a long one walked newest first
        end = (ahead + timedelta(days=days)).isoformat().replace("+00:00", "Z")
        feed = await client.get(
            "/api/v1/actions", params={"occurred_from": start, "occurred_to": end}, headers=officer
        )
        assert [a["id"] for a in feed.json()["items"]] == [made["id"]]
