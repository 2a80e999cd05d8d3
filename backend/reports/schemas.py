from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Strict

Narrative = Annotated[str, msgspec.Meta(max_length=8000)]
VETOES = ("主体", "资格", "证据", "事实", "定性", "法律适用", "程序", "执法人员不足2人", "应移送未移送")
Veto = Literal["主体", "资格", "证据", "事实", "定性", "法律适用", "程序", "执法人员不足2人", "应移送未移送"]


class FigureInfo(msgspec.Struct):
    key: str
    label: str
    group: str
    kind: str
    measure: str


class Record(msgspec.Struct):
    kind: str
    id: uuid.UUID
    at: str | None  # RFC 3339 time, or a date for records dated by day
    title: str
    unit_id: uuid.UUID | None
    detail: str
    link: str | None
    amount: float | None = None


class Records(msgspec.Struct):
    items: list[Record]
    next_cursor: str | None
    figure: str
    label: str
    total: float  # the figure's value: the count of the list, or the sum of its amounts
    count: int  # how many records in all


class Figure(msgspec.Struct):
    key: str
    label: str
    group: str
    measure: str
    value: float


class Comment(msgspec.Struct):
    by: uuid.UUID
    by_name: str
    at: datetime
    text: str


class NarrativeText(Strict):
    progress: Narrative = ""  # 进展
    problems: Narrative = ""  # 问题
    next_steps: Narrative = ""  # 下一步


class ReportUpdate(Strict):
    narrative: NarrativeText


class CommentCreate(Strict):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class SummaryCreate(Strict):
    unit_id: uuid.UUID
    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None


class Report(msgspec.Struct):
    id: uuid.UUID
    kind: str
    unit_id: uuid.UUID
    unit_name: str
    period_from: date
    period_to: date
    month: str | None
    version: int
    status: str
    figures: list[Figure]
    narrative: NarrativeText
    due_on: date | None
    late: bool
    submitted_at: datetime | None
    submitted_by: str | None
    accepted_at: datetime | None
    accepted_by: str | None
    comments: list[Comment]
    can_edit: bool
    can_accept: bool
    frozen: bool


class OverviewUnit(msgspec.Struct):
    unit_id: uuid.UUID
    unit_name: str
    report_id: uuid.UUID | None
    status: str
    version: int | None
    submitted_at: datetime | None
    late: bool


class Overview(msgspec.Struct):
    month: str
    due_on: date
    units: list[OverviewUnit]


class IndicatorInfo(msgspec.Struct):
    key: str
    label: str
    formula: str
    better: str
    measure: str
    weight: float


class IndicatorValue(msgspec.Struct):
    value: float | None
    numerator: float
    denominator: float | None
    previous: float | None


class UnitScore(msgspec.Struct):
    unit_id: uuid.UUID
    unit_name: str
    rank: int | None
    score: float | None
    previous_score: float | None
    change: float | None
    values: dict[str, IndicatorValue]


class Assessment(msgspec.Struct):
    period_from: date
    period_to: date
    previous_from: date
    previous_to: date
    indicators: list[IndicatorInfo]
    units: list[UnitScore]


class Weights(msgspec.Struct):
    weights: dict[str, float]


class WeightsUpdate(Strict):
    weights: dict[str, Annotated[float, msgspec.Meta(ge=0, le=100)]]


class DrawCreate(Strict):
    unit_id: uuid.UUID
    from_: date = msgspec.field(name="from")
    to: date
    size: Annotated[int, msgspec.Meta(ge=1, le=200)]
    seed: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None


class ScoreCreate(Strict):
    case_id: uuid.UUID
    form_score: Annotated[int, msgspec.Meta(ge=0, le=20)]
    content_score: Annotated[int, msgspec.Meta(ge=0, le=80)]
    vetoes: Annotated[list[Veto], msgspec.Meta(max_length=len(VETOES))] = []
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Score(msgspec.Struct):
    case_id: uuid.UUID
    vetoes: list[str]
    form_score: int
    content_score: int
    total: int
    passed: bool
    comment: str
    reviewer_id: uuid.UUID
    scored_at: datetime


class DrawnCase(msgspec.Struct):
    case_id: uuid.UUID
    number: str
    item_name: str
    closed_at: datetime | None
    score: Score | None


class Draw(msgspec.Struct):
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    period_from: date
    period_to: date
    seed: str
    size: int
    population: int
    cases: list[DrawnCase]
    drawn_by: uuid.UUID
    drawn_at: datetime
    pass_mark: int
