from __future__ import annotations

from typing import TYPE_CHECKING

from piccolo.columns import (
    UUID,
    DoublePrecision,
    ForeignKey,
    LazyTableReference,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

if TYPE_CHECKING:
    from backend.accounts.tables import User


class LiveEvent(Table, tablename="live_events"):
    """Every streamed event, kept for a while so a reconnecting client can catch up
    (``resume_after``) from any API process. The serial ``id`` is the event id."""

    id = Serial(primary_key=True)  # what Piccolo adds by itself, named so the code can say LiveEvent.id

    type = Varchar(length=40)
    unit_id = UUID(null=True, default=None)
    to_user = UUID(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    data = Text(default="{}")


class Position(Table, tablename="positions"):
    """Location history of officers on duty (kept for a configured number of days)."""

    id = UUID(primary_key=True)
    user: ForeignKey[User] = ForeignKey(
        references=LazyTableReference("User", module_path="backend.accounts.tables"), index=True
    )
    lat = DoublePrecision()
    lon = DoublePrecision()
    accuracy_m = DoublePrecision()
    at = Timestamptz(index=True)
    received_at = Timestamptz(default=TimestamptzNow())


class LatestPosition(Table, tablename="latest_positions"):
    """One row per officer: where they were last seen, for the command center map."""

    user_id = UUID(primary_key=True)
    display_name = Varchar(length=100)
    unit_ids = Text(default="")  # space-separated, for scope filtering without a join
    lat = DoublePrecision()
    lon = DoublePrecision()
    accuracy_m = DoublePrecision()
    at = Timestamptz()
    received_at = Timestamptz(default=TimestamptzNow(), index=True)
    sos_at = Timestamptz(null=True, default=None)
