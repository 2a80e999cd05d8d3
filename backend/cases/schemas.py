from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.actions.schemas import Party
from backend.lib.schema import LongText, Money, Strict

Measure = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Measures = Annotated[list[Measure], msgspec.Meta(max_length=20)]
Version = Annotated[int, msgspec.Meta(ge=1)]


class ProposedDecision(Strict):
    fine: Money | None = None
    measures: Measures = []


class CaseCreate(Strict):
    unit_id: uuid.UUID
    item_id: uuid.UUID
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    action_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []
    party: Party | None = None
    id: uuid.UUID | None = None


class CaseUpdate(Strict):
    version: Version
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)] | msgspec.UnsetType = msgspec.UNSET
    investigation: LongText | msgspec.UnsetType = msgspec.UNSET
    amount_involved: Money | msgspec.UnsetType | None = msgspec.UNSET
    proposed_decision: ProposedDecision | msgspec.UnsetType | None = msgspec.UNSET
    party: Party | msgspec.UnsetType | None = msgspec.UNSET


class Step(Strict):
    version: Version | None = None


class SubmitReview(Step):
    # A changed proposal sent back to review in one step (required when the case is already in review).
    proposed_decision: ProposedDecision | None = None


class ReviewCreate(Strict):
    approved: bool
    opinion: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    outcome: Literal["approved", "rejected", "returned"] | None = None
    version: Version | None = None


class DecisionCreate(Strict):
    document_number: Annotated[str, msgspec.Meta(max_length=60)] | None = None
    fine: Money | None = None
    measures: Measures | None = None
    version: Version | None = None


class ServeCreate(Strict):
    served_on: date
    method: Annotated[str, msgspec.Meta(max_length=40)] = "直接送达"
    version: Version | None = None


class TransferCreate(Strict):
    organ: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    transferred_on: date
    receipt_number: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    version: Version | None = None


class OverrideCreate(Strict):
    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=2000)]
    version: Version | None = None


class Review(msgspec.Struct):
    id: uuid.UUID
    reviewer_id: uuid.UUID
    reviewer: str
    outcome: str
    opinion: str
    case_version: int
    created_at: datetime


class Case(msgspec.Struct):
    id: uuid.UUID
    number: str
    unit_id: uuid.UUID
    unit_name: str
    item_id: uuid.UUID
    item_code: str
    item_name: str
    status: str
    version: int
    summary: str
    investigation: str
    party: Party | None
    amount_involved: float | None
    proposed_decision: ProposedDecision
    decision: dict[str, Any] | None
    major_case: bool
    # A decision would be refused now: major, and the current proposal has no approved review.
    needs_review: bool
    # In review and not yet approved: what a legal reviewer's queue shows.
    review_pending: bool
    criminal_threshold_reached: bool
    reviews: list[Review]
    action_ids: list[uuid.UUID]
    transfer: dict[str, Any] | None
    override: dict[str, Any] | None
    served_on: date | None
    closed_at: datetime | None
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime
    allowed_steps: list[str]
    clocks: list[Clock] = []
    hearing: dict[str, Any] | None = None
    reversed: dict[str, Any] | None = None  # the reversing outcome (确认违法 / 撤销 / 变更), if any


class Clock(msgspec.Struct):
    """A statutory period: ``counts`` says whether ``days`` are working days (工作日) or calendar days."""

    kind: str
    law: str
    started_on: date
    days: int
    counts: Literal["working", "calendar"]
    due_on: date
    provisional: bool
    status: str
    # running | due_soon | overdue | met | stopped
    state: str
    met_on: date | None
    extension: dict[str, Any] | None


class UnitClock(Clock):
    case_id: uuid.UUID
    case_number: str
    unit_id: uuid.UUID


class UnitClocks(msgspec.Struct):
    items: list[UnitClock]
    # 全过程记录: the unit's acts still without their recording, and those past the grace period.
    recordings_missing: int
    recordings_overdue: int


class ExtensionCreate(Strict):
    """延长办案期限: a supervisor's approval with a reason and the new due date of a running clock."""

    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=2000)]
    due_on: date
    clock: Literal["decision", "delivery", "publication", "withdrawal"] = "decision"


class HearingStep(Strict):
    """听证 (第六十四条). ``notified``: the party told of the right (the 5 working days start);
    ``requested``: the party asked; ``scheduled``: the notice sent on ``notice_on`` for ``hearing_on``."""

    step: Literal["notified", "requested", "scheduled"]
    on: date
    hearing_on: date | None = None
    version: Version | None = None
