"""Supervision documents (行政执法监督文书): draft → issue (two people, a gapless number) → the unit's
response → 验收 → close, with deadlines on the working-day calendar and an overdue scheduler."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from backend.accounts import capabilities
from backend.accounts.certificates import require_valid_certificate
from backend.actions import services as actions
from backend.alerts.services import announce, record_alert
from backend.alerts.tables import Alert
from backend.audit import services as audit
from backend.cases import services as cases
from backend.db import atomic, current_engine, is_postgres, json_value
from backend.documents import schemas
from backend.documents.tables import TYPES, DocumentCounter, DocumentStep, SupervisionDocument
from backend.evidence.parents import Parent
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.idempotency import mismatch, resource_id
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.live.publish import Publisher
from backend.org.tables import Unit
from backend.settings import Settings
from backend.supervision import services as supervision
from backend.workdays.services import WorkCalendar, calendar

AWAITING = ("issued", "returned", "overdue")  # issued and not yet answered by the unit
OPEN = ("issued", "returned", "overdue", "responded", "accepted")
ALL_STATUSES = ("draft", "issued", "returned", "responded", "overdue", "accepted", "closed")
PARENT_TYPE = "supervision_document"

# The PDF is rendered inside the issuing transaction, so an issued document always has one; the
# renderer (backend/documents/pdf.py) is handed in by the caller to keep this module light.
Render = Callable[[dict[str, Any], str, Settings], Awaitable[dict[str, Any] | None]]


def _field(key: str, message: str, error: Any = Errors.VALIDATION) -> AppError:
    return AppError(error, message, errors=[{"key": key, "message": message}])


# --- who sees what ------------------------------------------------------------------------------


def _supervises(viewer: CurrentUser) -> bool:
    return viewer.has_any("supervisor", "admin")


async def _scope(viewer: CurrentUser) -> set[uuid.UUID] | None:
    """None: every unit (supervisors, admin, command). Otherwise the units the viewer answers for;
    invited supervisors see no documents at all."""
    if viewer.has_any("supervisor", "admin", "command"):
        return None
    if viewer.has_any("invited_supervisor"):
        return set()
    return await capabilities.responder_units(viewer.id)


def _visible_in(scope: set[uuid.UUID] | None, viewer: CurrentUser, row: dict[str, Any]) -> bool:
    if scope is None:
        return row["status"] != "draft" or _supervises(viewer)
    return row["status"] != "draft" and row["unit_id"] in scope


async def _row(viewer: CurrentUser, document_id: uuid.UUID) -> tuple[dict[str, Any], set[uuid.UUID] | None]:
    row = await SupervisionDocument.select().where(SupervisionDocument.id == document_id).first()
    scope = await _scope(viewer)
    if row is None or not _visible_in(scope, viewer, row):
        raise AppError(Errors.NOT_FOUND, "No such supervision document.")
    return row, scope


async def visible_document(viewer: CurrentUser, document_id: uuid.UUID) -> dict[str, Any]:
    """The document's row, or not_found when the viewer may not see it."""
    return (await _row(viewer, document_id))[0]


def _responds(scope: set[uuid.UUID] | None, row: dict[str, Any]) -> bool:
    return scope is not None and row["unit_id"] in scope


def _allowed(
    viewer: CurrentUser, scope: set[uuid.UUID] | None, row: dict[str, Any], settings: Settings
) -> list[str]:
    status, steps = row["status"], []
    if _supervises(viewer):
        if status == "draft" and viewer.id != row["drafted_by"]:
            steps.append("issue")
        if status == "responded":
            steps.append("accept")
        if row["review_requested_at"] and status in OPEN:
            steps.append("decide_review")
        if status != "closed":
            steps.append("close")
    if _responds(scope, row) and row["type"] != "check_record":
        if status in AWAITING:
            steps.append("respond")
        if status in OPEN and not row["review_requested_at"] and _within_review_window(row, settings):
            steps.append("request_review")
    return steps


def _within_review_window(row: dict[str, Any], settings: Settings) -> bool:
    issued_on = row["issued_on"]
    return issued_on is not None and today_local() <= issued_on + timedelta(
        days=settings.document_review_request_days
    )


# --- views --------------------------------------------------------------------------------------


