"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.audit import schemas
from backend.audit.tables import AuditEntry, AuditHead
from backend.db import is_postgres, json_value
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, decode_cursor, encode_cursor

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x46574155  # serialises the first appends on PostgreSQL, before the head exists
_HEAD_FOR_UPDATE = "SELECT id, seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _digest(row: dict[str, Any]) -> str:
    at = row["at"]
    payload = {
        "seq": row["seq"],
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "actor": row["actor"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "data": row["data"],
        "prev_hash": row["prev_hash"],
    }
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


async def record(
    actor: CurrentUser | None,
    action: str,
    object_type: str,
    object_id: uuid.UUID | str,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry. Call inside ``atomic()`` so it commits with the change it describes."""
    head = await _locked_head()
    prev_seq, prev_hash = (head["seq"], head["hash"]) if head else (0, GENESIS)
    row = {
        "seq": prev_seq + 1,
        "at": datetime.now(UTC),
        "actor_id": actor.id if actor else None,
        "actor": actor.username if actor else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "data": _canonical(data or {}),
        "prev_hash": prev_hash,
    }
    row["hash"] = _digest(row)
    await AuditEntry.insert(AuditEntry.from_dict(row)).run()
    if head:
        await (
            AuditHead.update({AuditHead.seq: row["seq"], AuditHead.hash: row["hash"]})
            .where(AuditHead.id == 1)
            .run()
        )
    else:
        await AuditHead.insert(AuditHead(id=1, seq=row["seq"], hash=row["hash"])).run()


async def _locked_head() -> dict[str, Any] | None:
    """The chain's head, locked until the transaction ends so appends happen one at a time.

    On PostgreSQL the head row's own lock serialises appenders in one round trip (a waiter reads the
    head as its predecessor committed it); only while there is no head yet do they queue on an
    advisory lock, then look again. On SQLite the write transaction already excludes other writers."""
    if not is_postgres(AuditEntry._meta.db):
        return await AuditHead.select().where(AuditHead.id == 1).first()
    rows = await AuditHead.raw(_HEAD_FOR_UPDATE)
    if not rows:
        await AuditEntry.raw("SELECT pg_advisory_xact_lock({})", _ADVISORY_LOCK_KEY).run()
        rows = await AuditHead.raw(_HEAD_FOR_UPDATE)
    return rows[0] if rows else None


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    broken_at_seq: int | None = None
    problem: str | None = None


async def verify(batch: int = 1000) -> ChainReport:
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    head_seq, head_hash = (head["seq"], head["hash"]) if head else (0, GENESIS)
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    while True:
        rows = (
            await AuditEntry.select()
            .where(AuditEntry.seq >= expected_seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        )
        if not rows:
            break
        for row in rows:
            if row["seq"] != expected_seq:
                return ChainReport(False, checked, head_seq, expected_seq, "entry missing")
            if row["prev_hash"] != prev_hash:
                return ChainReport(False, checked, head_seq, row["seq"], "link to previous entry broken")
            if _digest(row) != row["hash"]:
                return ChainReport(False, checked, head_seq, row["seq"], "entry content altered")
            prev_hash, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    if checked != head_seq or prev_hash != head_hash:
        return ChainReport(False, checked, head_seq, checked + 1, "newest entries missing")
    return ChainReport(True, checked, head_seq)


async def list_entries(
    cursor: str | None, limit: int, object_type: str | None, object_id: str | None, action: str | None
) -> Page[schemas.AuditEntry]:
    query = AuditEntry.select().order_by(AuditEntry.seq, ascending=False).limit(limit + 1)
    for column, value in (
        (AuditEntry.object_type, object_type),
        (AuditEntry.object_id, object_id),
        (AuditEntry.action, action),
    ):
        if value:
            query = query.where(column == value)
    after = decode_cursor(cursor, 1)
    if after:
        try:
            seq = int(after[0])
        except ValueError:
            seq = -1
        if not 0 < seq < 2**63:  # beyond 64 bits the database itself would fail
            raise AppError(Errors.VALIDATION, "The cursor is not valid.", errors=[{"key": "cursor"}])
        query = query.where(AuditEntry.seq < seq)
    rows = await query
    items = [
        schemas.AuditEntry(
            seq=r["seq"],
            at=r["at"],
            actor_id=r["actor_id"],
            actor=r["actor"],
            action=r["action"],
            object_type=r["object_type"],
            object_id=r["object_id"],
            data=json_value(r["data"]),
            hash=r["hash"],
        )
        for r in rows[:limit]
    ]
    return Page(items=items, next_cursor=encode_cursor(items[-1].seq) if len(rows) > limit else None)
