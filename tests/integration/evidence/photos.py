"""Evidence bodies made in code: a phone photo with EXIF, and small other media."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from datetime import datetime

from PIL import ExifTags, Image


def phone_photo(taken: datetime | None = None, size: tuple[int, int] = (640, 480), seed: int = 0) -> bytes:
    """A JPEG like a phone's: noise (so it is not trivially small), make/model, time and GPS in EXIF."""
    img = Image.frombytes(
        "RGB",
        size,
        os.urandom(size[0] * size[1] * 3)
        if seed == 0
        else bytes((i * seed) % 251 for i in range(size[0] * size[1] * 3)),
    )
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HUAWEI"
    exif[ExifTags.Base.Model] = "P60"
    if taken is not None:
        exif[ExifTags.IFD.Exif] = {
            ExifTags.Base.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S"),
            ExifTags.Base.OffsetTimeOriginal: taken.strftime("%z")[:3] + ":" + taken.strftime("%z")[3:],
        }
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (29.0, 9.0, 25.2),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (107.0, 5.0, 52.8),
    }
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def app_camera_photo(size: tuple[int, int] = (320, 240)) -> bytes:
    """A JPEG as the in-app camera makes it: pixels only, no EXIF (so no GPS and no time)."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "JPEG", quality=85)
    return out.getvalue()


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG header claiming 900 megapixels in a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


def mp4(size: int = 300_000) -> bytes:
    """An ISO-BMFF body with an ftyp box (what a phone's MP4 starts with) and filler."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    return ftyp + os.urandom(size - len(ftyp))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
