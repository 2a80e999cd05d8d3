"""Evidence object storage, independent of the web framework.

Content-addressed (``sha256/ab/abcdef…``), written once, never overwritten; removed only by an
approved retention disposal, where the store's object lock allows. Renditions (thumbnails,
watermarked copies) are objects of their own."""

from media_store.base import (
    LIMITER,
    ChecksumMismatch,
    Fingerprint,
    InvalidRange,
    LockConfig,
    MediaStore,
    MediaStoreError,
    MediaStoreUnavailable,
    ObjectInfo,
    ObjectLocked,
    ObjectNotFound,
    StoredObject,
    TooLarge,
    file_chunks,
    key_for,
    open_binary,
    open_store,
    remove_stale,
    run_sync,
    sha256_of_key,
)

__all__ = [
    "LIMITER",
    "ChecksumMismatch",
    "Fingerprint",
    "InvalidRange",
    "LockConfig",
    "MediaStore",
    "MediaStoreError",
    "MediaStoreUnavailable",
    "ObjectInfo",
    "ObjectLocked",
    "ObjectNotFound",
    "StoredObject",
    "TooLarge",
    "file_chunks",
    "key_for",
    "open_binary",
    "open_store",
    "remove_stale",
    "run_sync",
    "sha256_of_key",
]
