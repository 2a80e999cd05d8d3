"""The working-day calendar (工作日): China's public holidays and make-up working days (调休).

Sources, most authoritative first: a year an admin loaded into the table; the ``chinese-calendar``
library for the years it carries; otherwise Monday–Friday minus the fixed-date holidays, marked
provisional until the year's arrangement is loaded."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from backend.audit import services as audit
from backend.db import atomic
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.workdays import schemas
from backend.workdays.tables import CalendarDay, CalendarYear

# Holidays fixed by the Gregorian date in 《全国年节及纪念日放假办法》; the lunar ones (春节, 清明,
# 端午, 中秋) move and are only known once the year is published.
FIXED_HOLIDAYS = {
    (1, 1): "元旦",
    (5, 1): "劳动节",
    (5, 2): "劳动节",
    (10, 1): "国庆节",
    (10, 2): "国庆节",
    (10, 3): "国庆节",
}
MAX_ADD = 366
EARLIEST, LATEST = date(2004, 1, 1), date(2099, 12, 31)

YearLoaded = Callable[[int], Awaitable[int]]
_on_year_loaded: list[YearLoaded] = []


def on_year_loaded(hook: YearLoaded) -> None:
    """A higher domain recomputes its provisional deadlines when a year is loaded (returns how many)."""
    if hook not in _on_year_loaded:
        _on_year_loaded.append(hook)


def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass
class WorkCalendar:
    """A snapshot of the loaded years, so a count is plain arithmetic without further queries."""

    loaded: dict[int, dict[date, bool]] = field(default_factory=dict)

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(working, provisional)."""
        overrides = self.loaded.get(day.year)
        if overrides is not None:
            return overrides.get(day, day.weekday() < 5), False
        if _library_knows(day.year):
            return chinese_calendar.is_workday(day), False
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS, True

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
        current, counted, provisional = start, 0, False
        while counted < days:
            current += timedelta(days=1)
            working, guessed = self.is_workday(current)
            provisional = provisional or guessed
            counted += working
        return current, provisional

    def add_calendar_days(self, start: date, days: int) -> tuple[date, bool]:
        """``days`` calendar days after ``start``; a period ending on a day off ends on the next
        working day instead (行政处罚法 第八十五条, the usual rule for 期间)."""
        current = start + timedelta(days=days)
        working, provisional = self.is_workday(current)
        while not working:
            current += timedelta(days=1)
            working, guessed = self.is_workday(current)
            provisional = provisional or guessed
        return current, provisional

    def deadline(self, start: date, days: int, working: bool) -> tuple[date, bool]:
        return self.add_working_days(start, days) if working else self.add_calendar_days(start, days)


async def calendar() -> WorkCalendar:
    years = {r["year"] for r in await CalendarYear.select(CalendarYear.year)}
    loaded: dict[int, dict[date, bool]] = {y: {} for y in years}
    if years:
        for row in await CalendarDay.select().where(CalendarDay.year.is_in(sorted(years))):
            loaded[row["year"]][row["day"]] = row["working"]
    return WorkCalendar(loaded)


def _bad(key: str, message: str) -> AppError:
    return AppError(Errors.VALIDATION, message, errors=[{"key": key, "message": message, "source": "query"}])


async def working_days(start: str | None, add: str | None) -> schemas.WorkingDay:
    if not start:
        raise _bad("from", "from is required (YYYY-MM-DD).")
    try:
        day = date.fromisoformat(start)
    except ValueError:
        raise _bad("from", f"from must be a date YYYY-MM-DD, not {start[:20]!r}.") from None
    if not EARLIEST <= day <= LATEST:
        raise _bad("from", f"from must be between {EARLIEST} and {LATEST}.")
    if add is None or add == "":
        raise _bad("add", "add is required (a number of working days).")
    try:
        days = int(add)
    except ValueError:
        raise _bad("add", f"add must be a whole number, not {add[:20]!r}.") from None
    if not 0 <= days <= MAX_ADD:
        raise _bad("add", f"add must be between 0 and {MAX_ADD}.")
    result, provisional = (await calendar()).add_working_days(day, days)
    return schemas.WorkingDay(date=result, provisional=provisional)


