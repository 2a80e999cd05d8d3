"""Monthly reports and final summaries, the assessment table, and the records behind every figure.

Reports sit above the other domains (like the command center's summary): they read what the
domains recorded and change none of it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from backend.accounts import capabilities
from backend.accounts.tables import User
from backend.alerts import services as alerts
from backend.audit import services as audit
from backend.db import atomic, is_unique_violation, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import decode_cursor, encode_cursor
from backend.live.publish import Publisher
from backend.org.tables import Unit
from backend.reports import figures as figs
from backend.reports import indicators as ind
from backend.reports import schemas
from backend.reports.periods import PILOT, Period, last_month, month
from backend.reports.tables import Report, ReportSetting
from backend.training.tables import TrainingYear

ENFORCEMENT_KINDS = ("township", "department")
SUBMITTED_MEANWHILE = "The report was submitted meanwhile."
UNIT_ROLES = ("officer", "legal_reviewer")

# The figures of a monthly report and a summary, in the order they are shown (per-item action
# figures follow actions.total).
REPORT_FIGURES = (
    "actions.total",
    *[f"actions.kind.{k}" for k in figs.ACTION_KINDS],
    "actions.recording_required",
    "actions.recorded",
    "attempts.uncertified",
    "cases.opened",
    "cases.decided",
    "cases.major_decided",
    "cases.major_reviewed",
    "reviews.done",
    "cases.transferred",
    "cases.closed",
    "cases.missed_transfer",
    "spot_checks.requested",
    "spot_checks.passed",
    "spot_checks.failed",
    "spot_checks.overdue",
    "documents.received",
    "documents.answered",
    "documents.overdue",
    "training.hours",
    "training.absent",
    "exams.taken",
    "exams.passed",
    "certificates.changes",
    "certificates.revoked",
    "channels.reports",
    "channels.petitions",
    "channels.lawsuits",
    "outcomes.reversed",
    "file_reviews.scored",
    "file_reviews.passed",
)
KIND_LABELS = {
    "inspection": "现场检查",
    "evidence": "调查取证",
    "service": "文书送达",
    "coercive": "行政强制",
    "hearing": "听证",
    "service_left": "留置送达",
    "other": "其他",
}


def label(figure: figs.Figure) -> str:
    if figure.key.startswith("actions.kind."):
        return KIND_LABELS.get(figure.label, figure.label)
    return figure.label


# --- who may read and write ------------------------------------------------------------------


def is_bureau(viewer: CurrentUser) -> bool:
    return viewer.has_any("supervisor", "admin")


async def readable_units(viewer: CurrentUser) -> set[uuid.UUID] | None:
    """None: every unit (the bureau and the command center). Otherwise the units the viewer works
    in or answers for; a role with no unit of its own to report on gets 403."""
    if viewer.sees_everything:
        return None
    units = set(viewer.unit_ids) if viewer.has_any(*UNIT_ROLES) else set()
    units |= await capabilities.responder_units(viewer.id)
    if not units:
        raise AppError(Errors.FORBIDDEN, "Reports are for the justice bureau and the units themselves.")
    return units


async def require_unit(viewer: CurrentUser, unit_id: uuid.UUID) -> None:
    units = await readable_units(viewer)
    if units is not None and unit_id not in units:
        raise AppError(Errors.NOT_FOUND, "No such unit.")
    if not await Unit.exists().where(Unit.id == unit_id):
        raise AppError(Errors.NOT_FOUND, "No such unit.")


async def _is_responder(viewer: CurrentUser, unit_id: uuid.UUID) -> bool:
    return unit_id in await capabilities.responder_units(viewer.id)


# --- figures ------------------------------------------------------------------------------------


async def context(period: Period) -> figs.Context:
    """The training year's pass mark, and its minimum hours in proportion to the period's length."""
    year = await TrainingYear.select().where(TrainingYear.year == period.start.year).first()
    days = (period.end - period.start).days
    min_hours = float(year["min_hours"]) * min(1.0, days / 365) if year else 0.0
    pass_mark = float(year["pass_mark"]) if year else 60.0
    return figs.Context(pass_mark=pass_mark, min_hours=round(min_hours, 2))


async def report_figures(unit_id: uuid.UUID, period: Period) -> list[figs.Figure]:
    """The report's figures: the catalogue's, and one per enforcement item the unit acted on."""
    rows = await Unit.raw(
        "SELECT DISTINCT a.item AS item, i.name AS name FROM actions a "
        "JOIN enforcement_items i ON i.id = a.item "
        "WHERE a.unit = {} AND a.occurred_at >= {} AND a.occurred_at < {}",
        unit_id,
        period.start_at,
        period.end_at,
    )
    items = sorted((r["name"], figs._uuid(r["item"])) for r in rows)
    out = [figs.FIGURES[REPORT_FIGURES[0]]]
    out += [figs.item_figure(item_id, name) for name, item_id in items if item_id]
    out += [figs.FIGURES[k] for k in REPORT_FIGURES[1:]]
    return out


def _figure_or_400(key: str) -> figs.Figure:
    figure = figs.get(key)
    if figure is None:
        raise AppError(
            Errors.REPORT_FIGURE, f"No figure {key!r}.", errors=[{"key": "figure", "message": "unknown"}]
        )
    return figure


def _offset(cursor: str | None) -> int:
    decoded = decode_cursor(cursor, 1)
    if decoded is None:
        return 0
    try:
        return min(max(0, int(decoded[0])), 10**9)
    except ValueError:
        raise AppError(Errors.VALIDATION, "The cursor is not valid.", errors=[{"key": "cursor"}]) from None


def _masked(viewer: CurrentUser, record: dict[str, Any]) -> dict[str, Any]:
    """A unit sees what a channel item is about only through its own channels page (an anonymous
    report never names its reporter there); in report lists it sees the item's kind alone."""
    if record["kind"] in ("channel_item", "outcome") and not viewer.sees_everything:
        record = {
            **record,
            "title": "监督渠道事项",
            "detail": record["detail"] if record["kind"] == "outcome" else "",
        }
    return record


