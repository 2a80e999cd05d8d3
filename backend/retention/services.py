"""Evidence retention (保存期限), legal holds (保全) and reviewed disposal (销毁).

How long a piece of evidence is kept follows from what it belongs to and how that ended: a closed
(or transferred) case's evidence N years after closing, an action's that never became a case M years
after the act, a spot-check's and a supervision record's from their upload — per kind of evidence,
with ``*`` for the rest (``RetentionRule``). Evidence is never due while its case is open, while a
lawsuit or reconsideration about it is open (channels), or while a supervisor's hold covers it (on
the evidence, its case, or its action).

Expiry is a list a supervisor reviews; approving a batch re-checks each record, removes it with an
``evidence.removed`` audit entry (so ``fieldwatch verify`` knows it left through the app) and asks the
store to remove its bytes, which an object lock still in force refuses: then nothing changes.

With S3, each original also carries a per-object retention up to its rule's date once that date is
known (``reconcile``), so the store itself refuses an early delete.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.actions.tables import Action
from backend.audit import services as audit
from backend.cases.tables import Case, CaseAction
from backend.channels.tables import ChannelItem
from backend.db import atomic, json_value
from backend.evidence.services import KINDS, visible_row
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.retention.tables import Disposal, DisposalBatch, LegalHold, ObjectRetention, RetentionRule
from backend.settings import Settings
from media_store import MediaStore, MediaStoreUnavailable, ObjectLocked, ObjectNotFound, sha256_of_key

logger = logging.getLogger(__name__)

SUBJECTS = ("case_closed", "action", "spot_check", "supervision")
EVIDENCE_KINDS = (*sorted(set(KINDS.values())), "*")
# Defaults until an admin sets the district's own (the archive rules it follows decide them).
DEFAULT_YEARS = {"case_closed": 30, "action": 3, "spot_check": 1, "supervision": 10}
MAX_YEARS = 100
CLOSED_CASE = ("closed", "transferred")
HOLD_TYPES = ("evidence", "case", "action")
BATCH_LIMIT = 500
RULE_SUBJECT = {"case": "case_closed", "action": "action", "spot_check": "spot_check"}


def _invalid(key: str, message: str) -> AppError:
    return AppError(Errors.VALIDATION, message, errors=[{"key": key, "message": message}])


# -- rules --------------------------------------------------------------------------------------------


async def rules() -> dict[str, dict[str, int]]:
    """Years per subject and kind; every subject has ``*`` (the default when none is stored)."""
    out = {subject: {"*": years} for subject, years in DEFAULT_YEARS.items()}
    for row in await RetentionRule.select(RetentionRule.subject, RetentionRule.kind, RetentionRule.years):
        out.setdefault(row["subject"], {})[row["kind"]] = row["years"]
    return out


def years_for(table: dict[str, dict[str, int]], subject: str, kind: str) -> int:
    per_kind = table[subject]
    return per_kind.get(kind, per_kind["*"])


async def set_rules(actor: CurrentUser, changes: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Replace the years of the named (subject, kind) pairs; all or nothing."""
    if not changes:
        raise _invalid("rules", "Name at least one rule to change.")
    clean: list[tuple[str, str, int]] = []
    for index, change in enumerate(changes):
        subject, kind, years = change.get("subject"), change.get("kind", "*"), change.get("years")
        if subject not in SUBJECTS:
            raise _invalid(f"rules[{index}].subject", f"subject must be one of {', '.join(SUBJECTS)}.")
        if kind not in EVIDENCE_KINDS:
            raise _invalid(f"rules[{index}].kind", f"kind must be one of {', '.join(EVIDENCE_KINDS)}.")
        if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= MAX_YEARS:
            raise _invalid(f"rules[{index}].years", f"years must be a whole number from 1 to {MAX_YEARS}.")
        clean.append((subject, kind, years))
    before = await rules()
    async with atomic():
        for subject, kind, years in clean:
            key = f"{subject}:{kind}"
            found = await RetentionRule.select(RetentionRule.id).where(RetentionRule.key == key).first()
            if found:
                await RetentionRule.update(
                    {
                        RetentionRule.years: years,
                        RetentionRule.updated_by: actor.id,
                        RetentionRule.updated_at: utcnow(),
                    }
                ).where(RetentionRule.id == found["id"])
            else:
                await RetentionRule.insert(
                    RetentionRule(
                        id=uuid.uuid4(), subject=subject, kind=kind, years=years, key=key, updated_by=actor.id
                    )
                )
        await audit.record(
            actor,
            "retention.rules_changed",
            "retention_rules",
            "rules",
            {
                "changes": [
                    {"subject": s, "kind": k, "years": y, "before": before.get(s, {}).get(k)}
                    for s, k, y in clean
                ]
            },
        )
    return await rules()


