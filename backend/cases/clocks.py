"""Statutory clocks on cases: the periods the Administrative Penalty Law sets, counted in working
days (工作日, with 调休) or calendar days as the law says, with one alert before due and one at overdue.

| clock | from | period | counts |
|---|---|---|---|
| decision (第六十条) | filing | 90 days | calendar (ending on a day off: the next working day) |
| delivery (第六十一条) | decision | 7 days | working (第八十五条: 七日 are working days) |
| hearing_request (第六十四条) | the party told of the right | 5 days | working |
| publication (执法公示) | decision | 7 (penalty) / 20 days | working |
| withdrawal (第四十八条) | the decision changed, revoked or confirmed illegal | 3 days | working |

The hearing notice (at least 7 working days before the hearing) is a check on the step, not a clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from backend.alerts.services import announce, record_alert
from backend.audit import services as audit
from backend.cases import schemas
from backend.cases.tables import Case, CaseClock
from backend.db import atomic, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.scope import can_see, enforcement_units
from backend.live.publish import Publisher
from backend.workdays.services import WorkCalendar, calendar

LAW = {
    "decision": "行政处罚法第六十条",
    "delivery": "行政处罚法第六十一条",
    "hearing_request": "行政处罚法第六十四条",
    "publication": "国办发〔2018〕118号",
    "withdrawal": "行政处罚法第四十八条",
}
# (days, working) when the clock's own period is fixed by law.
PERIODS: dict[str, tuple[int, bool]] = {
    "decision": (90, False),
    "delivery": (7, True),
    "hearing_request": (5, True),
}
# Clocks of the party, not of the unit: shown, never alerted (its end closes the party's window).
PARTY_CLOCKS = ("hearing_request",)


@dataclass
class ClockConfig:
    warn_days: int = 2


CONFIG = ClockConfig()


def configure(warn_days: int) -> None:
    CONFIG.warn_days = warn_days


async def start(
    case_id: uuid.UUID,
    unit_id: uuid.UUID,
    kind: str,
    started_on: date,
    days: int | None = None,
    working: bool | None = None,
    cal: WorkCalendar | None = None,
) -> date:
    """Start (or restart) ``kind`` on a case, inside the caller's transaction; returns the due date."""
    if days is None or working is None:
        days, working = PERIODS[kind]
    cal = cal or await calendar()
    due, provisional = cal.deadline(started_on, days, working)
    values: dict[Any, Any] = {
        CaseClock.started_on: started_on,
        CaseClock.days: days,
        CaseClock.working: working,
        CaseClock.provisional: provisional,
        CaseClock.due_on: due,
        CaseClock.status: "running",
        CaseClock.met_on: None,
        CaseClock.warned_at: None,
        CaseClock.overdue_at: None,
        CaseClock.extension: None,
    }
    async with atomic():
        updated = await (
            CaseClock.update(values)
            .where((CaseClock.case == case_id) & (CaseClock.kind == kind))
            .returning(CaseClock.id)
        )
        if not updated:
            await CaseClock.insert(
                CaseClock(
                    id=uuid.uuid4(),
                    case=case_id,
                    unit=unit_id,
                    kind=kind,
                    started_on=started_on,
                    days=days,
                    working=working,
                    provisional=provisional,
                    due_on=due,
                    status="running",
                )
            ).run()
    return due


async def meet(case_id: uuid.UUID, kind: str, on: date | None = None) -> None:
    """The period's act was done (decided, served, published, withdrawn)."""
    await (
        CaseClock.update({CaseClock.status: "met", CaseClock.met_on: on or today_local()})
        .where((CaseClock.case == case_id) & (CaseClock.kind == kind) & (CaseClock.status == "running"))
        .run()
    )


async def stop(case_id: uuid.UUID, kinds: list[str] | None = None) -> None:
    """The clocks no longer run (the case was transferred)."""
    query = CaseClock.update({CaseClock.status: "stopped"}).where(
        (CaseClock.case == case_id) & (CaseClock.status == "running")
    )
    if kinds:
        query = query.where(CaseClock.kind.is_in(kinds))
    await query.run()


async def running_due(case_id: uuid.UUID, kind: str) -> date | None:
    row = (
        await CaseClock.select(CaseClock.due_on)
        .where((CaseClock.case == case_id) & (CaseClock.kind == kind) & (CaseClock.status == "running"))
        .first()
    )
    return row["due_on"] if row else None


def _due_soon(cal: WorkCalendar, due: date, today: date) -> bool:
    return cal.add_working_days(today, CONFIG.warn_days)[0] >= due


def _state(row: dict[str, Any], cal: WorkCalendar, today: date) -> str:
    if row["status"] != "running":
        return row["status"]
    if row["due_on"] < today:
        return "overdue"
    return "due_soon" if _due_soon(cal, row["due_on"], today) else "running"


def _clock(row: dict[str, Any], cal: WorkCalendar, today: date) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "law": LAW.get(row["kind"], ""),
        "started_on": row["started_on"],
        "days": row["days"],
        "counts": "working" if row["working"] else "calendar",
        "due_on": row["due_on"],
        "provisional": bool(row["provisional"]),
        "status": row["status"],
        "state": _state(row, cal, today),
        "met_on": row["met_on"],
        "extension": json_value(row["extension"]),
    }