def _pdf(row: dict[str, Any]) -> dict[str, Any] | None:
    if not row["pdf_sha256"]:
        return None
    return {
        "sha256": row["pdf_sha256"],
        "size": row["pdf_size"],
        "url": f"/api/v1/supervision-documents/{row['id']}/pdf",
    }


async def _views(
    viewer: CurrentUser,
    scope: set[uuid.UUID] | None,
    rows: list[dict[str, Any]],
    settings: Settings,
    *,
    steps: bool = False,
) -> list[schemas.Document]:
    unit_ids = list({r["unit_id"] for r in rows})
    names = (
        {u["id"]: u["name"] for u in await Unit.select(Unit.id, Unit.name).where(Unit.id.is_in(unit_ids))}
        if unit_ids
        else {}
    )
    cited_ids = list({r["cites_id"] for r in rows if r["cites_id"]})
    cited = (
        {
            c["id"]: {"id": c["id"], "number": c["number"]}
            for c in await SupervisionDocument.select(
                SupervisionDocument.id, SupervisionDocument.number
            ).where(SupervisionDocument.id.is_in(cited_ids))
        }
        if cited_ids
        else {}
    )
    views = []
    for row in rows:
        history = None
        if steps:
            history = [
                schemas.Step(step=s["step"], by=s["by"], at=s["at"], data=json_value(s["data"], {}))
                for s in await DocumentStep.select()
                .where(DocumentStep.document_id == row["id"])
                .order_by(DocumentStep.at)
            ]
        views.append(
            schemas.Document(
                id=row["id"],
                type=row["type"],
                type_name=TYPES[row["type"]],
                unit_id=row["unit_id"],
                unit_name=names.get(row["unit_id"], ""),
                title=row["title"],
                facts=row["facts"],
                basis=row["basis"],
                requirement=row["requirement"],
                links=json_value(row["links"], []),
                deadline={
                    "days": row["deadline_days"],
                    "working": row["deadline_working"],
                    "due_on": row["deadline_on"],
                },
                cites=cited.get(row["cites_id"]) if row["cites_id"] else None,
                status=row["status"],
                drafted_by=row["drafted_by"],
                drafted_at=row["drafted_at"],
                issued_by=row["issued_by"],
                issued_at=row["issued_at"],
                issued_on=row["issued_on"],
                number=row["number"],
                due_on=row["due_on"],
                due_provisional=row["due_provisional"],
                round=row["round"],
                unread=_responds(scope, row) and row["read_at"] is None,
                responded_at=row["responded_at"],
                overdue_at=row["overdue_at"],
                review_requested_at=row["review_requested_at"],
                closed_at=row["closed_at"],
                pdf=_pdf(row),
                allowed=_allowed(viewer, scope, row, settings),
                steps=history,
            )
        )
    return views


async def _fresh(document_id: uuid.UUID) -> dict[str, Any]:
    row = await SupervisionDocument.select().where(SupervisionDocument.id == document_id).first()
    assert row is not None
    return row


def _event(row: dict[str, Any], change: str) -> dict[str, Any]:
    """What the live stream carries: enough to refresh a list; the detail is fetched with scope checks."""
    return {
        "id": str(row["id"]),
        "change": change,
        "status": row["status"],
        "type": row["type"],
        "number": row["number"],
        "unit_id": str(row["unit_id"]),
        "due_on": row["due_on"].isoformat() if row["due_on"] else None,
    }


async def _publish(events: Publisher, row: dict[str, Any], change: str) -> None:
    # Drafts stay with the supervision office (no unit: only supervisors and command receive it).
    unit = None if row["status"] == "draft" else row["unit_id"]
    await events.publish("document.updated", unit, _event(row, change))


async def _step(document_id: uuid.UUID, step: str, actor: CurrentUser | None, data: dict[str, Any]) -> None:
    await DocumentStep.insert(
        DocumentStep(
            id=uuid.uuid4(), document_id=document_id, step=step, by=actor.id if actor else None, data=data
        )
    ).run()


# --- drafting -----------------------------------------------------------------------------------