async def _page(
    viewer: CurrentUser,
    figure: figs.Figure,
    rows: list[dict[str, Any]],
    total: float,
    count: int,
    offset: int,
    limit: int,
) -> schemas.Records:
    more = offset + len(rows) < count
    return schemas.Records(
        items=[schemas.Record(**_masked(viewer, r)) for r in rows],
        next_cursor=encode_cursor(offset + len(rows)) if more and rows else None,
        figure=figure.key,
        label=label(figure),
        total=total,
        count=count,
    )


async def live_records(
    viewer: CurrentUser,
    figure: figs.Figure,
    unit_id: uuid.UUID,
    period: Period,
    limit: int,
    cursor: str | None,
) -> schemas.Records:
    """The records a live figure counts, with the figure's value computed by the same SQL."""
    await require_unit(viewer, unit_id)
    ctx = await context(period)
    offset = _offset(cursor)
    value = (await figs.values([figure], period, ctx, [unit_id])).get(unit_id, {}).get(figure.key, 0)
    count_figure = figure if figure.measure == "count" else _as_count(figure)
    count = int(
        (await figs.values([count_figure], period, ctx, [unit_id])).get(unit_id, {}).get(count_figure.key, 0)
    )
    rows = await figs.records(figure, period, ctx, unit_id, limit, offset)
    return await _page(viewer, figure, rows, value, count, offset, limit)


def _as_count(figure: figs.Figure) -> figs.Figure:
    return figs.Figure(
        figure.key + ".records",
        figure.label,
        figure.group,
        figure.source,
        figure.when,
        figure.dated,
        figure.condition,
        "count",
        "0",
        figure.params,
    )


# --- reports --------------------------------------------------------------------------------------


def _due_on(kind: str, period: Period) -> date | None:
    if kind == "monthly":
        return period.end.replace(day=15)  # 每月15日前: for the month before
    return date(2023, 6, 20) if (period.start, period.end) == PILOT else None


def _late(row: dict[str, Any]) -> bool:
    return row["status"] == "draft" and row["due_on"] is not None and today_local() > row["due_on"]


async def _latest(unit_id: uuid.UUID, kind: str, period: Period) -> dict[str, Any] | None:
    return (
        await Report.select()
        .where(
            (Report.unit_id == unit_id)
            & (Report.kind == kind)
            & (Report.period_from == period.start)
            & (Report.period_to == period.end)
        )
        .order_by(Report.version, ascending=False)
        .first()
    )


