from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from backend.lib.schema import Strict


class PublishCreate(Strict):
    case_id: uuid.UUID


class WithdrawCreate(Strict):
    """撤回 (第四十八条): the decision was changed, revoked or confirmed illegal; the reason is shown."""

    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=500)]


class PublicRecord(msgspec.Struct):
    """What the public page shows: no internal field, no personal identifier."""

    id: uuid.UUID
    status: str
    case_number: str
    document_number: str | None
    unit_id: uuid.UUID
    unit_name: str
    item_id: uuid.UUID
    item_code: str
    item_name: str
    legal_basis: str
    party: str
    party_type: str
    party_code: str | None
    fine: float | None
    measures: list[str]
    decided_on: date
    published_on: date


class Withdrawn(msgspec.Struct):
    """A withdrawn publication on the public page: only that it was withdrawn, when and why."""

    id: uuid.UUID
    status: str
    withdrawn_on: date
    withdrawal_reason: str


class Publication(PublicRecord):
    """The unit's own view: who published, and a withdrawal."""

    case_id: uuid.UUID
    published_at: datetime
    published_by: uuid.UUID
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


class PublicPage(msgspec.Struct):
    items: list[PublicRecord]
    next_cursor: str | None
