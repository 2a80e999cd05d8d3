"""Redis, carrying the live stream between API processes, away at start and again mid-run: the API
serves, actions are recorded once, readiness names the channel, and a socket connected throughout
receives what was published meanwhile once Redis is back, each event once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import World
from tests.faults.services import RedisServer
from tests.integration.enforcement_helpers import action_payload
from tests.integration.live.conftest import token_for, watching
from tests.servers import api_process, free_port

pytestmark = pytest.mark.faults


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "redis.log")
    try:
        yield server
    finally:
        server.stop()


async def _ready(http: httpx.AsyncClient, *, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = await http.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


def _assert_channels_down(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "service.unavailable"
    assert body["checks"]["channels"].startswith("error"), body
    assert body["checks"]["database"] == "ok"


async def test_the_api_rides_out_redis_going_away(
    migrated, world: World, redis_server: RedisServer, tmp_path
) -> None:
    with api_process(tmp_path, FIELDWATCH_REDIS_URL=redis_server.url, FIELDWATCH_LIVE_HEARTBEAT="1") as api:
        async with httpx.AsyncClient(base_url=api) as http:
            # Started while Redis was down: serving, and not ready.
            _assert_channels_down(await http.get("/readyz"))
            redis_server.start()
            assert (await _ready(http, within=15)).status_code == 200

            officer = {"Authorization": f"Bearer {await token_for(api, world.username('officer_a1'))}"}
            async with watching(api, await token_for(api, world.username("supervisor"))) as screen:
                before = await http.post("/api/v1/actions", json=action_payload(world), headers=officer)
                assert before.status_code == 201, before.text
                await screen.wait_for(lambda e: e.get("data", {}).get("id") == before.json()["id"])

                redis_server.stop()
                during = []
                for _ in range(2):
                    body = action_payload(world)
                    response = await http.post("/api/v1/actions", json=body, headers=officer)
                    assert response.status_code == 201, response.text  # committed, so 201
                    again = await http.post("/api/v1/actions", json=body, headers=officer)
                    assert again.status_code in (200, 201) and again.json()["id"] == body["id"]
                    during.append(body["id"])
                _assert_channels_down(await http.get("/readyz"))

                redis_server.start()
                assert (await _ready(http, within=15)).status_code == 200
                for action_id in during:
                    await screen.wait_for(lambda e, i=action_id: e.get("data", {}).get("id") == i, within=10)
                after = await http.post("/api/v1/actions", json=action_payload(world), headers=officer)
                assert after.status_code == 201
                await screen.wait_for(lambda e: e.get("data", {}).get("id") == after.json()["id"])
                await asyncio.sleep(1.5)  # time for a duplicate to show up

                seen = Counter(
                    e["data"]["id"] for e in screen.of("action.created") if e.get("data", {}).get("id")
                )
                for action_id in [before.json()["id"], *during, after.json()["id"]]:
                    assert seen[action_id] == 1, (action_id, seen)

            # Each action exists once, however often it was sent.
            for action_id in during:
                response = await http.get(f"/api/v1/actions/{action_id}", headers=officer)
                assert response.status_code == 200
