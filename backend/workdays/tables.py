from piccolo.columns import UUID, Boolean, Date, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class CalendarYear(Table, tablename="calendar_years"):
    """A year whose arrangement an admin loaded: its days below replace the library's for that year."""

    year = Integer(primary_key=True)
    loaded_by = UUID(null=True, default=None)
    loaded_at = Timestamptz(default=TimestamptzNow())


class CalendarDay(Table, tablename="calendar_days"):
    """One exception to Monday–Friday in a loaded year: a holiday (working=False) or a make-up
    working day, 调休 (working=True)."""

    day = Date(primary_key=True)
    year = Integer(index=True)
    working = Boolean()
    name = Varchar(length=40, default="")
