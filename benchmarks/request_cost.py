"""CPU cost of one request through the app's own stack, against the same work written minimally and
against the bare Litestar endpoint, in one process: no HTTP server, no client, no network, so what
remains is what the app itself does.

    .venv/bin/python benchmarks/request_cost.py [--backend sqlite|postgres] [--profile feed]
        [--sqlite-engine default|stock|pooled|plain-aiosqlite]

It loads the demo organisation (``fieldwatch demo``) into a throw-away data directory (and for
``postgres`` a throw-away database next to ``--pg-url``), builds the app with ``create_app``, the
bare app of benchmarks/bare_app.py and the minimal same-work app of benchmarks/minimal_app.py (on the
same database, with the app's token keys), and calls each ASGI app directly, one request at a time,
with the same request shape wrk sends, on uvloop when it is installed (as uvicorn does). Before
measuring it checks that the minimal app answers the benchmark's feed and POST with the same status
(200, 201), the same keys throughout and the same values as the app (a new action's id and
created_at aside), and stops if not. Endpoints, in interleaved rounds:

* ``bare``    – ``GET /bare`` on the bare app (the baseline);
* ``healthz`` – ``GET /healthz`` on the app: routing, middleware stack, no token, no database;
* ``token``   – not a request: the bearer token's check alone (``TokenService.verify``: EdDSA
  signature, header and claims), as every authenticated request does it;
* ``user``    – not a request: loading the signed-in user and session alone
  (``load_current_user``, one query), as every authenticated request does it;
* ``me``      – ``GET /api/v1/me`` as officer1: token check, the signed-in user, their units and
  certificate;
* ``feed``    – ``GET /api/v1/actions?limit=50`` as officer1 (``--seed-actions`` are posted first);
* ``min_feed`` – the same feed request on the minimal app: a bare handler with the same JWT check,
  the same SQL (user, page, the page's officers) through the raw driver, msgspec JSON;
* ``post``    – ``POST /api/v1/actions``, a new action each time;
* ``min_post`` – the same POST on the minimal app: the same JWT check and user, the same reads for the
  legal checks and the same writes (action, officers, audit entry and chain head in one transaction,
  then the live event row), msgspec JSON.

Reported per endpoint: median microseconds per request over the rounds (wall time; the process does
nothing else, but PostgreSQL's own time counts for ``postgres``) and the CPU time of this process,
and each as a multiple of ``bare`` measured in the same round. Then the issue's "feed page / POST
vs minimal": ``feed/min_feed`` and ``post/min_post``, the minimal app's time ÷ the app's, median of
the per-round ratios (wall and CPU; goal ≥ 0.8 on both backends, 1.0 is as fast as the minimal
handler). This replaces the retired goal of ≥ 0.5× ``bare``, which is still measured and shown.
``--profile ENDPOINT`` runs that endpoint once more under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEFAULT_PG_URL,
    DEMO_PASSWORD,
    Fixture,
    base_env,
    cli,
    fixture_requests,
    log,
    machine,
    pg_reachable,
    table,
    temp_data_dir,
    temp_pg_database,
    write_json,
)
from benchmarks.serve_app import SQLITE_ENGINES, sqlite_engine_like, use_sqlite_engine

ENDPOINTS = ("bare", "healthz", "token", "user", "me", "feed", "min_feed", "post", "min_post")
# The app's endpoint and its minimal same-work baseline (benchmarks/minimal_app.py): the issue's
# "feed page / POST vs minimal", minimal time ÷ app time, goal ≥ 0.8 on both backends.
VS_MINIMAL = {"feed": "min_feed", "post": "min_post"}
MINIMAL_GOAL = 0.8
ASGIApp = Callable[..., Any]  # (scope, receive, send), awaited


class Client:
    """Calls an ASGI app in this process, as uvicorn would, and collects the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def call(
        self, method: str, path: str, body: object = None, token: str | None = None
    ) -> tuple[int, bytes]:
        raw_path, _, query = path.partition("?")
        # Bytes are sent as they are, so the timed loops do not encode on the client's side.
        payload = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        headers = [(b"host", b"127.0.0.1:8000"), (b"accept", b"*/*")]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        if payload:
            headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def json(
        self, method: str, path: str, body: object = None, token: str | None = None
    ) -> tuple[int, Any]:
        """``call``, with the answer decoded (outside the timed loops)."""
        status, raw = await self.call(method, path, body, token)
        return status, json.loads(raw) if raw else None


async def start(app: ASGIApp) -> Callable[[], Awaitable[None]]:
    """Run the app's lifespan startup; returns the shutdown."""
    inbox: asyncio.Queue[dict] = asyncio.Queue()
    outbox: asyncio.Queue[dict] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    message = await asyncio.wait_for(outbox.get(), 60)
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"app start-up failed: {message}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(outbox.get(), 60)
        await asyncio.wait_for(task, 60)

    return stop


