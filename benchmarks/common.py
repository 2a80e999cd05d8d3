"""Shared helpers: temporary data directories and PostgreSQL databases, running the CLI, timing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
