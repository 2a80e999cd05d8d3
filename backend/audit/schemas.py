from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec


class AuditEntry(msgspec.Struct):
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor: str | None
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any]
    hash: str


class ChainCheck(msgspec.Struct):
    ok: bool
    checked: int
    head_seq: int
    broken_at_seq: int | None
    problem: str | None
    problems: list[str]  # every problem found: the chain, the signed heads, the records
    heads_checked: int
    signed_size: int


class TreeHead(msgspec.Struct):
    """A signed tree head, as an outside party keeps it (``fieldwatch audit-head`` prints the same)."""

    tree_size: int
    root_hash: str
    timestamp: int
    key_id: str
    signature: str
    format: str = "fieldwatch-sth/1"
    algorithm: str = "Ed25519"
    public_key: str | None = None


class OutsideHeads(msgspec.Struct):
    heads: list[dict[str, Any]]


class PublicKey(msgspec.Struct):
    algorithm: str
    key_id: str
    public_key: str  # base64 of the raw 32-byte Ed25519 key
    public_key_pem: str


class Consistency(msgspec.Struct):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]  # hex, RFC 9162 §2.1.4 order