# -- what each piece of evidence is kept for ------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where one piece of evidence stands: kept until ``retain_until`` (None while that date is not
    known yet), and why it is not due if it is not."""

    evidence_id: uuid.UUID
    subject: str | None  # the rule applied; None while the case is open
    retain_until: datetime | None
    state: str  # retained | due | case_open | litigation | held
    holds: list[dict[str, Any]]
    basis: str  # what the date counts from, in words

    def view(self) -> dict[str, Any]:
        return {
            "evidence_id": str(self.evidence_id),
            "state": self.state,
            "retain_until": self.retain_until,
            "rule": self.subject,
            "basis": self.basis,
            "holds": self.holds,
        }


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, day=28)


async def _case_of_actions(action_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    if not action_ids:
        return out
    for row in await CaseAction.select(CaseAction.case, CaseAction.action).where(
        CaseAction.action.is_in(action_ids)
    ):
        out.setdefault(row["action"], []).append(row["case"])
    return out


async def _open_lawsuits(case_ids: set[uuid.UUID], action_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Cases and actions a lawsuit or reconsideration that is not closed is about."""
    if not case_ids and not action_ids:
        return set()
    where = (ChannelItem.kind == "lawsuit") & (ChannelItem.status != "closed")
    about = []
    if case_ids:
        about.append(ChannelItem.case_id.is_in(list(case_ids)))
    if action_ids:
        about.append(ChannelItem.action_id.is_in(list(action_ids)))
    condition = about[0] if len(about) == 1 else (about[0] | about[1])
    rows = await ChannelItem.select(ChannelItem.case_id, ChannelItem.action_id).where(where & condition)
    return {r["case_id"] for r in rows if r["case_id"]} | {r["action_id"] for r in rows if r["action_id"]}


async def _active_holds(object_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if not object_ids:
        return out
    rows = await LegalHold.select().where(
        LegalHold.object_id.is_in(list(object_ids)) & LegalHold.released_at.is_null()
    )
    for row in rows:
        out.setdefault(row["object_id"], []).append(_hold_view(row))
    return out


def _hold_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "object_type": row["object_type"],
        "object_id": str(row["object_id"]),
        "reason": row["reason"],
        "placed_by": str(row["placed_by"]),
        "placed_at": row["placed_at"],
        "released_at": row["released_at"],
        "released_by": str(row["released_by"]) if row["released_by"] else None,
        "release_reason": row["release_reason"],
    }