async def _check_links(viewer: CurrentUser, links: list[schemas.Link]) -> list[dict[str, Any]]:
    """Every link must be a record the author can see: otherwise 404, naming the link."""
    out = []
    for i, link in enumerate(links):
        try:
            if link.kind == "action":
                await actions.get_action(viewer, link.id)
            elif link.kind == "case":
                await cases.get_case(viewer, link.id)
            elif link.kind == "spot_check":
                await supervision.visible_check(viewer, link.id)
            else:
                alert = await Alert.select(Alert.unit_id).where(Alert.id == link.id).first()
                if alert is None or not (viewer.sees_everything or alert["unit_id"] in viewer.unit_ids):
                    raise AppError(Errors.NOT_FOUND)
        except AppError as exc:
            if exc.error.status != 404:
                raise
            raise AppError(
                Errors.NOT_FOUND,
                f"links[{i}]: no such {link.kind} visible to you.",
                errors=[{"key": f"links[{i}]", "message": f"no such {link.kind}"}],
            ) from None
        out.append({"kind": link.kind, "id": str(link.id)})
    return out


def _check_deadline(deadline: schemas.Deadline | None, key: str, required: bool) -> None:
    if deadline is None:
        if required:
            raise _field(key, f"{key} is required: days (working or calendar) or a due_on date.")
        return
    if deadline.due_on is not None and deadline.days is not None:
        raise _field(key, f"{key}: give days or due_on, not both.")
    if deadline.due_on is not None and deadline.due_on <= today_local():
        raise _field(f"{key}.due_on", f"{key}.due_on must be after today ({today_local()}).")


async def create_draft(
    actor: CurrentUser,
    data: schemas.DocumentCreate,
    settings: Settings,
    events: Publisher,
    idempotency_key: str | None = None,
) -> tuple[schemas.Document, bool]:
    """The draft, and whether it is a replay of an earlier identical request (same id or key)."""
    document_id = resource_id(data.id, idempotency_key, actor.id, "supervision_document")
    existing = await SupervisionDocument.select().where(SupervisionDocument.id == document_id).first()
    if existing is not None:
        same = (existing["type"], existing["unit_id"], existing["title"]) == (
            data.type,
            data.unit_id,
            data.title,
        )
        if existing["drafted_by"] != actor.id or not same:
            raise mismatch()
        return (await _views(actor, None, [existing], settings))[0], True
    if not await Unit.exists().where(Unit.id == data.unit_id):
        raise _field("unit_id", "No such unit.", Errors.UNIT_NOT_FOUND)
    needs_deadline = data.type != "check_record"
    deadline = data.deadline
    if deadline is None and needs_deadline:
        deadline = schemas.Deadline(days=settings.document_default_days, working=True)
    _check_deadline(deadline, "deadline", False)
    if deadline is not None and deadline.days is None and deadline.due_on is None:
        raise _field("deadline", "deadline: give days or due_on.")
    links = await _check_links(actor, data.links)
    if data.cites_id is not None:
        cited = (
            await SupervisionDocument.select(SupervisionDocument.number)
            .where(SupervisionDocument.id == data.cites_id)
            .first()
        )
        if cited is None or cited["number"] is None:
            raise _field("cites_id", "Only an issued document can be corrected.", Errors.NOT_FOUND)
    async with atomic():
        await SupervisionDocument.insert(
            SupervisionDocument(
                id=document_id,
                type=data.type,
                unit_id=data.unit_id,
                title=data.title,
                facts=data.facts,
                basis=data.basis,
                requirement=data.requirement,
                links=links,
                deadline_days=deadline.days if deadline else None,
                deadline_working=deadline.working if deadline else True,
                deadline_on=deadline.due_on if deadline else None,
                cites_id=data.cites_id,
                drafted_by=actor.id,
            )
        ).run()
        await _step(document_id, "drafted", actor, {})
        await audit.record(
            actor,
            "document.drafted",
            "supervision_document",
            document_id,
            {"type": data.type, "unit_id": str(data.unit_id), "title": data.title, "links": links},
        )
    row = await _fresh(document_id)
    await _publish(events, row, "drafted")
    return (await _views(actor, None, [row], settings))[0], False


# --- issuing ------------------------------------------------------------------------------------


def format_number(code: str, year: int, seq: int) -> str:
    """GB/T 9704-2012 §7.2.5: 机关代字〔年份〕序号号 (full-width 〔〕, no 第, no leading zeros)."""
    return f"{code}〔{year}〕{seq}号"


