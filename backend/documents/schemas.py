from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import Strict

DocumentType = Literal["inspection_notice", "opinion", "proposal", "correction_order", "check_record"]
LinkKind = Literal["action", "case", "spot_check", "alert"]
Title = Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
Body = Annotated[str, msgspec.Meta(max_length=8000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=366)]


class Deadline(Strict):
    """``days`` working (工作日, the default) or calendar days after issue; or a fixed ``due_on``."""

    days: Days | None = None
    working: bool = True
    due_on: date | None = None


class Link(Strict):
    kind: LinkKind
    id: uuid.UUID


class DocumentCreate(Strict):
    type: DocumentType
    unit_id: uuid.UUID
    title: Title
    facts: Body = ""
    basis: Body = ""
    requirement: Body = ""
    deadline: Deadline | None = None
    links: Annotated[list[Link], msgspec.Meta(max_length=20)] = []
    cites_id: uuid.UUID | None = None  # a correction of this issued document
    id: uuid.UUID | None = None  # client-chosen, for idempotent retries


class Response(Strict):
    text: Annotated[str, msgspec.Meta(min_length=2, max_length=8000)]
    evidence_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=30)] = []


class Acceptance(Strict):
    passed: bool
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    new_deadline: Deadline | None = None  # when not passed; default: the document's own deadline again


class ReviewRequest(Strict):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]


class ReviewDecision(Strict):
    upheld: bool  # true: the document stands; false: it is withdrawn (closed)
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Close(Strict):
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Step(msgspec.Struct):
    step: str
    by: uuid.UUID | None
    at: datetime
    data: dict[str, Any]


class Document(msgspec.Struct):
    id: uuid.UUID
    type: str
    type_name: str
    unit_id: uuid.UUID
    unit_name: str
    title: str
    facts: str
    basis: str
    requirement: str
    links: list[dict[str, Any]]
    deadline: dict[str, Any]
    cites: dict[str, Any] | None
    status: str
    drafted_by: uuid.UUID
    drafted_at: datetime
    issued_by: uuid.UUID | None
    issued_at: datetime | None
    issued_on: date | None
    number: str | None
    due_on: date | None
    due_provisional: bool
    round: int
    unread: bool
    responded_at: datetime | None
    overdue_at: datetime | None
    review_requested_at: datetime | None
    closed_at: datetime | None
    pdf: dict[str, Any] | None
    allowed: list[str]
    steps: list[Step] | None = None


class Issued(msgspec.Struct):
    id: uuid.UUID
    number: str
    status: str
    due_on: date | None
    due_provisional: bool
    issued_on: date
    pdf: dict[str, Any] | None


class Counts(msgspec.Struct):
    """For the viewer's scope: unanswered (awaiting), past the deadline (overdue), answered and
    waiting for 验收 (to_review), and not yet opened by the unit (unread, responders only)."""

    awaiting: int
    overdue: int
    to_review: int
    unread: int
    drafts: int
