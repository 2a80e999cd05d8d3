from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import Strict


class Source(Strict):
    # action / case: a finding (监督意见) on a township's record, by the bureau or by the department
    # that delegated the record's item (四(三)五)
    kind: Literal["spot_check", "document", "action", "case"]
    id: uuid.UUID


class CorrectiveCreate(Strict):
    """By hand, or from a spot-check or a document (its 要求 becomes the description by default)."""

    title: Annotated[str, msgspec.Meta(min_length=2, max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    unit_id: uuid.UUID | None = None  # default: the source's unit
    assignee_user_id: uuid.UUID | None = None  # an officer of the unit; none: the unit itself
    due_days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = None  # working days from today
    due_on: date | None = None
    source: Source | None = None
    id: uuid.UUID | None = None


class Complete(Strict):
    note: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]
    evidence_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=30)]


class Close(Strict):
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Corrective(msgspec.Struct):
    id: uuid.UUID
    title: str
    description: str
    unit_id: uuid.UUID
    assignee_user_id: uuid.UUID | None
    due_on: date | None
    due_provisional: bool
    source: dict[str, Any] | None
    opened_by: uuid.UUID
    created_at: datetime
    status: str
    completed_by: uuid.UUID | None
    completed_at: datetime | None
    completion_note: str | None
    evidence_ids: list[str]
    closed_at: datetime | None
    allowed: list[str]
