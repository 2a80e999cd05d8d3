from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import LongText, Strict

ActionKind = Literal["inspection", "evidence", "service", "coercive", "hearing", "service_left", "other"]
PartyType = Literal["person", "organisation"]


class Location(Strict):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)]


class Party(Strict):
    """当事人. ``id_number`` is an ID card or unified social credit code."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    type: PartyType = "person"
    id_number: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[0-9A-Za-z]*$")] | None = None


class ActionCreate(Strict):
    unit_id: uuid.UUID
    item_id: uuid.UUID
    kind: ActionKind
    officer_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=20)]
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]
    # None when the phone had no GPS fix (未定位): the address is then required instead.
    location: Location | None = None
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    party: Party | None = None
    notes: LongText = ""
    id: uuid.UUID | None = None


class OfficerRef(msgspec.Struct):
    id: uuid.UUID
    display_name: str


class Action(msgspec.Struct):
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    item_id: uuid.UUID
    item_code: str
    item_name: str
    kind: str
    officer_ids: list[uuid.UUID]
    officers: list[OfficerRef]
    occurred_at: datetime
    created_at: datetime
    location: Location | None
    address: str
    party: Party | None
    notes: str
    status: str
    created_by: uuid.UUID
    evidence_count: int
    evidence: list[dict] = []
    # 全过程记录: needs an audio or video file, and has none yet.
    recording_required: bool = False
    recording_missing: bool = False
    case_ids: list[uuid.UUID] = []
    # The outcome that confirmed it illegal, revoked or changed it ({outcome, decision_number,
    # decided_on}); null while the act stands.
    reversed: dict[str, Any] | None = None