async def draft(
    unit_id: uuid.UUID, kind: str, period: Period, actor: CurrentUser | None = None
) -> dict[str, Any]:
    """The unit's report for the period, drafted now if there is none (the same draft when two
    requests race: one insert wins, the other reads it)."""
    row = await _latest(unit_id, kind, period)
    if row is not None:
        return row
    report_id = uuid.uuid4()
    try:
        async with atomic():
            await Report.insert(
                Report(
                    id=report_id,
                    kind=kind,
                    unit_id=unit_id,
                    period_from=period.start,
                    period_to=period.end,
                    version=1,
                    due_on=_due_on(kind, period),
                    created_by=actor.id if actor else None,
                )
            ).run()
            await audit.record(
                actor,
                "report.drafted",
                "report",
                report_id,
                {"unit_id": str(unit_id), "kind": kind, "from": str(period.start), "to": str(period.end)},
            )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    row = await _latest(unit_id, kind, period)
    assert row is not None
    return row


async def monthly(viewer: CurrentUser, unit_id: uuid.UUID, month_text: str) -> schemas.Report:
    period = month(month_text)
    await require_unit(viewer, unit_id)
    if period.end > today_local():
        raise AppError(
            Errors.REPORT_MONTH_OPEN,
            f"The report for {month_text} is drafted on {period.end.isoformat()}, once the month is over.",
        )
    return await view(viewer, await draft(unit_id, "monthly", period))


async def summary(viewer: CurrentUser, data: schemas.SummaryCreate) -> schemas.Report:
    await require_unit(viewer, data.unit_id)
    if not is_bureau(viewer) and not await _is_responder(viewer, data.unit_id):
        raise AppError(Errors.FORBIDDEN, "The bureau or the unit's responder drafts a summary.")
    start, end = data.from_ or PILOT[0], data.to or PILOT[1]
    if end <= start or (end - start).days > 3 * 366:
        raise AppError(
            Errors.VALIDATION,
            "The period must end after it starts and last at most three years.",
            errors=[{"key": "to", "message": "bad period"}],
        )
    return await view(viewer, await draft(data.unit_id, "summary", Period(start, end), viewer))


async def _row(viewer: CurrentUser, report_id: uuid.UUID) -> dict[str, Any]:
    row = await Report.select().where(Report.id == report_id).first()
    units = await readable_units(viewer)
    if row is None or (units is not None and row["unit_id"] not in units):
        raise AppError(Errors.NOT_FOUND, "No such report.")
    return row


async def get(viewer: CurrentUser, report_id: uuid.UUID) -> schemas.Report:
    return await view(viewer, await _row(viewer, report_id))


def _period(row: dict[str, Any]) -> Period:
    return Period(row["period_from"], row["period_to"])


