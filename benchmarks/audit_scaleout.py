"""``POST /actions`` from several API processes on one PostgreSQL database: does adding processes add
throughput, and how much of a POST's time is spent waiting for another transaction's lock?

    .venv/bin/python benchmarks/audit_scaleout.py [--processes 1,2,4] [--seconds 15]
        [--connections 32] [--baseline-rev REV] [--json out.json]

For each tree (this one, and ``--baseline-rev`` exported with ``git archive`` and served from its
own source) and each process count: a throw-away database with the demo organisation, N
``fieldwatch serve`` processes sharing it, and one wrk per process posting the benchmark's action
(``--connections`` in all, split between the processes, so the offered load is the same). Meanwhile
``pg_stat_activity`` is sampled every 20 ms: of the database's backends busy with a request (``active``
or ``idle in transaction``), the share waiting on a lock (``wait_event_type = 'Lock'``) is the lock
wait share of POST time (goal ≤ 10 % at 4 processes). Backends of the audit chainer (its head lock's
statement carries a marking comment) link entries after the POSTs have answered and are reported
apart; a tree without a chainer has none to tell apart. Once the processes have stopped, the tree's
own ``fieldwatch verify`` must find one unbroken chain (every entry linked once, in order): the run
fails otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    DEMO_PASSWORD,
    ROOT,
    Server,
    base_env,
    free_port,
    log,
    machine,
    prepare,
    table,
    temp_data_dir,
    temp_pg_database,
    write_json,
)
from benchmarks.http_bench import WrkResult, lua_scripts, parse_wrk
from benchmarks.outage_load import _cli, exported

SAMPLE_S = 0.02
CHAINER_MARK = "/* audit chainer */"  # backend/audit/services.py marks its chain transaction's wait


async def _sample_locks(url: str, stop: asyncio.Event) -> dict[str, float]:
    """Samples of the database's request-serving backends: how many were busy, how many waited on a
    lock (and on which kind)."""
    import asyncpg

    db = urlsplit(url).path.strip("/")
    connection = await asyncpg.connect(url, timeout=10)
    busy = waiting = chainer = samples = 0
    kinds: dict[str, int] = {}
    statements: dict[str, int] = {}
    try:
        while not stop.is_set():
            rows = await connection.fetch(
                "SELECT state, wait_event_type, wait_event, left(query, 90) AS query FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid() "
                "AND state IN ('active', 'idle in transaction')",
                db,
            )
            samples += 1
            busy += len(rows)
            for r in rows:
                if r["query"] and CHAINER_MARK in r["query"]:
                    chainer += 1  # the chain is linked off the request: not a POST's wait
                    continue
                if r["wait_event_type"] == "Lock":
                    waiting += 1
                    kinds[r["wait_event"]] = kinds.get(r["wait_event"], 0) + 1
                    statements[r["query"]] = statements.get(r["query"], 0) + 1
            await asyncio.sleep(SAMPLE_S)
    finally:
        await connection.close()
    return {
        "samples": samples,
        "busy_backends_mean": busy / samples if samples else 0.0,
        "lock_wait_share": waiting / (busy - chainer) if busy > chainer else 0.0,
        "chainer_share_of_busy": chainer / busy if busy else 0.0,
        **{f"lock:{k}": v / busy for k, v in kinds.items()},
        "waiting_statements": dict(sorted(statements.items(), key=lambda kv: -kv[1])[:5]),
    }


async def _wrk(url: str, script: Path, connections: int, seconds: float) -> WrkResult:
    proc = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.decode()}")
    return parse_wrk(out.decode())


async def _chain_check(src: Path, env: dict[str, str]) -> str:
    """The tree's own ``fieldwatch verify``: the audit chain and the evidence it vouches for."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "verify",
        cwd=src,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the audit chain does not verify after the run:\n{out.decode()[-2000:]}")
    return out.decode().strip().splitlines()[-1] if out.strip() else ""