async def fixture(app: Client) -> Fixture:
    steps = fixture_requests()
    answer: Any = None
    try:
        while True:
            method, path, body, token = steps.send(answer)
            answer = await app.json(method, path, body, token)
    except StopIteration as done:
        return done.value


def shape(app: Any, minimal: Any, path: str = "", skip: tuple[str, ...] = ()) -> list[str]:
    """Where two decoded JSON answers differ: keys everywhere, and values except the keys ``skip``."""
    if isinstance(app, dict) and isinstance(minimal, dict):
        if app.keys() != minimal.keys():
            return [f"{path or '/'}: keys {sorted(app)} vs {sorted(minimal)}"]
        return [d for k in app if k not in skip for d in shape(app[k], minimal[k], f"{path}/{k}", skip)]
    if isinstance(app, list) and isinstance(minimal, list):
        if len(app) != len(minimal):
            return [f"{path}: {len(app)} vs {len(minimal)} entries"]
        return [
            d
            for i, (a, m) in enumerate(zip(app, minimal, strict=True))
            for d in shape(a, m, f"{path}/{i}", skip)
        ]
    return [] if app == minimal else [f"{path}: {app!r} vs {minimal!r}"]


async def check_minimal(app: Client, minimal: Client, token: str, post_body: bytes) -> None:
    """The minimal app answers the benchmark's requests as the app does: the same status, the same
    keys throughout, and the same values (a new action's own id and created_at aside)."""
    problems = []
    for method, body, skip in (("POST", post_body, ("id", "created_at")), ("GET", None, ())):
        (status, answer), (min_status, min_answer) = [
            await c.json(method, "/api/v1/actions" + ("?limit=50" if method == "GET" else ""), body, token)
            for c in (app, minimal)
        ]
        if status != min_status or status != (201 if method == "POST" else 200):
            problems.append(f"{method}: app {status}, minimal {min_status} {min_answer}")
        else:
            problems += [f"{method} {d}" for d in shape(answer, min_answer, skip=skip)[:5]]
    if problems:
        raise RuntimeError("the minimal app does not answer as the app does:\n" + "\n".join(problems))
    log("minimal app: same status, keys and values as the app for the feed and the POST")