async def standings(rows: list[dict[str, Any]], now: datetime | None = None) -> list[Standing]:
    """The standing of each evidence row, with a handful of queries for the whole list."""
    now = now or utcnow()
    table = await rules()
    action_ids = [r["parent_id"] for r in rows if r["parent_type"] == "action"]
    cases_of = await _case_of_actions(action_ids)
    case_ids = {r["parent_id"] for r in rows if r["parent_type"] == "case"}
    case_ids |= {c for cs in cases_of.values() for c in cs}
    cases = {
        c["id"]: c
        for c in (
            await Case.select(Case.id, Case.status, Case.closed_at, Case.updated_at).where(
                Case.id.is_in(list(case_ids))
            )
            if case_ids
            else []
        )
    }
    actions = {
        a["id"]: a
        for a in (
            await Action.select(Action.id, Action.occurred_at).where(Action.id.is_in(action_ids))
            if action_ids
            else []
        )
    }
    suits = await _open_lawsuits(case_ids, set(action_ids))
    holds = await _active_holds({r["id"] for r in rows} | case_ids | set(action_ids))
    out = []
    for row in rows:
        kind = KINDS.get(row["content_type"], "document")
        related = [row["parent_id"]] if row["parent_type"] in ("case", "action") else []
        related_cases = (
            [row["parent_id"]]
            if row["parent_type"] == "case"
            else cases_of.get(row["parent_id"], [])
            if row["parent_type"] == "action"
            else []
        )
        related += [c for c in related_cases if c not in related]
        found_holds = holds.get(row["id"], []) + [h for o in related for h in holds.get(o, [])]
        subject, base, basis = _basis(row, related_cases, cases, actions)
        until = add_years(base, years_for(table, subject, kind)) if subject and base else None
        if found_holds:
            state = "held"
        elif any(o in suits for o in related):
            state = "litigation"
        elif until is None:
            state = "case_open"
        else:
            state = "due" if until <= now else "retained"
        out.append(Standing(row["id"], subject, until, state, found_holds, basis))
    return out


def _basis(
    row: dict[str, Any],
    related_cases: list[uuid.UUID],
    cases: dict[uuid.UUID, dict[str, Any]],
    actions: dict[uuid.UUID, dict[str, Any]],
) -> tuple[str | None, datetime | None, str]:
    """The rule that applies, the moment it counts from, and that moment in words."""
    if related_cases:
        found = [cases[c] for c in related_cases if c in cases]
        if not found or any(c["status"] not in CLOSED_CASE for c in found):
            return None, None, "案件办结后起算"
        closed = max(c["closed_at"] or c["updated_at"] for c in found)
        return "case_closed", closed, "自案件办结之日起算"
    if row["parent_type"] == "action":
        action = actions.get(row["parent_id"])
        return "action", (action["occurred_at"] if action else row["received_at"]), "自执法行为发生之日起算"
    subject = RULE_SUBJECT.get(row["parent_type"], "supervision")
    return subject, row["received_at"], "自上传之日起算"


async def standing_of(actor: CurrentUser, evidence_id: uuid.UUID) -> dict[str, Any]:
    """For the evidence page: 404 outside the actor's scope, like the evidence itself."""
    row = await visible_row(actor, evidence_id)
    (found,) = await standings([row])
    locked = (
        await ObjectRetention.select(ObjectRetention.retain_until)
        .where(ObjectRetention.object_key == row["object_key"])
        .first()
    )
    return {**found.view(), "store_locked_until": locked["retain_until"] if locked else None}


async def due(limit: int = 200, offset: int = 0, now: datetime | None = None) -> dict[str, Any]:
    """Evidence whose retention has passed and that nothing holds, oldest first. Only evidence
    older than the shortest rule can be due, so only that is read."""
    now = now or utcnow()
    table = await rules()
    shortest = min(y for per_kind in table.values() for y in per_kind.values())
    cutoff = add_years(now, -shortest)
    found: list[dict[str, Any]] = []
    page, start = 500, 0
    while True:
        rows = await (
            Evidence.select()
            .where(Evidence.received_at <= cutoff + timedelta(days=366))  # the act may predate the upload
            .order_by(Evidence.received_at)
            .order_by(Evidence.id)
            .limit(page)
            .offset(start)
        )
        for row, standing in zip(rows, await standings(rows, now), strict=True):
            if standing.state == "due":
                found.append({**_evidence_brief(row), **standing.view()})
        if len(rows) < page:
            break
        start += page
    return {"total": len(found), "items": found[offset : offset + limit]}


def _evidence_brief(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "parent_type": row["parent_type"],
        "parent_id": str(row["parent_id"]),
        "unit_id": str(row["unit_id"]),
        "sha256": row["sha256"],
        "size": row["size"],
        "content_type": row["content_type"],
        "received_at": row["received_at"],
    }


# -- legal holds --------------------------------------------------------------------------------------------


