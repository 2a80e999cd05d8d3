"""The append-only, hash-chained audit log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from backend.audit import heads, schemas
from backend.audit.canonical import canonical, digest, leaf
from backend.audit.merkle import Frontier, consistency_proof, leaf_hash
from backend.audit.merkle import root_of_leaves as merkle_root
from backend.audit.tables import AuditEntry, AuditHead
from backend.db import before_release, is_postgres, json_value
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, decode_cursor, encode_cursor
from backend.lib.signing import IntegrityKey
from media_store import MediaStore

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x46574155  # serialises the first chaining on PostgreSQL, before the head exists
# The comment names the chainer's statements in pg_stat_activity (benchmarks/audit_scaleout.py).
_MARK = " /* audit chainer */"
_HEAD_FOR_UPDATE = "SELECT id, seq, hash FROM audit_head WHERE id = 1 FOR UPDATE /* audit chainer */"
_CHAIN_BATCH = 500  # the LIMIT of _UNCHAINED
_HEAD_WAIT_MS = 5000
_BUSY_RETRIES = 20
_CHAIN_TICK_S = 0.5  # how often a process looks for entries it was not told about
_COMMIT_GRACE_S = 0.005  # a nudge comes from inside the recording transaction: let it commit

_SQLITE_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
_SQLITE_HEAD_MOVE = "UPDATE audit_head SET seq = {}, hash = {} WHERE id = 1"
_SQLITE_HEAD_INSERT = "INSERT INTO audit_head (id, seq, hash) VALUES (1, {}, {})"
# An entry's columns in the order both inserts bind them.
_CONTENT = ("id", "at", "actor_id", "actor", "action", "object_type", "object_id", "data")
_LINK_COLUMNS = ("seq", "prev_hash", "hash")
_SQLITE_INSERT_LINKED = """
INSERT INTO audit_log (id, at, actor_id, actor, action, object_type, object_id, data, seq, prev_hash, hash)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
"""
_INSERT_UNCHAINED = """
INSERT INTO audit_log (id, at, actor_id, actor, action, object_type, object_id, data, seq, prev_hash, hash)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, NULL, NULL, NULL)
"""
_UNCHAINED = """
SELECT id, at, actor_id, actor, action, object_type, object_id, data FROM audit_log
WHERE seq IS NULL ORDER BY at, id LIMIT 500 /* audit chainer */
"""


def _entry(
    actor: CurrentUser | None, action: str, object_type: str, object_id: uuid.UUID | str, data: Any
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "at": datetime.now(UTC),
        "actor_id": actor.id if actor else None,
        "actor": actor.username if actor else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "data": canonical(data or {}),
    }


async def record(
    actor: CurrentUser | None,
    action: str,
    object_type: str,
    object_id: uuid.UUID | str,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry. Call inside ``atomic()`` so it commits with the change it describes.

    On SQLite the write transaction already excludes every other writer, so the entry is linked
    into the chain at once. On PostgreSQL it is written unlinked, and the chainer links committed
    entries in batches in a transaction of its own: no request holds the chain's head, so API
    processes do not wait for one another's commits (docs/integrity.md)."""
    row = _entry(actor, action, object_type, object_id, data)
    if is_postgres(AuditEntry._meta.db):
        await AuditEntry.raw(_INSERT_UNCHAINED, *(row[c] for c in _CONTENT)).run()
        CHAINER.nudge()
        return
    # Written out rather than built by the ORM on every request (building them cost more than
    # running them); the values are bound exactly as the ORM binds them.
    heads_ = await AuditHead.raw(_SQLITE_HEAD)
    head = heads_[0] if heads_ else None
    prev_seq, prev_hash = (head["seq"], head["hash"]) if head else (0, GENESIS)
    row |= {"seq": prev_seq + 1, "prev_hash": prev_hash}
    row["hash"] = digest(row)
    await AuditEntry.raw(_SQLITE_INSERT_LINKED, *(row[c] for c in _CONTENT + _LINK_COLUMNS)).run()
    await AuditHead.raw(_SQLITE_HEAD_MOVE if head else _SQLITE_HEAD_INSERT, row["seq"], row["hash"]).run()