async def _next_seq(key: str) -> int:
    """The next number for ``key``, inside the caller's transaction. The counter row is locked until
    the transaction ends, so concurrent issuers queue, and a rollback gives the number back."""
    await DocumentCounter.insert(DocumentCounter(key=key, last=0)).on_conflict(action="DO NOTHING").run()
    if is_postgres(current_engine()):
        rows = await DocumentCounter.raw("SELECT last FROM document_counters WHERE key = {} FOR UPDATE", key)
    else:  # SQLite: the IMMEDIATE transaction already holds the database's write lock
        rows = await DocumentCounter.select(DocumentCounter.last).where(DocumentCounter.key == key)
    seq = int(rows[0]["last"]) + 1
    await DocumentCounter.update({DocumentCounter.last: seq}).where(DocumentCounter.key == key).run()
    return seq


def _due(
    cal: WorkCalendar, start: date, days: int | None, working: bool, fixed: date | None
) -> tuple[date | None, bool]:
    if fixed is not None:
        return fixed, False
    if days is None:
        return None, False
    return cal.deadline(start, days, working)


async def issue(
    actor: CurrentUser,
    document_id: uuid.UUID,
    settings: Settings,
    events: Publisher,
    render: Render | None = None,
) -> schemas.Issued:
    if not _supervises(actor):
        raise AppError(Errors.FORBIDDEN, "Only supervisors issue documents.")
    row, _ = await _row(actor, document_id)
    if row["status"] != "draft":
        raise AppError(
            Errors.DOCUMENT_STATE, f"The document is {row['status']}, not a draft; it cannot change."
        )
    if row["drafted_by"] == actor.id:
        raise AppError(Errors.DOCUMENT_SECOND_PERSON, "A second supervisor must issue what you drafted.")
    if not await capabilities.may_sign(actor.id):
        raise AppError(Errors.DOCUMENT_SIGNER, "You do not hold signing rights (签发权).")
    today = today_local()
    if row["deadline_on"] is not None and row["deadline_on"] <= today:
        raise _field("deadline.due_on", f"The fixed deadline {row['deadline_on']} is no longer after today.")
    due_on, provisional = _due(
        await calendar(), today, row["deadline_days"], row["deadline_working"], row["deadline_on"]
    )
    issuer_unit = sorted(actor.unit_ids)[0] if actor.unit_ids else None
    code = settings.document_code(row["type"])
    async with atomic():
        # The 机关代字 names the issuing body and the type, and the number must be unique: one
        # sequence per code and year.
        seq = await _next_seq(f"{code}:{today.year}")
        number = format_number(code, today.year, seq)
        now = utcnow()
        won = (
            await SupervisionDocument.update(
                {
                    SupervisionDocument.status: "issued",
                    SupervisionDocument.issuer_unit_id: issuer_unit,
                    SupervisionDocument.issued_by: actor.id,
                    SupervisionDocument.issued_at: now,
                    SupervisionDocument.issued_on: today,
                    SupervisionDocument.year: today.year,
                    SupervisionDocument.seq: seq,
                    SupervisionDocument.number: number,
                    SupervisionDocument.due_from: today,
                    SupervisionDocument.due_days: row["deadline_days"],
                    SupervisionDocument.due_working: row["deadline_working"],
                    SupervisionDocument.due_on: due_on,
                    SupervisionDocument.due_provisional: provisional,
                }
            )
            .where((SupervisionDocument.id == document_id) & (SupervisionDocument.status == "draft"))
            .returning(SupervisionDocument.id)
        )
        if not won:  # issued concurrently by someone else: this transaction's number is given back
            raise AppError(Errors.DOCUMENT_STATE, "The document was issued meanwhile.")
        issued = await _fresh(document_id)
        if render is not None:
            stored = await render(issued, settings.document_issuer, settings)
            if stored is not None:
                await (
                    SupervisionDocument.update(
                        {
                            SupervisionDocument.pdf_key: stored["key"],
                            SupervisionDocument.pdf_sha256: stored["sha256"],
                            SupervisionDocument.pdf_size: stored["size"],
                        }
                    )
                    .where(SupervisionDocument.id == document_id)
                    .run()
                )
        await _step(
            document_id,
            "issued",
            actor,
            {"number": number, "due_on": str(due_on) if due_on else None, "due_provisional": provisional},
        )
        await audit.record(
            actor,
            "document.issued",
            "supervision_document",
            document_id,
            {"number": number, "due_on": str(due_on) if due_on else None, "due_provisional": provisional},
        )
    row = await _fresh(document_id)
    await _publish(events, row, "issued")
    return schemas.Issued(
        id=document_id,
        number=number,
        status="issued",
        due_on=due_on,
        due_provisional=provisional,
        issued_on=today,
        pdf=_pdf(row),
    )