async def _names(wanted: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = [i for i in wanted if i is not None]
    if not ids:
        return {}
    return {
        r["id"]: r["display_name"]
        for r in await User.select(User.id, User.display_name).where(User.id.is_in(ids))
    }


async def _live_figures(row: dict[str, Any]) -> list[schemas.Figure]:
    period = _period(row)
    figures = await report_figures(row["unit_id"], period)
    counted = (await figs.values(figures, period, await context(period), [row["unit_id"]])).get(
        row["unit_id"], {}
    )
    return [schemas.Figure(f.key, label(f), f.group, f.measure, counted.get(f.key, 0)) for f in figures]


async def view(viewer: CurrentUser, row: dict[str, Any]) -> schemas.Report:
    frozen = json_value(row["figures"])
    if frozen:
        figures = [
            schemas.Figure(k, v["label"], v["group"], v["measure"], v["value"]) for k, v in frozen.items()
        ]
    else:
        figures = await _live_figures(row)
    comments = json_value(row["comments"], [])
    names = await _names({row["submitted_by"], row["accepted_by"], *(uuid.UUID(c["by"]) for c in comments)})
    unit = await Unit.select(Unit.name).where(Unit.id == row["unit_id"]).first()
    period = _period(row)
    responder = await _is_responder(viewer, row["unit_id"])
    return schemas.Report(
        id=row["id"],
        kind=row["kind"],
        unit_id=row["unit_id"],
        unit_name=unit["name"] if unit else "",
        period_from=period.start,
        period_to=period.end,
        month=period.start.strftime("%Y-%m") if row["kind"] == "monthly" else None,
        version=row["version"],
        status=row["status"],
        figures=figures,
        narrative=msgspec.convert(json_value(row["narrative"], {}) or {}, schemas.NarrativeText),
        due_on=row["due_on"],
        late=_late(row),
        submitted_at=row["submitted_at"],
        submitted_by=names.get(row["submitted_by"]),
        accepted_at=row["accepted_at"],
        accepted_by=names.get(row["accepted_by"]),
        comments=[
            schemas.Comment(
                by=uuid.UUID(c["by"]),
                by_name=names.get(uuid.UUID(c["by"]), ""),
                at=datetime.fromisoformat(c["at"]),
                text=c["text"],
            )
            for c in comments
        ],
        can_edit=row["status"] == "draft" and responder,
        can_accept=row["status"] == "submitted" and is_bureau(viewer),
        frozen=bool(frozen),
    )


async def _responder_only(viewer: CurrentUser, row: dict[str, Any]) -> None:
    if not await _is_responder(viewer, row["unit_id"]):
        raise AppError(Errors.FORBIDDEN, "Only the unit's responder writes and submits its report.")


def _state(row: dict[str, Any], *allowed: str) -> None:
    if row["status"] not in allowed:
        raise AppError(
            Errors.REPORT_STATE,
            f"The report is {row['status']}; this needs it {' or '.join(allowed)}.",
            report_status=row["status"],
        )


async def update(viewer: CurrentUser, report_id: uuid.UUID, data: schemas.ReportUpdate) -> schemas.Report:
    row = await _row(viewer, report_id)
    await _responder_only(viewer, row)
    _state(row, "draft")
    narrative = msgspec.to_builtins(data.narrative)
    async with atomic():
        changed = (
            await Report.update({Report.narrative: narrative, Report.updated_at: utcnow()})
            .where((Report.id == report_id) & (Report.status == "draft"))
            .returning(Report.id)
        )
        if not changed:
            raise AppError(Errors.REPORT_STATE, SUBMITTED_MEANWHILE, report_status="submitted")
        await audit.record(viewer, "report.updated", "report", report_id, {"narrative": narrative})
    return await get(viewer, report_id)


async def submit(viewer: CurrentUser, report_id: uuid.UUID) -> schemas.Report:
    """Freezes the figures as they stand, with the ids each one counted."""
    row = await _row(viewer, report_id)
    await _responder_only(viewer, row)
    _state(row, "draft")
    narrative = json_value(row["narrative"], {}) or {}
    missing = [k for k in ("progress", "problems", "next_steps") if not str(narrative.get(k) or "").strip()]
    if missing:
        raise AppError(
            Errors.REPORT_NARRATIVE,
            "Write the 进展, 问题 and 下一步 sections before submitting.",
            errors=[{"key": f"narrative.{k}", "message": "empty"} for k in missing],
        )
    period = _period(row)
    ctx = await context(period)
    figures = await report_figures(row["unit_id"], period)
    counted = (await figs.values(figures, period, ctx, [row["unit_id"]])).get(row["unit_id"], {})
    frozen: dict[str, Any] = {}
    for f in figures:
        value = counted.get(f.key, 0)
        ids = await figs.ids(f, period, ctx, row["unit_id"]) if value else []
        frozen[f.key] = {
            "label": label(f),
            "group": f.group,
            "measure": f.measure,
            "value": value,
            "ids": [str(i) for i in ids],
        }
    now = utcnow()
    async with atomic():
        changed = (
            await Report.update(
                {
                    Report.status: "submitted",
                    Report.figures: frozen,
                    Report.submitted_at: now,
                    Report.submitted_by: viewer.id,
                    Report.updated_at: now,
                }
            )
            .where((Report.id == report_id) & (Report.status == "draft"))
            .returning(Report.id)
        )
        if not changed:
            raise AppError(Errors.REPORT_STATE, SUBMITTED_MEANWHILE, report_status="submitted")
        await audit.record(
            viewer,
            "report.submitted",
            "report",
            report_id,
            {"figures": {k: v["value"] for k, v in frozen.items()}},
        )
    return await get(viewer, report_id)


async def comment(viewer: CurrentUser, report_id: uuid.UUID, data: schemas.CommentCreate) -> schemas.Report:
    row = await _row(viewer, report_id)
    if not (is_bureau(viewer) or await _is_responder(viewer, row["unit_id"])):
        raise AppError(Errors.FORBIDDEN, "The bureau and the unit's responder comment on a report.")
    entry = {"by": str(viewer.id), "at": utcnow().isoformat(), "text": data.text.strip()}
    async with atomic():
        current = await Report.select(Report.comments).where(Report.id == report_id).first()
        comments = [*(json_value(current["comments"], []) if current else []), entry]
        await Report.update({Report.comments: comments}).where(Report.id == report_id)
        await audit.record(viewer, "report.commented", "report", report_id, {"text": entry["text"]})
    return await get(viewer, report_id)


async def accept(viewer: CurrentUser, report_id: uuid.UUID) -> schemas.Report:
    row = await _row(viewer, report_id)
    if not is_bureau(viewer):
        raise AppError(Errors.FORBIDDEN, "The justice bureau accepts a report.")
    _state(row, "submitted")
    now = utcnow()
    async with atomic():
        changed = (
            await Report.update(
                {Report.status: "accepted", Report.accepted_at: now, Report.accepted_by: viewer.id}
            )
            .where((Report.id == report_id) & (Report.status == "submitted"))
            .returning(Report.id)
        )
        if not changed:
            raise AppError(Errors.REPORT_STATE, "The report changed meanwhile.")
        await audit.record(viewer, "report.accepted", "report", report_id)
    return await get(viewer, report_id)


async def correct(viewer: CurrentUser, report_id: uuid.UUID) -> schemas.Report:
    """A new draft version; the submitted one stays as it was, marked superseded."""
    row = await _row(viewer, report_id)
    await _responder_only(viewer, row)
    _state(row, "submitted", "accepted")
    new_id = uuid.uuid4()
    try:
        async with atomic():
            changed = (
                await Report.update({Report.status: "superseded"})
                .where((Report.id == report_id) & Report.status.is_in(["submitted", "accepted"]))
                .returning(Report.id)
            )
            if not changed:
                raise AppError(Errors.REPORT_STATE, "The report changed meanwhile.")
            await Report.insert(
                Report(
                    id=new_id,
                    kind=row["kind"],
                    unit_id=row["unit_id"],
                    period_from=row["period_from"],
                    period_to=row["period_to"],
                    version=row["version"] + 1,
                    narrative=json_value(row["narrative"], {}),
                    due_on=row["due_on"],
                    created_by=viewer.id,
                )
            ).run()
            await audit.record(viewer, "report.corrected", "report", new_id, {"supersedes": str(report_id)})
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.REPORT_STATE, "A newer version exists already.") from None
        raise
    return await get(viewer, new_id)


