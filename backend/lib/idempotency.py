"""Idempotent creation: a client-chosen id, or an Idempotency-Key mapped to a stable id.

Mapping the key to a UUIDv5 (per user and resource kind) makes the key and the id the same
mechanism, so a replay is found by primary key and no separate key table is needed.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import msgspec

from backend.lib.errors import AppError, Errors

_NAMESPACE = uuid.UUID("0b5cbd5e-6a43-4f8e-9a0e-5f1f3f0b7a11")
MAX_KEY_LENGTH = 200


def resource_id(explicit: uuid.UUID | None, key: str | None, user_id: uuid.UUID, kind: str) -> uuid.UUID:
    if explicit is not None:
        return explicit
    if key:
        if len(key) > MAX_KEY_LENGTH:
            raise AppError(Errors.VALIDATION, f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters.")
        return uuid.uuid5(_NAMESPACE, f"{kind}:{user_id}:{key}")
    return uuid.uuid4()


def request_hash(data: msgspec.Struct, **normalised: Any) -> str:
    """A digest of the request as it means, not as it was spelled (``id`` excluded)."""
    body = msgspec.to_builtins(data)
    body.pop("id", None)
    body.update({k: msgspec.to_builtins(v) for k, v in normalised.items()})
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()


def mismatch() -> AppError:
    return AppError(
        Errors.IDEMPOTENCY_MISMATCH,
        "This id (or Idempotency-Key) was already used for a different request.",
    )
