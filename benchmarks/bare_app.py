"""The baseline for the HTTP benchmark: a bare Litestar app answering a small JSON document, served
by uvicorn exactly as ``fieldwatch serve`` serves the real app (one worker, same options).

    .venv/bin/python benchmarks/bare_app.py --port 8001 [--log-level warning]
"""

from __future__ import annotations

import argparse

import uvicorn
from litestar import Litestar, get

DOCUMENT = {
    "id": "5b0c1d3e-8a4f-4f0e-9d2b-0c6a1e7f9a10",
    "status": "ok",
    "unit_name": "水江镇",
    "items": [1, 2, 3],
}


@get("/bare", sync_to_thread=False)
def bare() -> dict[str, object]:
    return DOCUMENT


def create_app() -> Litestar:
    return Litestar(route_handlers=[bare])


def main() -> None:
    parser = argparse.ArgumentParser(description="bare Litestar JSON endpoint for benchmarks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    # The same call as backend.cli.cmd_serve.
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        ws_per_message_deflate=False,
        log_level=args.log_level,
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
