"""Baseline for benchmarks/fanout.py: a bare `websockets` server that sends one payload to every
connected client with ``websockets.broadcast()`` (one encoding for all) when the control client
asks. Run by fanout.py; not part of the app.

    python benchmarks/raw_broadcast.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    if ws.request is not None and ws.request.path == "/control":
        async for raw in ws:
            template = json.loads(raw)
            template["at"] = datetime.now(UTC).isoformat()
            broadcast(CLIENTS, json.dumps(template, ensure_ascii=False))
        return
    CLIENTS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CLIENTS.discard(ws)


async def main(port: int) -> None:
    # No per-message deflate, like the app: broadcast() then encodes each frame once for everyone.
    async with serve(handler, "127.0.0.1", port, max_size=2**20, compression=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:  # the same event loop the app's server uses when it is installed
        import uvloop

        uvloop.run(main(int(sys.argv[1])))
    except ImportError:
        asyncio.run(main(int(sys.argv[1])))