async def settle(*, wait: bool = True) -> int | None:
    """Link every committed unlinked entry into the chain now (PostgreSQL; nothing to do on SQLite):
    readers of the chain's order call it first. Returns how many were linked; with ``wait=False``
    (the chainer), None at once when another chainer holds the head: that one links them."""
    if not is_postgres(AuditEntry._meta.db):
        return 0
    linked = 0
    while True:
        try:
            done = await _chain_batch(wait)
        except asyncpg.LockNotAvailableError:
            if not wait:
                return None
            logging.getLogger(__name__).warning(
                "audit: the chain's head stayed locked for %d ms; linking left to its holder", _HEAD_WAIT_MS
            )
            return linked
        linked += done
        if done < _CHAIN_BATCH:
            return linked


_HEAD_INSERT = "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) /* audit chainer */"
_HEAD_MOVE = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 /* audit chainer */"
_LINK = """
UPDATE audit_log AS e SET seq = l.seq, prev_hash = l.prev_hash, hash = l.hash
FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[]) AS l(id, seq, prev_hash, hash)
WHERE e.id = l.id AND e.seq IS NULL /* audit chainer */
"""


async def _chain_batch(wait: bool) -> int:
    """One batch: lock the head (chainers of every process queue here, requests never do), read the
    oldest unlinked entries that have committed, link them in ``at`` order after the head.

    Every statement goes through this transaction's own connection, taken from the engine once: a
    statement sent through a table bound to another engine meanwhile would wait for this very
    transaction's lock on the head."""
    engine = AuditEntry._meta.db
    async with engine.transaction() as transaction:
        conn = transaction.connection
        # A reader waits for another chainer (it holds the head for milliseconds), but not for one
        # that holds it longer: that one is stuck (its process stalled). A chainer does not wait.
        await conn.execute(f"SET LOCAL lock_timeout = '{_HEAD_WAIT_MS if wait else 1}ms'" + _MARK)
        rows = await conn.fetch(_HEAD_FOR_UPDATE)
        if not rows:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _ADVISORY_LOCK_KEY)
            rows = await conn.fetch(_HEAD_FOR_UPDATE)
        head = rows[0] if rows else None
        pending = await conn.fetch(_UNCHAINED)
        if not pending:
            return 0
        seq, prev_hash = (head["seq"], head["hash"]) if head else (0, GENESIS)
        ids, seqs, prevs, hashes = [], [], [], []
        for record in pending:
            seq += 1
            hash_ = digest({**dict(record), "seq": seq, "prev_hash": prev_hash})
            ids.append(record["id"])
            seqs.append(seq)
            prevs.append(prev_hash)
            hashes.append(hash_)
            prev_hash = hash_
        await conn.execute(_LINK, ids, seqs, prevs, hashes)
        await conn.execute(_HEAD_MOVE if head else _HEAD_INSERT, seq, prev_hash)
        return len(ids)


class Chainer:
    """Links this process's newly recorded entries shortly after they commit, and every process's
    now and then (an entry recorded by the command line, or by a process that stopped)."""

    def __init__(self) -> None:
        self._wakes: set[asyncio.Event] = set()  # one per running app of the process

    def nudge(self) -> None:
        for wake in self._wakes:
            wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set (then once more, so what this process recorded is linked). Stopped
        by the event and never cancelled: a transaction cancelled as it begins keeps its pooled
        connection, and the pool would then never close."""
        log = logging.getLogger(__name__)
        wake = asyncio.Event()
        self._wakes.add(wake)
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), _CHAIN_TICK_S)
                wake.clear()
                if not stop.is_set():
                    await asyncio.sleep(_COMMIT_GRACE_S)
                try:
                    # Another process's chainer at work: it may have read before our entries
                    # committed, so look again shortly rather than queue behind it.
                    for _ in range(_BUSY_RETRIES):
                        if await settle(wait=stop.is_set()) is not None:
                            break
                        await asyncio.sleep(_COMMIT_GRACE_S * 2)
                except Exception:  # the database is away: the entries wait, and are linked later
                    log.exception("linking audit entries failed")
                if stop.is_set():
                    return
        finally:
            self._wakes.discard(wake)


CHAINER = Chainer()
before_release(settle)  # a command's entries are linked before it ends


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
    await settle()
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
    await settle()
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
