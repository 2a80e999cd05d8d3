"""Content type from magic bytes, and whether it agrees with the type a client declared."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterable, AsyncIterator

HEAD_SIZE = 64
"""Bytes of the start of a body that ``sniff`` needs."""

_FTYP_BRANDS = {
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"), "image/heic"),
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"qt  ": "video/quicktime",
    **dict.fromkeys((b"M4A ", b"M4B ", b"M4P "), "audio/mp4"),
    **dict.fromkeys(
        (
            b"isom",
            b"iso2",
            b"iso3",
            b"iso4",
            b"iso5",
            b"iso6",
            b"mp41",
            b"mp42",
            b"avc1",
            b"dash",
            b"M4V ",
            b"M4VH",
            b"M4VP",
            b"mmp4",
            b"MSNV",
            b"f4v ",
            b"NDAS",
        ),
        "video/mp4",
    ),
    **dict.fromkeys((b"3gp4", b"3gp5", b"3gp6", b"3gs7", b"3ge6", b"3gg6"), "video/3gpp"),
}

_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/heif": "image/heic",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heic",
    "video/x-m4v": "video/mp4",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-mp4": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "audio/aacp": "audio/aac",
    "application/x-pdf": "application/pdf",
}

# Types that share one container: a phone's voice memo in MP4 is often branded like a video, an
# iPhone writes QuickTime brands into files it names .mp4, and browsers record audio-only WebM.
_FAMILY = {
    "video/mp4": "iso-bmff",
    "video/quicktime": "iso-bmff",
    "audio/mp4": "iso-bmff",
    "video/3gpp": "iso-bmff",
    "video/webm": "webm",
    "audio/webm": "webm",
}


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a body show (pass at least HEAD_SIZE), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _ftyp(head)
    if len(head) >= 8 and head[4:8] in (b"moov", b"wide", b"mdat") and struct.unpack(">I", head[:4])[0] >= 8:
        return "video/quicktime"  # QuickTime files older than the ftyp box
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:HEAD_SIZE]:
            return "video/webm"
        if b"matroska" in head[:HEAD_SIZE]:
            return "video/x-matroska"
        return None
    if len(head) >= 7 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0 and (head[2] >> 2) & 0x0F < 13:
        return "audio/aac"  # ADTS: 12-bit sync word, layer 00, a valid sampling-frequency index
    return None


def _ftyp(head: bytes) -> str | None:
    box_size = struct.unpack(">I", head[:4])[0]
    major = head[8:12]
    compatible = [head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)]
    if major == b"mif1" and b"avif" in compatible:
        return "image/avif"
    if major in _FTYP_BRANDS:
        return _FTYP_BRANDS[major]
    for brand in compatible:
        if brand in _FTYP_BRANDS:
            return _FTYP_BRANDS[brand]
    return None


def normalize(content_type: str) -> str:
    """``Video/MP4; codecs=…`` → ``video/mp4``, with common aliases resolved."""
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def matches(declared: str, sniffed: str | None) -> bool:
    """Whether a body sniffed as ``sniffed`` may be stored as the ``declared`` type."""
    if sniffed is None or not declared:
        return False
    want, got = normalize(declared), normalize(sniffed)
    if want == got:
        return True
    family = _FAMILY.get(want)
    return family is not None and family == _FAMILY.get(got)


async def read_head(
    chunks: AsyncIterable[bytes], size: int = HEAD_SIZE
) -> tuple[bytes, AsyncIterator[bytes]]:
    """The first ``size`` bytes of a body (fewer if it is shorter) and an iterator over the whole
    body, so a caller can sniff before streaming into the store."""
    iterator = aiter(chunks)
    seen: list[bytes] = []
    total = 0
    while total < size:
        try:
            chunk = await anext(iterator)
        except StopAsyncIteration:
            break
        seen.append(chunk)
        total += len(chunk)

    async def _replay() -> AsyncIterator[bytes]:
        while seen:
            yield seen.pop(0)
        async for chunk in iterator:
            yield chunk

    return b"".join(seen)[:size], _replay()
