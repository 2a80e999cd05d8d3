"""Evidence object storage, independent of the web framework."""

from media_store.base import MediaStore, MediaStoreUnavailable, open_store

__all__ = ["MediaStore", "MediaStoreUnavailable", "open_store"]