async def report_records(
    viewer: CurrentUser, report_id: uuid.UUID, key: str, limit: int, cursor: str | None
) -> schemas.Records:
    row = await _row(viewer, report_id)
    figure = _figure_or_400(key)
    frozen = json_value(row["figures"])
    if not frozen:
        if key not in {f.key for f in await report_figures(row["unit_id"], _period(row))}:
            raise AppError(Errors.REPORT_FIGURE, f"The report has no figure {key!r}.")
        return await live_records(viewer, figure, row["unit_id"], _period(row), limit, cursor)
    if key not in frozen:
        raise AppError(Errors.REPORT_FIGURE, f"The report has no figure {key!r}.")
    ids = [uuid.UUID(i) for i in frozen[key]["ids"]]
    offset = _offset(cursor)
    rows = await figs.records_by_id(figure, ids, limit, offset)
    return await _page(viewer, figure, rows, frozen[key]["value"], len(ids), offset, limit)


async def pilot_units(period: Period) -> list[dict[str, Any]]:
    """Active pilot units whose pilot period (when set) overlaps ``period``: they report on it."""
    rows = (
        await Unit.select(Unit.id, Unit.name, Unit.pilot_from, Unit.pilot_to)
        .where(
            (Unit.pilot == True) & (Unit.active == True)  # noqa: E712
        )
        .order_by(Unit.name)
    )
    return [
        r
        for r in rows
        if (r["pilot_from"] is None or r["pilot_from"] < period.end)
        and (r["pilot_to"] is None or r["pilot_to"] >= period.start)
    ]


