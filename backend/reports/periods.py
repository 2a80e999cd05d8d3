"""Reporting periods: Beijing calendar dates, ``start`` inclusive and ``end`` exclusive."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from backend.lib.clock import BEIJING, today_local
from backend.lib.errors import AppError, Errors

PILOT = (date(2022, 9, 1), date(2023, 7, 1))  # the pilot's 2022-09 → 2023-06 (the seed's 五)
_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])|H([12])))?$")


FIRST_YEAR, LAST_YEAR = 2000, 2100  # what a request may ask for
_EARLIEST, _LATEST = 1900, 2200  # what a period may be (the one before a requested one included)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        for name, day in (("from", self.start), ("to", self.end)):
            if not _EARLIEST <= day.year <= _LATEST:
                raise _bad(name, f"Dates of a report lie in {FIRST_YEAR}–{LAST_YEAR}.")

    @property
    def start_at(self) -> datetime:
        return _utc(self.start)

    @property
    def end_at(self) -> datetime:
        return _utc(self.end)

    def previous(self) -> Period:
        """The period of the same shape just before: the month, quarter or year before, else the
        same number of days."""
        months = _months_between(self.start, self.end)
        if months:
            return Period(_add_months(self.start, -months), self.start)
        return Period(self.start - (self.end - self.start), self.start)

    def label(self) -> str:
        months = _months_between(self.start, self.end)
        if months == 1:
            return f"{self.start.year}年{self.start.month}月"
        last = self.end - timedelta(days=1)
        return f"{self.start.isoformat()} 至 {last.isoformat()}"


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _months_between(start: date, end: date) -> int:
    if start.day != 1 or end.day != 1:
        return 0
    return (end.year - start.year) * 12 + end.month - start.month


def month(text: str) -> Period:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or not FIRST_YEAR <= int(match.group(1)) < LAST_YEAR:
        raise _bad("month", "Expected a month as YYYY-MM.")
    start = date(int(match.group(1)), int(match.group(2)), 1)
    return Period(start, _add_months(start, 1))


def last_month(today: date | None = None) -> Period:
    start = _add_months((today or today_local()).replace(day=1), -1)
    return Period(start, _add_months(start, 1))


def parse(period: str | None, start: date | None, end: date | None, default: Period) -> Period:
    """``period`` as YYYY, YYYY-MM, YYYY-Qn or YYYY-H1/H2; or ``start``/``end`` dates (end
    exclusive); or ``default``."""
    if period:
        match = _PERIOD.fullmatch(period)
        if not match or not FIRST_YEAR <= int(match.group(1)) < LAST_YEAR:
            raise _bad("period", "Expected YYYY, YYYY-MM, YYYY-Qn or YYYY-H1 / YYYY-H2.")
        year = int(match.group(1))
        if match.group(2):
            return month(period)
        if match.group(3):
            first = date(year, 3 * int(match.group(3)) - 2, 1)
            return Period(first, _add_months(first, 3))
        if match.group(4):
            first = date(year, 1 if match.group(4) == "1" else 7, 1)
            return Period(first, _add_months(first, 6))
        return Period(date(year, 1, 1), date(year + 1, 1, 1))
    if start is None and end is None:
        return default
    if start is None or end is None:
        raise _bad("from" if start is None else "to", "Give both from and to, or a period.")
    if not (start.year >= FIRST_YEAR and end.year <= LAST_YEAR):
        raise _bad("from", f"Dates of a report lie in {FIRST_YEAR}–{LAST_YEAR}.")
    if end <= start:
        raise _bad("to", "The period ends before it starts.")
    if (end - start).days > 3 * 366:
        raise _bad("to", "A period is at most three years.")
    return Period(start, end)


def _bad(field: str, message: str) -> AppError:
    return AppError(Errors.VALIDATION, message, errors=[{"key": field, "message": message}])


def current_year() -> Period:
    year = today_local().year
    return Period(date(year, 1, 1), date(year + 1, 1, 1))
