"""Cases and their workflow: 立案 → 调查 → (法制审核) → 决定 → 送达 → 结案, or 移送.

The two safeguards of the pilot are enforced here: a major case is decided only after an approved
legal review of the current proposal, and a case over the criminal threshold is transferred, not
closed with a fine (防止以罚代刑), unless a supervisor records a justified override.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from backend.accounts.certificates import require_valid_certificate
from backend.actions.schemas import Party
from backend.actions.services import missing_recordings
from backend.actions.tables import Action
from backend.alerts.services import raise_alert
from backend.audit import services as audit
from backend.cases import clocks, schemas
from backend.cases.tables import Case, CaseAction, CaseReview
from backend.db import atomic, is_unique_violation, json_value
from backend.lib import idempotency
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.lib.scope import enforcement_units, mask_id_number, sees_personal_data
from backend.live.publish import Publisher
from backend.org import oversight
from backend.org.services import unit_may_act
from backend.org.tables import Item
from backend.workdays.services import calendar as work_calendar

OPEN = ("filed", "investigating", "review", "decided", "served")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "update": ("filed", "investigating"),
    # From review only with a changed proposal (e.g. the decision the unit means to take).
    "submit-review": ("investigating", "review"),
    "review": ("review",),
    "decision": ("investigating", "review"),
    "serve": ("decided",),
    "close": ("served",),
    "transfer": ("investigating", "review", "decided", "served"),
    "override": OPEN,
    "hearing": ("filed", "investigating", "review"),
}
OFFICER_STEPS = ("submit-review", "decision", "serve", "close", "transfer", "hearing")

# Higher domains act on a decision in its transaction (publication starts its clock):
# hook(case row, item row, decided_on).
Decided = Callable[[dict[str, Any], dict[str, Any], date], Awaitable[None]]
_on_decided: list[Decided] = []


def on_decided(hook: Decided) -> None:
    if hook not in _on_decided:
        _on_decided.append(hook)


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --- rules --------------------------------------------------------------------------------------


def is_major(item: dict[str, Any], fine: float | None, measures: list[str]) -> bool:
    """重大行政处罚: the fine meets the item's threshold, or a listed measure is proposed."""
    threshold = _num(item["major_fine_at_least"])
    if threshold is not None and fine is not None and fine >= threshold:
        return True
    return bool(set(measures) & set(json_value(item["major_measures"]) or []))


def criminal_reached(item: dict[str, Any], amount: float | None) -> bool:
    threshold = _num(item["criminal_amount_at_least"])
    return threshold is not None and amount is not None and amount >= threshold


# --- loading and views --------------------------------------------------------------------------

_COLUMNS = (
    *Case.all_columns(),
    Case.unit.name.as_alias("unit_name"),
    Case.item.code.as_alias("item_code"),
    Case.item.name.as_alias("item_name"),
)


