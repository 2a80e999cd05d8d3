"""Shared helpers: temporary data directories and PostgreSQL databases, running the CLI, servers
stopped by PID, the demo data's fixture, process memory, timing."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEMO_PASSWORD = "bench-demo-password-1"  # noqa: S105 (demo users of a throw-away database)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- environments ---------------------------------------------------------------------------------


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run ``fieldwatch ARGS`` (the project's own CLI) with ``env`` and return its output."""
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"fieldwatch {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def base_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env["FIELDWATCH_DATA_DIR"] = str(data_dir)
    env["FIELDWATCH_LOGIN_RATE_PER_MINUTE"] = "100000"
    env["PYTHONPATH"] = str(ROOT)
    if database_url:
        env["FIELDWATCH_DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def temp_data_dir(prefix: str = "fieldwatch-bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def scratch_settings() -> Iterator[Path]:
    """Point this process's own FIELDWATCH_* settings at a throw-away directory, so importing the
    backend (whose Piccolo configuration opens the configured database) touches nothing else."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("FIELDWATCH_")}
    with temp_data_dir("fieldwatch-bench-scratch-") as scratch:
        for key in saved:
            del os.environ[key]
        os.environ["FIELDWATCH_DATA_DIR"] = str(scratch)
        try:
            yield scratch
        finally:
            for key in [k for k in os.environ if k.startswith("FIELDWATCH_")]:
                del os.environ[key]
            os.environ.update(saved)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def temp_pg_database(admin_url: str = DEFAULT_PG_URL, prefix: str = "fw_bench") -> AsyncIterator[str]:
    """CREATE a fresh database next to ``admin_url``'s, yield its URL, DROP it (WITH FORCE) after."""
    import asyncpg

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def pg_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, else the reason."""
    try:
        import asyncpg

        connection = await asyncpg.connect(url, timeout=5)
        await connection.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# -- servers and processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen[bytes], wait: float = 15, kill_wait: float = 15) -> None:
    """SIGINT to ``proc`` by its PID, SIGKILL if it has not exited ``wait`` seconds later."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=kill_wait)


class Server:
    """A child process serving HTTP on 127.0.0.1:port; stopped by its PID."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        port: int,
        ready_path: str,
        log_dir: Path,
        cwd: Path = ROOT,  # another tree's source, for ``python -m`` to import its own code
    ):
        self.name, self.argv, self.env, self.port, self.ready_path = name, argv, env, port, ready_path
        self.cwd = cwd
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603
                self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError):
                status, _ = http("GET", self.base + self.ready_path, timeout=2)
                if status == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer {self.ready_path} within {timeout:g} s:\n{self.tail()}"
        )

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def http(method: str, url: str, body: object = None, token: str | None = None, timeout: float = 15):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (our own 127.0.0.1 server)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


def memory_kib(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS) of a process in KiB, from /proc/<pid>/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


# -- the demo data --------------------------------------------------------------------------------


@dataclass
class Fixture:
    token: str
    unit_id: str
    item_id: str
    officer_ids: list[str]

    def action_body(self) -> dict[str, object]:
        occurred = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=1)
        return {
            "unit_id": self.unit_id,
            "item_id": self.item_id,
            "kind": "inspection",
            "officer_ids": self.officer_ids,
            "occurred_at": occurred.isoformat(timespec="seconds"),
            "location": {"lat": 29.15, "lon": 107.1, "accuracy_m": 12.5},
            "address": "水江镇滨江路12号",
            "party": {"name": "某某餐馆", "type": "organisation", "id_number": "91500119MA5U7XK12B"},
            "notes": "现场检查：证照齐全，卫生状况良好。",
        }


def _items(payload: object) -> list[dict]:
    return payload["items"] if isinstance(payload, dict) else list(payload or [])


Request = tuple[str, str, object, str | None]  # method, path, JSON body, bearer token


def fixture_requests() -> Generator[Request, tuple[int, Any], Fixture]:
    """Sign in as officer1 and look up 水江镇, item CG-001 and officer1/officer2 through the API:
    yields each request, is sent its (status, decoded answer), returns the Fixture. The same steps
    serve an HTTP client (``prepare``) and an in-process ASGI one."""
    login = {"username": "officer1", "password": DEMO_PASSWORD}
    status, body = yield "POST", "/api/v1/auth/login", login, None
    if status != 200:
        raise RuntimeError(f"login as officer1: {status} {body}")
    token = body["access_token"]
    _, units = yield "GET", "/api/v1/units?limit=200", None, token
    unit = next(u for u in _items(units) if u["name"] == "水江镇")
    _, items = yield "GET", f"/api/v1/items?unit_id={unit['id']}&limit=200", None, token
    item = next(i for i in _items(items) if i["code"] == "CG-001")
    status, users = yield "GET", f"/api/v1/users?role=officer&unit_id={unit['id']}&limit=200", None, token
    if status != 200:
        raise RuntimeError(f"officer lookup: {status} {users}")
    by_name = {u["username"]: u["id"] for u in _items(users)}
    return Fixture(token, unit["id"], item["id"], [by_name["officer1"], by_name["officer2"]])


def prepare(base: str) -> Fixture:
    """The fixture from the server at ``base``, after checking that one POST of the benchmark's
    action answers 201 and the feed 200."""
    steps = fixture_requests()
    answer = None
    try:
        while True:
            method, path, body, token = steps.send(answer)
            answer = http(method, base + path, body, token=token)
    except StopIteration as done:
        fixture: Fixture = done.value
    status, created = http("POST", f"{base}/api/v1/actions", fixture.action_body(), token=fixture.token)
    if status != 201:
        raise RuntimeError(f"POST /api/v1/actions with the benchmark body: {status} {created}")
    status, feed = http("GET", f"{base}/api/v1/actions?limit=50", token=fixture.token)
    if status != 200 or not feed["items"]:
        raise RuntimeError(f"GET /api/v1/actions: {status} {feed}")
    return fixture


# -- timing ---------------------------------------------------------------------------------------


@dataclass
class Series:
    """Operations per second of one variant, one value per interleaved round."""

    name: str
    rounds: list[float] = field(default_factory=list)
    ops: int = 0
    seconds: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.rounds) if self.rounds else 0.0

    @property
    def overall(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


async def timed_loop(
    op: Callable[[], Awaitable[object]], count: int, max_seconds: float
) -> tuple[int, float]:
    """Run ``op`` up to ``count`` times or until ``max_seconds`` have passed; (ops done, seconds)."""
    start = time.perf_counter()
    deadline = start + max_seconds
    done = 0
    while done < count:
        await op()
        done += 1
        if (done & 31) == 0 and time.perf_counter() > deadline:
            break
    return done, time.perf_counter() - start


async def interleaved(
    variants: dict[str, Callable[[], Awaitable[object]]],
    iterations: int,
    warmup: int,
    rounds: int,
    max_seconds_per_chunk: float,
) -> dict[str, Series]:
    """Warm every variant up, then run ``rounds`` rounds in which each variant runs
    ``iterations / rounds`` operations in turn, so drifting machine load hits all of them alike."""
    for op in variants.values():
        await timed_loop(op, warmup, max_seconds_per_chunk)
    per_round = max(1, iterations // rounds)
    series = {name: Series(name) for name in variants}
    for _ in range(rounds):
        for name, op in variants.items():
            done, seconds = await timed_loop(op, per_round, max_seconds_per_chunk)
            s = series[name]
            s.rounds.append(done / seconds)
            s.ops += done
            s.seconds += seconds
    return series


def ratio(numerator: Series, denominator: Series) -> float:
    """Median over rounds of numerator/denominator measured in the same round."""
    pairs = [a / b for a, b in zip(numerator.rounds, denominator.rounds, strict=True) if b]
    return statistics.median(pairs) if pairs else 0.0


# -- reporting ------------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    info: dict[str, object] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    return info


def write_json(path: str | None, payload: dict[str, object]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells)
    return "\n".join(out)


def run(coro: Awaitable[int]) -> int:
    return asyncio.run(coro)  # type: ignore[arg-type]