async def overview(viewer: CurrentUser, month_text: str) -> schemas.Overview:
    if not viewer.sees_everything:
        raise AppError(Errors.FORBIDDEN, "The overview of every unit is the bureau's.")
    period = month(month_text)
    units = await pilot_units(period)
    rows = (
        await Report.select()
        .where(
            (Report.kind == "monthly")
            & (Report.period_from == period.start)
            & (Report.period_to == period.end)
        )
        .order_by(Report.version)
    )
    latest = {r["unit_id"]: r for r in rows}  # the highest version wins
    due_on = period.end.replace(day=15)
    out = []
    for unit in units:
        row = latest.get(unit["id"])
        # No row yet: the month is still running, or the schedule has not drafted it (it is drafted
        # on first read as well); either way nothing was submitted.
        status = row["status"] if row else ("not_drafted" if period.end > today_local() else "draft")
        out.append(
            schemas.OverviewUnit(
                unit_id=unit["id"],
                unit_name=unit["name"],
                report_id=row["id"] if row else None,
                status=status,
                version=row["version"] if row else None,
                submitted_at=row["submitted_at"] if row else None,
                late=_late(row) if row else today_local() > due_on,
            )
        )
    return schemas.Overview(month=month_text, due_on=due_on, units=out)


# --- the schedule: drafts on the 1st, reminders on the 13th and the 16th ---------------------------


async def run_schedule(events: Publisher, today: date | None = None) -> dict[str, int]:
    """Draft last month's report of every pilot unit; remind a unit two days before the 15th, and
    alert the bureau once it is late. Each reminder and alert is sent once (compare-and-set)."""
    today = today or today_local()
    period = last_month(today)
    drafted = 0
    for unit in await pilot_units(period):
        if await _latest(unit["id"], "monthly", period) is None:
            await draft(unit["id"], "monthly", period)
            drafted += 1
    reminded = late = 0
    soon = await Report.select(Report.id, Report.unit_id, Report.due_on, Report.period_from).where(
        (Report.status == "draft")
        & Report.reminded_at.is_null()
        & Report.due_on.is_not_null()
        & (Report.due_on <= today + timedelta(days=2))
        & (Report.due_on >= today)
    )
    for row in soon:
        if (
            await Report.update({Report.reminded_at: utcnow()})
            .where((Report.id == row["id"]) & Report.reminded_at.is_null())
            .returning(Report.id)
        ):
            await alerts.raise_alert(
                events,
                "report.due_soon",
                f"{row['period_from']:%Y年%m月}工作推进情况应于{row['due_on']:%m月%d日}前报送",
                severity="low",
                unit_id=row["unit_id"],
                object_type="report",
                object_id=row["id"],
            )
            reminded += 1
    overdue = await Report.select(Report.id, Report.unit_id, Report.due_on, Report.period_from).where(
        (Report.status == "draft")
        & Report.late_alerted_at.is_null()
        & Report.due_on.is_not_null()
        & (Report.due_on < today)
    )
    for row in overdue:
        if (
            await Report.update({Report.late_alerted_at: utcnow()})
            .where((Report.id == row["id"]) & Report.late_alerted_at.is_null())
            .returning(Report.id)
        ):
            await alerts.raise_alert(
                events,
                "report.late",
                f"{row['period_from']:%Y年%m月}工作推进情况逾期未报送（应于{row['due_on']:%m月%d日}前）",
                severity="medium",
                unit_id=row["unit_id"],
                object_type="report",
                object_id=row["id"],
            )
            late += 1
    return {"drafted": drafted, "reminded": reminded, "late": late}


# --- the assessment -----------------------------------------------------------------------------


async def weights() -> dict[str, float]:
    row = await ReportSetting.select().where(ReportSetting.key == "weights").first()
    stored = json_value(row["value"], {}) if row else {}
    return {k: float(stored.get(k, v)) for k, v in ind.DEFAULT_WEIGHTS.items()}


