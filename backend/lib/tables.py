"""Tables as files people open in a spreadsheet: CSV (UTF-8 with a byte-order mark, so Excel reads
the Chinese) and XLSX (openpyxl: a bold, frozen header row and column widths; notes on a second
sheet)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"csv": "text/csv", "xlsx": XLSX, "pdf": "application/pdf"}


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]]
    widths: Sequence[float] = ()


def to_csv(table: Table, extra: list[list[str]] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    for line in extra or []:
        writer.writerow(line)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, extra: list[list[str]] | None = None, extra_title: str = "说明") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "报表"
    sheet.append(table.header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for n, width in enumerate(table.widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    if extra:
        notes = book.create_sheet(extra_title)
        for line in extra:
            notes.append(line)
        notes.column_dimensions["A"].width = 14
        notes.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
