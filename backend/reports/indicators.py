"""The assessment's indicators (考核指标): each a rate of two figures, or a count of one.

The score of a unit is the weighted mean, over the indicators that apply to it (a rate whose
denominator is 0 does not apply), of each indicator's points in [0, 1], times 100:
- a rate where higher is better scores its value; one where lower is better scores 1 − value;
- a count (lower is better) scores 1 for none and loses 0.2 per occurrence, down to 0.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNT_STEP = 0.2


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    formula: str
    numerator: str  # figure key
    denominator: str | None  # figure key; None: a count
    better: str  # higher | lower
    weight: float

    @property
    def measure(self) -> str:
        return "count" if self.denominator is None else "rate"

    def value(self, numerator: float, denominator: float | None) -> float | None:
        if self.denominator is None:
            return numerator
        if not denominator:
            return None
        return numerator / denominator

    def points(self, value: float | None) -> float | None:
        if value is None:
            return None
        if self.denominator is None:
            return max(0.0, 1.0 - COUNT_STEP * value)
        return value if self.better == "higher" else 1.0 - value


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "certified_rate",
        "持证率",
        "持有效执法证件的在岗执法人员 ÷ 在岗执法人员（截至今日）",
        "officers.certified",
        "officers.total",
        "higher",
        10,
    ),
    Indicator(
        "training_rate",
        "培训达标率",
        "期间参训学时达到年度要求（按期间月数折算）的执法人员 ÷ 在岗执法人员",
        "officers.trained",
        "officers.total",
        "higher",
        10,
    ),
    Indicator(
        "exam_pass_rate",
        "考试合格率",
        "期间考试成绩达到合格线的人次 ÷ 参加考试人次",
        "exams.passed",
        "exams.taken",
        "higher",
        5,
    ),
    Indicator(
        "legal_review_rate",
        "法制审核率",
        "期间作出决定的重大案件中经法制审核通过的 ÷ 期间作出决定的重大案件",
        "cases.major_reviewed",
        "cases.major_decided",
        "higher",
        10,
    ),
    Indicator(
        "recording_rate",
        "音像记录覆盖率",
        "期间应全过程记录的执法行为中已有音像记录的 ÷ 应全过程记录的执法行为",
        "actions.recorded",
        "actions.recording_required",
        "higher",
        10,
    ),
    Indicator(
        "publication_rate",
        "公示及时率",
        "公示期限在期间内届满的决定中按期公示的 ÷ 公示期限在期间内届满的决定",
        "publication.on_time",
        "publication.due",
        "higher",
        5,
    ),
    Indicator(
        "document_rate",
        "文书按期反馈率",
        "反馈期限在期间内届满的监督文书中按期反馈的 ÷ 反馈期限在期间内届满的监督文书",
        "documents.on_time",
        "documents.due",
        "higher",
        10,
    ),
    Indicator(
        "reconsideration_rate",
        "复议纠错率",
        "期间行政复议决定中确认违法、撤销、变更的 ÷ 期间行政复议决定",
        "outcomes.reconsideration_reversed",
        "outcomes.reconsideration",
        "lower",
        5,
    ),
    Indicator(
        "lawsuit_loss_rate",
        "行政诉讼败诉率",
        "期间行政诉讼判决中确认违法、撤销、变更的 ÷ 期间行政诉讼判决",
        "outcomes.lawsuit_lost",
        "outcomes.lawsuit",
        "lower",
        5,
    ),
    Indicator(
        "spot_check_rate",
        "抽查合格率",
        "期间发起且已到期的抽查中合格的 ÷ 期间发起且已到期的抽查（含逾期未答）",
        "spot_checks.passed",
        "spot_checks.closed",
        "higher",
        10,
    ),
    Indicator(
        "uncertified_attempts",
        "无证执法被拒次数",
        "期间因执法证件无效被拒绝登记的执法行为次数（每次扣该项20%）",
        "attempts.uncertified",
        None,
        "lower",
        5,
    ),
    Indicator(
        "missed_transfers",
        "应移送未移送",
        "期间结案、涉案金额达到刑事立案标准而未移送的案件数（每件扣该项20%）",
        "cases.missed_transfer",
        None,
        "lower",
        10,
    ),
    Indicator(
        "file_pass_rate",
        "案卷合格率",
        "期间评查的案卷中合格的 ÷ 期间评查的案卷",
        "file_reviews.passed",
        "file_reviews.scored",
        "higher",
        5,
    ),
)
BY_KEY = {i.key: i for i in INDICATORS}
DEFAULT_WEIGHTS = {i.key: i.weight for i in INDICATORS}


def figure_keys() -> list[str]:
    keys: list[str] = []
    for i in INDICATORS:
        keys.append(i.numerator)
        if i.denominator:
            keys.append(i.denominator)
    return keys


def score(values: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """The weighted mean of the applicable indicators' points, 0–100; None when none applies."""
    total = weight_sum = 0.0
    for indicator in INDICATORS:
        points = indicator.points(values.get(indicator.key))
        weight = weights.get(indicator.key, indicator.weight)
        if points is None or weight <= 0:
            continue
        total += weight * points
        weight_sum += weight
    return round(100 * total / weight_sum, 2) if weight_sum else None
