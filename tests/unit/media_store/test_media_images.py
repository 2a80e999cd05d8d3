"""Capture metadata, thumbnails, the CJK watermark and decompression-bomb refusal, on images built here."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFont, ImageStat

from media_store import images
from media_store.images import FontUnavailable, ImageRejected

RED, BLUE = (220, 20, 20), (20, 20, 220)
STAMP = [
    "2025-05-01 09:30:15 服务器时间",
    "上海市 北纬31.2340° 东经121.4700°",
    "执法人员 张三 NC-0001",
    "西城街道综合行政执法队",
]


def photo(
    path: Path,
    size: tuple[int, int] = (400, 300),
    orientation: int | None = None,
    with_exif: bool = True,
) -> Path:
    """Left half red, right half blue (in stored pixel order), with a phone's EXIF."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    if with_exif:
        exif[ExifTags.Base.Make] = "HUAWEI"
        exif[ExifTags.Base.Model] = "HUAWEI P60"
        exif[ExifTags.IFD.Exif] = {
            ExifTags.Base.DateTimeOriginal: "2025:05:01 09:30:15",
            ExifTags.Base.OffsetTimeOriginal: "+08:00",
        }
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (31.0, 14.0, 2.4),
            ExifTags.GPS.GPSLongitudeRef: "W",
            ExifTags.GPS.GPSLongitude: (121.0, 28.0, 12.0),
        }
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    img.save(path, "JPEG", quality=90, exif=exif)
    return path


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width`` x ``height`` pixels in a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    img.load()
    return img


def test_metadata_from_exif(tmp_path: Path) -> None:
    meta = images.metadata(photo(tmp_path / "p.jpg", orientation=6))
    assert meta["captured_at"] == datetime(2025, 5, 1, 9, 30, 15, tzinfo=timezone(timedelta(hours=8)))
    assert meta["gps"] == {"lat": pytest.approx(31.234), "lon": pytest.approx(-121.47)}
    assert meta["device"] == "HUAWEI P60"
    assert (meta["width"], meta["height"]) == (300, 400), "dimensions as displayed"


@pytest.mark.parametrize(("subsec", "microsecond"), [("25", 250_000), (b"\xc2\xb2", 0), ("x1", 0)])
def test_sub_seconds_are_read_when_they_are_ascii_digits(
    tmp_path: Path, subsec: str | bytes, microsecond: int
) -> None:
    # "²" (UTF-8 in the tag) passes str.isdigit() but not int(): it once failed the whole upload.
    exif = Image.Exif()
    exif[ExifTags.IFD.Exif] = {
        ExifTags.Base.DateTimeOriginal: "2025:05:01 09:30:15",
        ExifTags.Base.OffsetTimeOriginal: "+08:00",
        ExifTags.Base.SubsecTimeOriginal: subsec,
    }
    Image.new("RGB", (40, 30)).save(tmp_path / "p.jpg", "JPEG", exif=exif)
    captured = images.metadata(tmp_path / "p.jpg")["captured_at"]
    assert captured == datetime(2025, 5, 1, 9, 30, 15, microsecond, tzinfo=timezone(timedelta(hours=8)))


def test_metadata_without_exif(tmp_path: Path) -> None:
    meta = images.metadata(photo(tmp_path / "p.jpg", with_exif=False))
    assert meta == {"captured_at": None, "gps": None, "device": None, "width": 400, "height": 300}


def test_thumbnail_honours_orientation(tmp_path: Path) -> None:
    source = photo(tmp_path / "p.jpg", size=(1200, 900), orientation=6)
    thumb = decode(images.thumbnail(source, max_side=320))
    assert thumb.size == (240, 320), "orientation 6 is a portrait photo"
    # Rotating 90° clockwise moves the stored left half (red) to the top.
    assert _close(thumb.getpixel((120, 20)), RED) and _close(thumb.getpixel((120, 300)), BLUE)
    assert not thumb.getexif(), "renditions carry no EXIF (no GPS)"


