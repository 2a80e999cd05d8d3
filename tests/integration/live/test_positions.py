from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.live.tables import LatestPosition, Position
from tests.conftest import World, assert_problem


def _ping(lat: float = 29.15, **extra) -> dict:
    return {"lat": lat, "lon": 107.1, "accuracy_m": 12.0, "at": datetime.now(UTC).isoformat(), **extra}


async def test_pings_update_the_map_within_scope_and_are_rate_limited(client, as_user, world: World) -> None:
    officer = await as_user("officer_b2")
    first = await client.post("/api/v1/positions", json=_ping(29.16), headers=officer)
    assert first.status_code == 201, first.text
    assert first.json()["unit_ids"] == [str(world.town_b)]
    too_soon = await client.post("/api/v1/positions", json=_ping(29.17), headers=officer)
    assert assert_problem(too_soon, 429, "rate_limited")["retry_after"] >= 1
    assert int(too_soon.headers["retry-after"]) >= 1
    latest = await LatestPosition.select().where(LatestPosition.user_id == world.users["officer_b2"]).first()
    assert latest is not None and latest["lat"] == 29.16
    command = await as_user("command")
    on_map = (await client.get("/api/v1/positions", headers=command)).json()
    assert any(p["user_id"] == str(world.users["officer_b2"]) for p in on_map)
    town_a = await as_user("officer_a1")
    assert all(
        str(world.town_a) in p["unit_ids"]
        for p in (await client.get("/api/v1/positions", headers=town_a)).json()
    )
    assert_problem(
        await client.get("/api/v1/positions", headers=await as_user("liaison")), 403, "auth.forbidden"
    )


async def test_bad_pings_change_nothing(client, as_user, world: World) -> None:
    officer = await as_user("officer_a2")
    before = await Position.count().where(Position.user == world.users["officer_a2"])
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    for body, status, code in (
        (_ping(lat=120), 400, "validation.failed"),
        ({"lat": 29.1, "lon": 107.1, "at": datetime.now(UTC).isoformat()}, 400, "validation.failed"),
        (_ping(at=future), 400, "validation.failed"),
        (_ping(speed=3), 400, "validation.failed"),
    ):
        assert_problem(await client.post("/api/v1/positions", json=body, headers=officer), status, code)
    assert await Position.count().where(Position.user == world.users["officer_a2"]) == before
    supervisor = await as_user("supervisor")
    assert_problem(
        await client.post("/api/v1/positions", json=_ping(), headers=supervisor), 403, "auth.forbidden"
    )


async def test_sos_puts_the_officer_on_the_map_as_an_emergency(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    response = await client.post(
        "/api/v1/sos", json={"lat": 29.3, "lon": 107.3, "accuracy_m": 20}, headers=officer
    )
    assert response.status_code == 201, response.text
    assert response.json()["type"] == "officer.sos" and response.json()["severity"] == "high"
    command = await as_user("command")
    mine = next(
        p
        for p in (await client.get("/api/v1/positions", headers=command)).json()
        if p["user_id"] == str(world.users["officer_a1"])
    )
    assert mine["sos_at"] and mine["lat"] == 29.3
    alerts = (await client.get("/api/v1/alerts?type=officer.sos", headers=command)).json()["items"]
    assert any(a["subject_user_id"] == str(world.users["officer_a1"]) for a in alerts)
    alerts_before = len(
        (await client.get("/api/v1/alerts?type=officer.sos", headers=command)).json()["items"]
    )
    assert_problem(
        await client.post("/api/v1/sos", json={"lat": 99}, headers=officer), 400, "validation.failed"
    )
    for half in ({"lat": 29.3}, {"lon": 107.3, "accuracy_m": 20}):
        body = assert_problem(
            await client.post("/api/v1/sos", json=half, headers=officer), 400, "validation.failed"
        )
        assert any("lat and lon go together" in e["message"] for e in body["errors"]), body
    alerts = (await client.get("/api/v1/alerts?type=officer.sos", headers=command)).json()["items"]
    assert len(alerts) == alerts_before  # a refused SOS raises nothing
    no_position = await client.post("/api/v1/sos", json={"note": "无法定位"}, headers=officer)
    assert no_position.status_code == 201, no_position.text


async def test_command_center_counters(client, as_user, world: World) -> None:
    command, officer = await as_user("command"), await as_user("officer_b2")
    before = (await client.get("/api/v1/summary", headers=command)).json()
    from tests.integration.enforcement_helpers import record_action

    await record_action(client, await as_user("officer_a1"), world)
    sos = await client.post("/api/v1/sos", json={"lat": 29.2, "lon": 107.2, "note": "求助"}, headers=officer)
    assert sos.status_code == 201, sos.text
    after = (await client.get("/api/v1/summary", headers=command)).json()
    assert after["actions_today"] == before["actions_today"] + 1
    assert after["open_alerts"] == before["open_alerts"] + 1
    on_duty = {p["user_id"] for p in (await client.get("/api/v1/positions", headers=command)).json()}
    assert after["on_duty"] == len(on_duty) and str(world.users["officer_b2"]) in on_duty
    counts = (await client.get("/api/v1/supervision-documents/counts", headers=command)).json()
    assert (
        after["overdue_documents"] == counts["overdue"] and after["awaiting_documents"] == counts["awaiting"]
    )
    acked = await client.post(f"/api/v1/alerts/{sos.json()['id']}/ack", headers=command)
    assert acked.status_code == 200 and acked.json()["status"] == "acked", acked.text
    final = (await client.get("/api/v1/summary", headers=command)).json()
    assert final["open_alerts"] == before["open_alerts"]
    assert_problem(
        await client.get("/api/v1/summary", headers=await as_user("officer_a1")), 403, "auth.forbidden"
    )