async def of_case(case_id: uuid.UUID) -> list[schemas.Clock]:
    rows = await CaseClock.select().where(CaseClock.case == case_id).order_by(CaseClock.due_on)
    cal, today = await calendar(), today_local()
    return [schemas.Clock(**_clock(r, cal, today)) for r in rows]


async def of_units(
    viewer: CurrentUser, unit_id: uuid.UUID | None, include_done: bool
) -> list[schemas.UnitClock]:
    """The clocks of the units in scope, what is due first at the top."""
    units = enforcement_units(viewer)
    if units is not None and unit_id is not None and unit_id not in units:
        return []
    query = (
        CaseClock.select(*CaseClock.all_columns(), CaseClock.case.number.as_alias("case_number"))
        .order_by(CaseClock.due_on)
        .order_by(CaseClock.id)
        .limit(1000)
    )
    if units is not None:
        query = query.where(CaseClock.unit.is_in(units or [uuid.UUID(int=0)]))
    if unit_id is not None:
        query = query.where(CaseClock.unit == unit_id)
    if not include_done:
        query = query.where(CaseClock.status == "running")
    cal, today = await calendar(), today_local()
    return [
        schemas.UnitClock(
            **_clock(r, cal, today), case_id=r["case"], case_number=r["case_number"], unit_id=r["unit"]
        )
        for r in await query
    ]


async def extend(
    actor: CurrentUser, case_id: uuid.UUID, kind: str, data: schemas.ExtensionCreate
) -> list[schemas.Clock]:
    """延长: a supervisor approves a later due date, with a reason; both alerts may fire again for it."""
    if not actor.has_any("supervisor"):
        raise AppError(Errors.FORBIDDEN, "Only a supervisor approves an extension.")
    case = await Case.select(Case.id, Case.unit).where(Case.id == case_id).first()
    if case is None or not can_see(actor, case["unit"]):
        raise AppError(Errors.NOT_FOUND, "No such case.")
    row = (
        await CaseClock.select()
        .where((CaseClock.case == case_id) & (CaseClock.kind == kind) & (CaseClock.status == "running"))
        .first()
    )
    if row is None or kind in PARTY_CLOCKS:
        raise AppError(Errors.CLOCK_EXTENSION_INVALID, f"No running '{kind}' clock on this case to extend.")
    if data.due_on <= row["due_on"]:
        raise AppError(
            Errors.CLOCK_EXTENSION_INVALID,
            f"The new due date must be after {row['due_on']}.",
            errors=[{"key": "due_on", "message": f"must be after {row['due_on']}"}],
        )
    record = {
        "reason": data.reason,
        "previous_due_on": str(row["due_on"]),
        "due_on": str(data.due_on),
        "approved_by": str(actor.id),
        "approved_by_name": actor.display_name,
        "at": utcnow().isoformat(),
    }
    async with atomic():
        await (
            CaseClock.update(
                {
                    CaseClock.due_on: data.due_on,
                    CaseClock.extension: record,
                    CaseClock.warned_at: None,
                    CaseClock.overdue_at: None,
                    CaseClock.provisional: False,
                }
            )
            .where(CaseClock.id == row["id"])
            .run()
        )
        await audit.record(actor, "case.clock_extended", "case", case_id, {"kind": kind, **record})
    return await of_case(case_id)


async def check(events: Publisher) -> int:
    """Periodic: one ``clock.due_soon`` alert when a running clock is within the warning days of its
    due date, one ``clock.overdue`` after it. Each is a compare-and-set on its timestamp, so a restart
    or a second process raises none again."""
    cal, today = await calendar(), today_local()
    rows = await CaseClock.select(
        *CaseClock.all_columns(), CaseClock.case.number.as_alias("case_number")
    ).where(
        (CaseClock.status == "running")
        & CaseClock.kind.not_in(list(PARTY_CLOCKS))
        & (CaseClock.warned_at.is_null() | CaseClock.overdue_at.is_null())
    )
    raised = 0
    for row in rows:
        overdue = row["due_on"] < today
        if overdue and row["overdue_at"] is None:
            column, type_, severity = CaseClock.overdue_at, "clock.overdue", "high"
            message = f"{row['case_number']}: the {row['kind']} period ended on {row['due_on']}"
        elif not overdue and row["warned_at"] is None and _due_soon(cal, row["due_on"], today):
            column, type_, severity = CaseClock.warned_at, "clock.due_soon", "medium"
            message = f"{row['case_number']}: the {row['kind']} period ends on {row['due_on']}"
        else:
            continue
        alert = None
        async with atomic():
            changes: dict[Any, Any] = {column: utcnow()}
            if overdue and row["warned_at"] is None:
                changes[CaseClock.warned_at] = utcnow()  # first seen overdue: no late warning after it
            won = await (
                CaseClock.update(changes)
                .where((CaseClock.id == row["id"]) & column.is_null() & (CaseClock.status == "running"))
                .returning(CaseClock.id)
            )
            if won:
                alert = await record_alert(
                    type_,
                    message,
                    severity=severity,
                    unit_id=row["unit"],
                    object_type="case",
                    object_id=row["case"],
                    data={
                        "clock": row["kind"],
                        "due_on": str(row["due_on"]),
                        "case_number": row["case_number"],
                        "law": LAW.get(row["kind"], ""),
                    },
                )
        if alert is not None:
            raised += 1
            await announce(events, alert)
    return raised
