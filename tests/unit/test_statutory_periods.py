"""The statutory periods over 春节 and 国庆 with their make-up working days (调休)."""

from __future__ import annotations

from datetime import date

from backend.cases.clocks import PERIODS
from backend.workdays.services import WorkCalendar

CAL = WorkCalendar()


def _due(kind: str, start: date) -> date:
    days, working = PERIODS[kind]
    return CAL.deadline(start, days, working)[0]


def test_delivery_in_seven_working_days_skips_spring_festival_and_counts_its_make_up_days() -> None:
    # 2025: 春节 28 Jan – 4 Feb off; Sunday 26 Jan and Saturday 8 Feb are working days.
    # From Friday 24 Jan: 26, 27 Jan, 5, 6, 7, 8 Feb, 10 Feb.
    assert _due("delivery", date(2025, 1, 24)) == date(2025, 2, 10)


def test_hearing_request_window_of_five_working_days_across_national_day() -> None:
    # 2025: 国庆/中秋 1–8 Oct off; Sunday 28 Sep and Saturday 11 Oct are working days.
    # From Friday 26 Sep: 28, 29, 30 Sep, 9, 10 Oct.
    assert _due("hearing_request", date(2025, 9, 26)) == date(2025, 10, 10)
    # Seven working days (a publication of a penalty decision) reach the make-up Saturday and beyond.
    assert CAL.deadline(date(2025, 9, 26), 7, True)[0] == date(2025, 10, 13)


def test_ninety_calendar_days_ending_in_a_holiday_end_on_the_next_working_day() -> None:
    # 4 Jul 2025 + 90 days is 2 Oct, inside the National Day holiday: the period ends on 9 Oct.
    assert _due("decision", date(2025, 7, 4)) == date(2025, 10, 9)
    # Ending on a make-up Saturday, the period ends that very day (it is a working day).
    assert CAL.deadline(date(2025, 7, 13), 90, False)[0] == date(2025, 10, 11)
    # Ending on Sunday 1 Jun before the 端午 Monday off: Tuesday 3 Jun. A weekday end stays.
    assert _due("decision", date(2025, 3, 3)) == date(2025, 6, 3)
    assert _due("decision", date(2025, 3, 12)) == date(2025, 6, 10)
