from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Strict

Format = Literal[
    "法律知识培训", "以案释法", "专用法律知识轮训", "跟班学习", "下派指导", "党风廉政", "组织纪律"
]
AttendanceStatus = Literal["present", "excused", "absent"]
Hours = Annotated[float, msgspec.Meta(gt=0, le=500)]
Mark = Annotated[float, msgspec.Meta(ge=0, le=1000)]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2999)]


class TrainingCreate(Strict):
    title: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    format: Format
    organiser_unit_id: uuid.UUID
    held_on: date
    hours: Hours
    trainer: Annotated[str, msgspec.Meta(max_length=100)] = ""
    officer_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=2000)] = []
    unit_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)] = []
    has_exam: bool = False
    pass_mark: Mark | None = None  # default: the year's pass mark
    max_score: Annotated[float, msgspec.Meta(gt=0, le=1000)] = 100.0
    resit_of: uuid.UUID | None = None  # this is the resit (补考) of that training's exam


class AttendanceCounts(msgspec.Struct):
    required: int
    present: int
    excused: int
    absent: int
    unrecorded: int


class Training(msgspec.Struct):
    id: uuid.UUID
    title: str
    format: str
    organiser_unit_id: uuid.UUID
    organiser_unit_name: str
    held_on: date
    year: int
    hours: float
    trainer: str
    has_exam: bool
    pass_mark: float | None  # the one that applies (the training's, else the year's) when it has an exam
    max_score: float
    resit_of: uuid.UUID | None
    compulsory: bool
    officer_ids: list[uuid.UUID]
    unit_ids: list[uuid.UUID]
    counts: AttendanceCounts


class AttendanceEntry(Strict):
    """One officer, by id or by the token of their card's QR (scanned at the door)."""

    status: AttendanceStatus
    officer_id: uuid.UUID | None = None
    card_token: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""  # required when excused: leave, duty …


class AttendanceRequest(Strict):
    entries: Annotated[list[AttendanceEntry], msgspec.Meta(min_length=1, max_length=2000)]


class RosterLine(msgspec.Struct):
    officer_id: uuid.UUID
    name: str
    units: list[str]
    certificate_number: str | None
    status: str | None  # present | excused | absent; None: not recorded yet
    reason: str
    score: float | None


class ScoreIn(Strict):
    """One score typed in: the officer by id, username or certificate number."""

    score: float
    officer_id: uuid.UUID | None = None
    username: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    certificate_number: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class ScoresIn(Strict):
    scores: Annotated[list[ScoreIn], msgspec.Meta(min_length=1, max_length=5000)]


class ScoreLine(msgspec.Struct):
    row: int  # 1-based; in a sheet, the sheet's row number
    key: str  # what identified the officer
    officer_id: uuid.UUID | None
    name: str | None
    score: float | None
    problem: str | None  # unknown_officer | not_required | score_out_of_range | score_missing | duplicate
    message: str | None


class ScoreImport(msgspec.Struct):
    training_id: uuid.UUID
    dry_run: bool
    rows: list[ScoreLine]
    problems: int
    written: int


class YearRules(Strict):
    min_hours: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 0.0
    compulsory_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)] = []
    pass_mark: Mark = 60.0
    resit: bool = True


class YearRulesView(msgspec.Struct):
    year: int
    min_hours: float
    compulsory_ids: list[uuid.UUID]
    pass_mark: float
    resit: bool
    stored: bool  # false: the defaults, nothing configured yet


class MyLine(msgspec.Struct):
    training_id: uuid.UUID
    title: str
    format: str
    held_on: date
    hours: float
    compulsory: bool
    status: str | None
    reason: str
    has_exam: bool
    score: float | None
    pass_mark: float | None
    passed: bool | None


class MyTraining(msgspec.Struct):
    year: int
    hours_attended: float
    hours_excused: float
    min_hours: float
    trainings: list[MyLine]
    absences: int
    due: list[str]  # what is still due this year, in plain words


class Revocation(msgspec.Struct):
    officer_id: uuid.UUID
    name: str
    units: list[str]
    certificate_number: str
    reasons: list[str]
    open_spot_checks: int  # unanswered checks the officer can no longer answer once revoked


class Exemption(msgspec.Struct):
    officer_id: uuid.UUID
    name: str
    reasons: list[str]


class AssessmentPlan(msgspec.Struct):
    year: int
    digest: str  # apply with it: what is applied is exactly what was previewed
    revoke: list[Revocation]
    exempt: list[Exemption]
    already_revoked: list[Exemption]
    officers_checked: int
    computed_at: datetime


class AssessmentApply(Strict):
    digest: Annotated[str, msgspec.Meta(min_length=64, max_length=64)]


class AssessmentResult(msgspec.Struct):
    year: int
    digest: str
    revoked: list[Revocation]
    replayed: bool  # this digest was applied before: nothing changed now
    run_id: uuid.UUID | None
