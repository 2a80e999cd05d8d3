"""The append-only, hash-chained audit log."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.audit import heads, schemas
from backend.audit.canonical import canonical, digest, leaf
from backend.audit.merkle import Frontier, consistency_proof, leaf_hash
from backend.audit.merkle import root_of_leaves as merkle_root
from backend.audit.tables import AuditEntry, AuditHead
from backend.db import is_postgres, json_value
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, decode_cursor, encode_cursor
from backend.lib.signing import IntegrityKey
from media_store import MediaStore

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x46574155  # serialises the first appends on PostgreSQL, before the head exists
_HEAD_FOR_UPDATE = "SELECT id, seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"


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
        "data": canonical(data or {}),
        "prev_hash": prev_hash,
    }
    row["hash"] = digest(row)
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
    problem: str | None = None  # the first problem found
    problems: tuple[str, ...] = ()
    heads_checked: int = 0  # signed tree heads (stored and outside) checked against the log
    signed_size: int = 0  # entries covered by the newest valid stored head


Check = Callable[[MediaStore, IntegrityKey], Awaitable[list[str]]]
_CHECKS: list[Check] = []


def register_check(check: Check) -> None:
    """A higher domain's check of records the log vouches for (evidence rows against their upload
    entries); ``/audit/verify`` runs it too. Filled by the app factory."""
    if check not in _CHECKS:
        _CHECKS.append(check)


async def verify_records(store: MediaStore, key: IntegrityKey) -> list[str]:
    problems: list[str] = []
    for check in _CHECKS:
        problems += await check(store, key)
    return problems


@dataclass
class _Pending:
    head: heads.SignedHead
    label: str


def _label(head: heads.SignedHead, where: str) -> str:
    at = datetime.fromtimestamp(head.timestamp / 1000, UTC).isoformat(timespec="seconds")
    return f"{where} tree head of size {head.tree_size} (signed {at})"


async def verify(
    key: IntegrityKey | None = None, outside: Sequence[heads.SignedHead] = (), batch: int = 1000
) -> ChainReport:
    """The hash chain, and the Merkle tree against every stored signed head and every head kept
    outside (``outside``): each head must bear a valid signature of this server's key and the root
    of the log's first ``tree_size`` entries must be its root, so an entry rewritten with the chain
    recomputed, or the newest entries dropped with the head moved back, shows."""
    problems: list[str] = []
    broken: int | None = None

    def fail(problem: str, seq: int | None) -> None:
        nonlocal broken
        if not problems:
            broken = seq
        problems.append(problem)

    # Heads first, then the chain's head: a head signed meanwhile never claims more than we read.
    kept = await heads.stored()
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    head_seq, head_hash = (head["seq"], head["hash"]) if head else (0, GENESIS)
    pending: list[_Pending] = []
    signed_size, last_stamp = 0, -1
    for h in kept:
        label = _label(h, "the stored")
        if key is not None and not h.signed_by(key):
            fail(f"{label} does not bear a valid signature of this server's key (forged or altered)", None)
            continue
        if h.timestamp < last_stamp:
            fail(f"{label} is older than a smaller head: the stored heads were tampered with", None)
        last_stamp = h.timestamp
        signed_size = max(signed_size, h.tree_size)
        pending.append(_Pending(h, label))
    for h in outside:
        label = _label(h, "the outside")
        if key is not None and not h.signed_by(key):
            fail(f"{label} does not bear a valid signature of this server's key", None)
            continue
        pending.append(_Pending(h, label))
    pending.sort(key=lambda p: p.head.tree_size)

    frontier = Frontier()
    chain_ok, expected_seq, prev_hash, checked, last_seq = True, 1, GENESIS, 0, 0
    while True:
        rows = (
            await AuditEntry.select().where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
        )
        if not rows:
            break
        for row in rows:
            last_seq = row["seq"]
            if chain_ok:
                if row["seq"] != expected_seq:
                    fail("entry missing", expected_seq)
                    chain_ok = False
                elif row["prev_hash"] != prev_hash:
                    fail("link to previous entry broken", row["seq"])
                    chain_ok = False
                elif digest(row) != row["hash"]:
                    fail("entry content altered", row["seq"])
                    chain_ok = False
                else:
                    prev_hash, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
            frontier.append(leaf_hash(leaf(row)))
            while pending and pending[0].head.tree_size == frontier.size:
                p = pending.pop(0)
                if frontier.root().hex() != p.head.root_hash:
                    fail(
                        f"the log's first {p.head.tree_size} entries do not match {p.label}: "
                        "entries were rewritten",
                        None,
                    )
    if chain_ok and (checked != head_seq or prev_hash != head_hash):
        fail("newest entries missing", checked + 1)
    for p in pending:
        fail(
            f"the log has {frontier.size} entries but {p.label} covers {p.head.tree_size}: "
            "entries were removed",
            frontier.size + 1,
        )
    return ChainReport(
        not problems,
        checked,
        head_seq,
        broken,
        problems[0] if problems else None,
        tuple(problems),
        len(kept) + len(outside),
        signed_size,
    )


async def consistency(first: int, second: int, batch: int = 1000) -> schemas.Consistency:
    """RFC 9162 §2.1.4 consistency proof between the log's trees of sizes ``first`` and ``second``,
    for an outside party holding two heads (or one head and the newest): they check it against the
    roots they kept, never against the roots this answer carries."""
    head = await AuditHead.select(AuditHead.seq).where(AuditHead.id == 1).first()
    size = head["seq"] if head else 0
    if not 0 < first <= second <= size:
        raise AppError(
            Errors.VALIDATION,
            f"Need 0 < first <= second <= {size}, the log's size.",
            errors=[{"key": "first" if not 0 < first <= second else "second"}],
        )
    leaves: list[bytes] = []
    while len(leaves) < second:
        rows = (
            await AuditEntry.select()
            .where((AuditEntry.seq > len(leaves)) & (AuditEntry.seq <= second))
            .order_by(AuditEntry.seq)
            .limit(batch)
        )
        if not rows:
            break
        leaves += [leaf_hash(leaf(r)) for r in rows]
    if len(leaves) != second:
        raise AppError(Errors.CONFLICT, "The log has fewer entries than its head says: run verify.")
    return schemas.Consistency(
        first=first,
        second=second,
        first_root=merkle_root(leaves[:first]).hex(),
        second_root=merkle_root(leaves).hex(),
        proof=[h.hex() for h in consistency_proof(leaves, first)],
    )


@dataclass(frozen=True)
class EntryFilter:
    """What the audit screen filters by: object, action, who (username), and a time range."""

    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


async def list_entries(cursor: str | None, limit: int, where: EntryFilter) -> Page[schemas.AuditEntry]:
    query = AuditEntry.select().order_by(AuditEntry.seq, ascending=False).limit(limit + 1)
    for column, value in (
        (AuditEntry.object_type, where.object_type),
        (AuditEntry.object_id, where.object_id),
        (AuditEntry.action, where.action),
        (AuditEntry.actor, where.actor),
    ):
        if value:
            query = query.where(column == value)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
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
