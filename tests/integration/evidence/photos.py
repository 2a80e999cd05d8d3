"""Evidence bodies made in code: a phone photo with EXIF, and small other media."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from datetime import datetime

import av
import pillow_heif
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


def heic_photo(taken: datetime, size: tuple[int, int] = (1024, 768)) -> bytes:
    """A HEIC like an iPhone's (brand ``heic``, HEVC-coded), with make/model, time and GPS in EXIF;
    encoded by pillow-heif here. Smaller than a phone's 4032×3024, which takes the encoder long."""
    width, height = size
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    img.paste(Image.frombytes("RGB", (width // 4, height // 4), os.urandom(width * height * 3 // 16)))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15"
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
    pillow_heif.register_heif_opener()  # the app registers it too (media_store.images)
    out = io.BytesIO()
    img.save(out, "HEIF", quality=70, exif=exif)
    return out.getvalue()


def pattern_video(codec: str, container: str, seconds: int = 3) -> bytes:
    """FFmpeg's test pattern (``testsrc``, 640×480 at 25 fps) encoded by PyAV's bundled libraries, so
    no ffmpeg binary is needed: ``libx264`` into ``mp4``, ``libvpx``/``libvpx-vp9`` into ``webm``."""
    out = io.BytesIO()
    with (
        av.open(f"testsrc=duration={seconds}:size=640x480:rate=25", format="lavfi") as source,
        av.open(out, "w", format=container) as sink,
    ):
        stream = sink.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.options = (
            {"preset": "ultrafast"} if codec == "libx264" else {"deadline": "realtime", "cpu-used": "8"}
        )
        for frame in source.decode(video=0):
            frame = frame.reformat(format="yuv420p")
            frame.pts = None
            sink.mux(stream.encode(frame))
        sink.mux(stream.encode())
    return out.getvalue()


def pdf_document(pages: int = 2) -> bytes:
    """A PDF of ``pages`` A4 pages (Pillow's writer), the first with a dark band to see in a preview."""
    first = Image.new("RGB", (595, 842), (255, 255, 255))
    first.paste((20, 40, 120), (0, 0, 595, 200))
    rest = [Image.new("RGB", (595, 842), (240, 240, 240)) for _ in range(pages - 1)]
    out = io.BytesIO()
    first.save(out, format="PDF", save_all=True, append_images=rest)
    return out.getvalue()
