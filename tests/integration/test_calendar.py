"""The working-day calendar: public holidays and 调休 from chinese-calendar, a provisional count for a
year it lacks, and an admin-loaded year replacing the guess."""

from __future__ import annotations

import pytest

from backend.workdays.tables import CalendarDay, CalendarYear
from tests.conftest import World, assert_problem

URL = "/api/v1/calendar/working-days"


async def _add(client, headers, start: str, add: int) -> dict:
    response = await client.get(URL, params={"from": start, "add": add}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("start", "add", "expected"),
    [
        ("2026-09-30", 3, "2026-10-10"),  # 国庆 1–7 Oct off; Saturday 10 Oct is a make-up working day
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-10-09", 1, "2026-10-10"),
        ("2026-02-13", 1, "2026-02-14"),  # 春节: Saturday 14 Feb is worked, 15–23 Feb are off
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-24", 4, "2026-02-28"),  # …and Saturday 28 Feb is worked again
        ("2026-12-01", 5, "2026-12-08"),  # an ordinary week: the weekend does not count
        ("2026-12-01", 0, "2026-12-01"),
    ],
)
async def test_working_days_follow_holidays_and_make_up_days(client, as_user, start, add, expected) -> None:
    body = await _add(client, await as_user("officer_a1"), start, add)
    assert body == {"date": expected, "provisional": False}


async def test_a_count_into_an_unpublished_year_is_provisional(client, as_user) -> None:
    headers = await as_user("supervisor")
    # 20 working days from mid-December: 12 in 2026, then 元旦 (Friday 1 Jan 2027) is skipped.
    body = await _add(client, headers, "2026-12-15", 20)
    assert body == {"date": "2027-01-13", "provisional": True}
    assert (await _add(client, headers, "2027-04-30", 1)) == {"date": "2027-05-03", "provisional": True}
    year = (await client.get("/api/v1/calendar/years/2027", headers=headers)).json()
    assert year["source"] == "provisional"
    assert [d["date"] for d in year["holidays"]] == ["2027-01-01", "2027-10-01"]  # the weekdays among them


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"add": "3"}, "from"),
        ({"from": "2026-13-01", "add": "3"}, "from"),
        ({"from": "yesterday", "add": "3"}, "from"),
        ({"from": "2026-09-30"}, "add"),
        ({"from": "2026-09-30", "add": "-1"}, "add"),
        ({"from": "2026-09-30", "add": "three"}, "add"),
        ({"from": "2026-09-30", "add": "100000"}, "add"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_parameter(client, as_user, params, key) -> None:
    response = await client.get(URL, params=params, headers=await as_user("officer_a1"))
    body = assert_problem(response, 400, "validation.failed")
    assert [e["key"] for e in body["errors"]] == [key]


async def test_the_calendar_needs_a_sign_in(client) -> None:
    assert_problem(await client.get(URL, params={"from": "2026-09-30", "add": 3}), 401, "auth.required")


ARRANGEMENT_2027 = {
    "holidays": [
        {"date": "2027-01-01", "name": "元旦"},
        *({"date": f"2027-02-{d:02d}", "name": "春节"} for d in range(5, 13)),
    ],
    "workdays": [{"date": "2027-02-20", "name": "春节调休"}],
}


@pytest.fixture
async def restore_2027(world: World):
    yield
    await CalendarDay.delete().where(CalendarDay.year == 2027).run()
    await CalendarYear.delete().where(CalendarYear.year == 2027).run()


async def test_an_admin_loads_a_year_and_counts_stop_being_provisional(client, as_user, restore_2027) -> None:
    admin = await as_user("admin")
    refused = await client.put(
        "/api/v1/calendar/years/2027", json=ARRANGEMENT_2027, headers=await as_user("supervisor")
    )
    assert_problem(refused, 403, "auth.forbidden")
    assert (await _add(client, admin, "2027-02-04", 1)) == {"date": "2027-02-05", "provisional": True}
    loaded = await client.put("/api/v1/calendar/years/2027", json=ARRANGEMENT_2027, headers=admin)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["source"] == "table" and len(loaded.json()["holidays"]) == 9
    # 5–12 Feb off; Monday 15 Feb is the next working day, and Saturday 20 Feb is worked.
    assert (await _add(client, admin, "2027-02-04", 1)) == {"date": "2027-02-15", "provisional": False}
    assert (await _add(client, admin, "2027-02-19", 1)) == {"date": "2027-02-20", "provisional": False}
    assert (await _add(client, admin, "2026-12-15", 20)) == {"date": "2027-01-13", "provisional": False}


async def test_a_bad_arrangement_changes_nothing(client, as_user, restore_2027) -> None:
    admin = await as_user("admin")
    wrong_year = {"holidays": [{"date": "2028-01-01"}]}
    body = assert_problem(
        await client.put("/api/v1/calendar/years/2027", json=wrong_year, headers=admin),
        400,
        "validation.failed",
    )
    assert body["errors"][0]["key"] == "holidays[0].date"
    twice = {"holidays": [{"date": "2027-01-01"}], "workdays": [{"date": "2027-01-01"}]}
    assert_problem(
        await client.put("/api/v1/calendar/years/2027", json=twice, headers=admin), 400, "validation.failed"
    )
    assert not await CalendarYear.exists().where(CalendarYear.year == 2027)
    assert (await _add(client, admin, "2026-12-15", 20))["provisional"] is True
