"""The field loop under load: N officers each posting one action a second while M command-center
screens watch the live stream, every client group in its own process.

    .venv/bin/python benchmarks/live_load.py [--officers 200] [--watchers 500] [--seconds 60]
        [--watcher-processes 2] [--database-url postgresql://…] [--tree DIR] [--json out.json]

One ``fieldwatch serve`` process on the demo data: SQLite in a temp dir, or with ``--database-url`` a
fresh PostgreSQL database made next to that one (and dropped after).
The officers' process keeps an open-loop schedule: officer i posts at start + i/N + k seconds; a slot
whose previous request is still out is offered but not sent (counted as not accepted), and a POST's
latency runs from its slot, so a slow server cannot hide its queue. The watchers' processes read
``WS /api/v1/live`` with a lean frame reader (the load generator must not be what saturates), and
record, for every ``action.created``, each receipt and its delay after the event's server time.

Printed: actions offered and accepted (201), POST p50/p99 from the slot, delivery p50/p99, events
missing or delivered twice; ``--check`` exits 1 unless every accepted action reached every watcher
exactly once and no request failed (the short CI form in tests/integration/live/test_load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEMO_PASSWORD,
    ROOT,
    Server,
    base_env,
    cli,
    free_port,
    http,
    log,
    machine,
    prepare,
    running,
    table,
    temp_data_dir,
    with_database,
    write_json,
)

TARGET_ACCEPTED = 0.95
TARGET_P99_S = 1.0
GRACE_S = 10.0  # after the last slot, how long watchers wait for the last events


# -- the watchers' process ------------------------------------------------------------------------


class _Data(msgspec.Struct):
    id: str = ""


class _Event(msgspec.Struct):
    type: str
    at: str = ""
    data: _Data | None = None


_decode_event = msgspec.json.Decoder(_Event).decode


class Screen(asyncio.Protocol):
    """One websocket client: the handshake written by hand, server frames parsed straight from the
    buffer (they are never masked), pings answered; receipts recorded as (action id, delay)."""

    def __init__(self, host: str, path: str, token: str, receipts: list[tuple[str, float]]) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: fieldwatch, bearer.{token}\r\n\r\n"
        ).encode()
        self.receipts = receipts
        self.buffer = bytearray()
        self.upgraded = False
        self.hello = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.close_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(_masked(0x1, text.encode()))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._fail(f"handshake refused: {bytes(buffer[:end])!r}")
                return
            del buffer[: end + 4]
            self.upgraded = True
        now = time.time()
        offset, size = 0, len(buffer)
        while size - offset >= 2:
            opcode, length = buffer[offset] & 0x0F, buffer[offset + 1] & 0x7F
            start = offset + 2
            if length == 126:
                if size - offset < 4:
                    break
                length, start = int.from_bytes(buffer[offset + 2 : offset + 4]), offset + 4
            elif length == 127:
                if size - offset < 10:
                    break
                length, start = int.from_bytes(buffer[offset + 2 : offset + 10]), offset + 10
            if size < start + length:
                break
            payload = bytes(buffer[start : start + length])
            offset = start + length
            if opcode == 0x1:
                self._text(payload, now)
            elif opcode == 0x9 and self.transport is not None:
                self.transport.write(_masked(0xA, payload))
            elif opcode == 0x8:
                self.close_code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
        del buffer[:offset]

    def _text(self, payload: bytes, now: float) -> None:
        event = _decode_event(payload)
        if event.type == "action.created" and event.data is not None:
            self.receipts.append((event.data.id, now - datetime.fromisoformat(event.at).timestamp()))
        elif event.type == "hello" and not self.hello.done():
            self.hello.set_result(None)

    def _fail(self, reason: str) -> None:
        if not self.hello.done():
            self.hello.set_exception(RuntimeError(reason))
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006
        self._fail("connection lost before hello")


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (RFC 6455 §5.3: clients mask what they send). Control messages are short."""
    assert len(payload) < 126
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


