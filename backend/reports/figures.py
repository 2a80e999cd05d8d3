"""Every figure a report or the assessment shows, each defined once as SQL.

A figure is a record source (the ``FROM`` clause and how a row names its unit, id and title), the
date that places a record in a period, and a condition. Its value is ``SUM(CASE WHEN condition …)``
over the period, and the records behind it are ``SELECT … WHERE period AND unit AND condition`` with
the same SQL text, so a figure and its list cannot disagree. Figures of one source dated by the same
column are counted in one pass (one ``GROUP BY unit`` query), as a hand-written aggregate would.

Conditions name their parameters ``:name`` (``:p_from``/``:p_to`` are the period, ``:today`` the
Beijing date, the rest come from ``Context``)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from backend.actions.schemas import ActionKind
from backend.channels.tables import REVERSING
from backend.db import current_engine, is_postgres
from backend.lib.clock import today_local
from backend.reports.periods import Period

ACTION_KINDS: tuple[str, ...] = ActionKind.__args__  # type: ignore[attr-defined]
_REVERSING_SQL = ", ".join(f"'{o}'" for o in REVERSING)


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # the record kind in lists: action, case, spot_check, document, …
    from_sql: str
    unit: str
    id: str
    at: str
    title: str
    detail: str = "''"
    link: str | None = None  # the PWA route, "{id}" replaced


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    group: str
    source: Source
    when: str | None  # the column dating a record; None: a state as of today (officers)
    dated: bool = False  # ``when`` is a DATE (else a timestamp)
    condition: str = "1=1"
    measure: str = "count"  # count | sum
    amount: str = "0"
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Context:
    """Values some conditions need besides the period."""

    pass_mark: float = 60.0
    min_hours: float = 0.0
    today: date = field(default_factory=today_local)


# --- sources ---------------------------------------------------------------------------------------

ACTIONS = Source(
    "actions",
    "action",
    "actions a JOIN enforcement_items ai ON ai.id = a.item",
    unit="a.unit",
    id="a.id",
    at="a.occurred_at",
    title="ai.name",
    detail="a.kind",
    link="#/actions/{id}",
)
CASES = Source(
    "cases",
    "case",
    "cases c JOIN enforcement_items ci ON ci.id = c.item",
    unit="c.unit",
    id="c.id",
    at="c.created_at",
    title="c.number",
    detail="ci.name",
    link="#/cases/{id}",
)
TRANSFERS = Source(
    "transfers",
    "case",
    "channel_transfers tr JOIN cases tc ON tc.id = tr.case_id",
    unit="tr.unit_id",
    id="tr.case_id",
    at="tr.transferred_on",
    title="tc.number",
    detail="tr.organ",
    link="#/cases/{id}",
)
LEGAL_REVIEWS = Source(
    "legal_reviews",
    "legal_review",
    'case_reviews lr JOIN cases lc ON lc.id = lr."case"',
    unit="lc.unit",
    id="lr.id",
    at="lr.created_at",
    title="lc.number",
    detail="lr.outcome",
    link=None,
)
SPOT_CHECKS = Source(
    "spot_checks",
    "spot_check",
    "spot_checks s JOIN users su ON su.id = s.officer_id",
    unit="s.unit_id",
    id="s.id",
    at="s.requested_at",
    title="su.display_name",
    detail="s.status",
    link="#/spot-checks/{id}",
)
DOCUMENTS = Source(
    "documents",
    "document",
    "supervision_documents d",
    unit="d.unit_id",
    id="d.id",
    at="d.issued_at",
    title="COALESCE(d.number, d.title)",
    detail="d.title",
    link="#/documents/{id}",
)
ATTENDANCE = Source(
    "attendance",
    "attendance",
    "training_attendance ta JOIN trainings tt ON tt.id = ta.training_id "
    'JOIN memberships tm ON tm."user" = ta.officer_id JOIN users tu ON tu.id = ta.officer_id',
    unit="tm.unit",
    id="ta.id",
    at="tt.held_on",
    title="tu.display_name",
    detail="tt.title",
    link=None,
)
EXAMS = Source(
    "exams",
    "exam_score",
    "training_scores es JOIN trainings et ON et.id = es.training_id "
    'JOIN memberships em ON em."user" = es.officer_id JOIN users eu ON eu.id = es.officer_id',
    unit="em.unit",
    id="es.id",
    at="et.held_on",
    title="eu.display_name",
    detail="et.title",
    link=None,
)
OFFICERS = Source(
    "officers",
    "officer",
    'users ou JOIN memberships om ON om."user" = ou.id',
    unit="om.unit",
    id="ou.id",
    at="ou.created_at",
    title="ou.display_name",
    detail="ou.username",
    link=None,
)
CERTIFICATE_EVENTS = Source(
    "certificate_events",
    "certificate_event",
    'certificate_events ce JOIN memberships cm ON cm."user" = ce."user" JOIN users cu ON cu.id = ce."user"',
    unit="cm.unit",
    id="ce.id",
    at="ce.at",
    title="cu.display_name",
    detail="ce.change",
    link=None,
)
CHANNEL_ITEMS = Source(
    "channel_items",
    "channel_item",
    "channel_items ch",
    unit="ch.unit_id",
    id="ch.id",
    at="ch.created_at",
    title="ch.title",
    detail="ch.kind",
    link="#/channels/{id}",
)
OUTCOMES = Source(
    "outcomes",
    "outcome",
    "channel_outcomes oc JOIN channel_items oi ON oi.id = oc.item_id",
    unit="oi.unit_id",
    id="oc.id",
    at="oc.decided_on",
    title="oc.decision_number",
    detail="oc.outcome",
    link=None,
)
REFUSALS = Source(
    "alerts",
    "alert",
    "alerts al",
    unit="al.unit_id",
    id="al.id",
    at="al.created_at",
    title="al.message",
    detail="al.type",
    link=None,
)
PUBLICATION_CLOCKS = Source(
    "publication_clocks",
    "case",
    'case_clocks pk JOIN cases pc ON pc.id = pk."case"',
    unit="pk.unit",
    id='pk."case"',
    at="pk.due_on",
    title="pc.number",
    detail="pk.status",
    link="#/cases/{id}",
)
FILE_REVIEWS = Source(
    "file_reviews",
    "file_review",
    "file_review_scores fr JOIN cases fc ON fc.id = fr.case_id",
    unit="fr.unit_id",
    id="fr.id",
    at="fr.scored_at",
    title="fc.number",
    detail="fr.total",
    link=None,
)

# Conditions shared by a figure and the figures built on it.
_OFFICER = "ou.active AND ou.roles LIKE '% officer %'"
_CERTIFIED = (
    "EXISTS (SELECT 1 FROM certificates oc1 WHERE oc1.\"user\" = ou.id AND oc1.status = 'valid' "
    "AND oc1.expires_on >= :today)"
)
_TRAINED = (
    "(SELECT COALESCE(SUM(ot.hours), 0) FROM training_attendance oa "
    "JOIN trainings ot ON ot.id = oa.training_id "
    "WHERE oa.officer_id = ou.id AND oa.status = 'present' AND NOT ot.cancelled "
    "AND ot.held_on >= :p_from AND ot.held_on < :p_to) >= :min_hours"
)
_APPROVED = "EXISTS (SELECT 1 FROM case_reviews cr WHERE cr.\"case\" = c.id AND cr.outcome = 'approved')"
_MISSED = (
    "c.status = 'closed' AND ci.kind = 'penalty' AND ci.criminal_amount_at_least IS NOT NULL "
    "AND c.amount_involved >= ci.criminal_amount_at_least"
)
_RECONSIDERATION = "oi.kind = 'lawsuit' AND oi.reference LIKE '%复%'"
_LAWSUIT = "oi.kind = 'lawsuit' AND (oi.reference IS NULL OR oi.reference NOT LIKE '%复%')"
_LIVE_OUTCOME = "NOT oc.superseded"
_DOC_DUE = "d.issued_at IS NOT NULL AND d.due_on < :today"
_PUB_DUE = "pk.kind = 'publication' AND pk.due_on < :today AND pk.status <> 'stopped'"


def _uncertified(postgres: bool) -> str:
    code = "al.data ->> 'code'" if postgres else "json_extract(al.data, '$.code')"
    return f"al.type = 'action.refused' AND {code} = 'certificate.invalid'"


def _static() -> list[Figure]:
    f = Figure
    return [
        f("actions.total", "执法行为", "actions", ACTIONS, "a.occurred_at"),
        *[
            f(f"actions.kind.{k}", k, "actions", ACTIONS, "a.occurred_at", condition=f"a.kind = '{k}'")
            for k in ACTION_KINDS
        ],
        f(
            "actions.recording_required",
            "应全过程记录",
            "actions",
            ACTIONS,
            "a.occurred_at",
            condition="a.recording_required",
        ),
        f(
            "actions.recorded",
            "已全过程记录",
            "actions",
            ACTIONS,
            "a.occurred_at",
            condition="a.recording_required AND a.recording_at IS NOT NULL",
        ),
        f("cases.opened", "立案", "cases", CASES, "c.created_at"),
        f("cases.decided", "作出决定", "cases", CASES, "c.decided_on", dated=True),
        f(
            "cases.major_decided",
            "重大案件决定",
            "cases",
            CASES,
            "c.decided_on",
            dated=True,
            condition="c.major",
        ),
        f(
            "cases.major_reviewed",
            "重大案件经法制审核",
            "cases",
            CASES,
            "c.decided_on",
            dated=True,
            condition=f"c.major AND {_APPROVED}",
        ),
        f("cases.transferred", "移送司法机关", "cases", TRANSFERS, "tr.transferred_on", dated=True),
        f("cases.closed", "结案", "cases", CASES, "c.closed_at"),
        f("cases.missed_transfer", "应移送未移送", "cases", CASES, "c.closed_at", condition=_MISSED),
        f("reviews.done", "法制审核", "cases", LEGAL_REVIEWS, "lr.created_at"),
        f("spot_checks.requested", "发起抽查", "spot_checks", SPOT_CHECKS, "s.requested_at"),
        f(
            "spot_checks.closed",
            "已到期抽查",
            "spot_checks",
            SPOT_CHECKS,
            "s.requested_at",
            condition="s.status IN ('passed', 'failed', 'overdue')",
        ),
        f(
            "spot_checks.passed",
            "抽查合格",
            "spot_checks",
            SPOT_CHECKS,
            "s.requested_at",
            condition="s.status = 'passed'",
        ),
        f(
            "spot_checks.failed",
            "抽查不合格",
            "spot_checks",
            SPOT_CHECKS,
            "s.requested_at",
            condition="s.status = 'failed'",
        ),
        f(
            "spot_checks.overdue",
            "抽查逾期未答",
            "spot_checks",
            SPOT_CHECKS,
            "s.requested_at",
            condition="s.status = 'overdue'",
        ),
        f("documents.received", "收到监督文书", "documents", DOCUMENTS, "d.issued_at"),
        f("documents.answered", "已反馈", "documents", DOCUMENTS, "d.responded_at"),
        f("documents.overdue", "逾期未反馈", "documents", DOCUMENTS, "d.overdue_at"),
        f("documents.due", "到期文书", "documents", DOCUMENTS, "d.due_on", dated=True, condition=_DOC_DUE),
        f(
            "documents.on_time",
            "按期反馈",
            "documents",
            DOCUMENTS,
            "d.due_on",
            dated=True,
            condition=f"{_DOC_DUE} AND d.responded_at IS NOT NULL AND d.overdue_at IS NULL",
        ),
        f(
            "training.hours",
            "参训学时",
            "training",
            ATTENDANCE,
            "tt.held_on",
            dated=True,
            condition="ta.status = 'present' AND NOT tt.cancelled",
            measure="sum",
            amount="tt.hours",
        ),
        f(
            "training.absent",
            "无故缺训",
            "training",
            ATTENDANCE,
            "tt.held_on",
            dated=True,
            condition="ta.status = 'absent' AND NOT tt.cancelled",
        ),
        f(
            "exams.taken",
            "参加考试",
            "training",
            EXAMS,
            "et.held_on",
            dated=True,
            condition="NOT et.cancelled",
        ),
        f(
            "exams.passed",
            "考试合格",
            "training",
            EXAMS,
            "et.held_on",
            dated=True,
            condition="NOT et.cancelled AND es.score >= COALESCE(et.pass_mark, :pass_mark)",
        ),
        f("officers.total", "执法人员", "certificates", OFFICERS, None, condition=_OFFICER),
        f(
            "officers.certified",
            "持有效证件",
            "certificates",
            OFFICERS,
            None,
            condition=f"{_OFFICER} AND {_CERTIFIED}",
        ),
        f("officers.trained", "学时达标", "training", OFFICERS, None, condition=f"{_OFFICER} AND {_TRAINED}"),
        f("certificates.changes", "证件变动", "certificates", CERTIFICATE_EVENTS, "ce.at"),
        f(
            "certificates.revoked",
            "证件注销",
            "certificates",
            CERTIFICATE_EVENTS,
            "ce.at",
            condition="ce.change = 'revoked'",
        ),
        f(
            "channels.reports",
            "联系点反映",
            "channels",
            CHANNEL_ITEMS,
            "ch.created_at",
            condition="ch.kind = 'report'",
        ),
        f(
            "channels.petitions",
            "信访件",
            "channels",
            CHANNEL_ITEMS,
            "ch.created_at",
            condition="ch.kind = 'petition'",
        ),
        f(
            "channels.lawsuits",
            "涉法涉诉",
            "channels",
            CHANNEL_ITEMS,
            "ch.created_at",
            condition="ch.kind = 'lawsuit'",
        ),
        f(
            "outcomes.reversed",
            "被纠错的行为",
            "channels",
            OUTCOMES,
            "oc.decided_on",
            dated=True,
            condition=f"{_LIVE_OUTCOME} AND oc.outcome IN ({_REVERSING_SQL})",
        ),
        f(
            "outcomes.reconsideration",
            "行政复议结果",
            "channels",
            OUTCOMES,
            "oc.decided_on",
            dated=True,
            condition=f"{_LIVE_OUTCOME} AND {_RECONSIDERATION}",
        ),
        f(
            "outcomes.reconsideration_reversed",
            "复议纠错",
            "channels",
            OUTCOMES,
            "oc.decided_on",
            dated=True,
            condition=f"{_LIVE_OUTCOME} AND {_RECONSIDERATION} AND oc.outcome IN ({_REVERSING_SQL})",
        ),
        f(
            "outcomes.lawsuit",
            "行政诉讼判决",
            "channels",
            OUTCOMES,
            "oc.decided_on",
            dated=True,
            condition=f"{_LIVE_OUTCOME} AND {_LAWSUIT}",
        ),
        f(
            "outcomes.lawsuit_lost",
            "行政诉讼败诉",
            "channels",
            OUTCOMES,
            "oc.decided_on",
            dated=True,
            condition=f"{_LIVE_OUTCOME} AND {_LAWSUIT} AND oc.outcome IN ({_REVERSING_SQL})",
        ),
        f(
            "attempts.uncertified",
            "无证执法被拒",
            "actions",
            REFUSALS,
            "al.created_at",
            condition="UNCERTIFIED",
        ),
        f(
            "publication.due",
            "应公示",
            "cases",
            PUBLICATION_CLOCKS,
            "pk.due_on",
            dated=True,
            condition=_PUB_DUE,
        ),
        f(
            "publication.on_time",
            "按时公示",
            "cases",
            PUBLICATION_CLOCKS,
            "pk.due_on",
            dated=True,
            condition=f"{_PUB_DUE} AND pk.met_on IS NOT NULL AND pk.met_on <= pk.due_on",
        ),
        f("file_reviews.scored", "评查案卷", "file_reviews", FILE_REVIEWS, "fr.scored_at"),
        f(
            "file_reviews.passed",
            "案卷合格",
            "file_reviews",
            FILE_REVIEWS,
            "fr.scored_at",
            condition="fr.passed",
        ),
    ]


FIGURES: dict[str, Figure] = {fig.key: fig for fig in _static()}
ITEM_PREFIX = "actions.item."


def get(key: str) -> Figure | None:
    """A catalogue figure, or a per-item action figure ``actions.item.<item id>``."""
    if key in FIGURES:
        return FIGURES[key]
    if key.startswith(ITEM_PREFIX):
        try:
            item = uuid.UUID(key.removeprefix(ITEM_PREFIX))
        except ValueError:
            return None
        return item_figure(item, "")
    return None


def item_figure(item_id: uuid.UUID, name: str) -> Figure:
    return Figure(
        f"{ITEM_PREFIX}{item_id}",
        name,
        "actions",
        ACTIONS,
        "a.occurred_at",
        condition="a.item = :item",
        params=(("item", item_id),),
    )


# --- SQL -----------------------------------------------------------------------------------------

_NAME = re.compile(r":([a-z_]+)")


class _Sql:
    """Builds one statement with ``{}`` placeholders (Piccolo's, for either engine)."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.args: list[Any] = []

    def bind(self, text: str, values: dict[str, Any]) -> str:
        text = text.replace("UNCERTIFIED", _uncertified(self.postgres))

        def one(match: re.Match[str]) -> str:
            self.args.append(values[match.group(1)])
            return "{}"

        return _NAME.sub(one, text)


def _values(figure: Figure, period: Period, context: Context) -> dict[str, Any]:
    dated = figure.dated or figure.when is None
    values: dict[str, Any] = {
        "p_from": period.start if dated else period.start_at,
        "p_to": period.end if dated else period.end_at,
        "today": context.today,
        "pass_mark": context.pass_mark,
        "min_hours": context.min_hours,
    }
    values.update(dict(figure.params))
    return values


def _period_sql(figure: Figure) -> str:
    if figure.when is None:
        return "1=1"
    return f"{figure.when} >= :p_from AND {figure.when} < :p_to"


def _engine() -> Engine:
    return current_engine()


async def values(
    figures: Iterable[Figure], period: Period, context: Context, units: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, dict[str, float]]:
    """{unit: {figure key: value}} for ``units`` (None: every unit with any record). One query per
    source and dating column."""
    engine = _engine()
    postgres = is_postgres(engine)
    wanted = None if units is None else set(units)
    groups: dict[tuple[str, str | None, bool], list[Figure]] = defaultdict(list)
    for fig in figures:
        groups[(fig.source.name, fig.when, fig.dated)].append(fig)
    statements = []
    for group in groups.values():
        source = group[0].source
        sql = _Sql(postgres)
        columns = []
        for n, fig in enumerate(group):
            then = fig.amount if fig.measure == "sum" else "1"
            cond = sql.bind(fig.condition, _values(fig, period, context))
            columns.append(f"SUM(CASE WHEN ({cond}) THEN {then} ELSE 0 END) AS f{n}")
        where = sql.bind(_period_sql(group[0]), _values(group[0], period, context))
        unit_filter = ""
        if wanted is not None and len(wanted) <= 50:
            unit_filter = f" AND {source.unit} IN ({', '.join('{}' for _ in wanted)})"
            sql.args.extend(sorted(wanted))
        text = (
            f"SELECT {source.unit} AS unit_id, {', '.join(columns)} FROM {source.from_sql} "  # noqa: S608
            f"WHERE {where}{unit_filter} GROUP BY {source.unit}"
        )
        statements.append(_qs(text, sql.args))
    # The statements are independent: on PostgreSQL they run side by side on the pool.
    results = await asyncio.gather(*(engine.run_querystring(q) for q in statements))
    out: dict[uuid.UUID, dict[str, float]] = defaultdict(dict)
    for group, rows in zip(groups.values(), results, strict=True):
        for row in rows:
            unit = _uuid(row["unit_id"])
            if unit is None or (wanted is not None and unit not in wanted):
                continue
            for n, fig in enumerate(group):
                out[unit][fig.key] = _number(row[f"f{n}"])
    return out


async def records(
    figure: Figure,
    period: Period,
    context: Context,
    unit_id: uuid.UUID,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """The records ``figure`` counts for ``unit_id`` in ``period``, newest first."""
    engine = _engine()
    sql = _Sql(is_postgres(engine))
    source = figure.source
    values = _values(figure, period, context)
    where = sql.bind(
        f"({_period_sql(figure)}) AND {source.unit} = :unit AND ({figure.condition})",
        {**values, "unit": unit_id},
    )
    text = (
        f"SELECT {source.id} AS id, {source.unit} AS unit_id, {source.at} AS at, {source.title} AS title, "  # noqa: S608
        f"{source.detail} AS detail, {figure.amount} AS amount FROM {source.from_sql} WHERE {where} "
        f"ORDER BY {source.at} DESC, {source.id} DESC LIMIT {int(limit)} OFFSET {int(offset)}"
    )
    return [_record(figure, row) for row in await engine.run_querystring(_qs(text, sql.args))]


async def records_by_id(
    figure: Figure, ids: list[uuid.UUID], limit: int, offset: int
) -> list[dict[str, Any]]:
    """The records of a frozen figure: those it counted when the report was submitted."""
    page = ids[offset : offset + limit]
    if not page:
        return []
    engine = _engine()
    source = figure.source
    # A record joined to several units (an officer in two) appears once per unit: keep one.
    text = (
        f"SELECT DISTINCT {source.id} AS id, {source.at} AS at, {source.title} AS title, "  # noqa: S608
        f"{source.detail} AS detail, {figure.amount} AS amount FROM {source.from_sql} "
        f"WHERE {source.id} IN ({', '.join('{}' for _ in page)})"
    )
    found: dict[uuid.UUID | None, dict[str, Any]] = {}
    for row in await engine.run_querystring(_qs(text, page)):
        found.setdefault(_uuid(row["id"]), _record(figure, row))
    return [found[i] for i in page if i in found]


async def ids(figure: Figure, period: Period, context: Context, unit_id: uuid.UUID) -> list[uuid.UUID]:
    """Every record id behind a figure, for freezing a submitted report."""
    rows = await records(figure, period, context, unit_id, limit=1_000_000, offset=0)
    return [r["id"] for r in rows]


def _qs(text: str, args: list[Any]) -> QueryString:
    return QueryString(text, *args)


def _record(figure: Figure, row: dict[str, Any]) -> dict[str, Any]:
    source = figure.source
    record_id = _uuid(row["id"])
    return {
        "kind": source.kind,
        "id": record_id,
        "unit_id": _uuid(row.get("unit_id")),
        "at": _iso(_time(row["at"])),
        "title": "" if row["title"] is None else str(row["title"]),
        "detail": "" if row["detail"] is None else str(row["detail"]),
        "amount": _number(row["amount"]) if figure.measure == "sum" else None,
        "link": source.link.replace("{id}", str(record_id)) if source.link else None,
    }


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _number(value: Any) -> float:
    if value is None:
        return 0
    number = float(value)
    return int(number) if number.is_integer() else round(number, 2)


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: Any) -> datetime | date | None:
    if value is None or isinstance(value, datetime | date):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        return None


FigureFilter = Callable[[Figure], bool]
