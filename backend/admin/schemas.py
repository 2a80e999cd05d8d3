from __future__ import annotations

from typing import Any, Literal

import msgspec

ImportKind = Literal["items", "delegations", "users"]
RowAction = Literal["create", "change", "unchanged", "refuse"]


class RowError(msgspec.Struct):
    field: str
    message: str


class RowPlan(msgspec.Struct):
    """One data row of the file (``row`` counts the header as 1) and what importing it does."""

    row: int
    action: RowAction
    key: str
    changes: dict[str, list[Any]] = {}
    errors: list[RowError] = []


class ImportResult(msgspec.Struct):
    kind: ImportKind
    dry_run: bool
    applied: bool
    rows: list[RowPlan]
    counts: dict[str, int]
