from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class GeoPoint(msgspec.Struct):
    lat: float
    lon: float


class Renditions(msgspec.Struct):
    thumbnail: str | None = None  # API paths, present when the rendition exists
    watermarked: str | None = None
    content: str = ""
    # "server" (made from the original) or "phone_frame" (a video's poster frame sent by its phone).
    thumbnail_source: str | None = None
    poster: str | None = None  # a video's frame made by the server, long side at most 1280 px
    preview: str | None = None  # a PDF's first page, long side at most 1280 px


class Media(msgspec.Struct):
    """What the server read from a video or PDF; None where it does not apply or is unknown."""

    duration_s: float | None = None
    codec: str | None = None  # of the video stream: h264, hevc, vp8, vp9, av1 …
    width: int | None = None
    height: int | None = None
    pages: int | None = None


class CustodySummary(msgspec.Struct):
    uploaded_by: uuid.UUID
    uploaded_at: datetime
    views: int
    last_viewed_at: datetime | None


class Evidence(msgspec.Struct):
    id: uuid.UUID
    parent_type: str
    parent_id: uuid.UUID
    sha256: str
    size: int
    content_type: str
    filename: str | None
    captured_at: datetime | None
    exif_captured_at: datetime | None
    received_at: datetime
    location: GeoPoint | None  # EXIF GPS, else where the phone said it was
    device: str | None
    width: int | None
    height: int | None
    flags: list[str]
    renditions: Renditions
    upload: str
    gps_accuracy_m: float | None = None  # of the phone's location; None for EXIF GPS or unknown
    device_clock_offset_s: float | None = None  # server time minus the phone's; None if not sent
    custody: CustodySummary | None = None
    media: Media | None = None
    # pending (the server is making its renditions) | done | failed (rendition_error says why; the
    # original is kept) | none (nothing to render: audio)
    rendition_state: str = "none"
    rendition_error: str | None = None
