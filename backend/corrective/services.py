"""Corrective actions (整改任务): opened by hand, from a failed spot-check, from a document's 要求 or
as a finding on an action or case (also by the department that delegated its item);
assigned to an officer or a unit; completed with evidence; closed by whoever opened them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from backend.accounts import capabilities
from backend.accounts.tables import Membership
from backend.actions import services as actions
from backend.audit import services as audit
from backend.cases import services as cases
from backend.corrective import schemas
from backend.corrective.tables import CorrectiveAction
from backend.db import atomic, json_value
from backend.documents import services as documents
from backend.evidence.parents import Parent
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.idempotency import mismatch, resource_id
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.live.publish import Publisher
from backend.org import oversight
from backend.org.tables import Unit
from backend.supervision import services as supervision
from backend.workdays.services import calendar

PARENT_TYPE = "corrective_action"
DEFAULT_DAYS = 5  # working days for a task opened from a failed spot-check


def _field(key: str, message: str, error: Any = Errors.VALIDATION) -> AppError:
    return AppError(error, message, errors=[{"key": key, "message": message}])


async def _assignee_scope(viewer: CurrentUser) -> set[uuid.UUID]:
    """Units whose unit-assigned tasks the viewer works on: its responder units and, for enforcement
    staff, their own units."""
    units = await capabilities.responder_units(viewer.id)
    if viewer.has_any("officer", "legal_reviewer"):
        units |= set(viewer.unit_ids)
    return units


def _assigned_to(viewer: CurrentUser, units: set[uuid.UUID], row: dict[str, Any]) -> bool:
    if row["assignee_user_id"] is not None:
        return row["assignee_user_id"] == viewer.id
    return row["unit_id"] in units


def _may_view(viewer: CurrentUser, units: set[uuid.UUID], row: dict[str, Any]) -> bool:
    return (
        viewer.has_any("supervisor", "admin", "command")
        or row["opened_by"] == viewer.id
        or _assigned_to(viewer, units, row)
    )


def _allowed(viewer: CurrentUser, units: set[uuid.UUID], row: dict[str, Any]) -> list[str]:
    steps = []
    if row["status"] == "open" and _assigned_to(viewer, units, row):
        steps.append("complete")
    if row["status"] != "closed" and row["opened_by"] == viewer.id:
        steps.append("close")
    return steps


def _view(viewer: CurrentUser, units: set[uuid.UUID], row: dict[str, Any]) -> schemas.Corrective:
    source = {"kind": row["source_kind"], "id": row["source_id"]} if row["source_id"] else None
    return schemas.Corrective(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        unit_id=row["unit_id"],
        assignee_user_id=row["assignee_user_id"],
        due_on=row["due_on"],
        due_provisional=row["due_provisional"],
        source=source,
        opened_by=row["opened_by"],
        created_at=row["created_at"],
        status=row["status"],
        completed_by=row["completed_by"],
        completed_at=row["completed_at"],
        completion_note=row["completion_note"],
        evidence_ids=[str(e) for e in json_value(row["evidence_ids"], [])],
        closed_at=row["closed_at"],
        allowed=_allowed(viewer, units, row),
    )


async def _row(viewer: CurrentUser, task_id: uuid.UUID) -> tuple[dict[str, Any], set[uuid.UUID]]:
    row = await CorrectiveAction.select().where(CorrectiveAction.id == task_id).first()
    units = await _assignee_scope(viewer)
    if row is None or not _may_view(viewer, units, row):
        raise AppError(Errors.NOT_FOUND, "No such corrective action.")
    return row, units


async def _fresh(task_id: uuid.UUID) -> dict[str, Any]:
    row = await CorrectiveAction.select().where(CorrectiveAction.id == task_id).first()
    assert row is not None
    return row


async def _publish(events: Publisher, row: dict[str, Any], change: str) -> None:
    data = {"id": str(row["id"]), "change": change, "status": row["status"], "unit_id": str(row["unit_id"])}
    await events.publish("corrective_action.updated", row["unit_id"], data)
    if row["assignee_user_id"]:
        await events.publish("corrective_action.updated", None, data, to=row["assignee_user_id"])


async def _write(
    actor: CurrentUser,
    *,
    task_id: uuid.UUID,
    title: str,
    description: str,
    unit_id: uuid.UUID,
    assignee: uuid.UUID | None,
    due_on: date | None,
    provisional: bool,
    source_kind: str,
    source_id: uuid.UUID | None,
) -> None:
    async with atomic():
        await CorrectiveAction.insert(
            CorrectiveAction(
                id=task_id,
                title=title,
                description=description,
                unit_id=unit_id,
                assignee_user_id=assignee,
                due_on=due_on,
                due_provisional=provisional,
                source_kind=source_kind,
                source_id=source_id,
                opened_by=actor.id,
            )
        ).run()
        await audit.record(
            actor,
            "corrective_action.opened",
            "corrective_action",
            task_id,
            {
                "title": title,
                "unit_id": str(unit_id),
                "assignee_user_id": str(assignee) if assignee else None,
                "due_on": str(due_on) if due_on else None,
                "source": {"kind": source_kind, "id": str(source_id) if source_id else None},
            },
        )


async def _insert(
    actor: CurrentUser, events: Publisher, *, task_id: uuid.UUID, **task: Any
) -> dict[str, Any]:
    await _write(actor, task_id=task_id, **task)
    row = await _fresh(task_id)
    await _publish(events, row, "opened")
    return row


async def create(
    actor: CurrentUser, data: schemas.CorrectiveCreate, events: Publisher, idempotency_key: str | None = None
) -> tuple[schemas.Corrective, bool]:
    """The task, and whether it is a replay of an earlier request with the same id or key."""
    units = await _assignee_scope(actor)
    task_id = resource_id(data.id, idempotency_key, actor.id, "corrective_action")
    existing = await CorrectiveAction.select().where(CorrectiveAction.id == task_id).first()
    if existing is not None:
        if existing["opened_by"] != actor.id:
            raise mismatch()
        return _view(actor, units, existing), True
    title, description, unit_id, assignee = data.title, data.description, data.unit_id, data.assignee_user_id
    if not actor.has_any("supervisor"):
        await _require_finding(actor, data)
    if data.source is not None:
        try:
            if data.source.kind in ("action", "case"):
                record = await _record(actor, data.source.kind, data.source.id)
                if unit_id is not None and unit_id != record["unit_id"]:
                    raise _field("unit_id", "A finding goes to the unit that made the record.")
                unit_id = record["unit_id"]
                title = title or f"监督意见：{record['title']}"
            elif data.source.kind == "spot_check":
                check = await supervision.visible_check(actor, data.source.id)
                unit_id = unit_id or check["unit_id"]
                assignee = assignee or check["officer_id"]
                title = title or "整改：现场执法风纪抽查未通过"
            else:
                doc = await documents.visible_document(actor, data.source.id)
                unit_id = unit_id or doc["unit_id"]
                title = title or f"整改：{doc['number'] or doc['title']}"
                description = description if description is not None else doc["requirement"]
        except AppError as exc:
            if exc.error.status != 404:
                raise
            raise _field("source", f"No such {data.source.kind} visible to you.", Errors.NOT_FOUND) from None
    if title is None:
        raise _field("title", "title is required (or give a source).")
    if unit_id is None:
        raise _field("unit_id", "unit_id is required (or give a source).")
    if not await Unit.exists().where(Unit.id == unit_id):
        raise _field("unit_id", "No such unit.", Errors.UNIT_NOT_FOUND)
    if assignee is not None and not await Membership.exists().where(
        (Membership.user == assignee) & (Membership.unit == unit_id)
    ):
        raise _field("assignee_user_id", "The assignee must belong to the unit.", Errors.USER_NOT_FOUND)
    if data.due_on is not None and data.due_days is not None:
        raise _field("due_on", "Give due_on or due_days, not both.")
    if data.due_on is not None and data.due_on <= today_local():
        raise _field("due_on", f"due_on must be after today ({today_local()}).")
    due_on, provisional = data.due_on, False
    if data.due_days is not None:
        due_on, provisional = (await calendar()).add_working_days(today_local(), data.due_days)
    row = await _insert(
        actor,
        events,
        task_id=task_id,
        title=title,
        description=description or "",
        unit_id=unit_id,
        assignee=assignee,
        due_on=due_on,
        provisional=provisional,
        source_kind=data.source.kind if data.source else "manual",
        source_id=data.source.id if data.source else None,
    )
    return _view(actor, units, row), False


async def _record(actor: CurrentUser, kind: str, record_id: uuid.UUID) -> dict[str, Any]:
    """The unit and a title of an action or case the actor may read (404 otherwise)."""
    if kind == "action":
        action = await actions.get_action(actor, record_id)
        return {"unit_id": action.unit_id, "item_id": action.item_id, "title": f"{action.item_name}现场执法"}
    case = await cases.get_case(actor, record_id)
    return {"unit_id": case.unit_id, "item_id": case.item_id, "title": f"案件{case.number or ''}".strip()}


async def _require_finding(actor: CurrentUser, data: schemas.CorrectiveCreate) -> None:
    """Besides the bureau, a department opens a task only as a finding on a township's action or
    case under an item it delegated, assigned to that township (not to one of its officers)."""
    source = data.source
    if source is None or source.kind not in ("action", "case"):
        raise AppError(
            Errors.FORBIDDEN,
            "Only the justice bureau opens corrective actions; a department raises a finding on a "
            "township's action or case under an item it delegated.",
        )
    if data.assignee_user_id is not None:
        raise _field("assignee_user_id", "A department's finding goes to the township, not to an officer.")
    try:
        record = await _record(actor, source.kind, source.id)
    except AppError as exc:
        if exc.error.status != 404:
            raise
        raise _field("source", f"No such {source.kind} visible to you.", Errors.NOT_FOUND) from None
    if not await oversight.oversees(actor, record["unit_id"], record["item_id"]):
        raise AppError(
            Errors.FORBIDDEN,
            "A department raises findings on other units' records under its own items, not on its own.",
        )


async def from_failed_spot_check(
    reviewer: CurrentUser, check: dict[str, Any], failed: list[str], events: Publisher
) -> None:
    """The officer whose conduct check failed gets a task, opened by the reviewer."""
    if await CorrectiveAction.exists().where(
        (CorrectiveAction.source_kind == "spot_check") & (CorrectiveAction.source_id == check["id"])
    ):
        return
    labels = {i["key"]: i["label"] for i in json_value(check["checklist"], [])}
    due_on, provisional = (await calendar()).add_working_days(today_local(), DEFAULT_DAYS)
    await _insert(
        reviewer,
        events,
        task_id=uuid.uuid4(),
        title="整改：现场执法风纪抽查未通过",
        description="未通过项目：" + "；".join(labels.get(k, k) for k in failed),
        unit_id=check["unit_id"],
        assignee=check["officer_id"],
        due_on=due_on,
        provisional=provisional,
        source_kind="spot_check",
        source_id=check["id"],
    )


async def from_failed_case_file(
    reviewer: CurrentUser,
    score_id: uuid.UUID,
    unit_id: uuid.UUID,
    case_number: str,
    reasons: list[str],
    events: Publisher,
) -> None:
    """A case file that failed 案卷评查 gets a task for its unit, opened by the reviewer."""
    if await CorrectiveAction.exists().where(
        (CorrectiveAction.source_kind == "case_file") & (CorrectiveAction.source_id == score_id)
    ):
        return
    due_on, provisional = (await calendar()).add_working_days(today_local(), DEFAULT_DAYS)
    await _insert(
        reviewer,
        events,
        task_id=uuid.uuid4(),
        title=f"整改：案卷评查不合格（{case_number}）",
        description="；".join(reasons),
        unit_id=unit_id,
        assignee=None,
        due_on=due_on,
        provisional=provisional,
        source_kind="case_file",
        source_id=score_id,
    )


async def open_for_meeting(
    opener: CurrentUser,
    meeting_id: uuid.UUID,
    *,
    title: str,
    description: str,
    unit_id: uuid.UUID,
    assignee: uuid.UUID | None,
    due_on: date,
) -> uuid.UUID:
    """A meeting's resolution becomes a task of its owner unit (or owner), opened by whoever recorded
    the meeting. Call inside the meeting's ``atomic()``; ``announce`` the ids once it is committed."""
    task_id = uuid.uuid4()
    await _write(
        opener,
        task_id=task_id,
        title=title,
        description=description,
        unit_id=unit_id,
        assignee=assignee,
        due_on=due_on,
        provisional=False,
        source_kind="meeting",
        source_id=meeting_id,
    )
    return task_id