async def watchers_main(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    host, port = args.url.removeprefix("http://").split(":")
    receipts: list[tuple[str, float]] = []
    screens: list[Screen] = []
    for start in range(0, args.count, 25):
        batch = []
        for _ in range(min(25, args.count - start)):
            _, screen = await loop.create_connection(
                lambda: Screen(f"{host}:{port}", "/api/v1/live", args.token, receipts), host, int(port)
            )
            batch.append(screen)
        await asyncio.gather(*(s.hello for s in batch))
        for screen in batch:
            screen.send_text(json.dumps({"subscribe": ["action.created"]}))
        screens += batch
    ready_and_wait_for_start()
    cpu = time.process_time()
    until = float(Path(args.until_file).read_text())  # noqa: ASYNC240 - one small read before the clock starts
    await asyncio.sleep(max(0.0, until - time.time()))
    closed = sorted({s.close_code for s in screens if s.close_code is not None})
    counts: dict[str, int] = {}
    for action_id, _ in receipts:
        counts[action_id] = counts.get(action_id, 0) + 1
    histogram: dict[int, int] = {}  # whole milliseconds -> receipts
    for _, delay in receipts:
        bucket = max(0, int(delay * 1000))
        histogram[bucket] = histogram.get(bucket, 0) + 1
    return {
        "cpu_s": time.process_time() - cpu,
        "screens": len(screens),
        "closed": closed,
        "receipts": len(receipts),
        "counts": counts,
        "delays_ms": histogram,
    }


# -- the officers' process ------------------------------------------------------------------------


class _Created(msgspec.Struct):
    id: str


_decode_created = msgspec.json.Decoder(_Created).decode


class Poster(asyncio.Protocol):
    """One officer's keep-alive HTTP/1.1 connection, one request at a time, responses parsed by
    httptools (uvicorn's C parser): a general-purpose client cost more CPU than the server did."""

    def __init__(self, request: bytes) -> None:
        import httptools

        self.request = request
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.body = bytearray()
        self.answer: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    async def post(self) -> tuple[int, bytes]:
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.body.clear()
        self.transport.write(self.request)
        return await self.answer

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_result((self.parser.get_status_code(), bytes(self.body)))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError("the server closed the connection"))


