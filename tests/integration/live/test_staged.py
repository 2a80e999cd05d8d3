"""An event staged in a change's transaction goes out only if the change commits."""

from __future__ import annotations

import asyncio
import uuid

from litestar import Litestar

from backend.db import atomic
from backend.live.publish import Publisher
from backend.live.tables import LiveEvent
from tests.conftest import World
from tests.integration.live.conftest import served, token_for, watching


class Refused(Exception):
    pass


async def test_a_staged_event_goes_out_after_commit_and_never_after_rollback(
    app: Litestar, world: World
) -> None:
    events: Publisher = app.dependencies["events"].dependency()
    rolled_back, committed = str(uuid.uuid4()), str(uuid.uuid4())
    async with (
        served(app) as url,
        watching(url, await token_for(url, world.username("supervisor"))) as screen,
    ):
        await screen.send({"subscribe": ["test.staged"]})
        await asyncio.sleep(0.2)
        try:
            async with atomic():
                await events.stage("test.staged", world.town_a, {"id": rolled_back})
                raise Refused
        except Refused:
            pass
        async with atomic():
            staged = await events.stage("test.staged", world.town_a, {"id": committed})
        await events.send(staged)
        event = await screen.wait_for(lambda e: e["type"] == "test.staged", within=5)
        await asyncio.sleep(0.3)  # room for anything else to arrive
        assert [e["data"]["id"] for e in screen.of("test.staged")] == [committed]
    stored = await LiveEvent.select(LiveEvent.id, LiveEvent.data).where(LiveEvent.type == "test.staged")
    assert [(str(row["id"]), rolled_back in row["data"]) for row in stored] == [(event["id"], False)]