async def announce(events: Publisher, task_ids: list[uuid.UUID]) -> None:
    """Tell the assignees about tasks opened inside another domain's transaction."""
    for task_id in task_ids:
        await _publish(events, await _fresh(task_id), "opened")


async def task_states(task_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The status (open / completed / closed) of each task named."""
    if not task_ids:
        return {}
    rows = await CorrectiveAction.select(CorrectiveAction.id, CorrectiveAction.status).where(
        CorrectiveAction.id.is_in(task_ids)
    )
    return {r["id"]: r["status"] for r in rows}


async def withdraw_for_spot_check(decider: CurrentUser, check_id: uuid.UUID, events: Publisher) -> None:
    """A failed check overturned on appeal: its open task is closed, by the one who decided."""
    rows = await CorrectiveAction.select().where(
        (CorrectiveAction.source_kind == "spot_check")
        & (CorrectiveAction.source_id == check_id)
        & (CorrectiveAction.status != "closed")
    )
    for row in rows:
        async with atomic():
            await (
                CorrectiveAction.update(
                    {
                        CorrectiveAction.status: "closed",
                        CorrectiveAction.closed_by: decider.id,
                        CorrectiveAction.closed_at: utcnow(),
                        CorrectiveAction.close_comment: "申诉成立，抽查结论已撤销",
                    }
                )
                .where(CorrectiveAction.id == row["id"])
                .run()
            )
            await audit.record(
                decider,
                "corrective_action.closed",
                "corrective_action",
                row["id"],
                {"comment": "appeal overturned the spot-check", "from": row["status"]},
            )
        await _publish(events, await _fresh(row["id"]), "closed")


async def get(viewer: CurrentUser, task_id: uuid.UUID) -> schemas.Corrective:
    row, units = await _row(viewer, task_id)
    return _view(viewer, units, row)


async def list_tasks(
    viewer: CurrentUser, status: str | None, cursor: str | None, limit: int
) -> Page[schemas.Corrective]:
    units = await _assignee_scope(viewer)
    query = (
        CorrectiveAction.select()
        .order_by(CorrectiveAction.created_at, ascending=False)
        .order_by(CorrectiveAction.id, ascending=False)
        .limit(limit + 1)
    )
    if not viewer.has_any("supervisor", "admin", "command"):
        unit_list = sorted(units) or [uuid.UUID(int=0)]
        query = query.where(
            (CorrectiveAction.opened_by == viewer.id)
            | (CorrectiveAction.assignee_user_id == viewer.id)
            | (CorrectiveAction.assignee_user_id.is_null() & CorrectiveAction.unit_id.is_in(unit_list))
        )
    if status is not None:
        if status not in ("open", "completed", "closed"):
            raise AppError(
                Errors.VALIDATION, "status must be open, completed or closed.", errors=[{"key": "status"}]
            )
        query = query.where(CorrectiveAction.status == status)
    after = newest_first_after(CorrectiveAction.created_at, CorrectiveAction.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = [_view(viewer, units, r) for r in rows[:limit]]
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def evidence_parent(actor: CurrentUser, task_id: uuid.UUID, *, write: bool) -> Parent:
    row, units = await _row(actor, task_id)
    if write:
        if not _assigned_to(actor, units, row):
            raise AppError(Errors.NOT_FOUND, "No such corrective action.")
        if row["status"] != "open":
            raise AppError(Errors.CORRECTIVE_STATE, f"The task is {row['status']}; it takes no evidence now.")
    unit = await Unit.select(Unit.name).where(Unit.id == row["unit_id"]).first()
    return Parent(
        PARENT_TYPE, row["id"], row["unit_id"], unit["name"] if unit else "", not_before=row["created_at"]
    )


async def complete(
    actor: CurrentUser, task_id: uuid.UUID, data: schemas.Complete, events: Publisher
) -> schemas.Corrective:
    row, units = await _row(actor, task_id)
    if not _assigned_to(actor, units, row):
        raise AppError(Errors.FORBIDDEN, "Only the assignee completes the task.")
    if row["status"] != "open":
        raise AppError(Errors.CORRECTIVE_STATE, f"The task is {row['status']}.")
    attached = {
        e["id"]
        for e in await Evidence.select(Evidence.id).where(
            Evidence.id.is_in(data.evidence_ids)
            & (Evidence.parent_type == PARENT_TYPE)
            & (Evidence.parent_id == task_id)
        )
    }
    for i, evidence_id in enumerate(data.evidence_ids):
        if evidence_id not in attached:
            raise _field(f"evidence_ids[{i}]", "Upload it to this task first.", Errors.DOCUMENT_EVIDENCE)
    evidence = [str(e) for e in data.evidence_ids]
    async with atomic():
        won = (
            await CorrectiveAction.update(
                {
                    CorrectiveAction.status: "completed",
                    CorrectiveAction.completed_by: actor.id,
                    CorrectiveAction.completed_at: utcnow(),
                    CorrectiveAction.completion_note: data.note,
                    CorrectiveAction.evidence_ids: evidence,
                }
            )
            .where((CorrectiveAction.id == task_id) & (CorrectiveAction.status == "open"))
            .returning(CorrectiveAction.id)
        )
        if not won:
            raise AppError(Errors.CORRECTIVE_STATE, "The task changed meanwhile; reload it.")
        await audit.record(
            actor,
            "corrective_action.completed",
            "corrective_action",
            task_id,
            {"note": data.note, "evidence_ids": evidence},
        )
    row = await _fresh(task_id)
    await _publish(events, row, "completed")
    return _view(actor, units, row)


async def close(
    actor: CurrentUser, task_id: uuid.UUID, data: schemas.Close, events: Publisher
) -> schemas.Corrective:
    row, units = await _row(actor, task_id)
    if row["opened_by"] != actor.id:
        raise AppError(Errors.FORBIDDEN, "Only whoever opened the task closes it.")
    if row["status"] == "closed":
        raise AppError(Errors.CORRECTIVE_STATE, "The task is already closed.")
    async with atomic():
        await (
            CorrectiveAction.update(
                {
                    CorrectiveAction.status: "closed",
                    CorrectiveAction.closed_by: actor.id,
                    CorrectiveAction.closed_at: utcnow(),
                    CorrectiveAction.close_comment: data.comment,
                }
            )
            .where(CorrectiveAction.id == task_id)
            .run()
        )
        await audit.record(
            actor,
            "corrective_action.closed",
            "corrective_action",
            task_id,
            {"comment": data.comment, "from": row["status"]},
        )
    row = await _fresh(task_id)
    await _publish(events, row, "closed")
    return _view(actor, units, row)
