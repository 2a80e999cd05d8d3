from __future__ import annotations

from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit


class MediaStoreUnavailable(Exception):
    """The backing store cannot be reached or is misconfigured."""


class MediaStore(Protocol):
    description: str

    async def ping(self) -> None:
        """Raise MediaStoreUnavailable when the store cannot take writes."""


def open_store(url: str) -> MediaStore:
    parts = urlsplit(url)
    if parts.scheme == "file":
        from media_store.local import LocalStore

        return LocalStore(unquote(parts.path))
    if parts.scheme == "s3":
        from media_store.s3 import S3Store

        query = parse_qs(parts.query)
        bucket = parts.path.strip("/")
        if not bucket or not parts.hostname:
            raise ValueError("s3 media URL needs a host and a bucket: s3://KEY:SECRET@HOST:PORT/BUCKET")
        return S3Store(
            endpoint=f"{parts.hostname}:{parts.port or 9000}",
            access_key=unquote(parts.username or ""),
            secret_key=unquote(parts.password or ""),
            bucket=bucket,
            secure=query.get("secure", ["true"])[0].lower() not in ("false", "0", "no"),
        )
    raise ValueError(f"unsupported media URL scheme {parts.scheme!r}: use file:// or s3://")
