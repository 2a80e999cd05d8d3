from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from backend.lib.schema import ShortText, Strict

Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Accuracy = Annotated[float, msgspec.Meta(ge=0, le=100_000)]


class PositionCreate(Strict):
    lat: Lat
    lon: Lon
    accuracy_m: Accuracy
    at: Annotated[datetime, msgspec.Meta(tz=True)]


class SosCreate(Strict):
    lat: Lat | None = None
    lon: Lon | None = None
    accuracy_m: Accuracy | None = None
    note: ShortText | None = None

    def __post_init__(self) -> None:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: send both, or neither when the position is unknown")


class OfficerPosition(msgspec.Struct):
    user_id: uuid.UUID
    display_name: str
    unit_ids: list[uuid.UUID]
    lat: float
    lon: float
    accuracy_m: float
    at: datetime
    received_at: datetime
    sos_at: datetime | None = None


class Summary(msgspec.Struct):
    """Counters for the command center: today's actions, officers on duty, open alerts, supervision
    documents past their deadline and those still waiting for the unit's answer (overdue included)."""

    actions_today: int
    on_duty: int
    open_alerts: int
    overdue_documents: int | None
    as_of: datetime
    awaiting_documents: int | None = None
