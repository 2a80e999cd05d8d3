"""Keyset pagination with an opaque cursor."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec

from backend.lib.errors import AppError, Errors

T = TypeVar("T")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, parts: int) -> list[str] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise AppError(Errors.VALIDATION, "The cursor is not valid.", errors=[{"key": "cursor"}]) from None
    # A cursor is opaque but not trusted: one we issued never holds U+0000 (which PostgreSQL cannot
    # compare against text).
    if (
        not isinstance(values, list)
        or len(values) != parts
        or not all(isinstance(v, str) and "\x00" not in v for v in values)
    ):
        raise AppError(Errors.VALIDATION, "The cursor is not valid.", errors=[{"key": "cursor"}])
    return values


def decode_time_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A (created_at, id) cursor for newest-first feeds."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values[0]), uuid.UUID(values[1])
    except ValueError:
        raise AppError(Errors.VALIDATION, "The cursor is not valid.", errors=[{"key": "cursor"}]) from None


def newest_first_after(created_at: Any, id_column: Any, cursor: str | None) -> Any | None:
    """The where-clause for the page after ``cursor`` in (created_at, id) descending order."""
    after = decode_time_cursor(cursor)
    if after is None:
        return None
    at, last = after
    # The leading bound lets the database range-scan its (created_at, id) index from the cursor on.
    return (created_at <= at) & ((created_at < at) | (id_column < last))


def time_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    return encode_cursor(created_at.isoformat(), item_id)
