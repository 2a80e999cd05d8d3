"""SQLite's one writer held longer than a request may wait: 503 with Retry-After, not 500, and the
write goes through once the writer is free."""

from __future__ import annotations

import asyncio
import os

import pytest
from piccolo.engine.sqlite import TransactionType

from backend.app import create_app
from backend.db.sqlite_pool import PooledSQLiteEngine
from tests.conftest import World, assert_problem, login, make_settings, serve

pytestmark = pytest.mark.faults
URL = os.environ["FIELDWATCH_DATABASE_URL"]
if not URL.startswith("sqlite"):
    pytest.skip("the SQLite busy test runs on the SQLite pass of the suite", allow_module_level=True)


async def test_a_busy_writer_is_503_then_the_write_succeeds(migrated, world: World) -> None:
    engine = PooledSQLiteEngine(path=URL.removeprefix("sqlite:///"), timeout=0.3)
    app = create_app(make_settings(position_min_interval_s=0), engine=engine)
    ping = {"lat": 30.5, "lon": 114.3, "accuracy_m": 8.0, "at": "2026-01-01T08:00:00+08:00"}
    async with serve(app) as client:
        officer = await login(client, world.username("officer_a1"))
        held, release = asyncio.Event(), asyncio.Event()

        async def hold_the_writer() -> None:
            async with engine.transaction(transaction_type=TransactionType.immediate):
                held.set()
                await release.wait()

        holder = asyncio.create_task(hold_the_writer())  # its own task: its own transaction context
        await held.wait()
        try:
            busy = await client.post("/api/v1/positions", json=ping, headers=officer)
            problem = assert_problem(busy, 503, "service.unavailable")
            assert problem["service"] == "database" and int(busy.headers["Retry-After"]) > 0
        finally:
            release.set()
            await holder
        assert (await client.post("/api/v1/positions", json=ping, headers=officer)).status_code == 201
    await engine.close()
