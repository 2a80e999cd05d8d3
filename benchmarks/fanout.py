"""Live-stream fan-out: latency from the commit to each of N websocket clients, and server memory.

One run measures, on this machine:
  raw    a bare `websockets.broadcast()` server sending the same payload to N clients (baseline);
  app    one `fieldwatch serve` process (in-memory channels), N clients on WS /api/v1/live, one action
         posted per event; latency = client receipt time - the event's server timestamp (taken just
         after the action's transaction committed);
  redis  two `fieldwatch serve` processes sharing the stream through Redis, N/2 clients on each,
         actions posted to the first.
p50/p99 over all (client, event) pairs; server RSS growth per connection from /proc. Raw and app run
in interleaved rounds (the order alternating), and each round's ratios are against its own raw run.

    .venv/bin/python benchmarks/fanout.py [--clients 1000] [--events 20] [--rounds 3] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websockets.asyncio.client import ClientConnection, connect

from benchmarks.common import (
    DEMO_PASSWORD,
    Server,
    base_env,
    cli,
    free_port,
    http,
    log,
    machine,
    memory_kib,
    prepare,
    running,
    table,
    temp_data_dir,
    write_json,
)

TARGET_RATIO = 1.0  # p50 and p99 against raw, in the same round
TARGET_RSS_PER_CONN_KB = 100
WARMUP = 3  # events posted and delivered before the app's are counted


def rss_kib(pid: int) -> int:
    return memory_kib(pid)["VmRSS"]


class Fleet:
    """N websocket clients recording, per event id, the latency of each receipt."""

    def __init__(self) -> None:
        self.conns: list[ClientConnection] = []
        self.latencies: dict[str, list[float]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self, url: str, n: int, subprotocols: list[str] | None, first: list[str]) -> None:
        async def one() -> None:
            ws = await connect(
                url,
                subprotocols=subprotocols,
                max_size=2**20,
                open_timeout=60,  # type: ignore[arg-type]
                ping_interval=None,
            )
            for message in first:
                await ws.send(message)
            self.conns.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

        for start in range(0, n, 50):
            await asyncio.gather(*(one() for _ in range(min(50, n - start))))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.time()
                event = json.loads(raw)
                if event.get("type") == "action.created":
                    at = datetime.fromisoformat(event["at"]).timestamp()
                    self.latencies.setdefault(event["data"]["id"], []).append(now - at)

    async def wait(self, key: str, expected: int, within: float = 30) -> int:
        """Poll (cheaply) until ``expected`` clients have the event or ``within`` seconds pass."""
        deadline = time.monotonic() + within
        while len(self.latencies.get(key, ())) < expected and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        return len(self.latencies.get(key, ()))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.conns), return_exceptions=True)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {
        "p50_ms": round(pick(0.50), 2),
        "p99_ms": round(pick(0.99), 2),
        "n": len(ordered),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


async def bench_raw(n: int, events: int, template: dict) -> dict:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).parent / "raw_broadcast.py"),
        str(port),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        await asyncio.wait_for(server.stdout.readline(), 30)
        fleet = Fleet()
        base_rss = rss_kib(server.pid)
        await fleet.connect(f"ws://127.0.0.1:{port}/", n, None, [])
        await asyncio.sleep(1)
        per_conn = (rss_kib(server.pid) - base_rss) / n
        all_lat: list[float] = []
        async with connect(f"ws://127.0.0.1:{port}/control") as control:
            for _ in range(events):
                key = str(uuid.uuid4())
                await control.send(json.dumps({**template, "data": {**template["data"], "id": key}}))
                got = await fleet.wait(key, n)
                all_lat += fleet.latencies.get(key, [])
                if got < n:
                    log(f"raw: only {got}/{n} clients received an event")
                await asyncio.sleep(0.2)
        await fleet.close()
        return {**percentiles(all_lat), "rss_per_conn_kib": round(per_conn, 1)}
    finally:
        server.terminate()
        await server.wait()


async def bench_app(servers: list[Server], n: int, events: int) -> tuple[dict, dict]:
    poster = prepare(servers[0].base)
    status, body = http(
        "POST", f"{servers[0].base}/api/v1/auth/login", {"username": "command", "password": DEMO_PASSWORD}
    )
    assert status == 200, body
    token = body["access_token"]
    fleet = Fleet()
    per_server = n // len(servers)
    base_rss = {s.name: rss_kib(s.proc.pid) for s in servers}  # type: ignore[union-attr]
    for server in servers:
        url = server.base.replace("http://", "ws://") + "/api/v1/live"
        await fleet.connect(
            url,
            per_server,
            ["fieldwatch", f"bearer.{token}"],
            [json.dumps({"subscribe": ["action.created"]})],
        )
    await asyncio.sleep(2)
    rss = {s.name: (rss_kib(s.proc.pid) - base_rss[s.name]) / per_server for s in servers}  # type: ignore[union-attr]
    all_lat: list[float] = []
    template: dict = {}
    for number in range(-WARMUP, events):
        status, created = http(
            "POST", f"{servers[0].base}/api/v1/actions", poster.action_body(), token=poster.token
        )
        assert status == 201, created
        got = await fleet.wait(created["id"], per_server * len(servers))
        if number >= 0:  # the first few warm the server's code paths up; raw has none to warm
            all_lat += fleet.latencies.get(created["id"], [])
        if got < per_server * len(servers):
            log(f"app: only {got}/{per_server * len(servers)} clients received an event")
        template = {
            "type": "action.created",
            "id": "1",
            "at": "",
            "unit_id": created["unit_id"],
            "data": created,
        }
        await asyncio.sleep(0.2)
    await fleet.close()
    return {**percentiles(all_lat), "rss_per_conn_kib": round(max(rss.values()), 1)}, template


def app_server(name: str, env: dict[str, str], log_dir: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--log-level", "warning"]
    return Server(name, argv, env, port, "/healthz", log_dir)


async def main_async(args: argparse.Namespace) -> int:
    rounds: list[dict[str, dict]] = []
    with temp_data_dir() as data:
        env = base_env(data, args.database_url)
        env["FIELDWATCH_LIVE_HEARTBEAT"] = "3600"  # heartbeats are not what is measured
        cli(env, "demo", "--password", DEMO_PASSWORD)
        template: dict = {}
        for number in range(args.rounds):
            results: dict[str, dict] = {}
            # The raw server sends the app's own event; after the first round the order alternates
            # so neither side always runs on a warmer (or busier) machine.
            for variant in ("app", "raw") if number % 2 == 0 else ("raw", "app"):
                log(f"round {number + 1}: {variant}, {args.clients} clients, {args.events} events")
                if variant == "app":
                    with running(app_server("app", env, data)) as server:
                        results["app"], template = await bench_app([server], args.clients, args.events)
                else:
                    results["raw"] = await bench_raw(args.clients, args.events, template)
            if args.redis_url:
                redis_env = {
                    **env,
                    "FIELDWATCH_REDIS_URL": args.redis_url,
                    "FIELDWATCH_REDIS_PREFIX": f"fw-bench-{os.getpid()}",
                }
                log(f"round {number + 1}: two app processes through Redis")
                with (
                    running(app_server("app1", redis_env, data)) as first,
                    running(app_server("app2", redis_env, data)) as second,
                ):
                    results["redis"], _ = await bench_app([first, second], args.clients, args.events)
            rounds.append(results)
    rows = []
    for number, results in enumerate(rounds, 1):
        raw = results["raw"]
        for name in ("raw", "app", "redis"):
            if name in results:
                r = results[name]
                p50 = r["p50_ms"] / raw["p50_ms"] if raw["p50_ms"] else 0
                p99 = r["p99_ms"] / raw["p99_ms"] if raw["p99_ms"] else 0
                ratios = [f"{p50:.2f}x", f"{p99:.2f}x"]
                rows.append([number, name, r["n"], r["p50_ms"], r["p99_ms"], *ratios, r["rss_per_conn_kib"]])
    headers = ["round", "variant", "receipts", "p50 ms", "p99 ms", "p50 vs raw", "p99 vs raw", "RSS/conn KiB"]
    print(table(headers, rows))
    print(f"\ntargets: app p50 and p99 <= {TARGET_RATIO}x raw; RSS <= {TARGET_RSS_PER_CONN_KB} KB/connection")
    meta = {"machine": machine(), "clients": args.clients, "events": args.events}
    write_json(args.json, {**meta, "rounds": rounds})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="raw and app interleaved, each round")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="empty to skip")
    parser.add_argument("--json", help="also write the results here")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
