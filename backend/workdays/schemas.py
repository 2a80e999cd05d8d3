from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from backend.lib.schema import Strict


class WorkingDay(msgspec.Struct):
    date: date
    # True when the date falls in (or the count crossed) a year whose arrangement is not published yet
    provisional: bool


class DayEntry(Strict):
    date: date
    name: Annotated[str, msgspec.Meta(max_length=40)] = ""


class YearLoad(Strict):
    """A year's arrangement as the State Council publishes it: the days off and the make-up working days."""

    holidays: Annotated[list[DayEntry], msgspec.Meta(max_length=60)]
    workdays: Annotated[list[DayEntry], msgspec.Meta(max_length=30)] = []


class Year(msgspec.Struct):
    year: int
    source: str  # "table" (loaded here) | "library" (chinese-calendar) | "provisional"
    holidays: list[DayEntry]
    workdays: list[DayEntry]
    loaded_at: datetime | None = None
    recomputed: int = 0  # provisional deadlines recomputed by this load
