"""The live stream against a real API process: scope, resume, revocation, bad tokens."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import World
from tests.integration.enforcement_helpers import action_payload
from tests.integration.live.conftest import post_action, token_for, watching

WATCHERS = ("supervisor", "command", "officer_a1", "officer_b1", "invited", "liaison")


async def test_each_watcher_receives_only_its_scope(api: str, world: World) -> None:
    tokens = {
        key: await token_for(api, world.username(key)) for key in (*WATCHERS, "officer_a2", "officer_b2")
    }
    async with (
        watching(api, tokens["supervisor"]) as supervisor,
        watching(api, tokens["command"]) as command,
        watching(api, tokens["officer_a1"]) as officer_a,
        watching(api, tokens["officer_b1"], via_message=True) as officer_b,
        watching(api, tokens["invited"]) as invited,
        watching(api, tokens["liaison"]) as liaison,
    ):
        in_a = await post_action(
            api,
            tokens["officer_a2"],
            action_payload(
                world, officer_ids=[str(world.users["officer_a2"]), str(world.users["officer_a1"])]
            ),
        )
        in_b = await post_action(
            api,
            tokens["officer_b2"],
            action_payload(
                world,
                unit_id=str(world.town_b),
                officer_ids=[str(world.users["officer_b2"]), str(world.users["officer_b1"])],
            ),
        )
        async with httpx.AsyncClient(base_url=api) as http:
            ping = await http.post(
                "/api/v1/positions",
                headers={"Authorization": f"Bearer {tokens['officer_a2']}"},
                json={"lat": 29.15, "lon": 107.1, "accuracy_m": 9, "at": datetime.now(UTC).isoformat()},
            )
            assert ping.status_code == 201, ping.text
        for everyone in (supervisor, command):
            for action in (in_a, in_b):
                await everyone.wait_for(
                    lambda e, a=action: e["type"] == "action.created" and e["data"]["id"] == a["id"]
                )
        await officer_a.wait_for(lambda e: e["type"] == "action.created" and e["data"]["id"] == in_a["id"])
        await officer_b.wait_for(lambda e: e["type"] == "action.created" and e["data"]["id"] == in_b["id"])
        await invited.wait_for(lambda e: e["type"] == "position.updated")
        await asyncio.sleep(0.3)  # anything misrouted would have arrived by now
        assert [e["data"]["id"] for e in officer_a.of("action.created")] == [in_a["id"]]
        assert [e["data"]["id"] for e in officer_b.of("action.created")] == [in_b["id"]]
        assert officer_b.of("position.updated") == []
        assert invited.of("action.created") == [] and invited.of("alert.raised") == []
        assert [e["type"] for e in liaison.events if e["type"] != "heartbeat"] == ["hello"]
        event = supervisor.of("action.created")[0]
        assert set(event) == {"type", "id", "at", "unit_id", "data"}
        assert event["data"]["party"]["id_number"] == "5001**********1234"


async def test_resume_after_delivers_exactly_what_was_missed(api: str, world: World) -> None:
    watcher_token = await token_for(api, world.username("officer_a1"))
    actor = await token_for(api, world.username("officer_a2"))
    pair = [str(world.users["officer_a2"]), str(world.users["officer_a1"])]
    async with watching(api, watcher_token) as watcher:
        await watcher.send({"subscribe": ["action.created"]})
        first = await post_action(api, actor, action_payload(world, officer_ids=pair))
        seen = await watcher.wait_for(
            lambda e: e["type"] == "action.created" and e["data"]["id"] == first["id"]
        )
    missed = [await post_action(api, actor, action_payload(world, officer_ids=pair)) for _ in range(3)]
    async with watching(api, watcher_token) as watcher:
        await watcher.send({"subscribe": ["action.created"], "resume_after": seen["id"]})
        for action in missed:
            await watcher.wait_for(
                lambda e, a=action: e["type"] == "action.created" and e["data"]["id"] == a["id"]
            )
        after = await post_action(api, actor, action_payload(world, officer_ids=pair))
        await watcher.wait_for(lambda e: e["type"] == "action.created" and e["data"]["id"] == after["id"])
        await asyncio.sleep(0.3)
        got = [e["data"]["id"] for e in watcher.of("action.created")]
        assert got == [a["id"] for a in [*missed, after]]  # in order, nothing twice, nothing extra
        ids = [int(e["id"]) for e in watcher.of("action.created")]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_malformed_control_messages_are_ignored_and_the_stream_goes_on(api: str, world: World) -> None:
    watcher_token = await token_for(api, world.username("officer_a1"))
    actor = await token_for(api, world.username("officer_a2"))
    pair = [str(world.users["officer_a2"]), str(world.users["officer_a1"])]
    async with watching(api, watcher_token) as watcher:
        for message in (
            {"resume_after": 2**70},  # beyond any event id: once failed in the database and closed
            {"resume_after": "9" * 40},
            {"resume_after": "soon"},
            {"subscribe": "action.created"},
            {"unknown": 1},
        ):
            await watcher.send(message)
        await watcher.ws.send("{not json")
        await watcher.send({"subscribe": ["action.created"]})
        action = await post_action(api, actor, action_payload(world, officer_ids=pair))
        await watcher.wait_for(lambda e: e["type"] == "action.created" and e["data"]["id"] == action["id"])


async def test_bad_tokens_are_refused_with_4401(api: str, world: World) -> None:
    url = api.replace("http://", "ws://") + "/api/v1/live"
    for protocols, first in (
        (["fieldwatch", "bearer.not-a-jwt"], None),
        (["fieldwatch"], {"token": "x.y.z"}),
        (["fieldwatch"], {"hello": 1}),
    ):
        async with connect(url, subprotocols=protocols) as ws:  # type: ignore[arg-type]
            if first is not None:
                await ws.send(json.dumps(first))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_logging_out_ends_an_open_stream(api: str, world: World) -> None:
    token = await token_for(api, world.username("command"))
    async with watching(api, token) as watcher:
        async with httpx.AsyncClient(base_url=api) as http:
            response = await http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 204
        assert await watcher.closed(within=5) == 4401


async def test_sos_reaches_every_command_screen(api: str, world: World) -> None:
    command = await token_for(api, world.username("command"))
    officer = await token_for(api, world.username("officer_b2"))
    async with watching(api, command) as screen:
        async with httpx.AsyncClient(base_url=api) as http:
            response = await http.post(
                "/api/v1/sos",
                json={"lat": 29.2, "lon": 107.2, "accuracy_m": 15},
                headers={"Authorization": f"Bearer {officer}"},
            )
            assert response.status_code == 201, response.text
        alert = await screen.wait_for(
            lambda e: e["type"] == "alert.raised" and e["data"]["type"] == "officer.sos"
        )
        assert alert["data"]["severity"] == "high" and alert["data"]["data"]["lat"] == 29.2
        assert alert["unit_id"] == str(world.town_b)


async def test_revoking_an_invitation_closes_the_open_stream_at_once(world: World, tmp_path) -> None:
    from tests.servers import api_process

    # Heartbeats an hour apart: only the revocation itself can close the socket within seconds.
    with api_process(tmp_path, FIELDWATCH_LIVE_HEARTBEAT="3600") as base:
        supervisor = await token_for(base, world.username("supervisor"))
        auth = {"Authorization": f"Bearer {supervisor}"}
        async with httpx.AsyncClient(base_url=base) as http:
            created = (
                await http.post(
                    "/api/v1/invitations",
                    headers=auth,
                    json={
                        "name": "李委员",
                        "unit_ids": [str(world.town_a)],
                        "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                    },
                )
            ).json()
            accepted = (
                await http.post(
                    "/api/v1/invitations/accept",
                    json={"token": created["token"], "password": "long-enough-9"},
                )
            ).json()
            async with watching(base, accepted["session"]["access_token"]) as watcher:
                revoked = await http.delete(
                    f"/api/v1/invitations/{created['invitation']['id']}", headers=auth
                )
                assert revoked.status_code == 200
                assert await watcher.closed(within=3) == 4401