# --- reading ------------------------------------------------------------------------------------


async def get_document(
    viewer: CurrentUser, document_id: uuid.UUID, settings: Settings, events: Publisher
) -> schemas.Document:
    row, scope = await _row(viewer, document_id)
    if _responds(scope, row) and row["read_at"] is None:
        async with atomic():
            first = (
                await SupervisionDocument.update({SupervisionDocument.read_at: utcnow()})
                .where((SupervisionDocument.id == document_id) & SupervisionDocument.read_at.is_null())
                .returning(SupervisionDocument.id)
            )
            if first:
                await _step(document_id, "read", viewer, {})
                await audit.record(viewer, "document.read", "supervision_document", document_id, {})
        if first:
            row = await _fresh(document_id)
            await _publish(events, row, "read")
    return (await _views(viewer, scope, [row], settings, steps=True))[0]


def _awaiting() -> Any:
    """Sent and not yet answered; a 检查记录 expects no answer."""
    return SupervisionDocument.status.is_in(list(AWAITING)) & (SupervisionDocument.type != "check_record")


def _status_filter(status: str | None) -> Any:
    if status is None:
        return None
    if status == "awaiting":
        return _awaiting()
    if status not in ALL_STATUSES:
        raise AppError(
            Errors.VALIDATION,
            f"status must be one of {', '.join((*ALL_STATUSES, 'awaiting'))}.",
            errors=[{"key": "status", "source": "query"}],
        )
    return SupervisionDocument.status == status


def _scoped(query: Any, viewer: CurrentUser, scope: set[uuid.UUID] | None) -> Any:
    if scope is None:
        return query if _supervises(viewer) else query.where(SupervisionDocument.status != "draft")
    return query.where(
        SupervisionDocument.unit_id.is_in(sorted(scope) or [uuid.UUID(int=0)])
        & (SupervisionDocument.status != "draft")
    )