async def _row(viewer: CurrentUser, case_id: uuid.UUID) -> dict[str, Any]:
    """The case, for a change: a department overseeing it reads it but gets 403 here."""
    row = await Case.select(*_COLUMNS).where(Case.id == case_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such case.")
    await oversight.writable(viewer, row["unit"], row["item"], "case")
    return row


async def _item(item_id: uuid.UUID) -> dict[str, Any]:
    item = await Item.select().where(Item.id == item_id).first()
    if item is None:
        raise AppError(Errors.ITEM_NOT_FOUND, "The enforcement item does not exist.")
    return item


def _acts_for(viewer: CurrentUser, unit_id: uuid.UUID) -> bool:
    return viewer.has_any("officer") and unit_id in viewer.unit_ids


def _approved_now(row: dict[str, Any], reviews: list[dict[str, Any]]) -> bool:
    return any(r["outcome"] == "approved" and r["case_version"] == row["version"] for r in reviews)


def _allowed_steps(viewer: CurrentUser, row: dict[str, Any], approved: bool) -> list[str]:
    steps: list[str] = []
    status = row["status"]
    if _acts_for(viewer, row["unit"]):
        if status in TRANSITIONS["update"]:
            steps.append("update")
        # Resubmitting from review takes a changed proposal: offered where a decision differs, not as a step.
        steps += [
            s
            for s in OFFICER_STEPS
            if status in TRANSITIONS[s] and not (s == "submit-review" and status == "review")
        ]
    if (
        viewer.has_any("legal_reviewer")
        and row["unit"] in viewer.unit_ids
        and status == "review"
        and not approved
    ):
        steps.append("review")
    if viewer.has_any("supervisor") and status in OPEN:
        steps.append("override")
    return steps


async def _view(viewer: CurrentUser, row: dict[str, Any], item: dict[str, Any] | None = None) -> schemas.Case:
    item = item or await _item(row["item"])
    reviews = await (
        CaseReview.select(
            *CaseReview.all_columns(), CaseReview.reviewer.display_name.as_alias("reviewer_name")
        )
        .where(CaseReview.case == row["id"])
        .order_by(CaseReview.created_at)
    )
    actions = await CaseAction.select(CaseAction.action).where(CaseAction.case == row["id"])
    party = None
    if row["party_name"]:
        id_number = row["party_id_number"]
        if not sees_personal_data(viewer, row["unit"]):
            id_number = mask_id_number(id_number)
        party = Party(name=row["party_name"], type=row["party_type"] or "person", id_number=id_number)
    fine, measures = _num(row["proposed_fine"]), json_value(row["proposed_measures"]) or []
    major, approved = is_major(item, fine, measures), _approved_now(row, reviews)
    return schemas.Case(
        id=row["id"],
        number=row["number"],
        unit_id=row["unit"],
        unit_name=row["unit_name"],
        item_id=row["item"],
        item_code=row["item_code"],
        item_name=row["item_name"],
        status=row["status"],
        version=row["version"],
        summary=row["summary"],
        investigation=row["investigation"],
        party=party,
        amount_involved=_num(row["amount_involved"]),
        proposed_decision=schemas.ProposedDecision(fine=fine, measures=measures),
        decision=json_value(row["decision"]),
        major_case=major,
        needs_review=major and not approved and row["status"] in ("investigating", "review"),
        review_pending=row["status"] == "review" and not approved,
        criminal_threshold_reached=criminal_reached(item, _num(row["amount_involved"])),
        reviews=[
            schemas.Review(
                id=r["id"],
                reviewer_id=r["reviewer"],
                reviewer=r["reviewer_name"],
                outcome=r["outcome"],
                opinion=r["opinion"],
                case_version=r["case_version"],
                created_at=r["created_at"],
            )
            for r in reviews
        ],
        action_ids=[a["action"] for a in actions],
        transfer=json_value(row["transfer"]),
        override=json_value(row["override"]),
        reversed=json_value(row.get("reversal")),
        served_on=row["served_on"],
        closed_at=row["closed_at"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        allowed_steps=_allowed_steps(viewer, row, approved),
        clocks=await clocks.of_case(row["id"]),
        hearing=json_value(row["hearing"]),
    )


async def get_case(viewer: CurrentUser, case_id: uuid.UUID) -> schemas.Case:
    row = await Case.select(*_COLUMNS).where(Case.id == case_id).first()
    if row is None or not await oversight.may_read(viewer, row["unit"], row["item"]):
        raise AppError(Errors.NOT_FOUND, "No such case.")
    return await _view(viewer, row)


async def list_cases(
    viewer: CurrentUser,
    status: str | None,
    unit_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
    *,
    overseen: bool = False,
) -> Page[schemas.Case]:
    """The cases in scope; ``overseen``: other units' cases under the viewer's department's items."""
    condition = oversight.overseen_condition(viewer, Case.unit, Case.item) if overseen else None
    units = None if condition is not None else enforcement_units(viewer)
    query = (
        Case.select(*_COLUMNS)
        .order_by(Case.created_at, ascending=False)
        .order_by(Case.id, ascending=False)
        .limit(limit + 1)
    )
    if units is not None:
        query = query.where(Case.unit.is_in(units or [uuid.UUID(int=0)]))
    if condition is not None:
        query = query.where(condition)
    if unit_id:
        query = query.where(Case.unit == unit_id)
    if status:
        query = query.where(Case.status == status)
    after = newest_first_after(Case.created_at, Case.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = [await _view(viewer, r) for r in rows[:limit]]
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


# --- changes ------------------------------------------------------------------------------------


def _require_step(viewer: CurrentUser, row: dict[str, Any], step: str) -> None:
    if (step in OFFICER_STEPS or step == "update") and not _acts_for(viewer, row["unit"]):
        raise AppError(Errors.FORBIDDEN, "Only officers of the case's unit carry out this step.")
    if row["status"] not in TRANSITIONS[step]:
        raise AppError(
            Errors.CASE_INVALID_TRANSITION,
            f"'{step}' is not possible while the case is {row['status']}.",
            status_now=row["status"],
        )


def _check_version(row: dict[str, Any], version: int | None) -> None:
    if version is not None and version != row["version"]:
        raise AppError(
            Errors.CASE_VERSION_CONFLICT,
            f"The case is at version {row['version']}, not {version}; reload it and try again.",
            current_version=row["version"],
        )


async def _save(
    events: Publisher,
    actor: CurrentUser,
    row: dict[str, Any],
    changes: dict[Any, Any],
    action: str,
    audit_data: dict[str, Any],
    *,
    bump: bool = True,
    then: Callable[[], Awaitable[None]] | None = None,
) -> schemas.Case:
    """Apply ``changes`` only if nobody changed the case meanwhile (compare-and-set on version);
    ``then`` runs in the same transaction (the clocks)."""
    values = {**changes, Case.updated_at: utcnow()}
    if bump:
        values[Case.version] = row["version"] + 1
    async with atomic():
        updated = await (
            Case.update(values)
            .where((Case.id == row["id"]) & (Case.version == row["version"]))
            .returning(Case.id)
        )
        if not updated:
            raise AppError(Errors.CASE_VERSION_CONFLICT, "The case was changed by someone else; reload it.")
        await audit.record(actor, action, "case", row["id"], audit_data)
        if then is not None:
            await then()
    view = await get_case(actor, row["id"])
    await events.publish(
        "case.updated",
        view.unit_id,
        {"id": str(view.id), "status": view.status, "version": view.version, "number": view.number},
    )
    return view


async def create_case(
    actor: CurrentUser, data: schemas.CaseCreate, key: str | None, events: Publisher
) -> tuple[schemas.Case, bool]:
    case_id = idempotency.resource_id(data.id, key, actor.id, "case")
    data = msgspec.structs.replace(data, id=case_id)
    digest = idempotency.request_hash(data)
    existing = await Case.select(Case.request_hash, Case.created_by).where(Case.id == case_id).first()
    if existing:
        if existing["created_by"] != actor.id or existing["request_hash"] != digest:
            raise idempotency.mismatch()
        return await get_case(actor, case_id), True
    if not _acts_for(actor, data.unit_id):
        raise AppError(Errors.FORBIDDEN, "Only officers of the unit open its cases.")
    await require_valid_certificate(actor.id, name=actor.display_name)
    await _item(data.item_id)
    if not await unit_may_act(data.unit_id, data.item_id, today_local()):
        raise AppError(Errors.ITEM_NOT_AUTHORISED, "The unit may not act on this item today.")
    action_ids = list(dict.fromkeys(data.action_ids))
    if action_ids:
        found = await Action.select(Action.id).where(
            Action.id.is_in(action_ids) & (Action.unit == data.unit_id)
        )
        missing = set(action_ids) - {r["id"] for r in found}
        if missing:
            raise AppError(
                Errors.CASE_ACTIONS_INVALID,
                "Some actions do not exist or belong to another unit.",
                action_ids=sorted(str(m) for m in missing),
            )
    party = data.party
    number = f"NC-{today_local():%Y%m%d}-{case_id.hex[:6].upper()}"
    try:
        async with atomic():
            await Case.insert(
                Case(
                    id=case_id,
                    number=number,
                    unit=data.unit_id,
                    item=data.item_id,
                    summary=data.summary,
                    party_name=party.name if party else None,
                    party_type=party.type if party else None,
                    party_id_number=party.id_number if party else None,
                    created_by=actor.id,
                    request_hash=digest,
                )
            ).run()
            if action_ids:
                await CaseAction.insert(
                    *[CaseAction(id=uuid.uuid4(), case=case_id, action=a) for a in action_ids]
                ).run()
            await audit.record(
                actor,
                "case.filed",
                "case",
                case_id,
                {"number": number, "action_ids": [str(a) for a in action_ids]},
            )
            await clocks.start(case_id, data.unit_id, "decision", today_local())
    except Exception as exc:
        if is_unique_violation(exc):
            return await get_case(actor, case_id), True
        raise
    view = await get_case(actor, case_id)
    await events.publish(
        "case.updated",
        view.unit_id,
        {"id": str(view.id), "status": view.status, "version": 1, "number": view.number},
    )
    return view, False


async def update_case(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.CaseUpdate, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    _require_step(actor, row, "update")
    _check_version(row, data.version)
    await require_valid_certificate(actor.id, name=actor.display_name)
    changes: dict[Any, Any] = {Case.status: "investigating"}
    audit_data: dict[str, Any] = {}
    if data.summary is not msgspec.UNSET:
        changes[Case.summary] = data.summary
    if data.investigation is not msgspec.UNSET:
        changes[Case.investigation] = data.investigation
    if data.amount_involved is not msgspec.UNSET:
        changes[Case.amount_involved] = _dec(data.amount_involved)
        audit_data["amount_involved"] = data.amount_involved
    if data.proposed_decision is not msgspec.UNSET:
        proposal = data.proposed_decision or schemas.ProposedDecision()
        changes[Case.proposed_fine] = _dec(proposal.fine)
        changes[Case.proposed_measures] = list(proposal.measures)
        audit_data["proposed_decision"] = msgspec.to_builtins(proposal)
    if data.party is not msgspec.UNSET:
        party = data.party
        changes[Case.party_name] = party.name if party else None
        changes[Case.party_type] = party.type if party else None
        changes[Case.party_id_number] = party.id_number if party else None
    return await _save(events, actor, row, changes, "case.updated", audit_data)


def _same_proposal(row: dict[str, Any], fine: float | None, measures: list[str]) -> bool:
    return fine == _num(row["proposed_fine"]) and sorted(measures) == sorted(
        json_value(row["proposed_measures"]) or []
    )


async def submit_review(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.SubmitReview, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    _require_step(actor, row, "submit-review")
    _check_version(row, data.version)
    await require_valid_certificate(actor.id, name=actor.display_name)
    proposal = data.proposed_decision
    changes: dict[Any, Any] = {Case.status: "review"}
    audit_data: dict[str, Any] = {}
    if proposal is not None and not _same_proposal(row, proposal.fine, list(proposal.measures)):
        # The new version is what the reviewer sees; an approval of the old one no longer covers it.
        changes[Case.proposed_fine] = _dec(proposal.fine)
        changes[Case.proposed_measures] = list(proposal.measures)
        audit_data["proposed_decision"] = msgspec.to_builtins(proposal)
    elif row["status"] == "review":
        raise AppError(
            Errors.CASE_INVALID_TRANSITION,
            "The case is already in legal review; only a changed proposal is sent again.",
            status_now=row["status"],
        )
    fine = proposal.fine if proposal is not None else _num(row["proposed_fine"])
    measures = list(proposal.measures) if proposal is not None else json_value(row["proposed_measures"]) or []
    if fine is None and not measures:
        raise AppError(Errors.CASE_PROPOSAL_MISSING, "Record the proposed decision before asking for review.")
    return await _save(events, actor, row, changes, "case.review_requested", audit_data)


async def review(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.ReviewCreate, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    if not (actor.has_any("legal_reviewer") and row["unit"] in actor.unit_ids):
        raise AppError(Errors.FORBIDDEN, "Only a legal reviewer of the case's unit reviews it.")
    _require_step(actor, row, "review")
    _check_version(row, data.version)
    outcome = data.outcome or ("approved" if data.approved else "rejected")
    if (outcome == "approved") != data.approved:
        raise AppError(
            Errors.VALIDATION,
            "'approved' must be true exactly when the outcome is 'approved'.",
            errors=[{"key": "outcome", "message": "contradicts approved"}],
        )
    async with atomic():
        await CaseReview.insert(
            CaseReview(
                id=uuid.uuid4(),
                case=case_id,
                reviewer=actor.id,
                outcome=outcome,
                opinion=data.opinion,
                case_version=row["version"],
            )
        ).run()
    if outcome == "approved":
        # The approval covers exactly this version: the case is not bumped, any later edit is.
        return await _save(events, actor, row, {}, "case.reviewed", {"outcome": outcome}, bump=False)
    return await _save(
        events, actor, row, {Case.status: "investigating"}, "case.reviewed", {"outcome": outcome}
    )


async def decide(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.DecisionCreate, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    _require_step(actor, row, "decision")
    _check_version(row, data.version)
    await require_valid_certificate(actor.id, name=actor.display_name)
    item = await _item(row["item"])
    proposed_fine, proposed_measures = _num(row["proposed_fine"]), json_value(row["proposed_measures"]) or []
    fine = data.fine if data.fine is not None else proposed_fine
    measures = list(data.measures) if data.measures is not None else proposed_measures
    if is_major(item, fine, measures):
        approved = await (
            CaseReview.select(CaseReview.id)
            .where(
                (CaseReview.case == case_id)
                & (CaseReview.outcome == "approved")
                & (CaseReview.case_version == row["version"])
            )
            .first()
        )
        if approved is not None and not _same_proposal(row, fine, measures):
            # Not a bypass: the unit means to decide otherwise than approved. Nothing is alerted;
            # the answer names the approved proposal so the changed one can go back to review.
            raise AppError(
                Errors.CASE_REVIEW_REQUIRED,
                "The decision differs from the proposal the legal review approved: send the changed "
                "proposal back to review (submit-review with proposed_decision) first.",
                reason="proposal_changed",
                approved={"fine": proposed_fine, "measures": proposed_measures},
                decision={"fine": fine, "measures": measures},
            )
        if approved is None:
            detail = (
                "This is a major case (重大行政处罚): a decision needs an approved legal review "
                "(法制审核) of the current proposal. Submit it for review first."
            )
            await raise_alert(
                events,
                "case.review_required",
                f"Decision attempted without legal review: {row['number']}",
                severity="high",
                unit_id=row["unit"],
                subject_user_id=actor.id,
                object_type="case",
                object_id=case_id,
                data={"number": row["number"]},
            )
            raise AppError(
                Errors.CASE_REVIEW_REQUIRED,
                detail,
                reason="review_pending" if row["status"] == "review" else "not_reviewed",
            )
    await _require_recordings(row, is_major(item, fine, measures))
    if criminal_reached(item, _num(row["amount_involved"])):
        await _criminal_alert(
            events, actor, row, "Administrative decision on a case over the criminal threshold"
        )
    decision = {
        "document_number": data.document_number,
        "fine": fine,
        "measures": measures,
        "decided_at": datetime.now(UTC).isoformat(),
        "decided_by": str(actor.id),
    }
    decided_on = today_local()

    async def start_clocks() -> None:
        await clocks.meet(case_id, "decision", decided_on)
        await clocks.start(case_id, row["unit"], "delivery", decided_on)
        for hook in _on_decided:
            await hook(row, item, decided_on)

    return await _save(
        events,
        actor,
        row,
        {
            Case.status: "decided",
            Case.decision: decision,
            Case.decided_on: decided_on,
            Case.major: is_major(item, fine, measures),
        },
        "case.decided",
        decision,
        then=start_clocks,
    )


async def _require_recordings(row: dict[str, Any], major: bool) -> None:
    """全过程记录: every act the case is built on that needs an audio-video recording has one (a
    major case's on-site inspections too)."""
    linked = [
        a["action"] for a in await CaseAction.select(CaseAction.action).where(CaseAction.case == row["id"])
    ]
    missing = await missing_recordings(linked, inspections_too=major)
    if missing:
        raise AppError(
            Errors.CASE_RECORDING_MISSING,
            "The case cannot be decided: the audio-video recording (全过程记录) of "
            f"{len(missing)} of its acts is missing. Attach the video or audio file to each act first.",
            action_ids=sorted(str(m["id"]) for m in missing),
        )


async def _criminal_alert(events: Publisher, actor: CurrentUser, row: dict[str, Any], what: str) -> None:
    """两法衔接: supervisors see every step taken on a case over the criminal threshold."""
    await raise_alert(
        events,
        "case.criminal_threshold",
        f"{what}: {row['number']}",
        severity="high",
        unit_id=row["unit"],
        subject_user_id=actor.id,
        object_type="case",
        object_id=row["id"],
        data={"number": row["number"], "amount_involved": _num(row["amount_involved"])},
    )


async def serve(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.ServeCreate, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    _require_step(actor, row, "serve")
    _check_version(row, data.version)
    await require_valid_certificate(actor.id, name=actor.display_name)
    if data.served_on > today_local():
        raise AppError(Errors.VALIDATION, "served_on is in the future.", errors=[{"key": "served_on"}])
    changes = {Case.status: "served", Case.served_on: data.served_on, Case.serve_method: data.method}

    async def met() -> None:
        await clocks.meet(case_id, "delivery", data.served_on)

    return await _save(
        events,
        actor,
        row,
        changes,
        "case.served",
        {"served_on": str(data.served_on), "method": data.method},
        then=met,
    )


async def close(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.Step, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    _require_step(actor, row, "close")
    _check_version(row, data.version)
    await require_valid_certificate(actor.id, name=actor.display_name)
    item = await _item(row["item"])
    if criminal_reached(item, _num(row["amount_involved"])) and not json_value(row["override"]):
        await _criminal_alert(events, actor, row, "Closing attempted on a case that must be transferred")
        raise AppError(
            Errors.CASE_CRIMINAL_THRESHOLD,
            "The amount involved reaches the criminal threshold (两法衔接): transfer the case to the "
            "judicial organs; it cannot be closed with an administrative penalty alone.",
        )
    return await _save(
        events, actor, row, {Case.status: "closed", Case.closed_at: utcnow()}, "case.closed", {}
    )


async def transfer(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.TransferCreate, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    _require_step(actor, row, "transfer")
    _check_version(row, data.version)
    await require_valid_certificate(actor.id, name=actor.display_name)
    if data.transferred_on > today_local():
        raise AppError(
            Errors.VALIDATION, "transferred_on is in the future.", errors=[{"key": "transferred_on"}]
        )
    record = {
        "organ": data.organ,
        "transferred_on": str(data.transferred_on),
        "receipt_number": data.receipt_number,
    }

    async def stopped() -> None:
        await clocks.stop(case_id)

    return await _save(
        events,
        actor,
        row,
        {Case.status: "transferred", Case.transfer: record},
        "case.transferred",
        record,
        then=stopped,
    )


async def hearing(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.HearingStep, events: Publisher
) -> schemas.Case:
    """听证 (第六十四条): the party told of the right starts 5 working days for a request; a request
    after them is refused; the hearing notice must be sent at least 7 working days before it."""
    row = await _row(actor, case_id)
    _require_step(actor, row, "hearing")
    _check_version(row, data.version)
    if data.on > today_local():
        raise AppError(Errors.VALIDATION, "on is in the future.", errors=[{"key": "on"}])
    record = dict(json_value(row["hearing"]) or {})
    then: Callable[[], Awaitable[None]] | None = None

    async def start_window() -> None:
        await clocks.start(case_id, row["unit"], "hearing_request", data.on)

    async def close_window() -> None:
        await clocks.meet(case_id, "hearing_request", data.on)

    if data.step == "notified":
        record, then = {"notified_on": str(data.on)}, start_window

    elif data.step == "requested":
        if "notified_on" not in record:
            raise AppError(
                Errors.CASE_INVALID_TRANSITION, "Record first that the party was told of the right."
            )
        due = (await work_calendar()).deadline(date.fromisoformat(record["notified_on"]), 5, True)[0]
        if data.on > due:
            raise AppError(
                Errors.CASE_HEARING_REQUEST_LATE,
                f"The party was told on {record['notified_on']}; a request was possible until {due}.",
                due_on=str(due),
            )
        record["requested_on"] = str(data.on)
        then = close_window

    else:
        if data.hearing_on is None:
            raise AppError(
                Errors.VALIDATION,
                "hearing_on is required to schedule a hearing.",
                errors=[{"key": "hearing_on", "message": "required"}],
            )
        earliest = (await work_calendar()).add_working_days(data.on, 7)[0]
        if data.hearing_on < earliest:
            raise AppError(
                Errors.CASE_HEARING_NOTICE_LATE,
                f"A notice sent on {data.on} allows a hearing on {earliest} at the earliest "
                "(7 working days ahead, 第六十四条).",
                earliest=str(earliest),
            )
        record.update(notice_on=str(data.on), hearing_on=str(data.hearing_on))
    audit_data = {"step": data.step, **record}
    return await _save(events, actor, row, {Case.hearing: record}, "case.hearing", audit_data, then=then)


async def override(
    actor: CurrentUser, case_id: uuid.UUID, data: schemas.OverrideCreate, events: Publisher
) -> schemas.Case:
    row = await _row(actor, case_id)
    if not actor.has_any("supervisor"):
        raise AppError(Errors.FORBIDDEN, "Only a supervisor may override the transfer rule.")
    _require_step(actor, row, "override")
    _check_version(row, data.version)
    record = {
        "reason": data.reason,
        "by": str(actor.id),
        "by_name": actor.display_name,
        "at": datetime.now(UTC).isoformat(),
    }
    return await _save(events, actor, row, {Case.override: record}, "case.override", record)


async def set_reversal(case_ids: list[uuid.UUID], reversal: dict[str, Any] | None) -> None:
    """Mark cases as reversed by a reconsideration or court outcome (or clear it); see
    ``actions.services.set_reversal``. Not a change of the case's own content: the version stays."""
    if case_ids:
        await Case.update({Case.reversal: reversal}).where(Case.id.is_in(case_ids)).run()


async def cases_of_actions(action_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The cases each action was filed in (for the action's detail view)."""
    links: dict[uuid.UUID, list[uuid.UUID]] = {}
    for c in await CaseAction.select(CaseAction.case, CaseAction.action).where(
        CaseAction.action.is_in(action_ids)
    ):
        links.setdefault(c["action"], []).append(c["case"])
    return links


async def open_cases_of_unit(unit_id: uuid.UUID) -> tuple[int, list[str]]:
    """How many cases of the unit are still open, and the newest few numbers (a unit with open cases
    cannot be deactivated)."""
    where = (Case.unit == unit_id) & Case.status.is_in(list(OPEN))
    count = await Case.count().where(where)
    rows = await Case.select(Case.number).where(where).order_by(Case.created_at, ascending=False).limit(5)
    return count, [r["number"] for r in rows]
