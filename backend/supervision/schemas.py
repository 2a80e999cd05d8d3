from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.accounts.schemas import TokenPair
from backend.lib.schema import Name, Password, Phone, ShortText, Strict, Username

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=30, pattern=r"^[a-z0-9_]+$")]
# 人大代表 / 政协委员 / 退休干部 / 其他
Category = Literal["deputy", "cppcc", "retired", "other"]
RosterStatus = Literal["invited", "active", "expired", "revoked"]
NominationStatus = Literal["received", "selected", "declined"]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
UnitIds = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=20)]
# A mainland mobile (11 digits from 1) or a landline with its area code (023-12345678).
ContactPhone = Annotated[str, msgspec.Meta(pattern=r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$")]


class InvitationCreate(Strict):
    name: Name
    unit_ids: UnitIds
    expires_at: Moment  # the end of the appointment: access ends then
    phone: Phone | None = None
    category: Category = "other"
    appointed_from: Moment | None = None  # None: from now


class Invitation(msgspec.Struct):
    id: uuid.UUID
    name: str
    phone: str | None
    unit_ids: list[uuid.UUID]
    expires_at: datetime
    created_at: datetime
    status: str  # pending | accepted | expired | revoked
    user_id: uuid.UUID | None


class InvitationLink(msgspec.Struct):
    invitation: Invitation
    token: str
    link: str
    qr_svg: str


class InvitationAccept(Strict):
    token: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]
    password: Password
    username: Username | None = None


class InvitationCheck(Strict):
    token: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]


class InvitationPreview(msgspec.Struct):
    name: str  # whom the invitation is for, to greet them
    expires_at: datetime


class Accepted(msgspec.Struct):
    username: str
    session: TokenPair


class ChecklistItem(Strict):
    key: Key
    label: Label


class Checklist(Strict):
    items: Annotated[list[ChecklistItem], msgspec.Meta(min_length=1, max_length=20)]


class SpotCheckCreate(Strict):
    officer_id: uuid.UUID | None = None
    random: bool = False
    unit_id: uuid.UUID | None = None
    due_in_minutes: Annotated[int, msgspec.Meta(ge=1, le=120)] = 10
    checklist: Annotated[list[ChecklistItem], msgspec.Meta(min_length=1, max_length=20)] | None = None


class Review(Strict):
    results: dict[Key, bool]
    score: Annotated[int, msgspec.Meta(ge=0, le=100)]
    comment: ShortText = ""


class Appeal(Strict):
    comment: Annotated[str, msgspec.Meta(min_length=2, max_length=1000)]


class AppealDecision(Strict):
    upheld: bool
    comment: ShortText = ""


class SpotCheck(msgspec.Struct):
    id: uuid.UUID
    officer_id: uuid.UUID
    officer_name: str
    unit_id: uuid.UUID
    requested_by: uuid.UUID
    requested_at: datetime
    due_at: datetime
    random_pick: bool
    checklist: list[dict[str, Any]]
    status: str
    evidence_id: uuid.UUID | None
    submitted_at: datetime | None
    results: dict[str, bool] | None
    score: int | None
    comment: str | None
    reviewed_at: datetime | None
    appeal: dict[str, Any] | None
    allowed: list[str]


Outcome = Literal["passed", "failed"]


# --- the roster and nominations -----------------------------------------------------------------


class SpotCheckRecord(msgspec.Struct):
    requested: int
    passed: int
    failed: int
    unanswered: int  # overdue: the officer did not answer by the deadline


class RosterEntry(msgspec.Struct):
    invitation_id: uuid.UUID
    name: str
    phone: str | None
    category: str
    unit_ids: list[uuid.UUID]
    appointed_from: datetime
    appointed_to: datetime
    status: str  # invited | active | expired | revoked
    user_id: uuid.UUID | None
    spot_checks: SpotCheckRecord


class NominationCreate(Strict):
    name: Name
    phone: ContactPhone
    category: Category
    organisation: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]  # 工作单位或职业
    statement: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    unit_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)] = []
    nominated_by_unit: uuid.UUID | None = None  # a unit's nomination: the nominator must be signed in


class NominationReceived(msgspec.Struct):
    """All the nominator is told: nothing they typed comes back."""

    id: uuid.UUID
    status: str
    received_at: datetime


class Nomination(msgspec.Struct):
    id: uuid.UUID
    name: str
    phone: str
    category: str
    organisation: str
    statement: str
    unit_ids: list[uuid.UUID]
    nominated_by_unit: uuid.UUID | None
    received_at: datetime
    status: str  # received | selected | declined
    decided_at: datetime | None
    decline_reason: str | None
    invitation_id: uuid.UUID | None


class NominationSelect(Strict):
    unit_ids: UnitIds
    appointed_from: Moment
    appointed_to: Moment


class NominationDecline(Strict):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class Selected(msgspec.Struct):
    nomination: Nomination
    invitation: InvitationLink