async def measure(args: argparse.Namespace, database_url: str | None, data_dir: Path) -> dict:
    env = base_env(data_dir, database_url)
    env["FIELDWATCH_ACCESS_TOKEN_TTL"] = "7200"  # noqa: S105 (a lifetime, not a secret)
    log("fieldwatch demo")
    cli(env, "demo", "--password", DEMO_PASSWORD)
    os.environ.update({k: v for k, v in env.items() if k.startswith("FIELDWATCH_")})

    use_sqlite_engine(args.sqlite_engine[0])  # the SQLite engine class, as serve_app.py chooses it
    import backend.db.engines
    from backend.accounts.services import load_current_user
    from backend.app import create_app
    from backend.db import bind, current_engine

    if args.plan_cache_mode:
        configured = backend.db.engines.postgres_config

        def postgres_config(url: str) -> dict[str, Any]:
            config = configured(url)
            config["server_settings"] = {
                **config.get("server_settings", {}),
                "plan_cache_mode": args.plan_cache_mode,
            }
            return config

        backend.db.engines.postgres_config = postgres_config
    from backend.lib.auth import TokenService
    from backend.settings import get_settings
    from benchmarks.bare_app import create_app as create_bare_app
    from benchmarks.minimal_app import create_app as create_minimal_app

    settings = get_settings()
    tokens = TokenService.for_settings(settings)
    app, bare = create_app(settings), create_bare_app()
    minimal = create_minimal_app(settings.database_url, tokens)
    stops = [await start(app), await start(bare), await start(minimal)]
    try:
        client, bare_client, minimal_client = Client(app), Client(bare), Client(minimal)
        fx = await fixture(client)
        for _ in range(args.seed_actions):
            status, body = await client.call("POST", "/api/v1/actions", fx.action_body(), fx.token)
            if status != 201:
                raise RuntimeError(f"POST /api/v1/actions: {status} {body!r}")
        post_body = json.dumps(fx.action_body()).encode()
        await check_minimal(client, minimal_client, fx.token, post_body)
        claims = tokens.verify(fx.token)
        user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])

        async def token() -> tuple[int, Any]:
            return 200, tokens.verify(fx.token)

        async def user() -> tuple[int, Any]:
            return 200, await load_current_user(user_id, session_id)

        requests: dict[str, Callable[[], Awaitable[tuple[int, Any]]]] = {
            "bare": lambda: bare_client.call("GET", "/bare"),
            "healthz": lambda: client.call("GET", "/healthz"),
            "token": token,
            "user": user,
            "me": lambda: client.call("GET", "/api/v1/me", token=fx.token),
            "feed": lambda: client.call("GET", "/api/v1/actions?limit=50", token=fx.token),
            "post": lambda: client.call("POST", "/api/v1/actions", post_body, fx.token),
            "min_feed": lambda: minimal_client.call("GET", "/api/v1/actions?limit=50", token=fx.token),
            "min_post": lambda: minimal_client.call("POST", "/api/v1/actions", post_body, fx.token),
        }
        # The app's engine, and for each further --sqlite-engine one on the same file: the tables
        # are bound to each in turn, so every engine runs every endpoint in every round.
        engines = {args.sqlite_engine[0]: current_engine()}
        for kind in args.sqlite_engine[1:]:
            engines[kind] = sqlite_engine_like(kind, engines[args.sqlite_engine[0]])
        for kind, engine in engines.items():
            log(f"engine {kind}: {type(engine).__name__}")
        kinds = tuple(engines)
        expected = {"post": 201, "min_post": 201}
        for engine in engines.values():
            bind(engine)
            for name, request in requests.items():  # warm-up, and a check that each one works
                for _ in range(max(20, args.requests // 10)):
                    status, body = await request()
                    if status != expected.get(name, 200):
                        raise RuntimeError(f"{name}: {status} {body}")
        chosen = tuple(e for e in ENDPOINTS if e == "bare" or e in args.endpoints)
        wall: dict[str, dict[str, list[float]]] = {k: {e: [] for e in chosen} for k in kinds}
        cpu: dict[str, dict[str, list[float]]] = {k: {e: [] for e in chosen} for k in kinds}
        for r in range(args.rounds):
            order = chosen[r % len(chosen) :] + chosen[: r % len(chosen)]
            for name in order:
                request = requests[name]
                for kind in kinds[r % len(kinds) :] + kinds[: r % len(kinds)]:
                    bind(engines[kind])
                    w0, c0 = time.perf_counter(), time.process_time()
                    for _ in range(args.requests):
                        await request()
                    wall[kind][name].append((time.perf_counter() - w0) / args.requests * 1e6)
                    cpu[kind][name].append((time.process_time() - c0) / args.requests * 1e6)
            for kind in kinds:
                label = f"round {r + 1}/{args.rounds}" + (f" {kind}" if len(kinds) > 1 else "")
                log(f"{label}: " + ", ".join(f"{e} {wall[kind][e][-1]:,.0f} µs" for e in chosen))
        bind(engines[kinds[0]])
        profile = None
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                await requests[args.profile]()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(30)
            profile = out.getvalue()
    finally:
        for stop in reversed(stops):
            await stop()

    def ratios(series: list[float], to: list[float]) -> float:
        """Median over rounds of series / to, measured in the same round."""
        return statistics.median(v / b for v, b in zip(series, to, strict=True))

    def summary(kind: str) -> dict[str, dict[str, Any]]:
        w, c = wall[kind], cpu[kind]
        return {
            e: {
                "wall_us": statistics.median(w[e]),
                "cpu_us": statistics.median(c[e]),
                "wall_x_bare": ratios(w[e], w["bare"]),
                "cpu_x_bare": ratios(c[e], c["bare"]),
                "wall_us_rounds": w[e],
            }
            for e in chosen
        }

    def vs_minimal(kind: str) -> dict[str, dict[str, float]]:
        """Per app endpoint measured with its minimal baseline: minimal ÷ app, wall and CPU."""
        w, c = wall[kind], cpu[kind]
        return {
            f"{e}/{m}": {"wall": ratios(w[m], w[e]), "cpu": ratios(c[m], c[e])}
            for e, m in VS_MINIMAL.items()
            if e in chosen and m in chosen
        }

    result: dict[str, Any] = {
        "endpoints": summary(kinds[0]),
        "vs_minimal": vs_minimal(kinds[0]),
        "profile": profile,
    }
    if len(kinds) > 1:
        result["engines"] = {kind: summary(kind) for kind in kinds}
        result["engines_vs_minimal"] = {kind: vs_minimal(kind) for kind in kinds}
        result["vs_first"] = {
            kind: {
                e: {
                    "wall": ratios(wall[kind][e], wall[kinds[0]][e]),
                    "cpu": ratios(cpu[kind][e], cpu[kinds[0]][e]),
                }
                for e in chosen
            }
            for kind in kinds[1:]
        }
    return result


def report(backend: str, result: dict) -> str:
    rows = [
        [
            e,
            f"{v['wall_us']:,.0f}",
            f"{v['cpu_us']:,.0f}",
            f"{v['wall_x_bare']:.1f}×",
            f"{v['cpu_x_bare']:.1f}×",
            f"{1 / v['wall_x_bare']:.3f}×",
        ]
        for e, v in result["endpoints"].items()
    ]
    heading = f"### one request, in process ({backend})\n\n"
    head = ["endpoint", "wall µs", "CPU µs", "wall vs bare", "CPU vs bare", "req/s vs bare"]
    if "engines" not in result:
        return heading + table(head, rows) + minimal_report({"": result["vs_minimal"]})
    first = next(iter(result["engines"]))
    rows = [
        [
            kind,
            e,
            f"{v['wall_us']:,.0f}",
            f"{v['cpu_us']:,.0f}",
            f"{v['wall_x_bare']:.1f}×",
            "1.00× (baseline)" if kind == first else f"{result['vs_first'][kind][e]['wall']:.2f}×",
            "1.00× (baseline)" if kind == first else f"{result['vs_first'][kind][e]['cpu']:.2f}×",
        ]
        for kind, endpoints in result["engines"].items()
        for e, v in endpoints.items()
    ]
    head = ["engine", "endpoint", "wall µs", "CPU µs", "wall vs bare", f"wall vs {first}", f"CPU vs {first}"]
    return (
        heading
        + table(head, rows)
        + f"\n\n(vs {first}: median of the per-round ratios, same process)"
        + minimal_report(result["engines_vs_minimal"])
    )


def minimal_report(by_engine: dict[str, dict[str, dict[str, float]]]) -> str:
    """The app's feed and POST against the minimal same-work baseline: minimal time ÷ app time."""
    rows: list[list[object]] = []
    for kind, pairs in by_engine.items():
        for pair, v in pairs.items():
            row: list[object] = [kind] if kind else []
            row += [
                pair,
                f"{v['wall']:.2f}×",
                f"{v['cpu']:.2f}×",
                "yes" if v["wall"] >= MINIMAL_GOAL else "no",
            ]
            rows.append(row)
    if not rows:
        return ""
    head = (["engine"] if any(by_engine) else []) + [
        "app vs minimal",
        "wall: minimal ÷ app",
        "CPU: minimal ÷ app",
        f"wall ≥ {MINIMAL_GOAL}",
    ]
    return (
        "\n\n#### against the minimal same-work baseline (benchmarks/minimal_app.py)\n\n"
        + table(head, rows)
        + "\n\n(median of the per-round ratios; 1.00× is as fast as the bare handler doing the same work)"
    )


async def amain(args: argparse.Namespace) -> int:
    if args.backend == "postgres":
        reason = await pg_reachable(args.pg_url)
        if reason:
            log(f"PostgreSQL is not reachable at {args.pg_url}: {reason}")
            return 2
        with temp_data_dir() as data_dir:
            async with temp_pg_database(args.pg_url) as url:
                result = await measure(args, url, data_dir)
    else:
        with temp_data_dir() as data_dir:
            result = await measure(args, None, data_dir)
    label = args.backend + (f", plan_cache_mode={args.plan_cache_mode}" if args.plan_cache_mode else "")
    if args.backend == "sqlite" and args.sqlite_engine != ["default"]:
        label += f", {' vs '.join(args.sqlite_engine)} engine" + ("s" if len(args.sqlite_engine) > 1 else "")
    print(report(label, result))
    if result["profile"]:
        print(f"\ncProfile of {args.profile}, {args.requests} requests:\n")
        print(result["profile"])
    if args.json:
        write_json(args.json, {"machine": machine(), "args": vars(args), "result": result})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument(
        "--sqlite-engine",
        type=lambda v: v.split(","),
        default=["default"],
        help=f"the app's SQLite engine class, one of {', '.join(SQLITE_ENGINES)} as for "
        "benchmarks/serve_app.py (default: backend.db's); several, comma-separated (e.g. "
        "pooled,plain-aiosqlite), are measured in the same rounds, each against the first",
    )
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed-actions", type=int, default=60, help="actions posted before measuring")
    parser.add_argument(
        "--endpoints",
        type=lambda v: v.split(","),
        default=list(ENDPOINTS),
        help="comma-separated subset to measure; bare is always measured",
    )
    parser.add_argument(
        "--plan-cache-mode",
        choices=("auto", "force_custom_plan", "force_generic_plan"),
        help="PostgreSQL plan_cache_mode for the app's pool (default: what backend.db configures)",
    )
    parser.add_argument("--profile", choices=ENDPOINTS, help="also profile this endpoint")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key for --profile")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    unknown = set(args.sqlite_engine) - set(SQLITE_ENGINES)
    if unknown:
        parser.error(f"unknown --sqlite-engine: {', '.join(sorted(unknown))}")
    if len(args.sqlite_engine) > 1 and ("default" in args.sqlite_engine or args.backend != "sqlite"):
        parser.error("several --sqlite-engine values: name each class (no default), with --backend sqlite")
    try:  # the event loop uvicorn serves the app on
        import uvloop
    except ImportError:
        return asyncio.run(amain(args))
    return uvloop.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