async def _hold_target(actor: CurrentUser, object_type: str, object_id: uuid.UUID) -> uuid.UUID:
    """The unit of the object to hold; 404 when it does not exist (supervisors see every unit)."""
    if object_type == "evidence":
        return (await visible_row(actor, object_id))["unit_id"]
    table = Case if object_type == "case" else Action
    row = await table.select(table.unit).where(table.id == object_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, f"No such {object_type}.")
    return row["unit"]


async def place_hold(
    actor: CurrentUser, object_type: str, object_id: uuid.UUID, reason: str
) -> dict[str, Any]:
    if object_type not in HOLD_TYPES:
        raise _invalid("object_type", "object_type must be evidence, case or action.")
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "Say why the hold is placed (e.g. the lawsuit or request it serves).")
    unit_id = await _hold_target(actor, object_type, object_id)
    hold_id = uuid.uuid4()
    async with atomic():
        await LegalHold.insert(
            LegalHold(
                id=hold_id,
                object_type=object_type,
                object_id=object_id,
                unit_id=unit_id,
                reason=reason[:2000],
                placed_by=actor.id,
            )
        )
        await audit.record(
            actor,
            "retention.hold_placed",
            object_type,
            object_id,
            {"hold_id": str(hold_id), "reason": reason[:2000]},
        )
    row = await LegalHold.select().where(LegalHold.id == hold_id).first()
    assert row is not None
    return _hold_view(row)


async def release_hold(actor: CurrentUser, hold_id: uuid.UUID, reason: str) -> dict[str, Any]:
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "Say why the hold is released.")
    async with atomic():
        row = await LegalHold.select().where(LegalHold.id == hold_id).first()
        if row is None:
            raise AppError(Errors.NOT_FOUND, "No such hold.")
        if row["released_at"] is not None:
            raise AppError(Errors.HOLD_RELEASED, "This hold was already released.")
        await LegalHold.update(
            {
                LegalHold.released_at: utcnow(),
                LegalHold.released_by: actor.id,
                LegalHold.release_reason: reason[:2000],
            }
        ).where(LegalHold.id == hold_id)
        await audit.record(
            actor,
            "retention.hold_released",
            row["object_type"],
            row["object_id"],
            {"hold_id": str(hold_id), "reason": reason[:2000]},
        )
    released = await LegalHold.select().where(LegalHold.id == hold_id).first()
    assert released is not None
    return _hold_view(released)


async def holds(active_only: bool = True, limit: int = 200) -> list[dict[str, Any]]:
    query = LegalHold.select().order_by(LegalHold.placed_at, ascending=False).limit(limit)
    if active_only:
        query = query.where(LegalHold.released_at.is_null())
    return [_hold_view(r) for r in await query]


# -- disposal -------------------------------------------------------------------------------------------


async def dispose(
    actor: CurrentUser, evidence_ids: list[uuid.UUID], reason: str, store: MediaStore
) -> dict[str, Any]:
    """Approve one batch: every named record must be due now (else nothing happens, and the answer
    lists which are not and why). Each is then removed in its own transaction; one whose stored
    bytes the store refuses to remove is kept (outcome ``refused``)."""
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "Give the basis of the disposal (e.g. the archive rule and the review).")
    ids = list(dict.fromkeys(evidence_ids))
    if not ids:
        raise _invalid("evidence_ids", "Name the evidence to dispose of.")
    if len(ids) > BATCH_LIMIT:
        raise _invalid("evidence_ids", f"A batch holds at most {BATCH_LIMIT} records.")
    rows = {r["id"]: r for r in await Evidence.select().where(Evidence.id.is_in(ids))}
    missing = [str(i) for i in ids if i not in rows]
    if missing:
        raise AppError(Errors.NOT_FOUND, "No such evidence.", missing=missing)
    ordered = [rows[i] for i in ids]
    not_due = [
        {"evidence_id": str(s.evidence_id), "state": s.state, "retain_until": s.retain_until}
        for s in await standings(ordered)
        if s.state != "due"
    ]
    if not_due:
        raise AppError(
            Errors.RETENTION_NOT_DUE,
            f"{len(not_due)} of the {len(ids)} records are not due for disposal; nothing was removed.",
            not_due=not_due,
        )
    batch_id = uuid.uuid4()
    async with atomic():
        await DisposalBatch.insert(DisposalBatch(id=batch_id, approved_by=actor.id, reason=reason[:2000]))
        await audit.record(
            actor,
            "retention.batch_approved",
            "disposal_batch",
            batch_id,
            {"evidence_ids": [str(i) for i in ids], "reason": reason[:2000]},
        )
    removed = refused = 0
    for row in ordered:
        outcome = await _dispose_one(actor, batch_id, row, store)
        if outcome == "refused":
            refused += 1
        else:
            removed += 1
    await DisposalBatch.update({DisposalBatch.removed: removed, DisposalBatch.refused: refused}).where(
        DisposalBatch.id == batch_id
    )
    return await batch(batch_id)


