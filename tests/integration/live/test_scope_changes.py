"""The live stream keeps to the watcher's current scope: alerts only to the supervision side, and an
admin's change to a user re-scopes or closes that user's open sockets at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from backend.lib.clock import today_local
from backend.live.tables import LiveEvent
from tests.conftest import PASSWORD, World, unique
from tests.integration.enforcement_helpers import action_payload
from tests.integration.live.conftest import Watcher, post_action, token_for, watching
from tests.servers import api_process

INTERNAL = {"account.changed", "session.revoked"}


@pytest.fixture(scope="module")
def api(migrated, world: World, tmp_path_factory) -> Iterator[str]:
    # Heartbeats (and their session check) an hour apart: only the change itself can act in time.
    with api_process(tmp_path_factory.mktemp("live-scope"), FIELDWATCH_LIVE_HEARTBEAT="3600") as url:
        yield url


async def _call(base: str, method: str, path: str, token: str, body: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as http:
        return await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


async def _officer(base: str, admin: str, unit_id: object) -> tuple[str, str]:
    """A fresh officer of ``unit_id`` (the shared world's users stay as they are); id and token."""
    username = unique("move")
    body = {
        "username": username,
        "password": PASSWORD,
        "display_name": "调动",
        "roles": ["officer"],
        "unit_ids": [str(unit_id)],
    }
    created = await _call(base, "POST", "/api/v1/users", admin, body)
    assert created.status_code == 201, created.text
    return created.json()["id"], await token_for(base, username)


async def _action_in(base: str, world: World, town: str) -> dict[str, Any]:
    first, second = ("officer_a2", "officer_a1") if town == "a" else ("officer_b2", "officer_b1")
    return await post_action(
        base,
        await token_for(base, world.username(first)),
        action_payload(
            world,
            unit_id=str(world.town_a if town == "a" else world.town_b),
            officer_ids=[str(world.users[first]), str(world.users[second])],
        ),
    )


def _actions(watcher: Watcher) -> list[str]:
    return [e["data"]["id"] for e in watcher.of("action.created")]


async def test_alerts_reach_the_supervision_side_only(api: str, world: World) -> None:
    tokens = {k: await token_for(api, world.username(k)) for k in ("officer_a1", "reviewer_a", "supervisor")}
    command = await token_for(api, world.username("command"))
    async with (
        watching(api, tokens["officer_a1"]) as officer,
        watching(api, tokens["reviewer_a"]) as reviewer,
        watching(api, tokens["supervisor"]) as supervisor,
    ):
        colleague = await token_for(api, world.username("officer_a2"))
        sos = await _call(api, "POST", "/api/v1/sos", colleague, {"note": "需要支援"})
        assert sos.status_code == 201, sos.text
        alert_id = sos.json()["id"]
        acked = await _call(api, "POST", f"/api/v1/alerts/{alert_id}/ack", command, {"status": "acked"})
        assert acked.status_code == 200, acked.text
        action = await _action_in(api, world, "a")
        await supervisor.wait_for(lambda e: e["type"] == "alert.raised" and e["data"]["id"] == alert_id)
        await supervisor.wait_for(lambda e: e["type"] == "alert.acked" and e["data"]["id"] == alert_id)
        for watcher in (officer, reviewer):
            await watcher.wait_for(
                lambda e: e["type"] == "action.created" and e["data"]["id"] == action["id"]
            )
        await asyncio.sleep(0.3)  # a misrouted alert, published before the action, is in by now
        for watcher in (officer, reviewer):
            assert watcher.of("alert.raised") == [] and watcher.of("alert.acked") == []
    # HTTP says the same: these roles do not see alerts.
    for key in ("officer_a1", "reviewer_a"):
        assert (await _call(api, "GET", "/api/v1/alerts", tokens[key])).status_code == 403


async def test_a_moved_officer_receives_the_new_townships_events_within_a_second(
    api: str, world: World
) -> None:
    admin = await token_for(api, world.username("admin"))
    officer_id, token = await _officer(api, admin, world.town_a)
    async with watching(api, token) as officer, watching(api, admin) as admin_screen:
        before = await _action_in(api, world, "a")
        await officer.wait_for(lambda e: e["type"] == "action.created" and e["data"]["id"] == before["id"])
        moved = await _call(
            api, "PATCH", f"/api/v1/users/{officer_id}", admin, {"unit_ids": [str(world.town_b)]}
        )
        assert moved.status_code == 200, moved.text
        in_a, in_b = await _action_in(api, world, "a"), await _action_in(api, world, "b")
        await officer.wait_for(
            lambda e: e["type"] == "action.created" and e["data"]["id"] == in_b["id"], within=1
        )
        await admin_screen.wait_for(lambda e: e["type"] == "action.created" and e["data"]["id"] == in_a["id"])
        await asyncio.sleep(0.2)
        assert _actions(officer) == [before["id"], in_b["id"]]  # nothing more of town A
        assert officer.ws.close_code is None  # the same socket, re-scoped
        # The change travelled between processes, but no client saw it and nothing was stored.
        for watcher in (officer, admin_screen):
            assert not INTERNAL & {e["type"] for e in watcher.events}
    assert not await LiveEvent.exists().where(LiveEvent.to_user == officer_id)
    # Leave town B's roster as the shared world made it (other tests list its officers).
    gone = await _call(api, "PATCH", f"/api/v1/users/{officer_id}", admin, {"unit_ids": [], "active": False})
    assert gone.status_code == 200, gone.text


@pytest.mark.parametrize(
    "change", [{"roles": ["liaison"]}, {"active": False}, {"password": "another-long-password"}]
)
async def test_losing_the_role_or_the_account_closes_the_socket_within_a_second(
    api: str, world: World, change: dict[str, Any]
) -> None:
    admin = await token_for(api, world.username("admin"))
    officer_id, token = await _officer(api, admin, world.town_a)
    async with watching(api, token) as officer:
        changed = await _call(api, "PATCH", f"/api/v1/users/{officer_id}", admin, change)
        assert changed.status_code == 200, changed.text
        assert await officer.closed(within=1) == 4401
    assert not INTERNAL & {e["type"] for e in officer.events}


async def test_a_replay_hands_out_no_internal_message(api: str, world: World) -> None:
    """Earlier releases stored session.revoked for replay; a resume must skip such rows."""
    supervisor = await token_for(api, world.username("supervisor"))
    old = await LiveEvent.insert(
        LiveEvent(type="session.revoked", to_user=world.users["supervisor"], data="{}")
    ).returning(LiveEvent.id)
    try:
        async with watching(api, supervisor) as screen:
            action = await _action_in(api, world, "a")
            await screen.wait_for(lambda e: e["type"] == "action.created" and e["data"]["id"] == action["id"])
            await screen.send({"resume_after": str(old[0]["id"] - 1)})
            await asyncio.sleep(0.5)
            assert not INTERNAL & {e["type"] for e in screen.events}
    finally:
        await LiveEvent.delete().where(LiveEvent.id == old[0]["id"])


async def test_logging_out_closes_that_sessions_socket_within_a_second(api: str, world: World) -> None:
    admin = await token_for(api, world.username("admin"))
    _, token = await _officer(api, admin, world.town_a)
    async with watching(api, token) as officer:
        assert (await _call(api, "POST", "/api/v1/auth/logout", token)).status_code == 204
        assert await officer.closed(within=1) == 4401


async def test_an_invited_supervisors_stream_ends_when_the_invitation_does(api: str, world: World) -> None:
    from datetime import UTC, datetime, timedelta

    supervisor = await token_for(api, world.username("supervisor"))
    ends = datetime.now(UTC) + timedelta(seconds=3)
    body = {"name": "李委员", "unit_ids": [str(world.town_a)], "expires_at": ends.isoformat()}
    created = await _call(api, "POST", "/api/v1/invitations", supervisor, body)
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient(base_url=api) as http:
        accepted = await http.post(
            "/api/v1/invitations/accept", json={"token": created.json()["token"], "password": PASSWORD}
        )
    assert accepted.status_code == 201, accepted.text
    async with watching(api, accepted.json()["session"]["access_token"]) as invited:
        assert invited.ws.close_code is None
        code = await invited.closed(within=(ends - datetime.now(UTC)).total_seconds() + 1)
        assert code == 4401 and datetime.now(UTC) >= ends - timedelta(seconds=0.1)


async def test_a_replayed_refresh_token_closes_the_sessions_socket_within_a_second(
    api: str, world: World
) -> None:
    admin = await token_for(api, world.username("admin"))
    officer_id, _ = await _officer(api, admin, world.town_a)
    username = (await _call(api, "GET", f"/api/v1/users/{officer_id}", admin)).json()["username"]
    async with httpx.AsyncClient(base_url=api) as http:
        pair = (
            await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        ).json()
        async with watching(api, pair["access_token"]) as officer:
            first = await http.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            assert first.status_code == 200, first.text
            replay = await http.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            assert replay.status_code == 401 and replay.json()["code"] == "auth.refresh_reused"
            assert await officer.closed(within=1) == 4401


async def test_a_revoked_certificate_reaches_the_officers_open_socket_within_a_second(
    api: str, world: World
) -> None:
    """The socket stays open (the officer may still read), and is told ``me.changed`` so the phone
    reloads the account and shows the revocation; nothing internal leaks and nothing is stored."""
    admin = await token_for(api, world.username("admin"))
    officer_id, token = await _officer(api, admin, world.town_a)
    today = today_local()
    issued = await _call(
        api,
        "PUT",
        f"/api/v1/users/{officer_id}/certificate",
        admin,
        {"number": unique("NC"), "issued_on": str(today), "expires_on": str(today + timedelta(days=365))},
    )
    assert issued.status_code == 200, issued.text
    async with watching(api, token) as officer:
        revoked = await _call(
            api, "POST", f"/api/v1/users/{officer_id}/certificate/revoke", admin, {"reason": "年度考核不合格"}
        )
        assert revoked.status_code == 200, revoked.text
        await officer.wait_for(lambda e: e["type"] == "me.changed", within=1)
        assert officer.ws.close_code is None
        me = await _call(api, "GET", "/api/v1/me", token)
        assert me.json()["certificate"]["status"] == "revoked"
    assert not INTERNAL & {e["type"] for e in officer.events}
    assert not await LiveEvent.exists().where(LiveEvent.to_user == officer_id)
