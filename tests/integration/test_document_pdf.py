"""The issued PDF (GB/T 9704-2012 layout): A4, fonts embedded, the number, title and unit in the
text, the 版心 156 × 225 mm at 28 mm / 37 mm within 1 mm, 28 characters × 22 lines, page numbers."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from backend.org.tables import Unit
from tests.conftest import World
from tests.integration.document_helpers import issued

DOCS = "/api/v1/supervision-documents"
DPI = 150
MM = DPI / 25.4
# Outside CI a machine without poppler-utils skips these; in CI (scripts/test.sh installs it) they
# always run, and fail if the tool is missing.
pytestmark = pytest.mark.skipif(
    not shutil.which("pdftoppm") and not os.environ.get("CI"),
    reason="needs poppler-utils (scripts/test.sh installs it)",
)


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


async def _pdf(client, as_user, world: World, tmp_path: Path, **overrides) -> tuple[dict, Path]:
    doc = await issued(client, world, **overrides)
    response = await client.get(f"{DOCS}/{doc['id']}/pdf", headers=await as_user("officer_a1"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == doc["pdf"]["sha256"]
    path = tmp_path / "doc.pdf"
    path.write_bytes(response.content)
    return doc, path


def _ink(png: Path, below_mm: float = 0, above_mm: float = 297) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom, in mm) of the dark and red pixels between two heights."""
    image = Image.open(png).convert("L")
    width, height = image.size
    band = image.crop((0, int(below_mm * MM), width, min(int(above_mm * MM), height)))
    left, top, right, bottom = band.point(lambda v: 255 if v < 200 else 0).getbbox()  # type: ignore[misc]
    return left / MM, top / MM + below_mm, right / MM, bottom / MM + below_mm


async def test_the_pdf_is_a4_with_embedded_fonts_and_says_number_title_and_unit(
    client, as_user, world: World, tmp_path
) -> None:
    doc, path = await _pdf(client, as_user, world, tmp_path)
    assert "Page size:       595.276 x 841.89 pts (A4)" in _run("pdfinfo", str(path))
    fonts = _run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    text = re.sub(r"\s+", "", _run("pdftotext", str(path), "-"))
    unit = await Unit.select(Unit.name).where(Unit.id == world.town_a).first()
    assert doc["number"].replace(" ", "") in text and doc["title"] in text and unit["name"] in text
    year, month, day = doc["issued_on"].split("-")
    assert f"{int(year)}年{int(month)}月{int(day)}日" in text  # 成文日期 in Arabic numerals, no leading zeros
    again = await client.get(f"{DOCS}/{doc['id']}/pdf", headers=await as_user("supervisor"))
    assert (
        hashlib.sha256(again.content).hexdigest() == doc["pdf"]["sha256"]
    )  # the stored bytes, not a re-render


async def test_the_layout_keeps_the_type_area_margins_within_1_mm(
    client, as_user, world: World, tmp_path
) -> None:
    # Enough text for a full second page of 22 lines.
    facts = "经查你单位执法人员现场执法时未全程开启执法记录仪存在问题" * 40
    _, path = await _pdf(client, as_user, world, tmp_path, facts=facts)
    assert "Pages:           3" in _run("pdfinfo", str(path))
    _run("pdftoppm", "-r", str(DPI), "-f", "1", "-l", "2", "-png", str(path), str(tmp_path / "page"))
    first, second = tmp_path / "page-1.png", tmp_path / "page-2.png"
    # Page 1: the red 发文机关标志 starts 35 mm into the 版心 (72 mm from the top); the red rule spans it.
    image = Image.open(first).convert("RGB")
    red = Image.eval(image.split()[0], lambda v: 255 if v > 180 else 0)
    green = Image.eval(image.split()[1], lambda v: 255 if v < 80 else 0)
    left, top, right, _ = Image.composite(red, Image.new("L", image.size), green).getbbox()  # type: ignore[misc]
    assert abs(left / MM - 28) <= 1 and abs(right / MM - 184) <= 1 and abs(top / MM - 72) <= 1
    # Page 2 is all body text: 28 mm left, 26 mm right, 37 mm top; 22 lines end inside the 版心.
    left, top, right, bottom = _ink(second, 0, 263)
    assert abs(left - 28) <= 1 and abs(right - 184) <= 1 and abs(top - 37) <= 1, (left, top, right, bottom)
    assert 262 - 225 / 22 < bottom <= 262, bottom
    page = _ink(second, 263)  # the page number: 7 mm below the 版心, on the left of an even page
    assert 268 <= page[1] <= 271 and page[0] < 105, page
    lines = [
        line
        for line in _run("pdftotext", "-f", "2", "-l", "2", "-layout", str(path), "-").splitlines()
        if line.strip()
    ]
    body = [line.strip() for line in lines if "—" not in line]
    assert len(body) == 22 and all(len(line) == 28 for line in body), body
    assert "—2—" in "".join(lines).replace(" ", "")
