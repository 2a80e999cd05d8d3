"""One upload as the server received it: the body and what the phone said about it, parsed and
checked once at the edge (headers for a streamed upload, metadata for a resumable one)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from litestar import Request

from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.requests import no_nul
from media_store.base import normalize_sha256

MAX_UPLOAD = 4 * 2**40  # the per-type limits below it are enforced while streaming
MAX_ACCURACY_M = 100_000.0
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class DeviceLocation:
    """Where the phone says it was; used when the file carries no EXIF GPS."""

    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class DeviceClock:
    """The phone's clock and the server's at the same moment (the request that announced the file)."""

    device_time: datetime
    server_time: datetime

    @property
    def offset_s(self) -> float:
        """Server minus device: positive when the phone's clock is behind."""
        return round((self.server_time - self.device_time).total_seconds(), 1)


@dataclass(frozen=True)
class UploadRequest:
    chunks: AsyncIterable[bytes]
    content_type: str | None
    content_length: int | None = None
    expected_sha256: str | None = None
    captured_at: datetime | None = None
    filename: str | None = None
    location: DeviceLocation | None = None
    clock: DeviceClock | None = None
    upload: str = "direct"  # or "resumable"

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str], chunks: AsyncIterable[bytes], arrived: datetime
    ) -> UploadRequest:
        """``arrived``: when the request arrived. The phone stamps X-Device-Time as it sends, so it is
        compared with that, not with the end of a long body."""
        device_time = parse_time(headers.get("x-device-time"), "X-Device-Time")
        return cls(
            chunks=chunks,
            content_type=headers.get("content-type"),
            content_length=parse_length(headers.get("content-length")),
            expected_sha256=parse_sha256(headers.get("x-content-sha256")),
            captured_at=parse_time(headers.get("x-captured-at"), "X-Captured-At"),
            filename=parse_filename(headers.get("x-filename")),
            location=parse_location(headers.get("x-captured-location"), "X-Captured-Location"),
            clock=DeviceClock(device_time, arrived) if device_time else None,
        )


def parse_length(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):  # isdigit() alone accepts "²", which int() refuses
        raise AppError(Errors.BAD_REQUEST, "Content-Length is not a number.")
    return int(raw)


def parse_filename(raw: str | None) -> str | None:
    """X-Filename is percent-encoded UTF-8 (headers are ASCII); kept only as a label."""
    if not raw:
        return None
    name = no_nul(unquote(raw), "X-Filename").replace("/", "_").replace("\\", "_").strip()
    return name[:200] or None


def parse_sha256(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalize_sha256(value)
    except ValueError:
        raise AppError(
            Errors.VALIDATION,
            "X-Content-SHA256 must be 64 hexadecimal digits.",
            errors=[{"key": "X-Content-SHA256"}],
        ) from None


def parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise AppError(
            Errors.VALIDATION, f"{name} must be an RFC 3339 time with an offset.", errors=[{"key": name}]
        )
    return parsed


def parse_location(value: str | None, name: str) -> DeviceLocation | None:
    """``<lat>,<lon>[,<accuracy_m>]`` in decimal degrees and metres."""
    if not value or not value.strip():
        return None
    parts = [p.strip() for p in value.split(",")]
    # Plain decimals only: float() would also take "nan", "inf" and "1_0".
    numbers = [float(p) for p in parts] if all(_DECIMAL.fullmatch(p) for p in parts) else []
    if (
        len(numbers) not in (2, 3)
        or not -90 <= numbers[0] <= 90
        or not -180 <= numbers[1] <= 180
        or (len(numbers) == 3 and not 0 <= numbers[2] <= MAX_ACCURACY_M)
    ):
        raise AppError(
            Errors.VALIDATION,
            f"{name} must be <lat>,<lon>[,<accuracy_m>]: latitude -90..90, longitude -180..180 "
            f"(decimal degrees), accuracy 0..{MAX_ACCURACY_M:.0f} metres.",
            errors=[{"key": name}],
        )
    return DeviceLocation(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None)


def upload_request(request: Request[Any, Any, Any]) -> UploadRequest:
    """The streamed body of ``request`` and what its headers say, parsed before the body is read."""
    return UploadRequest.from_headers(request.headers, request.stream(), arrived=utcnow())
