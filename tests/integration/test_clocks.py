"""Statutory clocks on cases through the API: shown on the case, on the unit's list, due first;
one alert before due and one at overdue, across restarts; the supervisor's extension; the hearing
steps; bad input changes nothing; a foreign case is 404."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from backend.alerts.tables import Alert
from backend.app import create_app
from backend.audit.tables import AuditEntry
from backend.cases import clocks
from backend.cases.tables import Case, CaseClock
from backend.lib.clock import today_local
from backend.workdays.services import WorkCalendar
from tests.conftest import World, assert_problem, login, make_settings, serve
from tests.integration.enforcement_helpers import open_case, record_action

CAL = WorkCalendar()


async def _case(client, world: World) -> tuple[dict, dict]:
    officer = await login(client, world.username("officer_a1"))
    action = await record_action(client, officer, world)
    return await open_case(client, officer, world, [action["id"]]), officer


async def decide(client, officer, case: dict, fine: float = 200) -> dict:
    """Investigate, then decide a (not major) case."""
    patched = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"version": case["version"], "investigation": "经查属实"},
        headers=officer,
    )
    assert patched.status_code == 200, patched.text
    return await client.post(
        f"/api/v1/cases/{case['id']}/decision", json={"fine": fine, "measures": ["警告"]}, headers=officer
    )


def _clock(case: dict, kind: str) -> dict:
    return next(c for c in case["clocks"] if c["kind"] == kind)


async def _alerts(case_id: str, type_: str) -> int:
    return await Alert.count().where((Alert.object_id == case_id) & (Alert.type == type_))


async def _wait_for(predicate, within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_a_filed_case_shows_its_decision_clock_and_a_decision_starts_delivery(
    client, world: World
) -> None:
    case, officer = await _case(client, world)
    decision = _clock(case, "decision")
    expected = CAL.deadline(today_local(), 90, False)[0]
    assert decision["counts"] == "calendar" and decision["days"] == 90
    assert decision["due_on"] == str(expected) and decision["state"] == "running"
    assert decision["law"] == "行政处罚法第六十条"
    response = await decide(client, officer, case)
    assert response.status_code == 200, response.text
    decided = response.json()
    assert _clock(decided, "decision")["status"] == "met"
    delivery = _clock(decided, "delivery")
    assert delivery["counts"] == "working" and delivery["days"] == 7
    assert delivery["due_on"] == str(CAL.add_working_days(today_local(), 7)[0])
    served = await client.post(
        f"/api/v1/cases/{case['id']}/serve", json={"served_on": str(today_local())}, headers=officer
    )
    assert served.status_code == 200, served.text
    assert _clock(served.json(), "delivery")["status"] == "met"


async def test_a_clock_across_spring_festival_is_counted_in_working_days(client, world: World) -> None:
    case, officer = await _case(client, world)
    await clocks.start(case["id"], world.town_a, "delivery", date(2025, 1, 24))
    shown = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    delivery = _clock(shown, "delivery")
    assert delivery["due_on"] == "2025-02-10" and delivery["counts"] == "working"
    assert delivery["state"] == "overdue"


async def test_one_alert_before_due_and_one_at_overdue_across_restarts(migrated, world: World) -> None:
    settings = make_settings(clock_check_interval_s=0.05)
    async with serve(create_app(settings)) as client:
        case, _ = await _case(client, world)
        await asyncio.sleep(0.2)
        assert await _alerts(case["id"], "clock.due_soon") == 0  # 90 days away
    tomorrow = today_local() + timedelta(days=1)
    await (
        CaseClock.update({CaseClock.due_on: tomorrow})
        .where((CaseClock.case == case["id"]) & (CaseClock.kind == "decision"))
        .run()
    )
    async with serve(create_app(settings)) as client:
        await _wait_for(lambda: _alerts(case["id"], "clock.due_soon"))
        officer = await login(client, world.username("officer_a1"))
        shown = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
        assert _clock(shown, "decision")["state"] == "due_soon"
    async with serve(create_app(settings)):
        await asyncio.sleep(0.3)  # several passes of a fresh loop
    assert await _alerts(case["id"], "clock.due_soon") == 1
    assert await _alerts(case["id"], "clock.overdue") == 0
    # The due date passes while no server runs.
    await (
        CaseClock.update({CaseClock.due_on: today_local() - timedelta(days=1)})
        .where((CaseClock.case == case["id"]) & (CaseClock.kind == "decision"))
        .run()
    )
    async with serve(create_app(settings)):
        await _wait_for(lambda: _alerts(case["id"], "clock.overdue"))
    async with serve(create_app(settings)):
        await asyncio.sleep(0.3)
    assert await _alerts(case["id"], "clock.overdue") == 1
    assert await _alerts(case["id"], "clock.due_soon") == 1


async def test_the_units_clocks_are_listed_due_first_and_only_in_scope(client, world: World) -> None:
    first, officer = await _case(client, world)
    second, _ = await _case(client, world)
    soon = today_local() + timedelta(days=3)
    await (
        CaseClock.update({CaseClock.due_on: soon})
        .where((CaseClock.case == second["id"]) & (CaseClock.kind == "decision"))
        .run()
    )
    listed = (
        await client.get("/api/v1/clocks", params={"unit_id": str(world.town_a)}, headers=officer)
    ).json()
    due = [c["due_on"] for c in listed["items"]]
    assert due == sorted(due)
    ids = [c["case_id"] for c in listed["items"]]
    assert second["id"] in ids and first["id"] in ids
    assert ids.index(second["id"]) < ids.index(first["id"])
    assert all(c["unit_id"] == str(world.town_a) for c in listed["items"])
    other = await login(client, world.username("officer_b1"))
    theirs = (await client.get("/api/v1/clocks", headers=other)).json()["items"]
    assert first["id"] not in [c["case_id"] for c in theirs]
    foreign = (
        await client.get("/api/v1/clocks", params={"unit_id": str(world.town_a)}, headers=other)
    ).json()
    assert foreign["items"] == []


async def test_a_supervisor_extends_the_decision_clock_with_a_reason_and_it_is_audited(
    client, world: World
) -> None:
    case, officer = await _case(client, world)
    supervisor = await login(client, world.username("supervisor"))
    url = f"/api/v1/cases/{case['id']}/extension"
    before = _clock(case, "decision")["due_on"]
    # Not later than the current date: refused, nothing written.
    earlier = await client.post(
        url, json={"reason": "案情复杂，需延长", "due_on": before}, headers=supervisor
    )
    assert_problem(earlier, 422, "clock.extension_invalid")
    short = await client.post(url, json={"reason": "长", "due_on": "2099-01-01"}, headers=supervisor)
    assert_problem(short, 400, "validation.failed")
    assert_problem(
        await client.post(url, json={"reason": "案情复杂，需延长", "due_on": "2099-01-01"}, headers=officer),
        403,
        "auth.forbidden",
    )
    row = (
        await CaseClock.select()
        .where((CaseClock.case == case["id"]) & (CaseClock.kind == "decision"))
        .first()
    )
    assert str(row["due_on"]) == before and row["extension"] in (None, "null")
    new_due = date.fromisoformat(before) + timedelta(days=30)
    response = await client.post(
        url, json={"reason": "案情复杂，经负责人批准延长", "due_on": str(new_due)}, headers=supervisor
    )
    assert response.status_code == 200, response.text
    decision = next(c for c in response.json() if c["kind"] == "decision")
    assert decision["due_on"] == str(new_due)
    assert decision["extension"]["reason"] == "案情复杂，经负责人批准延长"
    assert decision["extension"]["previous_due_on"] == before
    entries = await AuditEntry.count().where(
        (AuditEntry.action == "case.clock_extended") & (AuditEntry.object_id == case["id"])
    )
    assert entries == 1
    missing = await client.post(
        url,
        json={"clock": "delivery", "reason": "案情复杂，需延长", "due_on": "2099-01-01"},
        headers=supervisor,
    )
    assert_problem(missing, 422, "clock.extension_invalid")


async def test_hearing_steps_check_the_five_and_seven_working_days(client, world: World) -> None:
    case, officer = await _case(client, world)
    url = f"/api/v1/cases/{case['id']}/hearing"
    notified = date(2025, 9, 26)
    response = await client.post(url, json={"step": "notified", "on": str(notified)}, headers=officer)
    assert response.status_code == 200, response.text
    window = _clock(response.json(), "hearing_request")
    assert window["due_on"] == "2025-10-10" and window["counts"] == "working"
    late = await client.post(url, json={"step": "requested", "on": "2025-10-11"}, headers=officer)
    assert_problem(late, 422, "case.hearing_request_late")
    in_time = await client.post(url, json={"step": "requested", "on": "2025-10-10"}, headers=officer)
    assert in_time.status_code == 200, in_time.text
    assert _clock(in_time.json(), "hearing_request")["status"] == "met"
    version = in_time.json()["version"]
    # A notice on 9 Oct 2025 allows a hearing from 20 Oct (10, 11 (调休), 13–17, 20 Oct... the 7th is 20 Oct).
    too_soon = await client.post(
        url, json={"step": "scheduled", "on": "2025-10-09", "hearing_on": "2025-10-16"}, headers=officer
    )
    body = assert_problem(too_soon, 422, "case.hearing_notice_late")
    assert body["earliest"] == str(CAL.add_working_days(date(2025, 10, 9), 7)[0])
    row = await Case.select(Case.version).where(Case.id == case["id"]).first()
    assert row["version"] == version  # nothing written
    ok = await client.post(
        url, json={"step": "scheduled", "on": "2025-10-09", "hearing_on": body["earliest"]}, headers=officer
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["hearing"]["hearing_on"] == body["earliest"]
    bad = await client.post(url, json={"step": "held", "on": "2025-10-09"}, headers=officer)
    assert_problem(bad, 400, "validation.failed")


async def test_a_foreign_case_is_404_for_hearing_and_extension(client, world: World) -> None:
    case, _ = await _case(client, world)
    other = await login(client, world.username("officer_b1"))
    response = await client.post(
        f"/api/v1/cases/{case['id']}/hearing", json={"step": "notified", "on": "2025-09-26"}, headers=other
    )
    assert_problem(response, 404, "not_found")
    assert (
        await CaseClock.count().where((CaseClock.case == case["id"]) & (CaseClock.kind == "hearing_request"))
        == 0
    )


async def test_cases_filed_before_the_clocks_get_theirs_from_the_migration(client, world: World) -> None:
    import importlib

    migration = importlib.import_module("backend.cases.piccolo_migrations.cases_2026_12_03t10_00_00_000000")
    case, officer = await _case(client, world)
    decided, _ = await _case(client, world)
    assert (await decide(client, officer, decided)).status_code == 200
    filed_on = date(2025, 7, 4)
    await (
        Case.update({Case.created_at: datetime(2025, 7, 4, 2, 0, tzinfo=UTC)})
        .where(Case.id == case["id"])
        .run()
    )
    await CaseClock.delete().where(CaseClock.case.is_in([case["id"], decided["id"]])).run()
    await migration.backfill(Case, CaseClock)
    await migration.backfill(Case, CaseClock)  # twice: nothing doubled
    shown = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    assert [c["kind"] for c in shown["clocks"]] == ["decision"]
    assert _clock(shown, "decision")["started_on"] == str(filed_on)
    assert _clock(shown, "decision")["due_on"] == "2025-10-09"  # 90 days end in 国庆: the next working day
    again = (await client.get(f"/api/v1/cases/{decided['id']}", headers=officer)).json()
    assert [c["kind"] for c in again["clocks"]] == ["delivery"]
    assert _clock(again, "delivery")["due_on"] == str(CAL.add_working_days(today_local(), 7)[0])