async def officers_main(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    host, port = args.url.removeprefix("http://").split(":")
    body = args.body.encode()
    request = (
        f"POST /api/v1/actions HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {args.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    created: list[str] = []
    offered = 0
    posters = []
    for _ in range(args.count):
        _, poster = await loop.create_connection(lambda: Poster(request), host, int(port))
        posters.append(poster)
    ready_and_wait_for_start()
    cpu = time.process_time()
    start = time.time() + 0.5

    async def officer(i: int, poster: Poster) -> None:
        nonlocal offered
        slot = start + i / args.count
        end = start + args.seconds
        while slot < end:
            offered += 1
            wait = slot - time.time()
            if wait < -0.5:  # the previous POST is still out: this second's action is not sent
                statuses["not sent"] = statuses.get("not sent", 0) + 1
                slot += 1
                continue
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                async with asyncio.timeout(30):
                    status, answer = await poster.post()
                key = str(status)
                if status == 201:
                    created.append(_decode_created(answer).id)
                    latencies.append(time.time() - slot)
            except (ConnectionError, TimeoutError) as exc:
                statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                left = math.ceil(end - slot - 1)  # this officer's connection is gone: the rest is not sent
                offered += left
                statuses["not sent"] = statuses.get("not sent", 0) + left
                return
            statuses[key] = statuses.get(key, 0) + 1
            slot += 1

    await asyncio.gather(*(officer(i, poster) for i, poster in enumerate(posters)))
    for poster in posters:
        if poster.transport is not None:
            poster.transport.close()
    return {
        "cpu_s": time.process_time() - cpu,
        "offered": offered,
        "statuses": statuses,
        "created": created,
        "latencies": latencies,
    }


def ready_and_wait_for_start() -> None:
    """Tell the coordinator this process is connected; block until it says go."""
    print("ready", flush=True)
    sys.stdin.readline()


# -- the coordinator ------------------------------------------------------------------------------


def spawn(role: str, out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--role", role, "--out", str(out), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def histogram_percentile(histogram: dict[int, int], q: float) -> float:
    """The q-quantile, in seconds, of receipts counted per whole millisecond."""
    total = sum(histogram.values())
    rank, seen = q * total, 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen > rank:
            return bucket / 1000
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(
    base: str, server_pid: int, officers: int, watchers: int, seconds: float, processes: int
) -> dict[str, Any]:
    fixture = prepare(base)
    status, body = http(
        "POST", f"{base}/api/v1/auth/login", {"username": "command", "password": DEMO_PASSWORD}
    )
    assert status == 200, body
    shares = [watchers // processes + (1 if n < watchers % processes else 0) for n in range(processes)]
    # When the watchers stop is only known once every client is connected: it is written to a
    # file they read after "go".
    scratch = Path(tempfile.mkdtemp(prefix="fieldwatch-load-"))
    deadline_file = scratch / "until"
    children: list[tuple[str, subprocess.Popen[str], Path]] = []
    try:
        for share in shares:
            watcher_args = ["--url", base, "--token", body["access_token"], "--count", str(share)]
            watcher_args += ["--until-file", str(deadline_file)]
            out = scratch / f"watchers-{len(children)}.json"
            children.append(("watchers", spawn("watchers", out, *watcher_args), out))
        officer_args = ["--url", base, "--token", fixture.token, "--count", str(officers)]
        body_args = ["--seconds", str(seconds), "--body", json.dumps(fixture.action_body())]
        out = scratch / "officers.json"
        children.append(("officers", spawn("officers", out, *officer_args, *body_args), out))
        for name, child, _ in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"the {name} process did not connect (it printed {line!r})")
        deadline_file.write_text(str(time.time() + 0.5 + seconds + GRACE_S))
        server_cpu = cpu_seconds(server_pid)
        for _, child, _ in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results: dict[str, list[dict[str, Any]]] = {"watchers": [], "officers": []}
        for name, child, out in children:
            child.wait(timeout=seconds + GRACE_S + 120)
            if child.returncode != 0:
                raise RuntimeError(f"the {name} process failed ({child.returncode})")
            results[name].append(json.loads(out.read_text()))
        server_cpu_used = cpu_seconds(server_pid) - server_cpu
    finally:
        for _, child, _ in children:
            if child.poll() is None:
                child.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    summary = summarise(results["officers"][0], results["watchers"])
    cpu = {"server": server_cpu_used, "officers": results["officers"][0]["cpu_s"]}
    cpu["watchers"] = sum(w["cpu_s"] for w in results["watchers"])
    return {**summary, "cpu_s": {name: round(value, 1) for name, value in cpu.items()}}


def summarise(officers: dict[str, Any], watchers: list[dict[str, Any]]) -> dict[str, Any]:
    created = officers["created"]
    screens = sum(w["screens"] for w in watchers)
    missing = duplicated = 0
    for w in watchers:
        counts = w["counts"]
        for action_id in created:
            seen = counts.get(action_id, 0)
            missing += w["screens"] - seen if seen < w["screens"] else 0
            duplicated += seen - w["screens"] if seen > w["screens"] else 0
    delays: dict[int, int] = {}
    for w in watchers:
        for bucket, count in w["delays_ms"].items():
            delays[int(bucket)] = delays.get(int(bucket), 0) + count
    latencies = officers["latencies"]
    return {
        "offered": officers["offered"],
        "accepted": len(created),
        "accepted_share": round(len(created) / officers["offered"], 4) if officers["offered"] else 0,
        "statuses": officers["statuses"],
        "post_p50_s": round(percentile(latencies, 0.5), 3),
        "post_p99_s": round(percentile(latencies, 0.99), 3),
        "screens": screens,
        "receipts": sum(w["receipts"] for w in watchers),
        "expected_receipts": len(created) * screens,
        "missing": missing,
        "duplicated": duplicated,
        "closed": sorted({code for w in watchers for code in w["closed"]}),
        "delivery_p50_s": histogram_percentile(delays, 0.5),
        "delivery_p99_s": histogram_percentile(delays, 0.99),
        "delivery_max_s": max(delays, default=0) / 1000,
    }


def app_server(env: dict[str, str], log_dir: Path, tree: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--log-level", "warning"]
    return Server("app", argv, {**env, "PYTHONPATH": str(tree)}, port, "/healthz", log_dir, cwd=tree)


@contextlib.contextmanager
def fresh_database(url: str | None) -> Iterator[str | None]:
    """A new PostgreSQL database next to ``url`` (dropped afterwards), or None for SQLite."""
    if not url:
        yield None
        return
    import asyncpg

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(url, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    name = f"fw_load_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(url, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def coordinator(args: argparse.Namespace) -> int:
    with temp_data_dir() as data, fresh_database(args.database_url) as database_url:
        env = base_env(data, database_url)
        env["FIELDWATCH_LIVE_HEARTBEAT"] = "3600"  # the session checks are not what is measured
        cli(env, "demo", "--password", DEMO_PASSWORD)
        with running(app_server(env, data, Path(args.tree))) as server:
            engine = "PostgreSQL" if args.database_url else "SQLite"
            shape = f"{args.officers} officers x 1 action/s, {args.watchers} watchers, {args.seconds:g} s"
            log(f"{engine}: {shape}")
            assert server.proc is not None
            shape_args = (args.officers, args.watchers, args.seconds, args.watcher_processes)
            result = run_load(server.base, server.proc.pid, *shape_args)
    result = {
        "engine": engine,
        "tree": args.tree,
        "officers": args.officers,
        "watchers": args.watchers,
        **result,
    }
    headers = ["offered", "accepted", "POST p50 s", "POST p99 s", "delivery p50 s", "delivery p99 s"]
    row = [
        result["offered"],
        f"{result['accepted']} ({result['accepted_share']:.1%})",
        result["post_p50_s"],
        result["post_p99_s"],
        result["delivery_p50_s"],
        result["delivery_p99_s"],
    ]
    print(table(headers, [row]))
    print(
        f"receipts {result['receipts']} of {result['expected_receipts']}; missing {result['missing']}, "
        f"delivered twice {result['duplicated']}; statuses {result['statuses']}; closed {result['closed']}"
    )
    print(f"CPU seconds used: {result['cpu_s']} (the run took {args.seconds:g} s + {GRACE_S:g} s)")
    print(f"targets: accepted >= {TARGET_ACCEPTED:.0%}, p99 <= {TARGET_P99_S:g} s, every event once")
    write_json(args.json, {"machine": machine(), "seconds": args.seconds, **result})
    if args.check:
        failures = [name for name, bad in faults(result).items() if bad]
        if failures:
            print("check failed: " + ", ".join(failures))
            return 1
    return 0


def faults(result: dict[str, Any]) -> dict[str, bool]:
    """What ``--check`` refuses: any request that did not succeed, any event lost or repeated."""
    return {
        "a POST did not answer 201": set(result["statuses"]) != {"201"},
        "an event did not reach every watcher": result["missing"] > 0,
        "an event reached a watcher twice": result["duplicated"] > 0,
        "a watcher was disconnected": bool(result["closed"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=["coordinator", "watchers", "officers"], default="coordinator")
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--watchers", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--watcher-processes", type=int, default=2)
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL server to make a fresh database on; default SQLite"
    )
    parser.add_argument("--tree", default=str(ROOT), help="serve this source tree (a baseline's checkout)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every event arrived once")
    # the client processes' own arguments
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--body", help=argparse.SUPPRESS)
    parser.add_argument("--until-file", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "coordinator":
        return coordinator(args)
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    role = watchers_main if args.role == "watchers" else officers_main
    result = asyncio.run(role(args))
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
