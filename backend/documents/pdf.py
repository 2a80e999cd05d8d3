"""The issued PDF, typeset with typst after GB/T 9704-2012 (templates/document.typ), rendered once in
the issuing transaction and stored in the media store like evidence: content-addressed, never
overwritten. Fonts: see docs/documents.md (free CJK fonts from Debian stand in for 方正小标宋 and
仿宋_GB2312)."""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import typst
from anyio import to_thread

from backend.documents.tables import TYPES, SupervisionDocument
from backend.org.tables import Unit
from backend.settings import Settings
from media_store import MediaStore

TEMPLATE = Path(__file__).with_name("templates") / "document.typ"
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype")
BODY_FONT = "Noto Serif CJK SC"  # stands in for 仿宋_GB2312
TITLE_FONT = "Noto Serif CJK SC"  # bold, stands in for 方正小标宋

_lock = threading.Lock()  # one shared compiler (its font cache is the expensive part); not re-entrant
_compiler: typst.Compiler | None = None


def _get_compiler() -> typst.Compiler:
    global _compiler
    if _compiler is None:
        fonts = [d for d in FONT_DIRS if Path(d).is_dir()]
        _compiler = typst.Compiler(font_paths=fonts, ignore_system_fonts=bool(fonts))
    return _compiler


def chinese_date(day: date) -> str:
    """成文日期 in Arabic numerals, no leading zeros (GB/T 9704-2012 §7.3.5): 2026年12月2日."""
    return f"{day.year}年{day.month}月{day.day}日"


def deadline_sentence(row: dict[str, Any]) -> str | None:
    if row["due_on"] is None:
        return None
    return f"请于{chinese_date(row['due_on'])}前将整改情况书面报告本机关。"


def content(row: dict[str, Any], unit_name: str, issuer: str, cited: str | None) -> dict[str, Any]:
    """What the template sets, as plain strings."""
    paragraphs = []
    if cited:
        paragraphs.append(f"本文书更正{cited}。")
    for label, text in (("问题事实", row["facts"]), ("依据", row["basis"]), ("要求", row["requirement"])):
        for i, part in enumerate(p.strip() for p in text.splitlines() if p.strip()):
            paragraphs.append(f"{label}：{part}" if i == 0 else part)
    sentence = deadline_sentence(row)
    if sentence:
        paragraphs.append(sentence)
    record = (
        "（期限按暂定工作日历计算，国务院公布该年度放假安排后重新计算，不早于本期限。）"
        if row["due_provisional"]
        else ""
    )
    return {
        "issuer": issuer,
        "number": row["number"],
        "title": row["title"] or TYPES[row["type"]],
        "type_name": TYPES[row["type"]],
        "addressee": unit_name,
        "paragraphs": paragraphs,
        "date": chinese_date(row["issued_on"]),
        "record": record,
        "fonts": {"body": BODY_FONT, "title": TITLE_FONT},
    }


def render_pdf(data: dict[str, Any]) -> bytes:
    return typeset(TEMPLATE, data)


def typeset(template: Path, data: dict[str, Any]) -> bytes:
    """A typst template to PDF, with ``data`` as its ``sys.inputs.data`` JSON (other domains' printable
    reports use the same compiler and fonts)."""
    source = template.read_bytes()
    with _lock:
        pdf = _get_compiler().compile(
            input=source, format="pdf", sys_inputs={"data": json.dumps(data, ensure_ascii=False)}
        )
    assert isinstance(pdf, bytes)
    return pdf


async def render(row: dict[str, Any], issuer: str) -> bytes:
    unit = await Unit.select(Unit.name).where(Unit.id == row["unit_id"]).first()
    cited = None
    if row["cites_id"]:
        old = (
            await SupervisionDocument.select(SupervisionDocument.number)
            .where(SupervisionDocument.id == row["cites_id"])
            .first()
        )
        cited = old["number"] if old else None
    data = content(row, unit["name"] if unit else "", issuer, cited)
    return await to_thread.run_sync(render_pdf, data)


def renderer(store: MediaStore) -> Callable[[dict[str, Any], str, Settings], Awaitable[dict[str, Any]]]:
    """The issuing transaction's renderer: typeset, store, and return where the bytes are."""

    async def render_and_store(row: dict[str, Any], issuer: str, settings: Settings) -> dict[str, Any]:
        pdf = await render(row, issuer)
        stored = await store.put_bytes(pdf, content_type="application/pdf")
        return {"key": stored.key, "sha256": stored.sha256, "size": stored.size}

    return render_and_store
