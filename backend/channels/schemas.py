from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.documents.schemas import DocumentType
from backend.lib.schema import Strict

Category = Literal["乱执法", "不作为", "态度作风", "执法扰企", "建议", "其他"]
OutcomeKind = Literal["维持", "驳回", "确认违法", "撤销", "变更", "责令履行"]
Title = Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Reason = Annotated[str, msgspec.Meta(min_length=2, max_length=2000)]
Reply = Annotated[str, msgspec.Meta(max_length=2000)]
Number = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
OfficerIds = Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)]


class PointCreate(Strict):
    organisation: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    liaison_user_id: uuid.UUID
    active_from: date
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    active_to: date | None = None


class PointUpdate(Strict):
    organisation: Annotated[str, msgspec.Meta(min_length=2, max_length=100)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    address: Annotated[str, msgspec.Meta(max_length=300)] | msgspec.UnsetType = msgspec.UNSET
    liaison_user_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    active_from: date | msgspec.UnsetType = msgspec.UNSET
    active_to: date | msgspec.UnsetType | None = msgspec.UNSET


class Point(msgspec.Struct):
    id: uuid.UUID
    organisation: str
    address: str
    liaison_user_id: uuid.UUID
    liaison_name: str | None
    active_from: date
    active_to: date | None
    active: bool
    created_at: datetime


class Place(Strict):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class ReportCreate(Strict):
    """A liaison's report (反映): what, where (a pin or an address), when, who if known."""

    title: Title
    category: Category
    description: Text = ""
    occurred_at: datetime | None = None
    location: Place | None = None
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    unit_id: uuid.UUID | None = None
    officer_ids: OfficerIds = []
    officer_text: Annotated[str, msgspec.Meta(max_length=200)] = ""  # a name or badge number
    anonymous: bool = False  # towards the unit
    id: uuid.UUID | None = None


class RegistrationCreate(Strict):
    """A petition (信访件) or a lawsuit / reconsideration case (涉法涉诉) concerning enforcement."""

    title: Title
    reference: Number  # 信访件编号 / 案号
    received_on: date
    unit_id: uuid.UUID
    description: Text = ""
    action_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    officer_ids: OfficerIds = []
    id: uuid.UUID | None = None


class OutcomeCreate(Strict):
    outcome: OutcomeKind
    decided_on: date
    decision_number: Number
    note: Reply = ""


class OutcomeChange(Strict):
    """A correction of a recorded outcome: a new entry that supersedes it (the reason is audited)."""

    outcome: OutcomeKind
    decided_on: date
    reason: Reason


class Assign(Strict):
    user_id: uuid.UUID


class Forward(Strict):
    question: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]
    unit_id: uuid.UUID | None = None  # for an item that names no unit (the reporter did not know)


class Explain(Strict):
    text: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]


class Dismiss(Strict):
    reason: Reason
    reply: Reply = ""


class Note(Strict):
    """Closed as taken note of (a suggestion, a petition whose outcome is recorded)."""

    reply: Reply = ""


class ToDocument(Strict):
    type: DocumentType = "opinion"
    title: Title | None = None
    requirement: Text | None = None
    reply: Reply = ""


class ToCorrective(Strict):
    title: Title | None = None
    due_days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = None
    assignee_user_id: uuid.UUID | None = None
    reply: Reply = ""


class TransferAccept(Strict):
    received_on: date
    number: Number  # 受理回执 number


class TransferReturn(Strict):
    returned_on: date
    reason: Reason


class Outcome(msgspec.Struct):
    id: uuid.UUID
    outcome: str
    decided_on: date
    decision_number: str
    note: str
    reverses: bool
    supersedes_id: uuid.UUID | None
    superseded: bool
    entered_at: datetime


class Item(msgspec.Struct):
    id: uuid.UUID
    kind: str
    category: str | None
    title: str
    description: str
    occurred_at: datetime | None
    location: dict[str, float] | None
    address: str
    unit_id: uuid.UUID | None
    unit_name: str | None
    officer_ids: list[str]
    officer_text: str
    action_id: uuid.UUID | None
    case_id: uuid.UUID | None
    anonymous: bool
    # Who reported or registered it: null for the unit when the reporter asked to stay anonymous.
    reporter_id: uuid.UUID | None
    reporter_name: str | None
    registrant_unit_id: uuid.UUID | None
    reference: str | None
    received_on: date | None
    status: str
    assignee_id: uuid.UUID | None
    question: str | None
    forwarded_at: datetime | None
    explanation: str | None
    explained_at: datetime | None
    resolution: str | None
    resolution_ref: uuid.UUID | None
    reason: str | None
    reply: str | None
    closed_at: datetime | None
    created_at: datetime
    outcomes: list[Outcome]
    reversed: bool
    evidence_ids: list[str]
    allowed: list[str]


class Step(msgspec.Struct):
    step: str
    at: datetime
    by: uuid.UUID | None
    by_name: str | None
    data: dict[str, Any]


class Transfer(msgspec.Struct):
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str | None
    unit_id: uuid.UUID
    unit_name: str | None
    organ: str
    organ_unit_id: uuid.UUID | None
    transferred_on: date
    due_on: date
    overdue: bool
    status: str
    receipt_on: date | None
    receipt_number: str | None
    return_reason: str | None
    answered_at: datetime | None
    allowed: list[str]


class MissedTransfer(msgspec.Struct):
    """两法衔接: a closed penalty case whose amount reached the item's criminal threshold."""

    case_id: uuid.UUID
    number: str
    unit_id: uuid.UUID
    unit_name: str
    item_id: uuid.UUID
    item_code: str
    item_name: str
    amount_involved: float
    criminal_threshold: float
    closed_at: datetime | None
    override: dict[str, Any] | None


class Count(msgspec.Struct):
    count: int
    link: str  # the list endpoint, filtered to the records behind the count


class UnitCounts(msgspec.Struct):
    unit_id: uuid.UUID
    unit_name: str
    counts: dict[str, Count]


class Counts(msgspec.Struct):
    period_from: date | None
    period_to: date | None
    units: list[UnitCounts]