async def one_run(name: str, src: Path, pg: str, processes: int, args: argparse.Namespace) -> dict:
    async with temp_pg_database(pg, prefix="fw_scaleout") as url:
        with temp_data_dir() as data:
            env = {**base_env(data, url), "PYTHONPATH": str(src)}
            env["FIELDWATCH_ACCESS_TOKEN_TTL"] = "7200"  # noqa: S105 (a lifetime, not a secret)
            _cli(src, env, "demo", "--password", DEMO_PASSWORD)
            servers = []
            with contextlib.ExitStack() as stack:
                for i in range(processes):
                    port = free_port()
                    argv = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)]
                    argv += ["--log-level", "warning"]
                    server = Server(f"{name}-{processes}-{i}", argv, env, port, "/healthz", data, cwd=src)
                    server.start()
                    stack.callback(server.stop)
                    servers.append(server)
                fixture = prepare(servers[0].base)
                script = lua_scripts(data, fixture)["post"]
                share = max(1, args.connections // processes)
                # Warm-up: every process's pool and caches.
                await asyncio.gather(*(_wrk(f"{s.base}/api/v1/actions", script, share, 2) for s in servers))
                stop = asyncio.Event()
                sampler = asyncio.create_task(_sample_locks(url, stop))
                started = time.monotonic()
                results = await asyncio.gather(
                    *(_wrk(f"{s.base}/api/v1/actions", script, share, args.seconds) for s in servers)
                )
                elapsed = time.monotonic() - started
                stop.set()
                locks = await sampler
            # Stopped: each process linked what it recorded; verify the whole chain.
            verified = await _chain_check(src, env)
    total = sum(r.requests for r in results)
    errors = sum(r.non_2xx + r.socket_errors for r in results)
    out = {
        "tree": name,
        "processes": processes,
        "requests_per_s": total / elapsed,
        "non_2xx_or_errors": errors,
        "p50_ms": statistics.median(r.latency_ms.get("p50", 0.0) for r in results),
        "p99_ms": max(r.latency_ms.get("p99", 0.0) for r in results),
        "verify": verified,
        **locks,
    }
    log(
        f"[{name}] {processes} process(es): {out['requests_per_s']:.0f} POST/s, "
        f"lock waits {out['lock_wait_share']:.1%} of busy backends, p99 {out['p99_ms']:.0f} ms"
    )
    return out


async def main_async(args: argparse.Namespace) -> int:
    counts = [int(n) for n in args.processes.split(",")]
    trees: list[tuple[str, Path]] = [("this tree", ROOT)]
    results: list[dict] = []
    with contextlib.ExitStack() as stack:
        if args.baseline_rev:
            trees.append((args.baseline_rev, stack.enter_context(exported(args.baseline_rev))))
        for _ in range(args.rounds):
            for n in counts:
                for name, src in trees:
                    results.append(await one_run(name, src, args.pg_url, n, args))
    rows = []
    for name, _ in trees:
        mine = [r for r in results if r["tree"] == name]
        one = statistics.median(r["requests_per_s"] for r in mine if r["processes"] == counts[0])
        for n in counts:
            at_n = [r for r in mine if r["processes"] == n]
            rps = statistics.median(r["requests_per_s"] for r in at_n)
            lock = statistics.median(r["lock_wait_share"] for r in at_n)
            rows.append(
                [
                    name,
                    n,
                    f"{rps:,.0f}",
                    f"{rps / one:.2f}×",
                    f"{lock:.1%}",
                    f"{statistics.median(r['p99_ms'] for r in at_n):,.0f}",
                    sum(r["non_2xx_or_errors"] for r in at_n),
                ]
            )
    print(
        table(
            ["tree", "processes", "POST/s", f"vs {counts[0]}", "lock waits", "p99 ms", "errors"],
            rows,
        )
    )
    write_json(args.json, {"machine": machine(), "results": results})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=32, help="wrk connections in all")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline-rev", help="also measure this git revision, in the same run")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--json")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
