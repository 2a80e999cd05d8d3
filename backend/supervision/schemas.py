from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.accounts.schemas import TokenPair
from backend.lib.schema import Name, Password, Phone, ShortText, Strict, Username

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=30, pattern=r"^[a-z0-9_]+$")]


class InvitationCreate(Strict):
    name: Name
    unit_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=20)]
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)]
    phone: Phone | None = None


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
