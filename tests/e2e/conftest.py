"""Browser tests: a live fieldwatch server in a subprocess and Debian's headless Chromium."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.servers import free_port, healthy

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
VIEWPORT = {"width": 390, "height": 844}
STARTUP_TIMEOUT_S = 60


def _tail(path: Path, n: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def server_env(
    data_dir: Path, extra_env: dict[str, str] | None = None, *, demo: bool = True
) -> dict[str, str]:
    """The environment of the app server on `data_dir`, also for running its commands beside it.
    Without demo data the database is the data directory's own SQLite file, empty: the shared
    FIELDWATCH_TEST_E2E_DATABASE_URL already holds the demo organisation."""
    env = dict(os.environ)
    env["FIELDWATCH_DATA_DIR"] = str(data_dir)
    env.pop("FIELDWATCH_DATABASE_URL", None)
    if demo and os.environ.get("FIELDWATCH_TEST_E2E_DATABASE_URL"):
        env["FIELDWATCH_DATABASE_URL"] = os.environ["FIELDWATCH_TEST_E2E_DATABASE_URL"]
    # The suite signs in more often per minute than a person would; keep the per-client cap out of the way.
    env.setdefault("FIELDWATCH_LOGIN_RATE_PER_MINUTE", "600")
    # A document past its deadline turns overdue within a second or two, not a minute.
    env.setdefault("FIELDWATCH_DOCUMENT_CHECK_INTERVAL", "1")
    # Videos and PDFs are rendered in the background as in production (the unit suites turn it off).
    env["FIELDWATCH_RENDER_INTERVAL"] = "60"
    env.update(extra_env or {})
    return env


@contextlib.contextmanager
def app_server(
    extra_env: dict[str, str] | None = None, *, demo: bool = True
) -> Iterator[tuple[str, str, Path]]:
    """The real app on a free local port, in a throw-away data directory; stopped by its PID. With
    `demo` it holds the demo data, and yields (base_url, demo password, data dir); without, the
    database is empty (no unit, item or user: `server_env`), and the password yielded is a fresh
    one for the test's own first admin."""
    tmp = Path(tempfile.mkdtemp(prefix="fieldwatch-e2e-"))
    env = server_env(tmp, extra_env, demo=demo)
    password = secrets.token_urlsafe(12)

    if demo:
        seeded = subprocess.run(
            [sys.executable, "-m", "backend.cli", "demo", f"--password={password}"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if seeded.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.fail(f"`backend.cli demo` failed ({seeded.returncode}):\n{seeded.stdout}\n{seeded.stderr}")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode} before it was ready:\n{_tail(log_path)}")
            if healthy(port):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"server not healthy after {STARTUP_TIMEOUT_S}s:\n{_tail(log_path)}")
            time.sleep(0.25)
        yield base_url, password, tmp
    finally:
        if os.environ.get("FIELDWATCH_E2E_SERVER_LOG"):  # debugging aid: the server's side of a failure
            print(f"--- server log ({base_url}) ---\n{_tail(log_path, 200)}")
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def live_app() -> Iterator[tuple[str, str, Path]]:
    """The real app on a free local port, with demo data: (base_url, demo password, data dir)."""
    with app_server() as served:
        yield served


@pytest.fixture(scope="session")
def live_server(live_app: tuple[str, str, Path]) -> tuple[str, str]:
    """The real app on a free local port, with demo data: (base_url, demo password)."""
    return live_app[0], live_app[1]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; the tests fail (never skip) when it is missing."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is required for the e2e tests but {CHROMIUM} was not found. "
            "Install Debian's package: apt-get install -y chromium"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium_path: str):
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def context(browser, live_server) -> AsyncIterator:
    base_url, _ = live_server
    ctx = await browser.new_context(
        base_url=base_url,
        viewport=VIEWPORT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        service_workers="allow",
    )
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        await ctx.close()


