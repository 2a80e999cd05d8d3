"""Videos with PyAV and PDFs with pypdfium2: the facts of the file and a still to show for it.

PyAV (``av`` on PyPI) bundles its own FFmpeg libraries and pypdfium2 its own PDFium, so neither
needs a system binary. Decoding a file a phone or a stranger sent is risky work in native code, so
the server runs these functions in a child process (``python -m media_store.media``), which it can
kill at a timeout and whose crash cannot take the API down; the API process never imports this
module (nor loads FFmpeg). Every function here blocks.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path

import av
import pypdfium2 as pdfium
from PIL import Image

from media_store.images import MAX_PIXELS

STILL_MAX_SIDE = 1280  # the poster frame / first-page preview
THUMB_MAX_SIDE = 320  # as photo thumbnails
POSTER_AT_S = 1.0  # a frame about a second in: the first one is often black or a fade-in
MAX_FRAMES = 250  # decoded frames to find the poster before giving up (a damaged stream)


class MediaRejected(ValueError):
    """Not a file that can be decoded here: damaged, of no supported codec, or too big to render."""


@dataclass(frozen=True)
class Facts:
    """What the server read from the file (the record's ``media``); None where it does not apply."""

    duration_s: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    pages: int | None = None


@dataclass(frozen=True)
class Stills:
    facts: Facts
    still: bytes  # JPEG, long side at most STILL_MAX_SIDE (a video's poster, a PDF's preview)
    thumbnail: bytes  # JPEG, long side at most THUMB_MAX_SIDE


def _jpeg(img: Image.Image, max_side: int, quality: int) -> bytes:
    copy = img.convert("RGB")
    copy.thumbnail((max_side, max_side))
    out = BytesIO()
    copy.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _stills(facts: Facts, img: Image.Image) -> Stills:
    return Stills(facts, _jpeg(img, STILL_MAX_SIDE, 85), _jpeg(img, THUMB_MAX_SIDE, 80))


# -- video ------------------------------------------------------------------------------------------


def video(path: str | Path) -> Stills:
    """Duration, codec, size, and a poster frame (about POSTER_AT_S in, or the first frame of a
    shorter clip) of the first video stream."""
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.video:
                raise MediaRejected("the file holds no video stream")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            width, height = int(ctx.width or 0), int(ctx.height or 0)
            if width <= 0 or height <= 0:
                raise MediaRejected("the video stream has no picture size")
            if width * height > MAX_PIXELS:
                raise MediaRejected(f"the video's frames have more than {MAX_PIXELS} pixels")
            duration = _duration(container, stream)
            facts = Facts(duration_s=duration, codec=ctx.name, width=width, height=height)
            frame = _poster(container, stream, duration)
    except av.FFmpegError as exc:
        raise MediaRejected(f"the video cannot be decoded ({exc.strerror})") from None  # not the path
    return _stills(facts, frame)


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """Seconds: the stream's own duration, else the container's (WebM records only the latter)."""
    if stream.duration and stream.time_base:
        return round(float(stream.duration * stream.time_base), 3)
    if container.duration:  # in microseconds (av.time_base)
        return round(container.duration / 1_000_000, 3)
    return None


def _poster(
    container: av.container.InputContainer, stream: av.VideoStream, duration: float | None
) -> Image.Image:
    target = POSTER_AT_S if duration is None or duration > 2 * POSTER_AT_S else 0.0
    if target and stream.time_base:
        try:  # to the keyframe before ~1 s; a file that cannot seek is read from the start
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        except av.FFmpegError:
            container.seek(0)
            target = 0.0
    first: av.VideoFrame | None = None
    for count, frame in enumerate(container.decode(stream), 1):
        first = first or frame
        if frame.time is None or frame.time >= target - 0.02 or count >= MAX_FRAMES:
            return frame.to_image()
    if first is None:
        raise MediaRejected("no frame of the video could be decoded")
    return first.to_image()


# -- PDF --------------------------------------------------------------------------------------------


def pdf(path: str | Path) -> Stills:
    """The page count and the first page, rendered so that its long side is STILL_MAX_SIDE."""
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise MediaRejected(f"the PDF cannot be read ({exc})") from None
    try:
        pages = len(document)
        if pages == 0:
            raise MediaRejected("the PDF has no page")
        page = document[0]
        width, height = page.get_size()  # in points; a crafted page may claim any size
        if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
            raise MediaRejected("the PDF's first page has no size")
        scale = STILL_MAX_SIDE / max(width, height)
        image = page.render(scale=scale).to_pil()
        facts = Facts(pages=pages, width=image.width, height=image.height)
        return _stills(facts, image)
    except pdfium.PdfiumError as exc:
        raise MediaRejected(f"the PDF's first page cannot be rendered ({exc})") from None
    finally:
        document.close()


# -- the child process ------------------------------------------------------------------------------

KINDS = {"video": video, "pdf": pdf}


def main(argv: list[str]) -> int:
    """``python -m media_store.media video|pdf SOURCE STILL THUMBNAIL``: writes the two JPEGs and
    prints the facts as JSON; on a file it cannot render, prints the reason to stderr, exit 2."""
    kind, source, still, thumb = argv
    try:
        made = KINDS[kind](source)
    except MediaRejected as exc:
        print(str(exc), file=sys.stderr)
        return 2
    Path(still).write_bytes(made.still)
    Path(thumb).write_bytes(made.thumbnail)
    print(json.dumps(asdict(made.facts)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
