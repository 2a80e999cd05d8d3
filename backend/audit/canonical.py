"""How an audit entry is written down for hashing: one canonical JSON text, the same on both engines."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_text(row: dict[str, Any]) -> str:
    """An entry with its link to the previous one: what its chain hash and its Merkle leaf cover."""
    payload = {
        "seq": row["seq"],
        "at": row["at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "actor": row["actor"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "data": row["data"],
        "prev_hash": row["prev_hash"],
    }
    return canonical(payload)


def digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(entry_text(row).encode()).hexdigest()


def leaf(row: dict[str, Any]) -> bytes:
    return entry_text(row).encode()
