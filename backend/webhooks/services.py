"""Outbound webhooks: an admin registers an endpoint for chosen live events; each event the endpoint's
scope may see becomes a delivery, signed and sent by a background job, retried for a day.

Deliveries follow the Standard Webhooks convention: `webhook-id` (the delivery's id, the same on every
retry and replay, so the receiver can drop duplicates), `webhook-timestamp` (Unix seconds) and
`webhook-signature` (`v1,` + base64 HMAC-SHA-256 of `id.timestamp.body` under the endpoint's secret).

Events are read from the live stream's own table (every published event is stored there first), so
no request waits on an endpoint: a request only writes its event, as it does for the live feed. The
payload is the event as the live feed carries it (already masked for a feed viewer), and an endpoint
sees only the events a watcher with its scope would: its units, or the whole district."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from backend.audit import services as audit
from backend.db import atomic, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.live.routing import Audience, Route, visible
from backend.live.tables import LiveEvent
from backend.org.tables import Unit
from backend.webhooks import schemas
from backend.webhooks.tables import WebhookDelivery, WebhookEndpoint

# Standard Webhooks' suggested schedule after the first try; the last step repeats until GIVE_UP_S.
RETRY_DELAYS_S = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
GIVE_UP_S = 24 * 3600
TIMEOUT_S = 10.0
BATCH = 50  # deliveries sent per round
EVENTS_PER_ROUND = 500  # live events looked at per endpoint per round
PARALLEL = 8
LOG_MAX = 20
_encoder = msgspec.json.Encoder()


# --- signing -----------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


# --- endpoints -----------------------------------------------------------------------------------


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    problem = None
    if parts.scheme not in ("https", "http"):
        problem = "url must be an http(s) address"
    elif not parts.hostname:
        problem = "url has no host"
    elif parts.username or parts.password:
        # Credentials in a URL end up in logs; the signature is how the receiver knows the sender.
        problem = "url must not carry a user name or password"
    elif parts.fragment:
        problem = "url must not have a #fragment"
    if problem:
        raise AppError(Errors.VALIDATION, f"{problem}.", errors=[{"key": "url", "message": problem}])


async def _check_units(unit_ids: list[uuid.UUID]) -> None:
    if not unit_ids:
        return
    found = {r["id"] for r in await Unit.select(Unit.id).where(Unit.id.is_in(unit_ids))}
    missing = [str(u) for u in unit_ids if u not in found]
    if missing:
        raise AppError(
            Errors.VALIDATION,
            f"No such unit: {', '.join(missing)}.",
            errors=[{"key": "unit_ids", "message": "unknown unit"}],
        )


async def _counts(endpoint_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, str], int]:
    if not endpoint_ids:
        return {}
    rows = await WebhookDelivery.raw(
        "SELECT endpoint, status, count(*) AS n FROM webhook_deliveries "
        "WHERE status IN ('pending', 'failed') GROUP BY endpoint, status"
    )
    return {(uuid.UUID(str(r["endpoint"])), r["status"]): r["n"] for r in rows}


def _view(
    row: dict[str, Any], counts: dict[tuple[uuid.UUID, str], int], secret: bool = False
) -> schemas.Endpoint:
    return schemas.Endpoint(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        event_types=list(json_value(row["event_types"], [])),
        unit_ids=[uuid.UUID(u) for u in json_value(row["unit_ids"], [])],
        active=row["active"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        pending=counts.get((row["id"], "pending"), 0),
        failed=counts.get((row["id"], "failed"), 0),
        secret=row["secret"] if secret else None,
    )


async def _endpoint(endpoint_id: uuid.UUID) -> dict[str, Any]:
    row = await WebhookEndpoint.select().where(WebhookEndpoint.id == endpoint_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such webhook endpoint.")
    return row


async def create_endpoint(actor: CurrentUser, data: schemas.EndpointCreate) -> schemas.Endpoint:
    _check_url(data.url)
    unit_ids = list(dict.fromkeys(data.unit_ids))
    await _check_units(unit_ids)
    endpoint_id = uuid.uuid4()
    now = utcnow()
    async with atomic():
        latest = await LiveEvent.select(LiveEvent.id).order_by(LiveEvent.id, ascending=False).first()
        row = {
            "id": endpoint_id,
            "url": data.url,
            "description": data.description,
            "event_types": sorted(set(data.event_types)),
            "unit_ids": [str(u) for u in unit_ids],
            "secret": new_secret(),
            "active": True,
            # From now on: an endpoint is not sent the stream's past.
            "cursor": latest["id"] if latest else 0,
            "created_by": actor.id,
            "created_at": now,
            "updated_at": now,
        }
        await WebhookEndpoint.insert(WebhookEndpoint.from_dict(row)).run()
        await audit.record(
            actor,
            "webhook.created",
            "webhook",
            endpoint_id,
            {"url": data.url, "event_types": row["event_types"], "unit_ids": row["unit_ids"]},
        )
    return _view(row, {}, secret=True)


async def list_endpoints() -> list[schemas.Endpoint]:
    rows = await WebhookEndpoint.select().order_by(WebhookEndpoint.created_at)
    counts = await _counts([r["id"] for r in rows])
    return [_view(r, counts) for r in rows]


async def get_endpoint(endpoint_id: uuid.UUID) -> schemas.Endpoint:
    row = await _endpoint(endpoint_id)
    return _view(row, await _counts([row["id"]]))


async def update_endpoint(
    actor: CurrentUser, endpoint_id: uuid.UUID, data: schemas.EndpointUpdate
) -> schemas.Endpoint:
    await _endpoint(endpoint_id)
    changes: dict[Any, Any] = {}
    said: dict[str, Any] = {}
    if data.url is not msgspec.UNSET:
        _check_url(data.url)
        changes[WebhookEndpoint.url] = said["url"] = data.url
    if data.event_types is not msgspec.UNSET:
        changes[WebhookEndpoint.event_types] = said["event_types"] = sorted(set(data.event_types))
    if data.unit_ids is not msgspec.UNSET:
        unit_ids = list(dict.fromkeys(data.unit_ids))
        await _check_units(unit_ids)
        changes[WebhookEndpoint.unit_ids] = said["unit_ids"] = [str(u) for u in unit_ids]
    if data.description is not msgspec.UNSET:
        changes[WebhookEndpoint.description] = said["description"] = data.description
    if data.active is not msgspec.UNSET:
        changes[WebhookEndpoint.active] = said["active"] = data.active
    if changes:
        changes[WebhookEndpoint.updated_at] = utcnow()
        async with atomic():
            await WebhookEndpoint.update(changes).where(WebhookEndpoint.id == endpoint_id).run()
            await audit.record(actor, "webhook.updated", "webhook", endpoint_id, said)
    return await get_endpoint(endpoint_id)


async def rotate_secret(actor: CurrentUser, endpoint_id: uuid.UUID) -> schemas.Endpoint:
    await _endpoint(endpoint_id)
    async with atomic():
        await (
            WebhookEndpoint.update(
                {WebhookEndpoint.secret: new_secret(), WebhookEndpoint.updated_at: utcnow()}
            )
            .where(WebhookEndpoint.id == endpoint_id)
            .run()
        )
        await audit.record(actor, "webhook.secret_rotated", "webhook", endpoint_id, {})
    row = await _endpoint(endpoint_id)
    return _view(row, await _counts([row["id"]]), secret=True)


async def delete_endpoint(actor: CurrentUser, endpoint_id: uuid.UUID) -> None:
    row = await _endpoint(endpoint_id)
    async with atomic():
        await WebhookDelivery.delete().where(WebhookDelivery.endpoint == endpoint_id).run()
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == endpoint_id).run()
        await audit.record(actor, "webhook.deleted", "webhook", endpoint_id, {"url": row["url"]})


# --- deliveries ----------------------------------------------------------------------------------


def _delivery_view(row: dict[str, Any], *, body: bool = False) -> schemas.Delivery:
    return schemas.Delivery(
        id=row["id"],
        endpoint_id=row["endpoint"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        status=row["status"],
        attempts=row["attempts"],
        next_at=row["next_at"] if row["status"] == "pending" else None,
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
        log=msgspec.convert(json_value(row["log"], []), list[schemas.Attempt]),
        body=msgspec.json.decode(row["body"]) if body else None,
    )


async def list_deliveries(
    endpoint_id: uuid.UUID, status: str | None = None, limit: int = 50
) -> list[schemas.Delivery]:
    await _endpoint(endpoint_id)
    query = WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = await query.order_by(WebhookDelivery.created_at, ascending=False).limit(limit)
    return [_delivery_view(r) for r in rows]


async def _delivery(endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await WebhookDelivery.select()
        .where((WebhookDelivery.id == delivery_id) & (WebhookDelivery.endpoint == endpoint_id))
        .first()
    )
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such delivery for this endpoint.")
    return row


async def get_delivery(endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> schemas.Delivery:
    return _delivery_view(await _delivery(endpoint_id, delivery_id), body=True)


async def replay(actor: CurrentUser, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> schemas.Delivery:
    """Send a delivery again (delivered, failed or waiting): the same body and webhook-id, now."""
    await _delivery(endpoint_id, delivery_id)
    async with atomic():
        await (
            WebhookDelivery.update(
                {
                    WebhookDelivery.status: "pending",
                    WebhookDelivery.next_at: utcnow(),
                    # A replay gets a fresh day of retries.
                    WebhookDelivery.created_at: utcnow(),
                }
            )
            .where(WebhookDelivery.id == delivery_id)
            .run()
        )
        await audit.record(
            actor, "webhook.replayed", "webhook", endpoint_id, {"delivery_id": str(delivery_id)}
        )
    return await get_delivery(endpoint_id, delivery_id)


# --- the background job --------------------------------------------------------------------------


def _audience(row: dict[str, Any]) -> Audience:
    units = frozenset(uuid.UUID(u) for u in json_value(row["unit_ids"], []))
    return Audience(user_id=row["id"], everything=not units, units=units, enforcement=True, invited=False)


async def enqueue() -> int:
    """Turn the live events each active endpoint has not looked at yet into its deliveries."""
    made = 0
    for endpoint in await WebhookEndpoint.select().where(WebhookEndpoint.active == True):  # noqa: E712
        events = (
            await LiveEvent.select()
            .where(LiveEvent.id > endpoint["cursor"])
            .order_by(LiveEvent.id)
            .limit(EVENTS_PER_ROUND)
        )
        if not events:
            continue
        wanted = set(json_value(endpoint["event_types"], []))
        audience = _audience(endpoint)
        rows = []
        for e in events:
            route = Route(type=e["type"], seq=e["id"], unit_id=e["unit_id"], to=e["to_user"])
            if e["type"] not in wanted or not visible(audience, route):
                continue
            body = {
                "type": e["type"],
                "timestamp": e["at"].isoformat(),
                "data": {
                    "event_id": e["id"],
                    "unit_id": str(e["unit_id"]) if e["unit_id"] else None,
                    **msgspec.json.decode(e["data"]),
                },
            }
            rows.append(
                WebhookDelivery(
                    id=uuid.uuid4(),
                    endpoint=endpoint["id"],
                    event_id=e["id"],
                    event_type=e["type"],
                    body=_encoder.encode(body).decode(),
                    status="pending",
                    next_at=utcnow(),
                    created_at=utcnow(),
                )
            )
        async with atomic():
            # Compare-and-set on the cursor: where two API processes run this job, one wins a batch.
            moved = await (
                WebhookEndpoint.update({WebhookEndpoint.cursor: events[-1]["id"]})
                .where(
                    (WebhookEndpoint.id == endpoint["id"]) & (WebhookEndpoint.cursor == endpoint["cursor"])
                )
                .returning(WebhookEndpoint.id)
            )
            if moved and rows:
                await WebhookDelivery.insert(*rows).run()
                made += len(rows)
    return made


def _next_delay(attempts: int) -> float:
    return RETRY_DELAYS_S[min(attempts - 1, len(RETRY_DELAYS_S) - 1)]


async def _claim(row: dict[str, Any], now: datetime) -> bool:
    """Take a delivery for this process for the length of one try (another process skips it)."""
    taken = await (
        WebhookDelivery.update({WebhookDelivery.next_at: now + timedelta(seconds=TIMEOUT_S + 20)})
        .where(
            (WebhookDelivery.id == row["id"])
            & (WebhookDelivery.status == "pending")
            & (WebhookDelivery.next_at == row["next_at"])
        )
        .returning(WebhookDelivery.id)
    )
    return bool(taken)


async def _send(http: httpx.AsyncClient, row: dict[str, Any], endpoint: dict[str, Any]) -> None:
    body = row["body"].encode()
    stamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "fieldwatch-webhooks/1",
        "webhook-id": str(row["id"]),
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(endpoint["secret"], str(row["id"]), stamp, body),
    }
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        response = await http.post(endpoint["url"], content=body, headers=headers, timeout=TIMEOUT_S)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    now = utcnow()
    attempts = row["attempts"] + 1
    log = [
        *json_value(row["log"], []),
        {
            "at": now.isoformat(),
            "status": status,
            "error": error,
            "ms": round((time.monotonic() - started) * 1000),
        },
    ][-LOG_MAX:]
    values: dict[Any, Any] = {
        WebhookDelivery.attempts: attempts,
        WebhookDelivery.last_status: status,
        WebhookDelivery.last_error: error,
        WebhookDelivery.log: log,
    }
    if error is None:
        values[WebhookDelivery.status] = "delivered"
        values[WebhookDelivery.delivered_at] = now
    elif (now - row["created_at"]).total_seconds() >= GIVE_UP_S:
        values[WebhookDelivery.status] = "failed"
    else:
        values[WebhookDelivery.next_at] = now + timedelta(seconds=_next_delay(attempts))
    await WebhookDelivery.update(values).where(WebhookDelivery.id == row["id"]).run()


async def deliver_due(http: httpx.AsyncClient) -> int:
    """Send the deliveries that are due (a batch), at most PARALLEL at a time; returns how many."""
    now = utcnow()
    rows = (
        await WebhookDelivery.select()
        .where((WebhookDelivery.status == "pending") & (WebhookDelivery.next_at <= now))
        .order_by(WebhookDelivery.next_at)
        .limit(BATCH)
    )
    if not rows:
        return 0
    endpoints = {
        r["id"]: r
        for r in await WebhookEndpoint.select().where(
            WebhookEndpoint.id.is_in(list({r["endpoint"] for r in rows})) & (WebhookEndpoint.active == True)  # noqa: E712
        )
    }
    gate = asyncio.Semaphore(PARALLEL)

    async def one(row: dict[str, Any]) -> bool:
        endpoint = endpoints.get(row["endpoint"])
        if endpoint is None or not await _claim(row, now):
            return False  # a paused endpoint keeps its deliveries for when it is active again
        async with gate:
            await _send(http, row, endpoint)
        return True

    return sum(await asyncio.gather(*(one(r) for r in rows)))


async def run_once(http: httpx.AsyncClient) -> None:
    await enqueue()
    await deliver_due(http)
