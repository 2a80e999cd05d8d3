"""Deadlines of supervision documents: overdue by itself (across a restart, one alert), counters that
match the lists, and provisional deadlines recomputed when a year is loaded, never earlier."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from backend.alerts.tables import Alert
from backend.app import create_app
from backend.documents.tables import SupervisionDocument
from backend.lib.clock import today_local
from backend.workdays.services import WorkCalendar
from backend.workdays.tables import CalendarDay, CalendarYear
from tests.conftest import World, login, make_settings, serve
from tests.integration.document_helpers import issued

DOCS = "/api/v1/supervision-documents"


async def _wait_for(predicate, within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def _alerts_for(document_id: str) -> int:
    return await Alert.count().where((Alert.object_id == document_id) & (Alert.type == "document.overdue"))


async def _status(document_id: str) -> str:
    row = (
        await SupervisionDocument.select(SupervisionDocument.status)
        .where(SupervisionDocument.id == document_id)
        .first()
    )
    return row["status"]


async def test_a_document_goes_overdue_by_itself_across_a_restart_with_one_alert(
    migrated, world: World
) -> None:
    settings = make_settings(document_check_interval_s=0.05)
    async with serve(create_app(settings)) as client:
        doc = await issued(client, world)
        unit = await login(client, world.username("officer_a1"))
        await asyncio.sleep(0.2)
        assert await _status(doc["id"]) == "issued"  # its deadline has not passed
    # The deadline passes while no server runs.
    await (
        SupervisionDocument.update({SupervisionDocument.due_on: today_local() - timedelta(days=1)})
        .where(SupervisionDocument.id == doc["id"])
        .run()
    )
    async with serve(create_app(settings)) as client:
        await _wait_for(lambda: _alerts_for(doc["id"]))
        assert await _status(doc["id"]) == "overdue"
        unit = await login(client, world.username("officer_a1"))
        mine = (await client.get(DOCS, params={"status": "overdue"}, headers=unit)).json()["items"]
        assert doc["id"] in [d["id"] for d in mine]
        await asyncio.sleep(0.2)
    async with serve(create_app(settings)) as client:
        await asyncio.sleep(0.3)  # several ticks of a fresh scheduler
    assert await _alerts_for(doc["id"]) == 1
    # A late answer is still taken, and says so.
    async with serve(create_app(settings)) as client:
        unit = await login(client, world.username("officer_a1"))
        answer = await client.post(f"{DOCS}/{doc['id']}/response", json={"text": "已整改。"}, headers=unit)
        assert answer.status_code == 200 and answer.json()["status"] == "responded"
        assert answer.json()["steps"][-1]["data"]["late"] is True


async def _all(client, headers, status: str) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {"status": status, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(DOCS, params=params, headers=headers)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def test_counters_match_the_lists(client, as_user, world: World) -> None:
    waiting = await issued(client, world)
    late = await issued(client, world)
    await (
        SupervisionDocument.update(
            {
                SupervisionDocument.status: "overdue",
                SupervisionDocument.due_on: today_local() - timedelta(days=2),
            }
        )
        .where(SupervisionDocument.id == late["id"])
        .run()
    )
    for key in ("supervisor", "command"):
        headers = await as_user(key)
        overdue = await _all(client, headers, "overdue")
        awaiting = await _all(client, headers, "awaiting")
        assert {d["status"] for d in overdue} == {"overdue"} and late["id"] in [d["id"] for d in overdue]
        assert waiting["id"] in [d["id"] for d in awaiting] and waiting["id"] not in [
            d["id"] for d in overdue
        ]
        counts = (await client.get(f"{DOCS}/counts", headers=headers)).json()
        assert counts["overdue"] == len(overdue) and counts["awaiting"] == len(awaiting)
        summary = (await client.get("/api/v1/summary", headers=headers)).json()
        assert summary["overdue_documents"] == len(overdue) and summary["awaiting_documents"] == len(awaiting)
    unit = await as_user("officer_b1")  # town B's responder: none of these are its
    counts = (await client.get(f"{DOCS}/counts", headers=unit)).json()
    assert counts["overdue"] == len(await _all(client, unit, "overdue"))
    assert late["id"] not in [d["id"] for d in await _all(client, unit, "overdue")]


def _days_into_next_year(today: date) -> int:
    """Working days from today to a few days into the next year, on the library's calendar."""
    cal, days, day = WorkCalendar(), 0, today
    while day.year == today.year:
        day += timedelta(days=1)
        days += cal.is_workday(day)[0]
    return min(days + 5, 366)


