"""Reading an uploaded table: CSV (UTF-8, BOM tolerated) or XLSX (first sheet), first row = headers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from backend.lib.errors import AppError, Errors
from backend.lib.tables import XLSX

MAX_BYTES = 5 * 2**20
MAX_ROWS = 5000
MAX_SHEET_ROWS = 4 * MAX_ROWS  # blank rows included
MEDIA_TYPES = ("text/csv", XLSX)


@dataclass(frozen=True)
class SheetRow:
    row: int  # the line in the file, the header being 1
    cells: dict[str, str]  # field → the cell's text, stripped ("" when empty)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(content_type: str, body: bytes) -> list[list[str]]:
    if content_type == "text/csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise AppError(Errors.IMPORT_UNREADABLE, "The CSV is not UTF-8 text.") from None
        return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception:
        raise AppError(Errors.IMPORT_UNREADABLE, "The file is not a readable XLSX workbook.") from None
    try:
        # A small workbook can describe a huge sheet: read no further than an import could take.
        rows = book.worksheets[0].iter_rows(values_only=True, max_row=MAX_SHEET_ROWS + 1)
        table = [[_text(c) for c in r] for r in rows]
    finally:
        book.close()
    if len(table) > MAX_SHEET_ROWS:
        raise AppError(
            Errors.IMPORT_TOO_MANY_ROWS,
            f"The sheet has more than {MAX_SHEET_ROWS} rows; one import takes at most {MAX_ROWS}.",
        )
    return table


def read_sheet(
    content_type: str, body: bytes, columns: dict[str, str], required: tuple[str, ...]
) -> list[SheetRow]:
    """Rows keyed by field. ``columns`` maps each accepted header (Chinese or the English code) to
    its field; a header missing a ``required`` field is refused naming it; blank rows are skipped."""
    if content_type not in MEDIA_TYPES:
        raise AppError(Errors.UNSUPPORTED_MEDIA, "Send the file as text/csv or an XLSX workbook.")
    if len(body) > MAX_BYTES:
        raise AppError(Errors.TOO_LARGE, f"The file is over {MAX_BYTES // 2**20} MB.")
    table = _table(content_type, body)
    header = [columns.get(h.strip(), columns.get(h.strip().lower(), "")) for h in (table[0] if table else [])]
    missing = [f for f in required if f not in header]
    if missing:
        names = {field: [h for h, f in columns.items() if f == field] for field in missing}
        wanted = "; ".join(f"{' / '.join(names[f])}" for f in missing)
        raise AppError(Errors.IMPORT_COLUMNS, f"The header row lacks: {wanted}.", missing=missing)
    rows = []
    for n, raw in enumerate(table[1:], start=2):
        if not any(raw):
            continue
        cells = {f: v for f, v in zip(header, raw, strict=False) if f}
        rows.append(SheetRow(n, {f: cells.get(f, "") for f in set(columns.values())}))
    if len(rows) > MAX_ROWS:
        raise AppError(
            Errors.IMPORT_TOO_MANY_ROWS,
            f"The file has {len(rows)} rows; one import takes at most {MAX_ROWS}.",
        )
    return rows
