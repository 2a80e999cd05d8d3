"""Load through PostgreSQL outages, the long form of tests/faults/test_postgres.py: a ``fieldwatch
serve`` process under a steady mix of reads (``GET /me``) and writes (``POST /positions``) while its
database connections are terminated, then while its database refuses connections for a while, then
after. Counts every status per phase, for this tree and, in the same run, for a baseline revision
(exported with ``git archive``, served from its own source).

    .venv/bin/python benchmarks/outage_load.py --baseline-rev 5102b56 [--outage 8] [--workers 8]

Each tree gets a temporary database next to ``--pg`` (dropped WITH FORCE at the end) and a temporary
data directory; only that database's connections are terminated or refused.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    ROOT,
    base_env,
    free_port,
    log,
    stop_process,
    table,
    temp_data_dir,
    temp_pg_database,
    write_json,
)

PASSWORD = "outage-bench-password-1"  # noqa: S105 (a throw-away database)
PING = {"lat": 30.5, "lon": 114.3, "accuracy_m": 8.0, "at": "2026-01-01T08:00:00+08:00"}


@contextlib.contextmanager
def exported(rev: str) -> Iterator[Path]:
    """The source tree at ``rev``, for serving the baseline from its own code."""
    with tempfile.TemporaryDirectory(prefix="fieldwatch-baseline-") as directory:
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "archive", rev],  # noqa: S607 (git from PATH, like scripts/)
            check=True,
            capture_output=True,
        ).stdout
        tar = Path(directory) / "src.tar"
        tar.write_bytes(archive)
        with tarfile.open(tar) as t:
            t.extractall(directory, filter="data")
        yield Path(directory)


def _cli(src: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "backend.cli", *args], cwd=src, env=env, check=True, capture_output=True
    )


async def _admin(admin_url: str, statement: str, *args: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(statement, *args)
    finally:
        await connection.close()


async def _load(base: str, token: str, workers: int, seconds: float) -> Counter[str]:
    counts: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    end = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def worker(n: int) -> None:
            i = 0
            while time.monotonic() < end:
                i += 1
                try:
                    if (n + i) % 3 == 0:
                        r = await http.post("/api/v1/positions", json=PING, headers=headers)
                    else:
                        r = await http.get("/api/v1/me", headers=headers)
                except httpx.HTTPError:
                    counts["no answer"] += 1
                    continue
                key = str(r.status_code)
                if r.status_code == 503:
                    key += " +Retry-After" if "retry-after" in r.headers else " no Retry-After"
                counts[key] += 1

        await asyncio.gather(*(worker(n) for n in range(workers)))
    return counts


async def scenario(name: str, src: Path, pg: str, workers: int, outage: float) -> dict[str, Counter[str]]:
    async with temp_pg_database(pg, prefix="fw_outage") as url:
        db = urlsplit(url).path.strip("/")
        terminate = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()"
        )
        with temp_data_dir() as data:
            env = {**base_env(data, url), "PYTHONPATH": str(src), "FIELDWATCH_POSITION_MIN_INTERVAL": "0"}
            _cli(src, env, "migrate")
            _cli(src, env, "create-user", "outage", "--role", "officer", "--password", PASSWORD)
            port = free_port()
            log_path = data / "serve.log"
            with log_path.open("wb") as out:
                proc = subprocess.Popen(  # noqa: S603, ASYNC220 (once, before the load)
                    [
                        sys.executable,
                        "-m",
                        "backend.cli",
                        "serve",
                        "--port",
                        str(port),
                        "--log-level",
                        "error",
                    ],
                    cwd=src,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                base = f"http://127.0.0.1:{port}"
                async with httpx.AsyncClient(base_url=base) as http:
                    for _ in range(300):
                        with contextlib.suppress(httpx.HTTPError):
                            if (await http.get("/healthz")).status_code == 200:
                                break
                        await asyncio.sleep(0.2)
                    login = await http.post(
                        "/api/v1/auth/login", json={"username": "outage", "password": PASSWORD}
                    )
                    token = login.json()["access_token"]
                phases: dict[str, Counter[str]] = {}
                phases["steady"] = await _load(base, token, workers, 3)
                killer = asyncio.create_task(_load(base, token, workers, 3))
                await asyncio.sleep(0.5)
                await _admin(pg, terminate, db)
                phases["connections terminated"] = await killer
                await _admin(pg, f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS false')
                try:
                    await _admin(pg, terminate, db)
                    phases[f"database closed {outage:g} s"] = await _load(base, token, workers, outage)
                finally:
                    await _admin(pg, f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS true')
                phases["after"] = await _load(base, token, workers, 5)
                log(f"{name}: {dict((k, dict(v)) for k, v in phases.items())}")
                return phases
            finally:
                stop_process(proc)


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument(
        "--baseline-rev", help="git revision to compare with (e.g. the commit before the fix)"
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--outage", type=float, default=8.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    results = {"this tree": await scenario("this tree", ROOT, args.pg, args.workers, args.outage)}
    if args.baseline_rev:
        with exported(args.baseline_rev) as src:
            results[f"baseline {args.baseline_rev}"] = await scenario(
                "baseline", src, args.pg, args.workers, args.outage
            )
    rows = []
    for tree, phases in results.items():
        for phase, counts in phases.items():
            total = sum(counts.values())
            ok = sum(v for k, v in counts.items() if k.startswith("2"))
            refused = sum(v for k, v in counts.items() if k.startswith("503"))
            rows.append(
                [
                    tree,
                    phase,
                    total,
                    ok,
                    counts.get("500", 0),
                    refused,
                    counts.get("503 +Retry-After", 0),
                    total - ok - refused - counts.get("500", 0),
                ]
            )
    print(table(["tree", "phase", "requests", "2xx", "500", "503", "503 with Retry-After", "other"], rows))
    write_json(args.json, {k: {p: dict(c) for p, c in v.items()} for k, v in results.items()})
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
