"""Test configuration: one migrated database per run (SQLite by default, PostgreSQL when
FIELDWATCH_TEST_DATABASE_URL is set), a fresh app per test, and a small world of units and users."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

_DATA_DIR = Path(tempfile.mkdtemp(prefix="fieldwatch-test-"))
os.environ["FIELDWATCH_DATA_DIR"] = str(_DATA_DIR)
os.environ["FIELDWATCH_DATABASE_URL"] = os.environ.get("FIELDWATCH_TEST_DATABASE_URL") or (
    f"sqlite:///{_DATA_DIR / 'test.sqlite3'}"
)
os.environ.pop("FIELDWATCH_MEDIA_URL", None)
# Tree heads are signed only when a test asks: a server process signing in the background while a
# test has tampered with the shared database would sign the tampered log.
os.environ["FIELDWATCH_AUDIT_SIGN_INTERVAL"] = "0"
# Videos' and PDFs' renditions are made when a test calls rendering.render_pending, not by a job in
# the background that would race the test's own assertions on the shared database.
os.environ["FIELDWATCH_RENDER_INTERVAL"] = "0"
os.environ.pop("FIELDWATCH_REDIS_URL", None)

import httpx  # noqa: E402
from litestar import Litestar  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.db import engine_from_url, migrate  # noqa: E402
from backend.settings import Settings  # noqa: E402

PASSWORD = "correct-horse-battery"


def pytest_report_header(config: pytest.Config) -> str:
    return f"fieldwatch database: {os.environ['FIELDWATCH_DATABASE_URL'].split('@')[-1]}"


def make_settings(**overrides: object) -> Settings:
    base = replace(Settings.from_env(), login_rate_per_minute=10_000, nomination_rate_per_minute=10_000)
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def migrated() -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        await migrate(engine_from_url(os.environ["FIELDWATCH_DATABASE_URL"]))


@pytest.fixture
async def app(migrated: None) -> Litestar:
    return create_app(make_settings())


@contextlib.asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan in the test's own event loop (so a PostgreSQL pool is usable from the
    test too) and talk to it in-process. The lifespan lives in its own task because fixture set-up
    and tear-down run in different tasks."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # start-up failed: raise its error here
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            yield client
    finally:
        stop.set()
        await task


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as c:
        yield c


@dataclass
class World:
    """Two townships (A with its reviewer and officers, B with its own), a department, and staff."""

    justice: uuid.UUID
    town_a: uuid.UUID
    town_b: uuid.UUID
    dept: uuid.UUID
    users: dict[str, uuid.UUID]
    names: dict[str, str]
    items: dict[str, uuid.UUID]

    def username(self, key: str) -> str:
        return self.names[key]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def world(migrated: None) -> World:
    from backend.accounts import schemas as a
    from backend.accounts import services as accounts
    from backend.db import bind
    from backend.org import schemas as o
    from backend.org import services as org

    bind(engine_from_url(os.environ["FIELDWATCH_DATABASE_URL"]))
    units = {}
    for key, kind in (
        ("justice", "justice"),
        ("town_a", "township"),
        ("town_b", "township"),
        ("dept", "department"),
    ):
        created = await org.create_unit(None, o.UnitCreate(name=unique(key), kind=kind))  # type: ignore[arg-type]
        units[key] = created.id
    specs = {
        "admin": (["admin"], ["justice"]),
        "supervisor": (["supervisor"], ["justice"]),
        "command": (["command"], ["justice"]),
        "reviewer_a": (["legal_reviewer"], ["town_a"]),
        "officer_a1": (["officer"], ["town_a"]),
        "officer_a2": (["officer"], ["town_a"]),
        "officer_b1": (["officer"], ["town_b"]),
        "officer_b2": (["officer"], ["town_b"]),
        "officer_a_revoked": (["officer"], ["town_a"]),
        "officer_a_expired": (["officer"], ["town_a"]),
        "officer_a_nocert": (["officer"], ["town_a"]),
        "invited": (["invited_supervisor"], ["town_a"]),
        "liaison": (["liaison"], []),
    }
    users, names = {}, {}
    for key, (roles, unit_keys) in specs.items():
        username = unique(key)
        user = await accounts.create_user(
            None,
            a.UserCreate(
                username=username,
                password=PASSWORD,
                display_name=f"测试{key}",
                roles=roles,  # type: ignore[arg-type]
                unit_ids=[units[k] for k in unit_keys],
                phone="13812345678",
            ),
        )
        users[key], names[key] = user.id, username
    await _certificates(users)
    items = await _items(units)
    return World(users=users, names=names, items=items, **units)


async def _certificates(users: dict[str, uuid.UUID]) -> None:
    from datetime import timedelta

    from backend.accounts.services import revoke_certificate
    from backend.accounts.tables import Certificate
    from backend.lib.clock import today_local

    today = today_local()
    for key, user_id in users.items():
        if not key.startswith("officer_") or key == "officer_a_nocert":
            continue
        expires = today - timedelta(days=1) if key == "officer_a_expired" else today + timedelta(days=365)
        await Certificate.insert(
            Certificate(
                id=uuid.uuid4(),
                user=user_id,
                number=unique("NC"),
                issued_on=today - timedelta(days=900),
                expires_on=expires,
            )
        ).run()
    await revoke_certificate(None, users["officer_a_revoked"], "年度考核不合格")


async def _items(units: dict[str, uuid.UUID]) -> dict[str, uuid.UUID]:
    """``delegated``: the department's item delegated to both townships (major ≥ 10000, criminal ≥ 50000);
    ``lapsed``: delegated to town A until last year; ``dept_only``: never delegated."""
    from datetime import date

    from backend.org import schemas as o
    from backend.org import services as org

    specs = {
        "delegated": {
            "major_case": o.MajorCaseRule(fine_at_least=10000, measures=["吊销许可证"]),
            "criminal_threshold": o.CriminalThreshold(amount_involved_at_least=50000),
        },
        "lapsed": {},
        "dept_only": {},
    }
    items = {}
    for key, extra in specs.items():
        item = await org.create_item(
            None,
            o.ItemCreate(
                code=unique(key),
                name=f"测试事项{key}",
                kind="penalty",  # type: ignore[arg-type]
                owner_unit_id=units["dept"],
                **extra,
            ),
        )
        items[key] = item.id
    for town in ("town_a", "town_b"):
        await org.create_delegation(
            None,
            items["delegated"],  # type: ignore[arg-type]
            o.DelegationCreate(unit_id=units[town], effective_from=date(2020, 1, 1)),
        )
    await org.create_delegation(
        None,
        items["lapsed"],
        o.DelegationCreate(  # type: ignore[arg-type]
            unit_id=units["town_a"], effective_from=date(2020, 1, 1), effective_to=date(2021, 12, 31)
        ),
    )
    return items


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def as_user(client: httpx.AsyncClient, world: World):
    """``await as_user("officer_a1")`` → auth headers for that world user."""

    async def _as(key: str) -> dict[str, str]:
        return await login(client, world.username(key))

    return _as


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith(code) and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


async def forget_evidence(where) -> None:  # type: ignore[no-untyped-def]
    """Remove evidence rows a test stored in a store of its own (the suite shares one database and
    `fieldwatch verify` must not meet a row whose bytes it cannot see), each with the audit entry a
    removal needs, so verify does not report them as deleted behind the app's back."""
    from backend.audit import services as audit
    from backend.db import atomic
    from backend.evidence.tables import Evidence
    from backend.evidence.verify import REMOVED

    async with atomic():
        for row in await Evidence.select(Evidence.id).where(where):
            await Evidence.delete().where(Evidence.id == row["id"]).run()
            await audit.record(
                None, REMOVED, "evidence", row["id"], {"reason": "test cleanup: another store"}
            )
