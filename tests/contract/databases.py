"""A database of its own for a served API under test: a SQLite file in its data directory, or, when
the suite runs on PostgreSQL, a sibling database on the same server that is dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _admin(url: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextlib.contextmanager
def own_database(data_dir: Path) -> Iterator[str]:
    """The URL of a fresh, empty database like the suite's (not the suite's own one)."""
    suite = os.environ["FIELDWATCH_DATABASE_URL"]
    if not suite.startswith("postgres"):
        yield f"sqlite:///{data_dir / 'own.sqlite3'}"
        return
    parts = urlsplit(suite)
    name = f"{parts.path.lstrip('/')}_own_{uuid.uuid4().hex[:8]}"
    _admin(suite, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        # FORCE ends only this database's connections: the ones the served API left behind.
        _admin(suite, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
