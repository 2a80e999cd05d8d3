from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import LongText, Strict

Title = Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Post = Annotated[str, msgspec.Meta(max_length=100)]
Text = Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]
Version = Annotated[int, msgspec.Meta(ge=1)]
GroupRole = Literal["组长", "副组长", "成员", "办公室主任"]
MeetingKind = Literal["联席会议", "领导小组会议"]
TaskStatus = Literal["open", "completed", "closed"]


class MemberIn(Strict):
    """A user of the system (``user_id``) or an outsider (``name``); a user's name defaults to theirs."""

    role: GroupRole
    user_id: uuid.UUID | None = None
    name: PersonName | None = None
    post: Post = ""
    public_lawyer: bool = False  # 公职律师
    legal_qualification: bool = False  # 法律职业资格


class GroupCreate(Strict):
    unit_id: uuid.UUID
    name: Title
    set_up_on: date
    members: Annotated[list[MemberIn], msgspec.Meta(max_length=100)] = []


class GroupPatch(Strict):
    """The full member list replaces the old one; ``version`` is the one you read."""

    version: Version
    name: Title | None = None
    set_up_on: date | None = None
    members: Annotated[list[MemberIn], msgspec.Meta(max_length=100)] | None = None


class Member(msgspec.Struct):
    user_id: uuid.UUID | None
    name: str
    role: str
    post: str
    public_lawyer: bool
    legal_qualification: bool


class LegalCounts(msgspec.Struct):
    members: int
    public_lawyers: int  # 公职律师
    legal_qualification: int  # 法律职业资格
    either: int  # a legal professional: one or both


class Group(msgspec.Struct):
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    name: str
    set_up_on: date
    members: list[Member]
    counts: LegalCounts
    version: int
    created_at: datetime
    updated_at: datetime


class AttendeeIn(Strict):
    user_id: uuid.UUID | None = None
    name: PersonName | None = None


class ResolutionIn(Strict):
    text: Text
    owner_unit_id: uuid.UUID
    due_on: date
    owner_user_id: uuid.UUID | None = None  # an officer of the owner unit; none: the unit itself


class MeetingCreate(Strict):
    held_on: date
    title: Title
    kind: MeetingKind
    unit_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=100)]
    attendees: Annotated[list[AttendeeIn], msgspec.Meta(max_length=200)] = []
    issues: Annotated[list[LongText], msgspec.Meta(max_length=100)] = []
    resolutions: Annotated[list[ResolutionIn], msgspec.Meta(max_length=50)] = []


class Attendee(msgspec.Struct):
    user_id: uuid.UUID | None
    name: str


class UnitRef(msgspec.Struct):
    id: uuid.UUID
    name: str


class Resolution(msgspec.Struct):
    id: uuid.UUID
    text: str
    owner_unit: UnitRef
    owner_user_id: uuid.UUID | None
    due_on: date
    task_id: uuid.UUID
    task_status: TaskStatus
    overdue: bool  # still open after its due date


class MeetingView(msgspec.Struct):
    id: uuid.UUID
    held_on: date
    title: str
    kind: str
    units: list[UnitRef]
    attendees: list[Attendee]
    issues: list[str]
    resolutions: list[Resolution]
    created_by: uuid.UUID
    created_at: datetime