@pytest.fixture
async def restore_next_year(world: World):
    year = today_local().year + 1
    yield year
    await CalendarDay.delete().where(CalendarDay.year == year).run()
    await CalendarYear.delete().where(CalendarYear.year == year).run()


async def test_loading_a_year_recomputes_provisional_deadlines_but_never_earlier(
    client, as_user, world: World, restore_next_year
) -> None:
    year = restore_next_year
    days = _days_into_next_year(today_local())
    later = await issued(client, world, deadline={"days": days, "working": True})
    earlier = await issued(client, world, type="opinion", deadline={"days": days, "working": True})
    # constraints.txt pins a chinese-calendar that lacks next year; a newer pin must move this test
    # to a year the library still lacks rather than let it pass without testing anything.
    assert later["due_provisional"], f"the calendar library now carries {year}: pick a later year"
    admin = await as_user("admin")
    # First a load that would pull the deadline earlier: no holidays, two make-up Saturdays.
    saturdays = [d for d in (date(year, 1, 1) + timedelta(days=i) for i in range(14)) if d.weekday() == 5]
    lean = {"holidays": [], "workdays": [{"date": d.isoformat(), "name": "调休"} for d in saturdays]}
    loaded = await client.put(f"/api/v1/calendar/years/{year}", json=lean, headers=admin)
    assert loaded.status_code == 200 and loaded.json()["recomputed"] >= 2, loaded.text
    kept = await SupervisionDocument.select().where(SupervisionDocument.id == earlier["id"]).first()
    assert kept["due_on"].isoformat() == earlier["due_on"] and kept["due_provisional"] is False
    # Re-open the provisional state and load a year with more days off: the deadline moves later.
    await (
        SupervisionDocument.update({SupervisionDocument.due_provisional: True})
        .where(SupervisionDocument.id == later["id"])
        .run()
    )
    generous = {"holidays": [{"date": (date(year, 1, 1) + timedelta(days=i)).isoformat()} for i in range(14)]}
    assert (
        await client.put(f"/api/v1/calendar/years/{year}", json=generous, headers=admin)
    ).status_code == 200
    moved = (await client.get(f"{DOCS}/{later['id']}", headers=await as_user("supervisor"))).json()
    assert moved["due_on"] > later["due_on"] and moved["due_provisional"] is False
    expected = await client.get(
        "/api/v1/calendar/working-days", params={"from": moved["issued_on"], "add": days}, headers=admin
    )
    assert moved["due_on"] == expected.json()["date"]
    assert "deadline_recomputed" in [s["step"] for s in moved["steps"]]


async def test_a_document_overdue_only_by_the_provisional_count_waits_again(
    client, as_user, world: World, restore_next_year
) -> None:
    year = restore_next_year
    doc = await issued(client, world)
    # As if its provisional deadline had passed: counted from long ago into the unpublished year.
    start = date(year, 1, 1) - timedelta(days=1)
    await (
        SupervisionDocument.update(
            {
                SupervisionDocument.status: "overdue",
                SupervisionDocument.due_from: start,
                SupervisionDocument.due_days: 400,
                SupervisionDocument.due_working: False,
                SupervisionDocument.due_on: today_local() - timedelta(days=1),
                SupervisionDocument.due_provisional: True,
            }
        )
        .where(SupervisionDocument.id == doc["id"])
        .run()
    )
    loaded = await client.put(
        f"/api/v1/calendar/years/{year}", json={"holidays": []}, headers=await as_user("admin")
    )
    assert loaded.status_code == 200
    row = await SupervisionDocument.select().where(SupervisionDocument.id == doc["id"]).first()
    assert row["status"] == "issued" and row["due_on"] >= today_local() and row["overdue_at"] is None