def _keys(row: dict[str, Any]) -> list[str]:
    renditions = json_value(row["renditions"], {})
    return [
        row["object_key"],
        *(r["key"] for r in renditions.values() if isinstance(r, dict) and r.get("key")),
    ]


# A rendition's bytes may equal another record's although the originals differ (two photos that differ
# only in their EXIF make one thumbnail; two uploads of one clip one poster): every record is asked.
_KEY_IN_USE = (
    "SELECT 1 FROM evidence WHERE id <> {} AND (object_key = {} OR CAST(renditions AS TEXT) LIKE {}) LIMIT 1"
)


async def _shared_keys(row: dict[str, Any], keys: Iterable[str]) -> set[str]:
    """Keys another record still points at (the store is content-addressed: the same bytes attached
    to two records are one object)."""
    used = set()
    for key in set(keys):
        sha256_of_key(key)  # a media key is only hex digits and slashes: nothing for LIKE to match
        if await Evidence.raw(_KEY_IN_USE, row["id"], key, f'%"{key}"%'):
            used.add(key)
    return used


async def _dispose_one(
    actor: CurrentUser, batch_id: uuid.UUID, row: dict[str, Any], store: MediaStore
) -> str:
    keys = _keys(row)
    shared = await _shared_keys(row, keys)
    # The original first: if the store's lock refuses it, nothing (not even a rendition) is removed.
    detail = ""
    try:
        for key in [k for k in keys if k not in shared]:
            await store.dispose(key)
        outcome = "record_only" if row["object_key"] in shared else "removed"
    except ObjectLocked as exc:
        outcome, detail = "refused", f"the object store keeps {exc.key} under its lock"
    except MediaStoreUnavailable as exc:
        outcome, detail = "refused", str(exc)
    (standing,) = await standings([row])
    async with atomic():
        await Disposal.insert(
            Disposal(
                id=uuid.uuid4(),
                batch_id=batch_id,
                evidence_id=row["id"],
                parent_type=row["parent_type"],
                parent_id=row["parent_id"],
                unit_id=row["unit_id"],
                sha256=row["sha256"],
                size=row["size"],
                content_type=row["content_type"],
                retain_until=standing.retain_until or utcnow(),
                outcome=outcome,
                detail=detail,
            )
        )
        if outcome == "refused":
            await audit.record(
                actor,
                "evidence.disposal_refused",
                "evidence",
                row["id"],
                {"batch_id": str(batch_id), "detail": detail},
            )
            return outcome
        await Evidence.delete().where(Evidence.id == row["id"])
        await audit.record(
            actor,
            "evidence.removed",
            "evidence",
            row["id"],
            {
                "batch_id": str(batch_id),
                "sha256": row["sha256"],
                "parent": f"{row['parent_type']}:{row['parent_id']}",
                "retain_until": standing.retain_until.isoformat() if standing.retain_until else None,
                "stored_bytes_removed": outcome == "removed",
            },
        )
    return outcome