def test_thumbnail_of_an_upright_photo_and_a_transparent_png(tmp_path: Path) -> None:
    thumb = decode(images.thumbnail(photo(tmp_path / "p.jpg", size=(1200, 900)), max_side=320))
    assert thumb.size == (320, 240)
    png = tmp_path / "t.png"
    Image.new("RGBA", (640, 100), (0, 0, 0, 0)).save(png)
    flat = decode(images.thumbnail(png, max_side=320))
    assert flat.size == (320, 50) and _close(flat.getpixel((5, 5)), (255, 255, 255))


def test_watermark_renders_cjk_in_a_band(tmp_path: Path) -> None:
    font = images.find_cjk_font()
    face = ImageFont.truetype(font, 24, index=images._face_index(font))
    assert "CJK" in face.getname()[0]
    # Real glyphs, not the missing-glyph box: two different characters draw differently.
    assert _glyph(face, "执") != _glyph(face, "监")

    source = photo(tmp_path / "p.jpg", size=(800, 600), with_exif=False)
    original = Image.open(source).convert("RGB")
    stamped = decode(images.watermark(source, STAMP, font))
    assert stamped.size == (800, 600)
    band = (0, 450, 800, 600)
    top = (0, 0, 800, 300)
    assert _mean_difference(original.crop(band), stamped.crop(band)) > 20
    assert _mean_difference(original.crop(top), stamped.crop(top)) < 3

    other = decode(images.watermark(source, [*STAMP[:3], "水江镇综合行政执法队"], font))
    assert _mean_difference(stamped.crop(band), other.crop(band)) > 0.1, "the Chinese text itself is drawn"


def test_watermark_is_upright_and_capped(tmp_path: Path) -> None:
    font = images.find_cjk_font()
    rotated = decode(images.watermark(photo(tmp_path / "r.jpg", size=(600, 400), orientation=6), STAMP, font))
    assert rotated.size == (400, 600)
    wide = decode(images.watermark(photo(tmp_path / "w.jpg", size=(3000, 1000)), STAMP, font))
    assert wide.size == (2048, 683)


def test_find_cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(images.FONT_ENV, raising=False)
    assert images.find_cjk_font() == images.DEBIAN_CJK_FONT
    assert images.find_cjk_font(images.DEBIAN_CJK_FONT) == images.DEBIAN_CJK_FONT
    with pytest.raises(FontUnavailable, match="does not exist"):
        images.find_cjk_font(str(tmp_path / "missing.ttf"))
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"nope")
    monkeypatch.setenv(images.FONT_ENV, str(not_a_font))
    with pytest.raises(FontUnavailable, match="not a font"):
        images.find_cjk_font()


@pytest.mark.parametrize(
    ("width", "height"),
    [(20_000, 20_000), (12_000, 10_000)],
    ids=["over-twice-the-cap", "over-the-cap"],
)
def test_decompression_bombs_are_rejected(tmp_path: Path, width: int, height: int) -> None:
    bomb = png_header(tmp_path / "bomb.png", width, height)
    assert bomb.stat().st_size < 100
    for call in (images.metadata, images.thumbnail):
        with pytest.raises(ImageRejected, match="pixels"):
            call(bomb)
    with pytest.raises(ImageRejected, match="pixels"):
        images.watermark(bomb, STAMP, images.find_cjk_font())


def test_unreadable_inputs_are_rejected(tmp_path: Path) -> None:
    full = photo(tmp_path / "p.jpg", size=(800, 600)).read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(full[: len(full) // 2])
    eps = tmp_path / "x.eps"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    text = tmp_path / "x.jpg"
    text.write_bytes(b"not an image")
    with pytest.raises(ImageRejected):
        images.thumbnail(truncated)
    for path in (eps, text):
        with pytest.raises(ImageRejected):
            images.metadata(path)
    with pytest.raises(FileNotFoundError):
        images.metadata(tmp_path / "missing.jpg")


def _glyph(face: ImageFont.FreeTypeFont, char: str) -> bytes:
    canvas = Image.new("L", (40, 40))
    ImageDraw.Draw(canvas).text((4, 4), char, font=face, fill=255)
    return canvas.tobytes()


def _close(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3
