"""Keyset pagination with an opaque cursor."""

from __future__ import annotations

import base64
import json
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
    if not isinstance(values, list) or len(values) != parts or not all(isinstance(v, str) for v in values):
        raise AppError(Errors.VALIDATION, "The cursor is not valid.", errors=[{"key": "cursor"}])
    return values
