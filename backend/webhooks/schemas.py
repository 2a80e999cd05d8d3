from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import Strict

# The live events an endpoint may subscribe to (what the server publishes as things happen).
EventType = Literal[
    "action.created",
    "case.updated",
    "alert.raised",
    "alert.acked",
    "document.updated",
    "corrective_action.updated",
    "spot_check.requested",
    "spot_check.reviewed",
]
Url = Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]
EventTypes = Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=20)]
UnitIds = Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)]


class EndpointCreate(Strict):
    url: Url
    event_types: EventTypes
    unit_ids: UnitIds = []  # empty: the whole district
    description: Annotated[str, msgspec.Meta(max_length=200)] = ""


class EndpointUpdate(Strict):
    url: Url | msgspec.UnsetType = msgspec.UNSET
    event_types: EventTypes | msgspec.UnsetType = msgspec.UNSET
    unit_ids: UnitIds | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class Endpoint(msgspec.Struct):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    unit_ids: list[uuid.UUID]
    active: bool
    created_by: uuid.UUID
    created_at: datetime
    pending: int = 0  # deliveries waiting (first try or retry)
    failed: int = 0  # deliveries given up on
    secret: str | None = None  # only in the answer that made it (or rotated it)


class Attempt(msgspec.Struct):
    at: datetime
    status: int | None
    error: str | None
    ms: int


class Delivery(msgspec.Struct):
    id: uuid.UUID  # the webhook-id header: the same on every retry and replay
    endpoint_id: uuid.UUID
    event_id: int
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[Attempt]
    body: dict[str, Any] | None = None
