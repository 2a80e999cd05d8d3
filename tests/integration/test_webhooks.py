"""Outbound webhooks, received by a real HTTP server on loopback: Standard Webhooks signatures, the
endpoint's scope, retries after failures, a replay by hand, and bad input refused."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from backend.webhooks.tables import WebhookDelivery, WebhookEndpoint
from tests.conftest import World, assert_problem
from tests.integration.enforcement_helpers import action_payload, record_action


@dataclass
class Receiver:
    """A loopback HTTP/1.1 server that keeps what it is sent and answers as scripted."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 204
    hang: bool = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:] if ":" in h)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append({"line": head[0], "headers": headers, "body": body})
            if self.hang:
                await asyncio.sleep(3600)
            status = self.statuses.pop(0) if self.statuses else 204
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/fieldwatch"


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    server = await asyncio.start_server(r.handle, "127.0.0.1", 0)
    r.port = server.sockets[0].getsockname()[1]
    try:
        yield r
    finally:
        server.close()


def verified(secret: str, request: dict[str, Any], tolerance_s: int = 300) -> bool:
    """The receiver's check, written from the Standard Webhooks specification."""
    h = request["headers"]
    msg_id, stamp = h["webhook-id"], int(h["webhook-timestamp"])
    if abs(time.time() - stamp) > tolerance_s:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    want = base64.b64encode(
        hmac.new(key, f"{msg_id}.{stamp}.".encode() + request["body"], hashlib.sha256).digest()
    ).decode()
    return any(
        hmac.compare_digest(sig.split(",", 1)[1], want)
        for sig in h["webhook-signature"].split()
        if sig.startswith("v1,")
    )


async def wait_for(predicate, within: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


@pytest.fixture
async def endpoints(client, as_user):  # type: ignore[no-untyped-def]
    """Registers endpoints as the admin; removes them afterwards (the suite shares one database)."""
    admin = await as_user("admin")
    made: list[str] = []

    async def register(**body: Any) -> dict[str, Any]:
        response = await client.post("/api/v1/webhooks", json=body, headers=admin)
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
        return response.json()

    yield register, admin
    for endpoint_id in made:
        await WebhookDelivery.delete().where(WebhookDelivery.endpoint == uuid.UUID(endpoint_id)).run()
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == uuid.UUID(endpoint_id)).run()


async def test_an_endpoint_gets_signed_events_of_its_scope_only(
    client, as_user, world: World, endpoints
) -> None:
    register, admin = endpoints
    async with receiver() as r:
        endpoint = await register(url=r.url, event_types=["action.created"], unit_ids=[str(world.town_a)])
        assert endpoint["secret"].startswith("whsec_")
        listed = (await client.get("/api/v1/webhooks", headers=admin)).json()
        assert all(e["secret"] is None for e in listed)  # shown once, never listed

        mine = await record_action(client, await as_user("officer_a1"), world)
        other_town = action_payload(
            world,
            unit_id=str(world.town_b),
            officer_ids=[str(world.users["officer_b1"]), str(world.users["officer_b2"])],
        )
        created = await client.post("/api/v1/actions", json=other_town, headers=await as_user("officer_b1"))
        assert created.status_code == 201, created.text

        async def one_arrived() -> bool:
            return len(r.requests) >= 1

        await wait_for(one_arrived)
        await asyncio.sleep(2.5)  # a round more: nothing from the other township follows
        assert len(r.requests) == 1
        request = r.requests[0]
        assert request["line"] == "POST /hooks/fieldwatch HTTP/1.1"
        assert verified(endpoint["secret"], request)
        tampered = dict(request, body=request["body"].replace(b"inspection", b"evidence"))
        assert not verified(endpoint["secret"], tampered)
        body = json.loads(request["body"])
        assert body["type"] == "action.created" and body["data"]["id"] == mine["id"]
        assert body["data"]["unit_id"] == str(world.town_a)
        # What a feed viewer sees, not more: the party's ID number is masked.
        assert body["data"]["party"]["id_number"] == "5001**********1234"
        assert b"500119199001011234" not in request["body"]

        deliveries = (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=admin)).json()
        assert [d["status"] for d in deliveries] == ["delivered"]
        assert deliveries[0]["id"] == request["headers"]["webhook-id"]
        assert deliveries[0]["log"][0]["status"] == 204