async def set_weights(viewer: CurrentUser, data: schemas.WeightsUpdate) -> schemas.Weights:
    if not is_bureau(viewer):
        raise AppError(Errors.FORBIDDEN, "The justice bureau sets the weights.")
    unknown = sorted(set(data.weights) - set(ind.DEFAULT_WEIGHTS))
    if unknown:
        raise AppError(
            Errors.VALIDATION,
            f"Unknown indicators: {', '.join(unknown)}.",
            errors=[{"key": f"weights.{k}", "message": "unknown indicator"} for k in unknown],
        )
    merged = {**await weights(), **data.weights}
    if not any(merged.values()):
        raise AppError(Errors.VALIDATION, "At least one weight must be above 0.", errors=[{"key": "weights"}])
    async with atomic():
        if await ReportSetting.exists().where(ReportSetting.key == "weights"):
            await ReportSetting.update(
                {
                    ReportSetting.value: merged,
                    ReportSetting.updated_by: viewer.id,
                    ReportSetting.updated_at: utcnow(),
                }
            ).where(ReportSetting.key == "weights")
        else:
            await ReportSetting.insert(ReportSetting(key="weights", value=merged, updated_by=viewer.id)).run()
        await audit.record(viewer, "assessment.weights_set", "report_setting", "weights", merged)
    return schemas.Weights(weights=merged)


async def enforcement_units() -> list[dict[str, Any]]:
    return list(
        await Unit.select(Unit.id, Unit.name)
        .where(Unit.kind.is_in(list(ENFORCEMENT_KINDS)))
        .order_by(Unit.name)
    )


async def _indicator_values(
    period: Period, unit_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, tuple[float, float | None]]]:
    keys = ind.figure_keys()
    counted = await figs.values([figs.FIGURES[k] for k in keys], period, await context(period), unit_ids)
    out: dict[uuid.UUID, dict[str, tuple[float, float | None]]] = {}
    for unit in unit_ids:
        values = counted.get(unit, {})
        out[unit] = {
            i.key: (values.get(i.numerator, 0), values.get(i.denominator, 0) if i.denominator else None)
            for i in ind.INDICATORS
        }
    return out


async def assessment(viewer: CurrentUser, period: Period) -> schemas.Assessment:
    readable = await readable_units(viewer)
    units = await enforcement_units()
    ids = [u["id"] for u in units]
    w = await weights()
    previous = period.previous()
    now_values, before_values = await asyncio.gather(
        _indicator_values(period, ids), _indicator_values(previous, ids)
    )
    rows = []
    for unit in units:
        values, prior = {}, {}
        shown: dict[str, schemas.IndicatorValue] = {}
        for i in ind.INDICATORS:
            num, den = now_values[unit["id"]][i.key]
            pnum, pden = before_values[unit["id"]][i.key]
            values[i.key] = value = i.value(num, den)
            prior[i.key] = pvalue = i.value(pnum, pden)
            shown[i.key] = schemas.IndicatorValue(
                value=None if value is None else round(value, 4),
                numerator=num,
                denominator=den,
                previous=None if pvalue is None else round(pvalue, 4),
            )
        score, previous_score = ind.score(values, w), ind.score(prior, w)
        change = None if score is None or previous_score is None else round(score - previous_score, 2)
        rows.append(schemas.UnitScore(unit["id"], unit["name"], None, score, previous_score, change, shown))
    ranked = sorted((r for r in rows if r.score is not None), key=lambda r: -r.score)  # type: ignore[operator]
    rank = 0
    for n, r in enumerate(ranked):
        if n == 0 or r.score != ranked[n - 1].score:
            rank = n + 1
        r.rank = rank
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit_name))
    if readable is not None:
        rows = [r for r in rows if r.unit_id in readable]
    return schemas.Assessment(
        period_from=period.start,
        period_to=period.end,
        previous_from=previous.start,
        previous_to=previous.end,
        indicators=[
            schemas.IndicatorInfo(i.key, i.label, i.formula, i.better, i.measure, w[i.key])
            for i in ind.INDICATORS
        ],
        units=rows,
    )


async def assessment_records(
    viewer: CurrentUser,
    unit_id: uuid.UUID,
    indicator: str,
    part: str,
    period: Period,
    limit: int,
    cursor: str | None,
) -> schemas.Records:
    found = ind.BY_KEY.get(indicator)
    if found is None or (part == "denominator" and found.denominator is None):
        raise AppError(
            Errors.REPORT_FIGURE,
            f"No indicator {indicator!r} with a {part}.",
            errors=[{"key": "indicator" if found is None else "part", "message": "unknown"}],
        )
    key = found.numerator if part == "numerator" else found.denominator
    assert key is not None
    return await live_records(viewer, figs.FIGURES[key], unit_id, period, limit, cursor)


def catalogue() -> list[schemas.FigureInfo]:
    return [
        schemas.FigureInfo(f.key, label(f), f.group, f.source.kind, f.measure) for f in figs.FIGURES.values()
    ]
