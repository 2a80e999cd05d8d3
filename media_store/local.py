from __future__ import annotations

import os
import tempfile
from pathlib import Path

import anyio.to_thread

from media_store.base import MediaStoreUnavailable


class LocalStore:
    """Objects as files under one directory (the embedded default)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.description = f"file://{self.root}"

    async def ping(self) -> None:
        def _check() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ping-"):
                pass

        try:
            await anyio.to_thread.run_sync(_check)
        except OSError as exc:
            raise MediaStoreUnavailable(f"media directory not writable: {exc.strerror}") from None