def watch_for_problems(p, problems: list[str]) -> None:
    """Collect uncaught script errors and Content-Security-Policy violations of page `p`."""
    p.on("pageerror", lambda exc: problems.append(f"uncaught error: {exc}"))
    p.on(
        "console",
        lambda msg: (
            problems.append(f"CSP violation: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )


@pytest.fixture
async def page(context) -> AsyncIterator:
    """A page that fails the test on uncaught script errors or Content-Security-Policy violations."""
    p = await context.new_page()
    problems: list[str] = []
    watch_for_problems(p, problems)
    yield p
    assert not problems, "\n".join(problems)


@pytest.fixture
async def new_page(browser, live_server) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Factory: a page in a fresh context (another person's phone) with the suite's phone settings.

    Keyword arguments override the context options, e.g. ``permissions=["geolocation"]`` and
    ``geolocation={...}``. Script errors and CSP violations on any of these pages fail the test.
    """
    base_url, _ = live_server
    contexts = []
    problems: list[str] = []

    async def make(**overrides: Any):
        options: dict[str, Any] = {
            "base_url": base_url,
            "viewport": VIEWPORT,
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
            "service_workers": "allow",
        }
        options.update(overrides)
        ctx = await browser.new_context(**options)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        p = await ctx.new_page()
        watch_for_problems(p, problems)
        return p

    try:
        yield make
    finally:
        for ctx in contexts:
            await ctx.close()
    assert not problems, "\n".join(problems)


class ApiClient:
    """The JSON API as one signed-in user, for arranging data and checking what the server stored."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.host, self.port = base_url.removeprefix("http://").split(":")
        res = self.call("POST", "/auth/login", {"username": username, "password": password}, auth=False)
        assert res[0] == 200, res
        self.token = res[1]["access_token"]
        self.user = res[1]["user"]

    def call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=15)
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, headers)
            res = conn.getresponse()
            raw = res.read()
            return res.status, (json.loads(raw) if raw else None)
        finally:
            conn.close()

    def upload(self, path: str, content: bytes, content_type: str) -> Any:
        """POST raw bytes (an evidence file) and return the created record."""
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=30)
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {self.token}"}
        try:
            conn.request("POST", "/api/v1" + path, content, headers)
            res = conn.getresponse()
            raw = res.read()
            assert res.status == 201, (path, res.status, raw[:500])
            return json.loads(raw)
        finally:
            conn.close()

    def get(self, path: str, **params: Any) -> Any:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        status, data = self.call("GET", path + (f"?{query}" if query else ""))
        assert status == 200, (path, status, data)
        return data

    def post(self, path: str, body: Any, expect: int = 201) -> Any:
        status, data = self.call("POST", path, body)
        assert status == expect, (path, status, data)
        return data

    def patch(self, path: str, body: Any) -> Any:
        status, data = self.call("PATCH", path, body)
        assert status == 200, (path, status, data)
        return data


@pytest.fixture
def api(live_server) -> Callable[[str], ApiClient]:
    """Factory: ``api("officer1")`` is an ApiClient signed in as that demo user."""
    base_url, password = live_server
    return lambda username: ApiClient(base_url, username, password)


@pytest.fixture
def password(live_server) -> str:
    return live_server[1]


TODAY_HOMES = {"officer", "supervisor", "reviewer", "admin", "invited"}
TODAY_SETTLED = '[data-testid="today-list"], [data-testid="today-empty"], [data-testid="today-failed"]'


async def sign_in(page, username: str, password: str, home: str) -> None:
    """Sign in through the login form and wait for the role's home (``#/<home>``)."""
    from playwright.async_api import expect

    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"#/login$"))
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码", exact=True).fill(password)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"#/{home}$"))
    if home in TODAY_HOMES:
        # As a person waits for the page before tapping: the to-do card on top has loaded (until
        # then the controls below it move down when its entries arrive).
        await expect(page.locator(TODAY_SETTLED)).to_be_visible()