async def list_documents(
    viewer: CurrentUser,
    settings: Settings,
    status: str | None,
    unit_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[schemas.Document]:
    scope = await _scope(viewer)
    query = _scoped(
        SupervisionDocument.select()
        .order_by(SupervisionDocument.drafted_at, ascending=False)
        .order_by(SupervisionDocument.id, ascending=False)
        .limit(limit + 1),
        viewer,
        scope,
    )
    where = _status_filter(status)
    if where is not None:
        query = query.where(where)
    if unit_id is not None:
        query = query.where(SupervisionDocument.unit_id == unit_id)
    after = newest_first_after(SupervisionDocument.drafted_at, SupervisionDocument.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = await _views(viewer, scope, rows[:limit], settings)
    next_cursor = time_cursor(items[-1].drafted_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def counts(viewer: CurrentUser) -> schemas.Counts:
    scope = await _scope(viewer)

    async def count(where: Any) -> int:
        return int(await _scoped(SupervisionDocument.count(), viewer, scope).where(where))

    unread = 0
    if scope is not None:
        unread = await count(SupervisionDocument.read_at.is_null())
    return schemas.Counts(
        awaiting=await count(_awaiting()),
        overdue=await count(SupervisionDocument.status == "overdue"),
        to_review=await count(SupervisionDocument.status == "responded"),
        unread=unread,
        drafts=await count(SupervisionDocument.status == "draft") if _supervises(viewer) else 0,
    )


async def overdue_count(viewer: CurrentUser) -> int:
    return (await counts(viewer)).overdue


async def awaiting_count(viewer: CurrentUser) -> int:
    return (await counts(viewer)).awaiting


# --- the unit's side ----------------------------------------------------------------------------


async def _require_open(row: dict[str, Any]) -> None:
    if row["status"] == "closed":
        raise AppError(Errors.DOCUMENT_CLOSED, "The document is closed; it takes no more replies.")


async def respond(
    actor: CurrentUser, document_id: uuid.UUID, data: schemas.Response, settings: Settings, events: Publisher
) -> schemas.Document:
    row, scope = await _row(actor, document_id)
    if not _responds(scope, row):
        raise AppError(Errors.FORBIDDEN, "Only the unit's responder answers a document.")
    if actor.has_any("officer"):  # an officer answering for the unit acts in office
        await require_valid_certificate(actor.id, name=actor.display_name)
    await _require_open(row)
    if row["type"] == "check_record" or row["status"] not in AWAITING:
        raise AppError(
            Errors.DOCUMENT_STATE, f"The document is {row['status']}; it is not waiting for an answer."
        )
    if data.evidence_ids:
        attached = {
            e["id"]
            for e in await Evidence.select(Evidence.id).where(
                Evidence.id.is_in(data.evidence_ids)
                & (Evidence.parent_type == PARENT_TYPE)
                & (Evidence.parent_id == document_id)
            )
        }
        for i, evidence_id in enumerate(data.evidence_ids):
            if evidence_id not in attached:
                raise _field(
                    f"evidence_ids[{i}]", "Upload it to this document first.", Errors.DOCUMENT_EVIDENCE
                )
    late = row["status"] == "overdue"
    async with atomic():
        won = (
            await SupervisionDocument.update(
                {SupervisionDocument.status: "responded", SupervisionDocument.responded_at: utcnow()}
            )
            .where((SupervisionDocument.id == document_id) & SupervisionDocument.status.is_in(list(AWAITING)))
            .returning(SupervisionDocument.id)
        )
        if not won:
            raise AppError(Errors.DOCUMENT_STATE, "The document changed meanwhile; reload it.")
        payload = {
            "text": data.text,
            "evidence_ids": [str(e) for e in data.evidence_ids],
            "late": late,
            "round": row["round"],
        }
        await _step(document_id, "responded", actor, payload)
        await audit.record(actor, "document.responded", "supervision_document", document_id, payload)
    row = await _fresh(document_id)
    await _publish(events, row, "responded")
    return (await _views(actor, scope, [row], settings, steps=True))[0]


async def request_review(
    actor: CurrentUser,
    document_id: uuid.UUID,
    data: schemas.ReviewRequest,
    settings: Settings,
    events: Publisher,
) -> schemas.Document:
    row, scope = await _row(actor, document_id)
    if not _responds(scope, row):
        raise AppError(Errors.FORBIDDEN, "Only the unit's responder asks for a review.")
    if actor.has_any("officer"):  # an officer answering for the unit acts in office
        await require_valid_certificate(actor.id, name=actor.display_name)
    await _require_open(row)
    if row["review_requested_at"] is not None:
        raise AppError(Errors.DOCUMENT_STATE, "A review was already requested.")
    if row["status"] not in OPEN:
        raise AppError(Errors.DOCUMENT_STATE, f"The document is {row['status']}.")
    if not _within_review_window(row, settings):
        raise AppError(
            Errors.DOCUMENT_REVIEW_WINDOW,
            f"A review may be requested within {settings.document_review_request_days} days of issue.",
        )
    async with atomic():
        await (
            SupervisionDocument.update({SupervisionDocument.review_requested_at: utcnow()})
            .where(SupervisionDocument.id == document_id)
            .run()
        )
        await _step(document_id, "review_requested", actor, {"reason": data.reason})
        await audit.record(
            actor, "document.review_requested", "supervision_document", document_id, {"reason": data.reason}
        )
    row = await _fresh(document_id)
    await _publish(events, row, "review_requested")
    return (await _views(actor, scope, [row], settings, steps=True))[0]


# --- the supervisor's side ----------------------------------------------------------------------


def _require_supervisor(actor: CurrentUser) -> None:
    if not _supervises(actor):
        raise AppError(Errors.FORBIDDEN, "Only supervisors do this.")


async def decide_review(
    actor: CurrentUser,
    document_id: uuid.UUID,
    data: schemas.ReviewDecision,
    settings: Settings,
    events: Publisher,
) -> schemas.Document:
    _require_supervisor(actor)
    row, scope = await _row(actor, document_id)
    await _require_open(row)
    if row["review_requested_at"] is None:
        raise AppError(Errors.DOCUMENT_STATE, "No review was requested.")
    changes: dict[Any, Any] = {SupervisionDocument.review_requested_at: None}
    if not data.upheld:
        changes.update(
            {
                SupervisionDocument.status: "closed",
                SupervisionDocument.closed_at: utcnow(),
                SupervisionDocument.closed_by: actor.id,
            }
        )
    async with atomic():
        await SupervisionDocument.update(changes).where(SupervisionDocument.id == document_id).run()
        payload = {"upheld": data.upheld, "comment": data.comment}
        await _step(document_id, "review_decided", actor, payload)
        await audit.record(actor, "document.review_decided", "supervision_document", document_id, payload)
    row = await _fresh(document_id)
    await _publish(events, row, "review_decided")
    return (await _views(actor, scope, [row], settings, steps=True))[0]


async def accept(
    actor: CurrentUser,
    document_id: uuid.UUID,
    data: schemas.Acceptance,
    settings: Settings,
    events: Publisher,
) -> schemas.Document:
    """验收: 合格 → accepted; 不合格 → back to the unit with a new deadline."""
    _require_supervisor(actor)
    row, scope = await _row(actor, document_id)
    await _require_open(row)
    if row["status"] != "responded":
        raise AppError(
            Errors.DOCUMENT_STATE, f"The document is {row['status']}; there is no answer to accept."
        )
    changes: dict[Any, Any]
    payload: dict[str, Any] = {"passed": data.passed, "comment": data.comment, "round": row["round"]}
    if data.passed:
        changes = {SupervisionDocument.status: "accepted"}
    else:
        _check_deadline(data.new_deadline, "new_deadline", False)
        deadline = data.new_deadline or schemas.Deadline(
            days=row["deadline_days"] or settings.document_default_days, working=row["deadline_working"]
        )
        if deadline.days is None and deadline.due_on is None:
            raise _field("new_deadline", "new_deadline: give days or due_on.")
        today = today_local()
        due_on, provisional = _due(await calendar(), today, deadline.days, deadline.working, deadline.due_on)
        changes = {
            SupervisionDocument.status: "returned",
            SupervisionDocument.round: row["round"] + 1,
            SupervisionDocument.due_from: today,
            SupervisionDocument.due_days: deadline.days,
            SupervisionDocument.due_working: deadline.working,
            SupervisionDocument.due_on: due_on,
            SupervisionDocument.due_provisional: provisional,
            SupervisionDocument.overdue_at: None,
        }
        payload.update({"due_on": str(due_on), "due_provisional": provisional})
    async with atomic():
        won = (
            await SupervisionDocument.update(changes)
            .where((SupervisionDocument.id == document_id) & (SupervisionDocument.status == "responded"))
            .returning(SupervisionDocument.id)
        )
        if not won:
            raise AppError(Errors.DOCUMENT_STATE, "The document changed meanwhile; reload it.")
        await _step(document_id, "accepted" if data.passed else "returned", actor, payload)
        await audit.record(
            actor,
            "document.accepted" if data.passed else "document.returned",
            "supervision_document",
            document_id,
            payload,
        )
    row = await _fresh(document_id)
    await _publish(events, row, "accepted" if data.passed else "returned")
    return (await _views(actor, scope, [row], settings, steps=True))[0]


async def close(
    actor: CurrentUser, document_id: uuid.UUID, data: schemas.Close, settings: Settings, events: Publisher
) -> schemas.Document:
    _require_supervisor(actor)
    row, scope = await _row(actor, document_id)
    await _require_open(row)
    async with atomic():
        won = (
            await SupervisionDocument.update(
                {
                    SupervisionDocument.status: "closed",
                    SupervisionDocument.closed_at: utcnow(),
                    SupervisionDocument.closed_by: actor.id,
                }
            )
            .where((SupervisionDocument.id == document_id) & (SupervisionDocument.status != "closed"))
            .returning(SupervisionDocument.id)
        )
        if not won:
            raise AppError(Errors.DOCUMENT_CLOSED, "The document is closed.")
        payload = {"comment": data.comment, "from": row["status"]}
        await _step(document_id, "closed", actor, payload)
        await audit.record(actor, "document.closed", "supervision_document", document_id, payload)
    row = await _fresh(document_id)
    await _publish(events, row, "closed")
    return (await _views(actor, scope, [row], settings, steps=True))[0]


# --- evidence (the unit's attachments) ----------------------------------------------------------


async def evidence_parent(actor: CurrentUser, document_id: uuid.UUID, *, write: bool) -> Parent:
    row, scope = await _row(actor, document_id)
    if write:
        if not _responds(scope, row):
            raise AppError(Errors.NOT_FOUND, "No such supervision document.")
        await _require_open(row)
        if row["status"] not in AWAITING:
            raise AppError(
                Errors.DOCUMENT_STATE, f"The document is {row['status']}; it takes no attachments now."
            )
    unit = await Unit.select(Unit.name).where(Unit.id == row["unit_id"]).first()
    return Parent(PARENT_TYPE, row["id"], row["unit_id"], unit["name"] if unit else "")


async def pdf_of(viewer: CurrentUser, document_id: uuid.UUID) -> dict[str, Any]:
    row, _ = await _row(viewer, document_id)
    if not row["pdf_key"]:
        raise AppError(Errors.DOCUMENT_PDF_MISSING, "This document has no issued PDF.")
    await audit.record(
        viewer, "document.pdf_fetched", "supervision_document", document_id, {"sha256": row["pdf_sha256"]}
    )
    return row


# --- the scheduler and the calendar -------------------------------------------------------------


async def mark_overdue(events: Publisher) -> int:
    """Deadline scheduler step: a document still unanswered after its due date becomes overdue, with
    one alert. State-based (works after a restart); the compare-and-set lets one process win."""
    today = today_local()
    due = await SupervisionDocument.select().where(
        SupervisionDocument.status.is_in(["issued", "returned"]) & (SupervisionDocument.due_on < today)
    )
    marked = 0
    for row in due:
        async with atomic():
            won = (
                await SupervisionDocument.update(
                    {SupervisionDocument.status: "overdue", SupervisionDocument.overdue_at: utcnow()}
                )
                .where(
                    (SupervisionDocument.id == row["id"])
                    & SupervisionDocument.status.is_in(["issued", "returned"])
                )
                .returning(SupervisionDocument.id)
            )
            alert = None
            if won:
                await _step(row["id"], "overdue", None, {"due_on": str(row["due_on"]), "round": row["round"]})
                alert = await record_alert(
                    "document.overdue",
                    f"Supervision document {row['number']} was not answered by {row['due_on']}",
                    severity="medium",
                    unit_id=row["unit_id"],
                    object_type="supervision_document",
                    object_id=row["id"],
                    data={"number": row["number"], "due_on": str(row["due_on"]), "round": row["round"]},
                )
        if alert is None:
            continue
        marked += 1
        await announce(events, alert)
        await _publish(events, await _fresh(row["id"]), "overdue")
    return marked


async def recompute_provisional(year: int) -> int:
    """After a year's arrangement is loaded: count provisional deadlines again. A deadline the unit
    was already given never moves earlier."""
    cal = await calendar()
    rows = await SupervisionDocument.select().where(
        SupervisionDocument.due_provisional.eq(True) & SupervisionDocument.status.is_in(list(OPEN))
    )
    changed = 0
    for row in rows:
        if row["due_from"] is None or row["due_days"] is None:
            continue
        new, provisional = cal.deadline(row["due_from"], row["due_days"], row["due_working"])
        kept = max(new, row["due_on"])
        changes: dict[Any, Any] = {
            SupervisionDocument.due_on: kept,
            SupervisionDocument.due_provisional: provisional,
        }
        if row["status"] == "overdue" and kept >= today_local():
            # Overdue only by the provisional count: the unit is waited for again until the real deadline.
            changes[SupervisionDocument.status] = "issued" if row["round"] == 1 else "returned"
            changes[SupervisionDocument.overdue_at] = None
        async with atomic():
            await SupervisionDocument.update(changes).where(SupervisionDocument.id == row["id"]).run()
            payload = {
                "year": year,
                "was": str(row["due_on"]),
                "counted": str(new),
                "due_on": str(kept),
                "due_provisional": provisional,
            }
            await _step(row["id"], "deadline_recomputed", None, payload)
            await audit.record(
                None, "document.deadline_recomputed", "supervision_document", row["id"], payload
            )
        changed += 1
    return changed
