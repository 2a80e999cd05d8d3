"""The app's PostgreSQL connections are terminated, then the database refuses connections for a
while: no request answers 500, refusals are 503 with Retry-After, and the app recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from backend.accounts import schemas as a
from backend.accounts import services as accounts
from backend.accounts.tables import Certificate
from backend.app import create_app
from backend.db import bind, engine_from_url, migrate
from backend.org import schemas as o
from backend.org import services as org
from tests.conftest import PASSWORD, make_settings, serve

pytestmark = pytest.mark.faults
URL = os.environ.get("FIELDWATCH_TEST_DATABASE_URL", "")
if not URL.startswith("postgres"):
    pytest.skip(
        "PostgreSQL fault tests need FIELDWATCH_TEST_DATABASE_URL=postgresql://… (scripts/test.sh sets it "
        "from FIELDWATCH_TEST_POSTGRES_URL); this run is on SQLite",
        allow_module_level=True,
    )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
async def fault_db() -> AsyncIterator[str]:
    """A database of this module's own beside the suite's, so the outage touches nothing else."""
    name = f"{urlsplit(URL).path.strip('/')}_faults_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(URL, name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            await migrate(engine_from_url(url))
        yield url
    finally:
        admin = await asyncpg.connect(URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _officer() -> str:
    unit = await org.create_unit(None, o.UnitCreate(name=f"fault-{uuid.uuid4().hex[:6]}", kind="township"))  # type: ignore[arg-type]
    username = f"fault-{uuid.uuid4().hex[:8]}"
    user = await accounts.create_user(
        None,
        a.UserCreate(
            username=username,
            password=PASSWORD,
            display_name="故障测试",
            roles=["officer"],  # type: ignore[list-item]
            unit_ids=[unit.id],
        ),
    )
    # Going on duty (POST /positions) is an enforcement act: it needs a valid certificate.
    today = date.today()
    await Certificate.insert(
        Certificate(
            user=user.id,
            number=f"FAULT-{uuid.uuid4().hex[:8]}",
            issued_on=today - timedelta(days=1),
            expires_on=today + timedelta(days=365),
            status="valid",
        )
    ).run()
    return username


async def _admin(statement: str, *args: str) -> None:
    """Run as the server's superuser from the suite's own database (ours may refuse connections)."""
    admin = await asyncpg.connect(URL)
    try:
        await admin.execute(statement, *args)
    finally:
        await admin.close()


async def _terminate(name: str) -> None:
    """Kill the app's connections: those to this module's own database, nothing else."""
    await _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )


async def _load(client: httpx.AsyncClient, headers: dict[str, str], seconds: float) -> list[httpx.Response]:
    """Reads and writes from a few concurrent clients for ``seconds``."""
    responses: list[httpx.Response] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def worker(n: int) -> None:
        i = 0
        while loop.time() < end:
            i += 1
            if (n + i) % 3 == 0:
                body = {"lat": 30.5, "lon": 114.3, "accuracy_m": 8.0, "at": "2026-01-01T08:00:00+08:00"}
                responses.append(await client.post("/api/v1/positions", json=body, headers=headers))
            else:
                responses.append(await client.get("/api/v1/me", headers=headers))

    await asyncio.gather(*(worker(n) for n in range(6)))
    return responses


def _check_refusals(responses: list[httpx.Response]) -> Counter[int]:
    statuses = Counter(r.status_code for r in responses)
    assert statuses[500] == 0, [r.text for r in responses if r.status_code == 500][:3]
    assert set(statuses) <= {200, 201, 503}, statuses
    for r in responses:
        if r.status_code == 503:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "service.unavailable"
            assert int(r.headers["Retry-After"]) > 0
    return statuses


async def test_terminated_connections_and_a_closed_database_give_503_then_recover(fault_db: str) -> None:
    name = urlsplit(fault_db).path.strip("/")
    engine = engine_from_url(fault_db)
    bind(engine)
    username = await _officer()
    app = create_app(make_settings(database_url=fault_db, position_min_interval_s=0), engine=engine)
    async with serve(app) as client:
        login = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await client.get("/readyz")).status_code == 200

        # Every pooled connection killed under load: lost connections are retried or refused, never 500.
        load = asyncio.create_task(_load(client, headers, 1.5))
        await asyncio.sleep(0.5)
        await _terminate(name)
        _check_refusals(await load)

        # The database closed to connections for a while: 503 with Retry-After throughout.
        await _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            await _terminate(name)
            during = _check_refusals(await _load(client, headers, 1.0))
            assert during[503] > 0, during
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.headers["Retry-After"]
        finally:
            await _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

        # Back by itself, no restart: every request succeeds again.
        after = _check_refusals(await _load(client, headers, 1.0))
        assert after[503] == 0 and after[200] > 0 and after[201] > 0, after
        assert (await client.get("/readyz")).status_code == 200


async def test_the_server_waits_for_a_database_not_accepting_connections_yet() -> None:
    """`serve` and `migrate` start before the database does (a host rebooting): they wait and say so,
    then go on by themselves once it accepts connections."""
    import sys

    name = f"{urlsplit(URL).path.strip('/')}_late_{uuid.uuid4().hex[:6]}"
    await _admin(f'CREATE DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
        env |= {
            "FIELDWATCH_DATABASE_URL": _with_database(URL, name),
            "FIELDWATCH_DATABASE_WAIT_SECONDS": "60",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.cli",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        done = asyncio.ensure_future(proc.communicate())
        await asyncio.sleep(4)
        assert proc.returncode is None  # still waiting, not given up
        await _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        out, err = (b.decode() for b in await asyncio.wait_for(done, timeout=120))
        assert proc.returncode == 0, err
        assert "waiting for the database at" in err and "migrations applied" in out
        assert "Traceback" not in err
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
