"""Faster ``sqlite3`` converters for the column types every row carries, same results as Piccolo's.

Piccolo registers a converter per declared column type (``UUID``, ``INTEGER``, ``TIMESTAMPTZ``…) in
the ``sqlite3`` module, each wrapped to accept ``str`` or ``bytes``. A feed page converts ~400 UUIDs,
and that was about a sixth of its CPU: ``uuid.UUID(text)`` re-parses every value although most of
them (unit, item, officer ids) repeat from row to row.

Here, for the values SQLite hands a converter (always ``bytes``):

* ``UUID``: the canonical text is looked up in a bounded cache of UUIDs seen, else built from its 32
  hex digits; anything else goes to Piccolo's converter (same value, same error).
* ``INTEGER``: ``int()`` of the text, Piccolo's ``Decimal`` path only for what ``int()`` refuses
  (``"1.0"``).
* ``TIMESTAMPTZ`` and ``BOOLEAN``: Piccolo's conversion without the ``str``/``bytes`` dispatch.

Registration is process-wide (``sqlite3`` has one converter table), so it applies to Piccolo's own
engine too; ``register()`` is idempotent.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from typing import Any

from piccolo.engine import sqlite as piccolo_sqlite

UUID_CACHE_SIZE = 8192
_uuid_cache: dict[bytes, uuid.UUID] = {}
_new = object.__new__
_set = object.__setattr__
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_UTC = dt.UTC


def uuid_out(value: bytes) -> uuid.UUID:
    cached = _uuid_cache.get(value)
    if cached is not None:
        return cached
    digits = value.replace(b"-", b"")
    if len(value) != 36 or len(digits) != 32:
        return piccolo_sqlite.convert_uuid_out(value)
    # What uuid.UUID(hex) stores (it too ends in int(digits, 16)); a UUID is immutable, so shared.
    result = _new(uuid.UUID)
    _set(result, "int", int(digits, 16))
    _set(result, "is_safe", _SAFE_UNKNOWN)
    if len(_uuid_cache) >= UUID_CACHE_SIZE:
        _uuid_cache.clear()
    _uuid_cache[value] = result
    return result


def int_out(value: bytes) -> int:
    try:
        return int(value)
    except ValueError:
        return piccolo_sqlite.convert_int_out(value)


def timestamptz_out(value: bytes) -> dt.datetime:
    return dt.datetime.fromisoformat(value.decode()).replace(tzinfo=_UTC)


def boolean_out(value: bytes) -> bool:
    return value == b"1"


CONVERTERS: dict[str, Any] = {
    "UUID": uuid_out,
    "INTEGER": int_out,
    "TIMESTAMPTZ": timestamptz_out,
    "BOOLEAN": boolean_out,
}


def register() -> None:
    for declared_type, converter in CONVERTERS.items():
        sqlite3.register_converter(declared_type, converter)