async def test_failures_are_retried_and_a_delivery_can_be_replayed(
    client, as_user, world: World, endpoints
) -> None:
    register, admin = endpoints
    async with receiver() as r:
        r.statuses = [500, 503]
        endpoint = await register(url=r.url, event_types=["case.updated", "action.created"])
        await record_action(client, await as_user("officer_a1"), world)
        delivery_id: uuid.UUID | None = None

        async def tried(n: int):  # type: ignore[no-untyped-def]
            async def check() -> bool:
                nonlocal delivery_id
                row = (
                    await WebhookDelivery.select()
                    .where(WebhookDelivery.endpoint == uuid.UUID(endpoint["id"]))
                    .first()
                )
                if row is None:
                    return False
                delivery_id = row["id"]
                if row["attempts"] >= n:
                    return True
                if row["status"] == "pending" and row["attempts"]:
                    # The next try is minutes away by the schedule: bring it forward.
                    await (
                        WebhookDelivery.update({WebhookDelivery.next_at: row["created_at"]})
                        .where(
                            (WebhookDelivery.id == row["id"]) & (WebhookDelivery.attempts == row["attempts"])
                        )
                        .run()
                    )
                return False

            return check

        await wait_for(await tried(3), within=30)
        detail = (
            await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery_id}", headers=admin)
        ).json()
        assert detail["status"] == "delivered" and detail["attempts"] == 3
        assert [a["status"] for a in detail["log"]] == [500, 503, 204]
        assert detail["body"]["type"] == "action.created"
        ids = {q["headers"]["webhook-id"] for q in r.requests}
        assert ids == {str(delivery_id)}  # the same message id on every try

        replayed = await client.post(
            f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery_id}/replay", headers=admin
        )
        assert replayed.status_code == 200 and replayed.json()["status"] == "pending"

        async def four() -> bool:
            return len(r.requests) == 4

        await wait_for(four)
        assert r.requests[-1]["headers"]["webhook-id"] == str(delivery_id)
        assert r.requests[-1]["body"] == r.requests[0]["body"]


async def test_a_paused_endpoint_keeps_its_deliveries_until_active(
    client, as_user, world: World, endpoints
) -> None:
    register, admin = endpoints
    async with receiver() as r:
        endpoint = await register(url=r.url, event_types=["action.created"])
        paused = await client.patch(
            f"/api/v1/webhooks/{endpoint['id']}", json={"active": False}, headers=admin
        )
        assert paused.status_code == 200 and paused.json()["active"] is False
        await record_action(client, await as_user("officer_a1"), world)
        await asyncio.sleep(2.5)
        assert r.requests == []
        resumed = await client.patch(
            f"/api/v1/webhooks/{endpoint['id']}", json={"active": True}, headers=admin
        )
        assert resumed.status_code == 200

        async def arrived() -> bool:
            return len(r.requests) == 1

        await wait_for(arrived)


async def test_bad_endpoints_are_refused_and_nothing_is_written(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    before = await WebhookEndpoint.count()
    for body, key in (
        ({"url": "ftp://example.org/x", "event_types": ["action.created"]}, "url"),
        ({"url": "https://user:pw@example.org/x", "event_types": ["action.created"]}, "url"),
        ({"url": "https://example.org/x#frag", "event_types": ["action.created"]}, "url"),
        ({"url": "https://example.org/x", "event_types": ["user.password_changed"]}, None),
        ({"url": "https://example.org/x", "event_types": []}, None),
        (
            {
                "url": "https://example.org/x",
                "event_types": ["action.created"],
                "unit_ids": [str(uuid.uuid4())],
            },
            "unit_ids",
        ),
        ({"url": "https://example.org/x", "event_types": ["action.created"], "surprise": 1}, None),
    ):
        problem = assert_problem(
            await client.post("/api/v1/webhooks", json=body, headers=admin), 400, "validation.failed"
        )
        if key:
            assert [e["key"] for e in problem["errors"]] == [key]
    assert await WebhookEndpoint.count() == before
    for role in ("supervisor", "officer_a1", "command"):
        headers = await as_user(role)
        assert_problem(await client.get("/api/v1/webhooks", headers=headers), 403, "auth.forbidden")
        body = {"url": "https://example.org/x", "event_types": ["action.created"]}
        assert_problem(
            await client.post("/api/v1/webhooks", json=body, headers=headers), 403, "auth.forbidden"
        )
    missing = uuid.uuid4()
    assert_problem(await client.get(f"/api/v1/webhooks/{missing}", headers=admin), 404, "not_found")
    assert_problem(
        await client.post(f"/api/v1/webhooks/{missing}/deliveries/{uuid.uuid4()}/replay", headers=admin),
        404,
        "not_found",
    )
