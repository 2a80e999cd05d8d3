"""What one sign-in costs, through the app in-process, against the Argon2 check alone (the baseline,
measured in the same rounds): does counting the attempt up front add much, and does a miss on a
name without an account cost what a wrong password costs?

    .venv/bin/python benchmarks/login_cost.py [--backend sqlite|postgres] [--rounds 30]

Each round, one after the other: ``argon2`` (``verify_password`` alone, no request), ``wrong`` (a
real name, wrong password), ``unknown`` (a name without an account), ``ok`` (the right password: a
session is opened) and ``locked`` (a name already locked: refused before any password check).
Names are fresh every few attempts so no count reaches the limit unintentionally. Reported: the
median milliseconds of each and its ratio to ``argon2``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import DEFAULT_PG_URL, log, temp_pg_database  # noqa: E402

PASSWORD = "bench-login-password-1"  # noqa: S105 (a throw-away database)


async def _run(url: str, rounds: int) -> dict[str, list[float]]:
    import httpx

    from backend.accounts import schemas, services
    from backend.app import create_app
    from backend.db import engine_from_url, migrate
    from backend.lib.passwords import hash_password, verify_password
    from backend.settings import Settings

    with contextlib.redirect_stdout(io.StringIO()):
        await migrate(engine_from_url(url))
    from dataclasses import replace

    settings = replace(Settings.from_env(), login_rate_per_minute=1_000_000)
    app = create_app(settings)
    stored = await hash_password(PASSWORD)
    times: dict[str, list[float]] = {k: [] for k in ("argon2", "wrong", "unknown", "ok", "locked")}
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

            async def new_user() -> str:
                name = f"bench-{uuid.uuid4().hex[:10]}"
                await services.create_user(
                    None,
                    schemas.UserCreate(
                        username=name, password=PASSWORD, display_name="测", roles=["officer"]
                    ),
                )
                return name

            async def sign_in(name: str, password: str, expect: int) -> float:
                started = time.perf_counter()
                body = {"username": name, "password": password}
                response = await http.post("/api/v1/auth/login", json=body)
                elapsed = time.perf_counter() - started
                assert response.status_code == expect, response.text
                return elapsed * 1000

            locked = await new_user()
            for _ in range(settings.login_max_failures):
                await http.post("/api/v1/auth/login", json={"username": locked, "password": "wrong-1"})
            for _ in range(3):  # warm-up
                await sign_in(await new_user(), PASSWORD, 200)
            for _ in range(rounds):
                real, ghost = await new_user(), f"ghost-{uuid.uuid4().hex[:10]}"
                started = time.perf_counter()
                assert not await verify_password(stored, "wrong-1")
                times["argon2"].append((time.perf_counter() - started) * 1000)
                times["wrong"].append(await sign_in(real, "wrong-1", 401))
                times["unknown"].append(await sign_in(ghost, "wrong-1", 401))
                times["ok"].append(await sign_in(real, PASSWORD, 200))
                times["locked"].append(await sign_in(locked, PASSWORD, 429))
    return times


async def _measure(backend: str, rounds: int, pg_url: str, data_dir: str) -> dict[str, list[float]]:
    async with contextlib.AsyncExitStack() as stack:
        if backend == "postgres":
            url = await stack.enter_async_context(temp_pg_database(pg_url))
        else:
            url = f"sqlite:///{data_dir}/bench.sqlite3"
        os.environ["FIELDWATCH_DATABASE_URL"] = url
        log(f"login cost on {backend}, {rounds} rounds")
        return await _run(url, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fw-login-") as data_dir:
        os.environ["FIELDWATCH_DATA_DIR"] = data_dir
        times = asyncio.run(_measure(args.backend, args.rounds, args.pg_url, data_dir))
    base = statistics.median(times["argon2"])
    print(f"| {args.backend} | median ms | × argon2 |")
    print("|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
