"""Signed tree heads (RFC 9162 §4.10 in spirit): tree size, root hash and time, signed with the
server's integrity key. Heads are kept in ``audit_tree_head`` and, printed by ``fieldwatch
audit-head``, by an outside party; a log rewritten or cut short no longer matches them."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from backend.audit.canonical import leaf
from backend.audit.merkle import Frontier, leaf_hash
from backend.audit.tables import AuditEntry, AuditHead, AuditTreeHead
from backend.db import is_unique_violation
from backend.lib.signing import ALGORITHM, IntegrityKey, verify_signature
from backend.lib.signing import public_key_from_b64 as _public_key

FORMAT = "fieldwatch-sth/1"
_BATCH = 1000


def message(tree_size: int, root_hash: str, timestamp: int) -> bytes:
    """The bytes a head's signature covers (documented in docs/integrity.md)."""
    return f"{FORMAT}\n{tree_size}\n{root_hash}\n{timestamp}\n".encode()


@dataclass(frozen=True)
class SignedHead:
    tree_size: int
    root_hash: str  # hex
    timestamp: int  # ms since the epoch
    key_id: str
    signature: str  # base64 Ed25519 over message()

    def signed_by(self, key: IntegrityKey) -> bool:
        return self.key_id == key.key_id and key.verify(
            self.signature, message(self.tree_size, self.root_hash, self.timestamp)
        )

    def as_json(self, key: IntegrityKey | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
            "algorithm": ALGORITHM,
        }
        if key is not None:
            out["public_key"] = key.public_b64
        return out


class HeadRejected(ValueError):
    """An outside head that is not a head at all (its fields, not its truth)."""


def parse(value: Any) -> SignedHead:
    """A head as kept outside (the JSON ``fieldwatch audit-head`` prints)."""
    if not isinstance(value, dict):
        raise HeadRejected("a tree head is a JSON object")
    try:
        size, root, stamp = value["tree_size"], value["root_hash"], value["timestamp"]
        key_id, signature = value["key_id"], value["signature"]
    except KeyError as exc:
        raise HeadRejected(f"a tree head needs {exc.args[0]}") from None
    if not (isinstance(size, int) and not isinstance(size, bool) and 0 < size < 2**63):
        raise HeadRejected("tree_size must be a positive integer")
    if not (isinstance(stamp, int) and not isinstance(stamp, bool) and 0 <= stamp < 2**63):
        raise HeadRejected("timestamp must be milliseconds since the epoch")
    if not (isinstance(root, str) and len(root) == 64 and all(c in "0123456789abcdef" for c in root)):
        raise HeadRejected("root_hash must be 64 lowercase hexadecimal digits")
    if not (isinstance(key_id, str) and 0 < len(key_id) <= 64):
        raise HeadRejected("key_id must be a short string")
    if not (isinstance(signature, str) and 0 < len(signature) <= 200):
        raise HeadRejected("signature must be base64")
    return SignedHead(size, root, stamp, key_id, signature)


def check_with_public_key(head: SignedHead, public_key_b64: str) -> bool:
    """What an outside party does with the published key."""
    return verify_signature(
        _public_key(public_key_b64), head.signature, message(head.tree_size, head.root_hash, head.timestamp)
    )


def _from_row(row: dict[str, Any]) -> SignedHead:
    return SignedHead(row["tree_size"], row["root_hash"], row["timestamp"], row["key_id"], row["signature"])


async def stored() -> list[SignedHead]:
    rows = await AuditTreeHead.select().order_by(AuditTreeHead.tree_size)
    return [_from_row(r) for r in rows]


async def newest() -> SignedHead | None:
    row = await AuditTreeHead.select().order_by(AuditTreeHead.tree_size, ascending=False).first()
    return _from_row(row) if row else None


async def _start(key: IntegrityKey) -> Frontier:
    """The frontier to extend: the newest head's, when it is this key's and its root checks out."""
    row = await AuditTreeHead.select().order_by(AuditTreeHead.tree_size, ascending=False).first()
    if row is None:
        return Frontier()
    try:
        frontier = Frontier.from_hex(row["tree_size"], json.loads(row["frontier"]))
    except (ValueError, TypeError):
        return Frontier()
    if frontier.root().hex() != row["root_hash"] or not _from_row(row).signed_by(key):
        return Frontier()  # start over from the entries rather than extend a doubtful frontier
    return frontier


async def sign(key: IntegrityKey, *, min_new: int = 1) -> SignedHead | None:
    """Sign a head over the whole log as committed now, when it grew by ``min_new`` or more entries
    since the newest head; the new head, or None when there was nothing to sign."""
    head = await AuditHead.select(AuditHead.seq).where(AuditHead.id == 1).first()
    size = head["seq"] if head else 0
    frontier = await _start(key)
    if size - frontier.size < min_new or size <= frontier.size:
        return None
    while frontier.size < size:
        rows = (
            await AuditEntry.select()
            .where((AuditEntry.seq > frontier.size) & (AuditEntry.seq <= size))
            .order_by(AuditEntry.seq)
            .limit(_BATCH)
        )
        if not rows:
            return None  # the head claims entries that are not there: verify reports it
        for row in rows:
            if row["seq"] != frontier.size + 1:
                return None
            frontier.append(leaf_hash(leaf(row)))
    root = frontier.root().hex()
    stamp = int(time.time() * 1000)
    signed = SignedHead(size, root, stamp, key.key_id, key.sign(message(size, root, stamp)))
    try:
        await AuditTreeHead.insert(
            AuditTreeHead(
                id=uuid.uuid4(),
                tree_size=size,
                root_hash=root,
                timestamp=stamp,
                key_id=signed.key_id,
                signature=signed.signature,
                frontier=json.dumps(frontier.to_hex()),
            )
        ).run()
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        return None  # another process signed this size first
    return signed