async def batch(batch_id: uuid.UUID) -> dict[str, Any]:
    row = await DisposalBatch.select().where(DisposalBatch.id == batch_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such disposal batch.")
    items = await Disposal.select().where(Disposal.batch_id == batch_id).order_by(Disposal.at)
    return {
        "id": str(row["id"]),
        "approved_by": str(row["approved_by"]),
        "approved_at": row["approved_at"],
        "reason": row["reason"],
        "removed": row["removed"],
        "refused": row["refused"],
        "items": [
            {
                "evidence_id": str(i["evidence_id"]),
                "parent_type": i["parent_type"],
                "parent_id": str(i["parent_id"]),
                "sha256": i["sha256"],
                "size": i["size"],
                "content_type": i["content_type"],
                "retain_until": i["retain_until"],
                "outcome": i["outcome"],
                "detail": i["detail"],
            }
            for i in items
        ],
    }


async def batches(limit: int = 50) -> list[dict[str, Any]]:
    rows = await DisposalBatch.select().order_by(DisposalBatch.approved_at, ascending=False).limit(limit)
    return [
        {
            "id": str(r["id"]),
            "approved_by": str(r["approved_by"]),
            "approved_at": r["approved_at"],
            "reason": r["reason"],
            "removed": r["removed"],
            "refused": r["refused"],
        }
        for r in rows
    ]


# -- the object store's own lock --------------------------------------------------------------------------


async def lock_problem(store: MediaStore, settings: Settings) -> str | None:
    """Why the evidence bucket's object lock is not what the settings require, or None. A store
    without locks (a local directory) has nothing to check."""
    wanted = settings.evidence_lock_mode.upper()
    if wanted == "NONE" or not store.supports_lock:
        return None
    if wanted not in ("COMPLIANCE", "GOVERNANCE"):
        return f"FIELDWATCH_EVIDENCE_LOCK_MODE must be COMPLIANCE, GOVERNANCE or none, not {wanted!r}"
    config = await store.lock_config()
    if config is None:
        return "the evidence bucket has no default object lock"
    if config.mode.upper() != wanted:
        return f"the evidence bucket's object lock is {config.mode}, not {wanted}"
    if config.days < settings.evidence_lock_days:
        required = settings.evidence_lock_days
        return f"the evidence bucket keeps objects {config.days} days, less than the {required} required"
    return None


async def reconcile(store: MediaStore, settings: Settings, limit: int = 1000) -> int:
    """Put a per-object retention on originals whose rule's date is known and later than the one
    the store holds; how many were set. A store without locks has nothing to do."""
    mode = settings.evidence_lock_mode.upper()
    if (
        mode not in ("COMPLIANCE", "GOVERNANCE")
        or not store.supports_lock
        or await store.lock_config() is None
    ):
        return 0
    set_count = 0
    start = 0
    while set_count < limit:
        rows = (
            await Evidence.select()
            .order_by(Evidence.received_at)
            .order_by(Evidence.id)
            .limit(500)
            .offset(start)
        )
        if not rows:
            break
        keys = [r["object_key"] for r in rows]
        held = {
            r["object_key"]: r["retain_until"]
            for r in await ObjectRetention.select().where(ObjectRetention.object_key.is_in(keys))
        }
        wanted: dict[str, datetime] = {}
        for row, standing in zip(rows, await standings(rows), strict=True):
            if standing.retain_until is None:
                continue  # the bucket's default lock covers it until its case closes
            key = row["object_key"]
            wanted[key] = max(wanted.get(key, standing.retain_until), standing.retain_until)
        for key, until in wanted.items():
            if key in held and held[key] >= until:
                continue
            try:
                now_until = await store.retain(key, until, mode)
            except ObjectNotFound:  # a missing original is the integrity check's to report
                logger.warning("no stored object %s to put a retention on", key)
                continue
            async with atomic():
                await ObjectRetention.delete().where(ObjectRetention.object_key == key)
                await ObjectRetention.insert(
                    ObjectRetention(id=uuid.uuid4(), object_key=key, retain_until=now_until, mode=mode)
                )
            set_count += 1
        start += len(rows)
    return set_count
