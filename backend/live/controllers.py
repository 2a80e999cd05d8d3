"""WS /api/v1/live and officers' positions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from backend.accounts.services import load_current_user
from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.deps import AppSettings, SignedIn, Tokens
from backend.lib.errors import AppError
from backend.live import schemas, services
from backend.live.hub import CLOSE_TOO_SLOW, CLOSE_UNAUTHORISED, Client, LiveHub
from backend.live.publish import Events
from backend.live.wire import wire_of

CLOSE_REASONS = {CLOSE_UNAUTHORISED: "session ended", CLOSE_TOO_SLOW: "too slow: reconnect with resume_after"}
PROTOCOL = "fieldwatch"
TOKEN_PREFIX = "bearer."  # noqa: S105 - a subprotocol prefix, not a secret


class ClientMessage(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    subscribe: list[str] | None = None
    resume_after: str | int | None = None


_decode = msgspec.json.Decoder(ClientMessage).decode


async def _authenticate(
    socket: WebSocket[Any, Any, Any], token: str | None, tokens: Tokens
) -> CurrentUser | None:
    if token is None:
        try:
            with anyio.fail_after(10):
                first = _decode(await socket.receive_data(mode="text"))
        except (TimeoutError, msgspec.DecodeError, WebSocketDisconnect):
            return None
        token = first.token
    if not token:
        return None
    try:
        claims = tokens.verify(token)
        return await load_current_user(uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))
    except AppError:
        return None


async def _sender(socket: WebSocket[Any, Any, Any], client: Client) -> None:
    send = socket.send
    while True:
        await send({"type": "websocket.send", "bytes": None, "text": await client.queue.get()})


async def _resume(client: Client, after: int) -> None:
    client.replaying = True
    try:
        last = after
        async for route, text in services.replay(after):
            last = route.seq
            if route.seq not in client.delivered and client.wants(route):
                await client.put(text)
        for seq, text in client.pending:
            if seq > last and seq not in client.delivered:
                await client.put(text)
    finally:
        client.pending.clear()
        client.replaying = False


@websocket("/live", exclude_from_auth=True, name="live")
async def live_socket(socket: WebSocket[Any, Any, Any], tokens: Tokens, hub: LiveHub) -> None:
    offered = list(socket.scope.get("subprotocols") or [])
    token = next((p[len(TOKEN_PREFIX) :] for p in offered if p.startswith(TOKEN_PREFIX)), None)
    await socket.accept(subprotocols=PROTOCOL if PROTOCOL in offered else None)
    user = await _authenticate(socket, token, tokens)
    if user is None:
        await socket.close(code=CLOSE_UNAUTHORISED, reason="unauthorised")
        return
    client = hub.connect(user, wire_of(socket.scope))
    me = asyncio.current_task()
    assert me is not None
    sender: asyncio.Task[None] | None = None

    def stop() -> None:
        if sender is not None:
            sender.cancel()
        me.cancel()

    # Reading happens in this task. Under `fieldwatch serve` the hub writes events to the wire
    # itself; otherwise one more task sends them. Either side ending (peer gone, too slow, session
    # ended) stops the other.
    client.on_close = stop
    try:
        client.floor = await services.last_event_id()
        hello = {"type": "hello", "data": {"user_id": str(user.id), "last_event_id": str(client.floor)}}
        await socket.send_data(msgspec.json.encode(hello).decode())
        if client.wire is None:
            sender = asyncio.create_task(_sender(socket, client))
            sender.add_done_callback(lambda task: None if task.cancelled() else stop())
        else:
            client.release()
        with contextlib.suppress(WebSocketDisconnect):
            await _receive(socket, client)
    except asyncio.CancelledError:
        if client.close_code is None and not (sender is not None and sender.done()):
            raise  # the server is shutting down
        me.uncancel()
    finally:
        if sender is not None:
            sender.cancel()
        hub.disconnect(client)
    if client.close_code is not None and client.wire is not None:
        client.wire.close_now(client.close_code, CLOSE_REASONS[client.close_code])
    elif client.close_code is not None:
        # A stalled peer may never read the close frame: do not wait for it long.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await socket.close(code=client.close_code, reason=CLOSE_REASONS[client.close_code])


async def _receive(socket: WebSocket[Any, Any, Any], client: Client) -> None:
    while True:
        raw = await socket.receive_data(mode="text")
        try:
            message = _decode(raw)
        except msgspec.DecodeError:
            continue  # a malformed control message is ignored, the stream goes on
        if message.subscribe is not None:
            client.types = frozenset(message.subscribe)
        if message.resume_after is not None:
            after = _event_id(message.resume_after)
            if after is not None:
                await _resume(client, after)


def _event_id(value: str | int) -> int | None:
    """An event id to resume after, or None for what cannot be one: ignored like any other malformed
    control message (an id beyond 64 bits used to fail in the database and end the stream)."""
    try:
        seq = int(value)
    except ValueError:
        return None
    return seq if -(2**63) <= seq < 2**63 else None


class PositionController(Controller):
    path = "/positions"
    tags = ["live"]

    @post("/", guards=[requires_roles("officer")], status_code=HTTP_201_CREATED, summary="Location ping")
    async def ping(
        self, user: SignedIn, settings: AppSettings, events: Events, data: JSONBody[schemas.PositionCreate]
    ) -> schemas.OfficerPosition:
        return await services.record_position(user, data, settings.position_min_interval_s, events)

    @get("/map", summary="The map's tile source (a deployment setting); tiles null means none")
    async def map_config(self, user: SignedIn, settings: AppSettings) -> dict[str, object]:
        return {"tiles": settings.tile_source()}

    @get("/", summary="Officers on duty (seen within active_within seconds) in your scope")
    async def positions(
        self,
        user: SignedIn,
        active_within: Annotated[int, QueryParameter(ge=60, le=86_400)] = 900,
    ) -> list[schemas.OfficerPosition]:
        return await services.list_positions(user, active_within)
