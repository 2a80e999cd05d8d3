from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backend.cli import server_config
from tests.conftest import PASSWORD, World
from tests.servers import api_process, free_port


@pytest.fixture(scope="module")
def api(migrated, world: World, tmp_path_factory) -> Iterator[str]:
    with api_process(tmp_path_factory.mktemp("live"), FIELDWATCH_LIVE_HEARTBEAT="1") as url:
        yield url


async def token_for(base_url: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


class Watcher:
    """A websocket client that records every event it receives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                self.events.append(json.loads(raw))
                self._changed.set()

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type_]

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 5
    ) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                found = next((e for e in self.events if predicate(e)), None)
                if found is not None:
                    return found
                self._changed.clear()
                await self._changed.wait()

    async def closed(self, within: float = 5) -> int | None:
        """Wait for the server to close the connection; its close code."""
        async with asyncio.timeout(within):
            await asyncio.shield(self._task)
        return self.ws.close_code

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()


@contextlib.asynccontextmanager
async def watching(base_url: str, token: str, *, via_message: bool = False) -> AsyncIterator[Watcher]:
    url = base_url.replace("http://", "ws://") + "/api/v1/live"
    protocols = ["fieldwatch"] if via_message else ["fieldwatch", f"bearer.{token}"]
    async with connect(url, subprotocols=protocols) as ws:  # type: ignore[arg-type]
        if via_message:
            await ws.send(json.dumps({"token": token}))
        watcher = Watcher(ws)
        await watcher.wait_for(lambda e: e["type"] == "hello")
        try:
            yield watcher
        finally:
            await watcher.close()


@contextlib.asynccontextmanager
async def reader_and_sleeper(
    base_url: str, token: str, type_: str
) -> AsyncIterator[tuple[Watcher, ClientConnection]]:
    """Two sockets subscribed to ``type_``: one that reads everything, one that reads nothing until
    asked (``read_until_closed``), with the smallest client-side buffer."""
    url = base_url.replace("http://", "ws://") + "/api/v1/live"
    protocols = ["fieldwatch", f"bearer.{token}"]
    async with (
        watching(base_url, token) as reader,
        connect(url, subprotocols=protocols, max_queue=1) as sleeper,  # type: ignore[arg-type]
    ):
        await reader.send({"subscribe": [type_]})
        await sleeper.send(json.dumps({"subscribe": [type_]}))
        await asyncio.sleep(0.3)
        yield reader, sleeper


async def read_until_closed(ws: ClientConnection, type_: str, within: float = 30) -> tuple[int | None, int]:
    """Read ``ws`` until the server closes it: (its close code, how many ``type_`` events came)."""
    received = 0
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(within):
            while True:
                received += json.loads(await ws.recv())["type"] == type_
    return ws.close_code, received


@contextlib.asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """``app`` under uvicorn as ``fieldwatch serve`` configures it, in the test's own event loop."""
    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
        if task.done():
            task.result()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def post_action(base_url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/api/v1/actions", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return response.json()


def new_id() -> str:
    return str(uuid.uuid4())


__all__ = [
    "Path",
    "Watcher",
    "new_id",
    "post_action",
    "read_until_closed",
    "reader_and_sleeper",
    "served",
    "token_for",
    "watching",
]
