"""Column values as Python, whichever engine read them."""

from __future__ import annotations

import json
from typing import Any


def json_value(value: Any, default: Any = None) -> Any:
    """A JSON column: SQLite hands back its text, PostgreSQL may hand back the decoded value; an
    empty or NULL column (or empty text) is ``default``."""
    if isinstance(value, str | bytes):
        value = json.loads(value) if value else None
    return default if value is None else value