async def get_year(year: int) -> schemas.Year:
    if not 2004 <= year <= 2099:
        raise AppError(Errors.VALIDATION, "year must be between 2004 and 2099.", errors=[{"key": "year"}])
    loaded = await CalendarYear.select().where(CalendarYear.year == year).first()
    if loaded is not None:
        rows = await CalendarDay.select().where(CalendarDay.year == year).order_by(CalendarDay.day)
        return schemas.Year(
            year=year,
            source="table",
            holidays=[schemas.DayEntry(r["day"], r["name"]) for r in rows if not r["working"]],
            workdays=[schemas.DayEntry(r["day"], r["name"]) for r in rows if r["working"]],
            loaded_at=loaded["loaded_at"],
        )
    known = _library_knows(year)
    holidays, workdays = [], []
    day = date(year, 1, 1)
    while day.year == year:
        if known:
            off, name = chinese_calendar.get_holiday_detail(day)
            if off and day.weekday() < 5:
                holidays.append(schemas.DayEntry(day, name or ""))
            elif not off and day.weekday() >= 5:
                workdays.append(schemas.DayEntry(day, name or ""))
        elif (day.month, day.day) in FIXED_HOLIDAYS and day.weekday() < 5:
            holidays.append(schemas.DayEntry(day, FIXED_HOLIDAYS[(day.month, day.day)]))
        day += timedelta(days=1)
    return schemas.Year(
        year=year, source="library" if known else "provisional", holidays=holidays, workdays=workdays
    )


async def load_year(actor: CurrentUser, year: int, data: schemas.YearLoad) -> schemas.Year:
    """Replace a year's arrangement, then let the domains recompute their provisional deadlines."""
    if not 2004 <= year <= 2099:
        raise AppError(Errors.VALIDATION, "year must be between 2004 and 2099.", errors=[{"key": "year"}])
    seen: set[date] = set()
    for key, entries in (("holidays", data.holidays), ("workdays", data.workdays)):
        for i, entry in enumerate(entries):
            if entry.date.year != year:
                raise AppError(
                    Errors.VALIDATION,
                    f"{entry.date} is not in {year}.",
                    errors=[{"key": f"{key}[{i}].date", "message": f"not in {year}"}],
                )
            if entry.date in seen:
                raise AppError(
                    Errors.VALIDATION,
                    f"{entry.date} is listed twice.",
                    errors=[{"key": f"{key}[{i}].date", "message": "listed twice"}],
                )
            seen.add(entry.date)
    async with atomic():
        await CalendarDay.delete().where(CalendarDay.year == year).run()
        await CalendarYear.delete().where(CalendarYear.year == year).run()
        await CalendarYear.insert(CalendarYear(year=year, loaded_by=actor.id)).run()
        rows = [CalendarDay(day=e.date, year=year, working=False, name=e.name) for e in data.holidays]
        rows += [CalendarDay(day=e.date, year=year, working=True, name=e.name) for e in data.workdays]
        if rows:
            await CalendarDay.insert(*rows).run()
        await audit.record(
            actor,
            "calendar.year_loaded",
            "calendar_year",
            str(year),
            {
                "holidays": [str(e.date) for e in data.holidays],
                "workdays": [str(e.date) for e in data.workdays],
            },
        )
    recomputed = 0
    for hook in _on_year_loaded:
        try:
            recomputed += await hook(year)
        except Exception:  # the year is loaded either way; the next load or restart retries
            logging.getLogger(__name__).exception("recomputing deadlines after loading %s failed", year)
    view = await get_year(year)
    view.recomputed = recomputed
    return view
