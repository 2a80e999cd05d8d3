"""Photos with Pillow: capture metadata, thumbnails and the watermarked rendition.

Every function here blocks: call it through ``media_store.run_sync``. Renditions are new JPEG bytes
(without the original's EXIF, so no GPS leaks into a thumbnail); the original file is only read.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

MAX_PIXELS = 100_000_000
"""Images with more pixels are refused before they are decoded (a 200 MP phone mode included)."""
WATERMARK_MAX_SIDE = 2048
DEBIAN_CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_ENV = "FIELDWATCH_CJK_FONT"
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")  # JPEG includes multi-picture (MPO) files
"""What ``Image.open`` may try; other decoders (EPS runs Ghostscript, for one) are never reached.
HEIF (an iPhone's or a recent Android's HEIC photo) is pillow-heif's opener, registered below; its
pictures go through the same pixel cap as the others."""

# The primary picture only (not the embedded thumbnails or depth maps).
register_heif_opener(thumbnails=False)

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow only warns between MAX_IMAGE_PIXELS and twice that; an image past the cap must fail the same
# way as one past twice the cap. A filter, unlike catch_warnings(), is safe with worker threads.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

_ORIENTATION = ExifTags.Base.Orientation
_MAKE, _MODEL = ExifTags.Base.Make, ExifTags.Base.Model
_TAKEN = ExifTags.Base.DateTimeOriginal
_TAKEN_OFFSET = ExifTags.Base.OffsetTimeOriginal
_TAKEN_SUBSEC = ExifTags.Base.SubsecTimeOriginal


class ImageRejected(ValueError):
    """Not an image Pillow may decode here: unreadable, damaged, or a decompression bomb."""


class FontUnavailable(RuntimeError):
    """No font that covers Chinese was found for the watermark."""


@contextlib.contextmanager
def _open(path: str | os.PathLike[str]) -> Iterator[Image.Image]:
    try:
        with Image.open(path, formats=FORMATS) as img:
            yield img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(f"image has more than {MAX_PIXELS} pixels") from None
    except UnidentifiedImageError:
        raise ImageRejected("not a JPEG, PNG, WebP or HEIF image") from None
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"damaged image: {exc}") from None


# -- metadata ---------------------------------------------------------------------------------------


def metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``captured_at`` (EXIF DateTimeOriginal, timezone-aware when OffsetTimeOriginal is present),
    ``gps`` ({lat, lon} in decimal degrees), ``device`` ("Make Model"), and ``width``/``height`` as
    displayed (after the EXIF orientation); missing or malformed values are None."""
    with _open(path) as img:
        exif = img.getexif()
        width, height = img.size
        if exif.get(_ORIENTATION) in (5, 6, 7, 8):
            width, height = height, width
        details = exif.get_ifd(ExifTags.IFD.Exif)
        return {
            "captured_at": _captured_at(details),
            "gps": _gps(exif.get_ifd(ExifTags.IFD.GPSInfo)),
            "device": _device(exif.get(_MAKE), exif.get(_MODEL)),
            "width": width,
            "height": height,
        }


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _captured_at(details: dict[int, Any]) -> datetime | None:
    taken = _text(details.get(_TAKEN))
    if taken is None:
        return None
    try:
        moment = datetime.strptime(taken[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    subsec = _text(details.get(_TAKEN_SUBSEC))
    if subsec and subsec.isascii() and subsec.isdigit():  # isdigit() alone accepts "²"
        moment = moment.replace(microsecond=int(subsec[:6].ljust(6, "0")))
    offset = _text(details.get(_TAKEN_OFFSET))
    if offset and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        with contextlib.suppress(ValueError):
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            moment = moment.replace(tzinfo=timezone(-delta if offset[0] == "-" else delta))
    return moment


def _degrees(value: object, ref: object, limit: float) -> float | None:
    try:
        parts = [float(v) for v in value] if isinstance(value, tuple | list) else [float(value)]  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3:
        return None
    degrees = sum(part / 60**i for i, part in enumerate(parts))
    if _text(ref) in ("S", "W"):
        degrees = -degrees
    if not math.isfinite(degrees) or abs(degrees) > limit:
        return None
    return round(degrees, 7)


def _gps(gps: dict[int, Any]) -> dict[str, float] | None:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if lat is None or lon is None:
        return None
    return {"lat": lat, "lon": lon}


def _device(make: object, model: object) -> str | None:
    make_text, model_text = _text(make), _text(model)
    if make_text and model_text and model_text.lower().startswith(make_text.lower()):
        return model_text
    return " ".join(part for part in (make_text, model_text) if part) or None


# -- renditions -------------------------------------------------------------------------------------


def thumbnail(path: str | os.PathLike[str], max_side: int = 320) -> bytes:
    """A JPEG no larger than ``max_side`` on either side, upright. JPEGs are decoded at a reduced
    scale (draft mode); the orientation is applied to the small image, after resizing."""
    with _open(path) as img:
        img.draft("RGB", (max_side, max_side))
        img.thumbnail((max_side, max_side))
        upright = ImageOps.exif_transpose(img)
        return _jpeg(upright, quality=80)


def watermark(
    path: str | os.PathLike[str],
    lines: list[str],
    font_path: str,
    max_side: int = WATERMARK_MAX_SIDE,
) -> bytes:
    """An upright JPEG copy (long side at most ``max_side``) stamped at the bottom with ``lines``
    (server time first, then place, officer, unit) on a semi-transparent band, like a field camera."""
    with _open(path) as img:
        img.draft("RGB", (max_side, max_side))
        img.thumbnail((max_side, max_side))
        upright = ImageOps.exif_transpose(img)
        canvas = _flatten(upright)
    _stamp(canvas, [line for line in lines if line], font_path)
    return _jpeg(canvas, quality=85)


def mark_shared(
    path: str | os.PathLike[str], lines: list[str], font_path: str, max_side: int = WATERMARK_MAX_SIDE
) -> bytes:
    """A copy for an outside recipient: ``lines`` (whom it was shared with, when it was viewed) on a
    band at the top, so the field stamp a watermarked copy carries at the bottom stays readable."""
    with _open(path) as img:
        img.draft("RGB", (max_side, max_side))
        img.thumbnail((max_side, max_side))
        canvas = _flatten(ImageOps.exif_transpose(img))
    _stamp(canvas, [line for line in lines if line], font_path, at_top=True)
    return _jpeg(canvas, quality=85)


def _stamp(canvas: Image.Image, lines: list[str], font_path: str, *, at_top: bool = False) -> None:
    if not lines:
        return
    width, height = canvas.size
    body = max(12, round(min(width, height) * 0.032))
    title = round(body * 1.35)
    pad = max(6, body // 2)
    accent = max(3, body // 5)
    fonts = [_font(font_path, title)] + [_font(font_path, body)] * (len(lines) - 1)
    text_left = pad + accent + pad
    usable = max(1, width - text_left - pad)
    rows: list[tuple[str, ImageFont.FreeTypeFont]] = []
    for line, font in zip(lines, fonts, strict=True):
        rows.extend((part, font) for part in _wrap(line, font, usable))
    row_heights = [round(font.size * 1.3) for _, font in rows]
    band_height = min(height, sum(row_heights) + 2 * pad + pad // 2)
    top = 0 if at_top else height - band_height

    band = canvas.crop((0, top, width, top + band_height)).convert("RGBA")
    overlay = Image.new("RGBA", band.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, 0, width, band_height), fill=(0, 0, 0, 120))
    draw.rectangle((pad, pad, pad + accent - 1, band_height - pad), fill=(255, 196, 0, 255))
    y = pad
    for (text, font), row_height in zip(rows, row_heights, strict=True):
        draw.text((text_left, y), text, font=font, fill=(255, 255, 255, 255))
        y += row_height
    canvas.paste(Image.alpha_composite(band, overlay).convert("RGB"), (0, top))


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break a line between characters (Chinese has no spaces) so that it fits ``width``."""
    rows: list[str] = []
    current = ""
    for char in text:
        if current and font.getlength(current + char) > width:
            rows.append(current)
            current = char.lstrip()
        else:
            current += char
    rows.append(current)
    return rows


def _flatten(img: Image.Image) -> Image.Image:
    """RGB, with any transparency composited on white."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return img if img.mode == "RGB" else img.convert("RGB")


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = BytesIO()
    _flatten(img).save(out, "JPEG", quality=quality)
    return out.getvalue()


# -- fonts ------------------------------------------------------------------------------------------


def find_cjk_font(configured: str | None = None) -> str:
    """The font file for watermarks: ``configured`` (or $FIELDWATCH_CJK_FONT) when set, which must
    exist; otherwise Debian's Noto Sans CJK (package fonts-noto-cjk)."""
    explicit = configured or os.environ.get(FONT_ENV)
    if explicit:
        if not Path(explicit).is_file():
            raise FontUnavailable(f"the configured CJK font {explicit} ({FONT_ENV}) does not exist")
        _face_index(explicit)
        return explicit
    if Path(DEBIAN_CJK_FONT).is_file():
        return DEBIAN_CJK_FONT
    raise FontUnavailable(
        f"no font covering Chinese: install Debian's fonts-noto-cjk ({DEBIAN_CJK_FONT}) "
        f"or set {FONT_ENV} to a .ttf/.otf/.ttc that does"
    )


@functools.lru_cache(maxsize=8)
def _face_index(path: str) -> int:
    """The Simplified Chinese face of a font collection (Noto's .ttc starts with the Japanese one)."""
    index = 0
    while True:
        try:
            face = ImageFont.truetype(path, 12, index=index)
        except OSError:
            if index == 0:
                raise FontUnavailable(f"{path} is not a font file Pillow can load") from None
            return 0
        family = face.getname()[0] or ""
        if family.endswith((" SC", " CN")) or "Simplified" in family:
            return index
        index += 1


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=_face_index(path))
