"""Magic-byte sniffing on tiny samples built here, and the declared/sniffed agreement rules."""

from __future__ import annotations

import io
import struct
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from media_store.sniff import matches, read_head, sniff


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def pillow(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02\x18\x53\x80\x67"
)
MATROSKA = WEBM.replace(b"\x42\x82\x84webm", b"\x42\x82\x88matroska")
ADTS = bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]) + b"\x21\x00" * 8
MP3 = bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\x00" * 30

SAMPLES = {
    "jpeg": (pillow("JPEG"), "image/jpeg"),
    "png": (pillow("PNG"), "image/png"),
    "heic": (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
    "heix": (ftyp(b"heix", b"mif1", b"heix"), "image/heic"),
    "mif1": (ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
    "avif": (ftyp(b"mif1", b"avif", b"mif1"), "image/avif"),
    "mp4-isom": (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
    "mp4-mp42": (ftyp(b"mp42", b"isom", b"mp42"), "video/mp4"),
    "mp4-avc1": (ftyp(b"avc1", b"isom"), "video/mp4"),
    "mp4-unknown-major": (ftyp(b"xxxx", b"isom"), "video/mp4"),
    "quicktime": (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
    "quicktime-no-ftyp": (struct.pack(">I", 8) + b"wide" + b"\x00" * 8, "video/quicktime"),
    "m4a": (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "webm": (WEBM, "video/webm"),
    "matroska": (MATROSKA, "video/x-matroska"),
    "aac": (ADTS, "audio/aac"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
    "mp3": (MP3, None),
    "html": (b"<!doctype html><html><script>alert(1)</script>", None),
    "empty": (b"", None),
    "eps": (b"%!PS-Adobe-3.0 EPSF-3.0\n", None),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_sniff(name: str) -> None:
    head, expected = SAMPLES[name]
    assert sniff(head[:64]) == expected


@pytest.mark.parametrize(
    ("declared", "sniffed", "ok"),
    [
        ("image/jpeg", "image/jpeg", True),
        ("image/jpg", "image/jpeg", True),
        ("IMAGE/JPEG; charset=binary", "image/jpeg", True),
        ("video/mp4; codecs=avc1.42E01E", "video/mp4", True),
        ("video/quicktime", "video/mp4", True),
        ("video/mp4", "video/quicktime", True),
        ("audio/mp4", "video/mp4", True),
        ("audio/x-m4a", "audio/mp4", True),
        ("audio/webm;codecs=opus", "video/webm", True),
        ("image/heif", "image/heic", True),
        ("image/png", "image/jpeg", False),
        ("image/jpeg", "video/mp4", False),
        ("video/mp4", "video/webm", False),
        ("application/pdf", None, False),
        ("", "image/png", False),
        ("audio/aac", "audio/mp4", False),
    ],
)
def test_matches(declared: str, sniffed: str | None, ok: bool) -> None:
    assert matches(declared, sniffed) is ok


async def test_read_head_replays_the_whole_body() -> None:
    parts = [b"%P", b"DF-1.", b"7\n" + b"x" * 100, b"tail"]

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    head, rest = await read_head(body(), 8)
    assert head == b"%PDF-1.7"
    assert sniff(head) == "application/pdf"
    assert b"".join([chunk async for chunk in rest]) == b"".join(parts)

    short, rest = await read_head(body(), 10_000)
    assert short == b"".join(parts)
    assert b"".join([chunk async for chunk in rest]) == b"".join(parts)
