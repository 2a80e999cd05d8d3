"""Two API processes sharing the stream through Redis (running at 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from backend.live.publish import channel_name
from tests.conftest import World
from tests.integration.enforcement_helpers import action_payload
from tests.integration.live.conftest import (
    post_action,
    read_until_closed,
    reader_and_sleeper,
    token_for,
    watching,
)
from tests.servers import api_process

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def redis_prefix() -> str:
    return f"fw-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def pair(migrated, world: World, tmp_path_factory, redis_prefix: str) -> Iterator[tuple[str, str]]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail(f"these tests need Redis at {REDIS_URL}; start it with scripts/test.sh or .ci/run")
    env = {
        "FIELDWATCH_REDIS_URL": REDIS_URL,
        "FIELDWATCH_REDIS_PREFIX": redis_prefix,
        "FIELDWATCH_LIVE_MAX_QUEUE": "16",
    }
    logs = tmp_path_factory.mktemp("redis-pair")
    with api_process(logs, **env) as first, api_process(logs, **env) as second:
        yield first, second


async def test_an_action_posted_to_one_process_reaches_a_socket_on_the_other(pair, world: World) -> None:
    first, second = pair
    async with watching(second, await token_for(second, world.username("supervisor"))) as screen:
        action = await post_action(
            first,
            await token_for(first, world.username("officer_b1")),
            action_payload(
                world,
                unit_id=str(world.town_b),
                officer_ids=[str(world.users["officer_b1"]), str(world.users["officer_b2"])],
            ),
        )
        event = await screen.wait_for(
            lambda e: e["type"] == "action.created" and e["data"]["id"] == action["id"]
        )
        assert event["unit_id"] == str(world.town_b)


async def test_a_stalled_client_is_dropped_without_delaying_others(
    pair, world: World, redis_prefix: str
) -> None:
    _, second = pair
    token = await token_for(second, world.username("supervisor"))
    bulk = 400
    payload = base64.b64encode(os.urandom(48_000)).decode()  # a 64 KB event
    async with reader_and_sleeper(second, token, "test.bulk") as (fast, stalled):
        redis = Redis.from_url(REDIS_URL)
        try:
            # Published in batches the reading client is given time to take (its queue holds 16), so
            # the only client that falls behind is the one that never reads.
            for first in range(1, bulk + 1, 8):
                for seq in range(first, first + 8):
                    route = json.dumps({"type": "test.bulk", "seq": 10**12 + seq}).encode()
                    event = json.dumps(
                        {"type": "test.bulk", "id": str(seq), "at": "", "unit_id": None, "data": payload}
                    ).encode()
                    await redis.publish(channel_name(redis_prefix), route + b"\n" + event)
                await fast.wait_for(
                    lambda e, last=str(first + 7): e["type"] == "test.bulk" and e["id"] == last,
                    within=10,
                )
        finally:
            await redis.aclose()
        assert len(fast.of("test.bulk")) == bulk  # every event, in full, while the other client slept
        code, received = await read_until_closed(stalled, "test.bulk")
        assert (code, received < bulk) == (4429, True), received


async def test_an_admin_change_on_one_process_closes_the_socket_on_the_other_within_a_second(
    pair, world: World
) -> None:
    import httpx

    from tests.conftest import PASSWORD, unique

    first, second = pair
    admin = {"Authorization": f"Bearer {await token_for(first, world.username('admin'))}"}
    username = unique("gone")
    async with httpx.AsyncClient(base_url=first) as http:
        created = await http.post(
            "/api/v1/users",
            headers=admin,
            json={
                "username": username,
                "password": PASSWORD,
                "display_name": "离岗",
                "roles": ["officer"],
                "unit_ids": [str(world.town_a)],
            },
        )
        assert created.status_code == 201, created.text
        async with watching(second, await token_for(second, username)) as officer:
            disabled = await http.patch(
                f"/api/v1/users/{created.json()['id']}", headers=admin, json={"active": False}
            )
            assert disabled.status_code == 200, disabled.text
            # The pair's heartbeat is 25 s: only the change's message can close it this soon.
            assert await officer.closed(within=1) == 4401


async def _me(http, base_url: str, token: str) -> tuple[int, dict]:
    response = await http.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


async def _until(check, within: float) -> float:
    """Seconds until ``check()`` holds, polling; fails after ``within``."""
    start = asyncio.get_running_loop().time()
    while not await check():
        elapsed = asyncio.get_running_loop().time() - start
        assert elapsed < within, f"not within {within} s"
        await asyncio.sleep(0.02)
    return asyncio.get_running_loop().time() - start


async def test_a_logout_on_one_process_ends_the_token_on_the_other_within_a_second(
    pair, world: World
) -> None:
    """The other process answers this token from memory (its cache keeps an entry up to 60 s): only
    the logout's message can make it refuse so soon."""
    import httpx

    first, second = pair
    token = await token_for(first, world.username("reviewer_a"))
    async with httpx.AsyncClient() as http:
        for _ in range(3):
            assert (await _me(http, second, token))[0] == 200
        logout = await http.post(f"{first}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert logout.status_code == 204, logout.text

        async def refused() -> bool:
            status, body = await _me(http, second, token)
            return status == 401 and body["code"] == "auth.invalid_token"

        await _until(refused, within=1)
        assert (await _me(http, first, token))[0] == 401


async def test_a_role_change_on_one_process_is_applied_by_the_other_within_a_second(
    pair, world: World
) -> None:
    """The other process answers the token from memory; a role taken away there must stop its reads
    at once (the leading groups are read by officers, not by liaisons)."""
    import httpx

    from tests.conftest import PASSWORD, unique

    first, second = pair
    admin = {"Authorization": f"Bearer {await token_for(first, world.username('admin'))}"}
    username = unique("moved")
    async with httpx.AsyncClient() as http:
        created = await http.post(
            f"{first}/api/v1/users",
            headers=admin,
            json={
                "username": username,
                "password": PASSWORD,
                "display_name": "调岗",
                "roles": ["officer"],
                "unit_ids": [str(world.town_a)],
            },
        )
        assert created.status_code == 201, created.text
        auth = {"Authorization": f"Bearer {await token_for(second, username)}"}
        for _ in range(3):
            groups = await http.get(f"{second}/api/v1/leading-groups", headers=auth)
            assert groups.status_code == 200, groups.text
        changed = await http.patch(
            f"{first}/api/v1/users/{created.json()['id']}", headers=admin, json={"roles": ["liaison"]}
        )
        assert changed.status_code == 200, changed.text

        async def refused() -> bool:
            response = await http.get(f"{second}/api/v1/leading-groups", headers=auth)
            return response.status_code == 403 and response.json()["code"] == "auth.forbidden"

        await _until(refused, within=1)
