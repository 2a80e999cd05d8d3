"""The frame path: under ``fieldwatch serve``'s uvicorn configuration the hub writes each event's
frame once to every socket in scope, coalescing a burst into one write per socket."""

from __future__ import annotations

import asyncio
import contextlib
import json

from litestar import Litestar
from litestar.channels import ChannelsPlugin

from backend.live.hub import Hub
from tests.conftest import World, make_settings
from tests.integration.live.conftest import (
    Watcher,
    read_until_closed,
    reader_and_sleeper,
    served,
    token_for,
    watching,
)


def hub_of(app: Litestar) -> Hub:
    return app.dependencies["hub"].dependency()  # type: ignore[no-any-return]


def burst(app: Litestar, first: int, count: int, data: str = "x") -> None:
    """Publish ``count`` events in one loop turn, the way a busy channel delivers them."""
    channels = app.plugins.get(ChannelsPlugin)
    name = hub_of(app).channel
    for seq in range(first, first + count):
        route = json.dumps({"type": "test.burst", "seq": seq}).encode()
        event = json.dumps({"type": "test.burst", "id": str(seq), "at": "", "unit_id": None, "data": data})
        channels.publish(route + b"\n" + event.encode(), [name])


async def test_a_burst_reaches_every_watcher_once_and_in_order_through_the_frame_path(
    app: Litestar, world: World
) -> None:
    async with served(app) as url, contextlib.AsyncExitStack() as stack:
        token = await token_for(url, world.username("supervisor"))
        screens: list[Watcher] = [await stack.enter_async_context(watching(url, token)) for _ in range(3)]
        for screen in screens:
            await screen.send({"subscribe": ["test.burst"]})
        await asyncio.sleep(0.2)
        assert [client.wire is not None for client in hub_of(app).clients] == [True] * 3
        first = 10**13
        burst(app, first, 200)
        for screen in screens:
            await screen.wait_for(lambda e: e.get("id") == str(first + 199), within=10)
            assert screen.events[0]["type"] == "hello"
            assert [e["id"] for e in screen.of("test.burst")] == [str(first + n) for n in range(200)]


async def test_a_watcher_that_stops_reading_is_closed_and_the_others_get_everything(
    migrated, world: World
) -> None:

    from backend.app import create_app

    app = create_app(make_settings(live_max_queue=16))
    async with served(app) as url:
        token = await token_for(url, world.username("supervisor"))
        async with reader_and_sleeper(url, token, "test.burst") as (reading, stalled):
            first, big = 2 * 10**13, "y" * 64_000
            # 16 events may wait per socket; a reader that keeps up never nears it.
            for batch in range(50):
                burst(app, first + batch * 8, 8, big)
                await reading.wait_for(lambda e, n=first + batch * 8 + 7: e.get("id") == str(n), within=10)
            assert len(reading.of("test.burst")) == 400
            code, received = await read_until_closed(stalled, "test.burst")
            assert (code, received < 400) == (4429, True), received
