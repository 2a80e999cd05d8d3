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
