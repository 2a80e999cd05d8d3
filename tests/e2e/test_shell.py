"""The PWA shell in a real browser: sign-in, officer home, offline reload, manifest, certificates."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import TODAY_SETTLED

pytestmark = pytest.mark.e2e

PWA = Path(__file__).resolve().parents[2] / "pwa"
LATIN = re.compile(r"[A-Za-z]")
HTTP_STATUS = re.compile(r"\b[45]\d\d\b")
ZH_DATE = re.compile(r"有效至 \d{4}年\d{2}月\d{2}日")


async def sign_in(page: Page, username: str, password: str) -> None:
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"#/login$"))
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码", exact=True).fill(password)
    await page.get_by_role("button", name="登录", exact=True).click()


async def sign_in_officer(page: Page, password: str, username: str = "officer1") -> None:
    await sign_in(page, username, password)
    await expect(page).to_have_url(re.compile(r"#/officer$"))
    await expect(page.get_by_role("heading", level=1, name="今日执法")).to_be_visible()
    await expect(page.locator(TODAY_SETTLED)).to_be_visible()  # as conftest.sign_in waits


async def wait_for_offline_shell(page: Page) -> list[str]:
    """Wait until the service worker controls the page; return the URLs in the shell cache."""
    await page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
    )
    return await page.evaluate(
        """async () => {
            const names = (await caches.keys()).filter((n) => n.startsWith('fw-shell-'));
            const urls = [];
            for (const n of names) {
                for (const req of await (await caches.open(n)).keys()) urls.push(new URL(req.url).pathname);
            }
            return urls;
        }"""
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_officer_signs_in_and_sees_valid_certificate(page: Page, password: str) -> None:
    await sign_in_officer(page, password)

    status = page.get_by_role("status").filter(has_text="在线")
    await expect(status).to_be_visible()

    cert = page.get_by_test_id("certificate")
    await expect(cert).to_have_attribute("data-state", "valid")
    await expect(cert).to_contain_text("有效")
    await expect(cert).to_contain_text(ZH_DATE)

    await expect(page.get_by_test_id("officer-unit")).to_contain_text("水江镇")
    await expect(page.get_by_test_id("outbox")).to_contain_text("待发送")
    await expect(page.get_by_test_id("outbox-count")).to_have_text("0")

    await expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    stored = await page.evaluate(
        "() => ({user: localStorage.getItem('fw.user'), refresh: localStorage.getItem('fw.refresh'),"
        " access: sessionStorage.getItem('fw.access')})"
    )
    assert json.loads(stored["user"])["username"] == "officer1"
    assert stored["refresh"] and stored["access"]

    # touch targets and text size for outdoor use
    sizes = await page.evaluate(
        """() => [...document.querySelectorAll('button, input, a.roles__link')]
            .filter((el) => el.offsetParent !== null && el.type !== 'checkbox')
            .map((el) => ({t: el.textContent.trim() || el.id, h: el.getBoundingClientRect().height}))"""
    )
    assert sizes
    assert all(s["h"] >= 48 for s in sizes), sizes
    body_px = await page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 16
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    await page.get_by_role("button", name="新建执法记录").click()
    await expect(page).to_have_url(re.compile(r"#/officer/new$"))
    await expect(page.get_by_role("heading", level=1, name="新建执法记录")).to_be_visible()


async def test_offline_reload_keeps_officer_home(page: Page, context, password: str) -> None:
    await sign_in_officer(page, password)
    cached = await wait_for_offline_shell(page)
    for path in ("/index.html", "/js/app.js", "/css/app.css", "/manifest.webmanifest"):
        assert path in cached, f"{path} missing from the shell cache: {cached}"
    assert not [u for u in cached if u.startswith("/api/")], f"API responses were cached: {cached}"

    await context.set_offline(True)
    try:
        response = await page.reload()
        assert response is not None and response.from_service_worker
        await expect(page.get_by_role("heading", level=1, name="今日执法")).to_be_visible()
        await expect(page.get_by_role("status").filter(has_text="离线")).to_be_visible()
        await expect(page.get_by_test_id("certificate")).to_have_attribute("data-state", "valid")
        await expect(page.get_by_test_id("officer-name")).not_to_be_empty()
    finally:
        await context.set_offline(False)

    await expect(page.get_by_role("status").filter(has_text="在线")).to_be_visible()
    await expect(page.get_by_role("heading", level=1, name="今日执法")).to_be_visible()


async def test_wrong_password_shows_chinese_error(page: Page, password: str) -> None:
    await sign_in(page, "officer1", password + "-wrong")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("用户名或密码不正确")
    text = await alert.inner_text()
    assert not LATIN.search(text), f"English shown to a Chinese user: {text!r}"
    assert not HTTP_STATUS.search(text), f"HTTP status shown to the user: {text!r}"
    await expect(page).to_have_url(re.compile(r"#/login$"))
    await expect(page.get_by_role("heading", level=1, name="登录")).to_be_visible()
    await expect(page.get_by_label("密码", exact=True)).to_have_value("")
    assert await page.evaluate("() => localStorage.getItem('fw.refresh')") is None


async def test_empty_form_is_explained(page: Page) -> None:
    await page.goto("/#/login")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text("请输入用户名。")
    await expect(page.get_by_label("用户名")).to_be_focused()


async def test_manifest_is_valid_and_icons_load(page: Page) -> None:
    await page.goto("/")
    href = await page.get_attribute("link[rel=manifest]", "href")
    assert href == "/manifest.webmanifest"
    res = await page.request.get(href)
    assert res.ok
    manifest = json.loads(await res.text())
    assert manifest["name"] == "执法监督 fieldwatch"
    assert manifest["short_name"]
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["lang"] == "zh-CN"
    for key in ("theme_color", "background_color"):
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest[key]), key

    icons = manifest["icons"]
    sizes = {icon["sizes"] for icon in icons}
    assert {"192x192", "512x512"} <= sizes
    assert any("maskable" in icon.get("purpose", "").split() for icon in icons)
    for icon in icons:
        assert icon["type"] == "image/png"
        r = await page.request.get(icon["src"])
        assert r.ok, icon["src"]
        assert r.headers["content-type"].startswith("image/png"), icon["src"]
        w, h = png_size(await r.body())
        assert f"{w}x{h}" == icon["sizes"], icon["src"]

    # the browser itself decodes them too
    loaded = await page.evaluate(
        """async (srcs) => Promise.all(srcs.map((src) => new Promise((ok) => {
            const img = new Image();
            img.onload = () => ok(img.naturalWidth > 0);
            img.onerror = () => ok(false);
            img.src = src;
        })))""",
        [icon["src"] for icon in icons],
    )
    assert all(loaded)


async def test_expired_certificate_shows_warning(page: Page, password: str) -> None:
    await sign_in_officer(page, password, username="expired")
    cert = page.get_by_test_id("certificate")
    await expect(cert).to_have_attribute("data-state", "expired")
    await expect(cert).to_contain_text("执法证已过期")
    await expect(cert).to_contain_text("不能从事执法活动")
    await page.get_by_role("button", name="新建执法记录").click()
    await expect(page.get_by_role("status").filter(has_text="执法证无效")).to_be_visible()


async def test_revoked_certificate_shows_reason(page: Page, password: str) -> None:
    await sign_in_officer(page, password, username="revoked")
    cert = page.get_by_test_id("certificate")
    await expect(cert).to_have_attribute("data-state", "revoked")
    await expect(cert).to_contain_text("执法证已注销")
    await expect(cert).to_contain_text("原因：")
    await expect(cert).to_contain_text("不能从事执法活动")


async def test_sos_needs_a_two_second_hold(page: Page, password: str) -> None:
    await sign_in_officer(page, password)
    sos = page.get_by_test_id("sos")
    message = page.locator(".sos__msg")

    await sos.click()
    await expect(message).to_have_text("请按住按钮 2 秒才能发出求助。")

    await sos.hover()
    await page.mouse.down()
    await page.wait_for_timeout(800)
    await page.mouse.up()
    await expect(message).to_have_text("请按住按钮 2 秒才能发出求助。")

    await sos.hover()
    await page.mouse.down()
    await page.wait_for_timeout(2300)
    await page.mouse.up()
    # no location permission in this browser: the SOS goes out without a position
    await expect(message).to_have_text("求助信号已发出，但未能获取您的位置，请尽量电话说明所在地点。")


async def test_expired_access_token_is_refreshed_once(page: Page, password: str) -> None:
    await sign_in_officer(page, password)
    before = await page.evaluate("() => localStorage.getItem('fw.refresh')")
    await page.evaluate("() => sessionStorage.setItem('fw.access', 'not-a-valid-token')")
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as info:
        await page.reload()
    assert (await info.value).ok
    await expect(page.get_by_role("heading", level=1, name="今日执法")).to_be_visible()
    await page.wait_for_function(
        "(old) => localStorage.getItem('fw.refresh') && localStorage.getItem('fw.refresh') !== old",
        arg=before,
    )
    await expect(page.get_by_role("status").filter(has_text="在线")).to_be_visible()


async def test_logout_clears_session(page: Page, password: str) -> None:
    await sign_in_officer(page, password)
    old_refresh = await page.evaluate("() => localStorage.getItem('fw.refresh')")
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")):
        await page.get_by_role("button", name="退出登录").click()
    await expect(page).to_have_url(re.compile(r"#/login$"))
    await expect(page.get_by_role("status").filter(has_text="您已安全退出")).to_be_visible()
    left = await page.evaluate(
        "() => [localStorage.getItem('fw.user'), localStorage.getItem('fw.refresh'),"
        " sessionStorage.getItem('fw.access')]"
    )
    assert left == [None, None, None]
    res = await page.request.post("/api/v1/auth/refresh", data={"refresh_token": old_refresh})
    assert res.status == 401

    # a reload must not bring the signed-out user back
    await page.goto("/#/officer")
    await expect(page).to_have_url(re.compile(r"#/login$"))


async def test_language_toggle_is_remembered(page: Page, password: str) -> None:
    await page.goto("/#/login")
    await page.get_by_role("button", name="切换为英文界面").click()
    await expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert await page.evaluate("() => document.documentElement.lang") == "en"
    await page.reload()
    await expect(page.get_by_label("Username")).to_be_visible()
    await page.get_by_label("Username").fill("officer1")
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    cert = page.get_by_test_id("certificate")
    await expect(cert).to_contain_text(re.compile(r"Valid until \d{4}-\d{2}-\d{2}"))
    await page.get_by_role("button", name=re.compile("Switch to Chinese")).click()
    await expect(cert).to_contain_text(ZH_DATE)
    assert await page.evaluate("() => localStorage.getItem('fw.lang')") == "zh-CN"


@pytest.mark.parametrize(
    ("username", "route", "heading"),
    [
        ("supervisor", "supervisor", "执法监督"),
        ("admin", "admin", "系统管理"),
        ("command", "command", "指挥中心"),
        ("reviewer", "reviewer", "法制审核"),
        ("invited", "invited", "特邀监督员"),
        ("liaison", "liaison", "监督联系点"),
        ("petition", "registrar", "涉法涉诉和信访登记"),
        ("court", "registrar", "涉法涉诉和信访登记"),
        ("procurator", "organ", "移送案件"),
        ("police", "organ", "移送案件"),
    ],
)
async def test_role_homes(page: Page, password: str, username: str, route: str, heading: str) -> None:
    await sign_in(page, username, password)
    await expect(page).to_have_url(re.compile(rf"#/{route}$"))
    await expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    await expect(page.get_by_test_id("user-name")).not_to_be_empty()
    await expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    if route == "command":
        for label in (
            "今日执法记录",
            "在岗人员",
            "未处理告警",
            "超期文书",
            "实时执法动态",
            "在岗人员地图",
            "告警",
        ):
            await expect(page.get_by_text(label, exact=True)).to_be_visible()
    # an officer-only page is not reachable for this user unless they hold that role
    await page.goto("/#/officer")
    roles = json.loads(await page.evaluate("() => localStorage.getItem('fw.user')"))["roles"]
    if "officer" not in roles:
        await expect(page).not_to_have_url(re.compile(r"#/officer$"))


async def test_every_api_error_reads_as_plain_chinese(page: Page) -> None:
    from backend.lib.errors import ErrorCode, Errors

    cases = [(e.code, e.status, e.title) for e in vars(Errors).values() if isinstance(e, ErrorCode)]
    assert cases
    cases += [
        ("http.error", 429, "Too Many Requests"),
        ("some.future_code", 422, "Something new"),
        ("", 502, "Bad Gateway"),
        ("network.offline", 0, ""),
        ("network.timeout", 0, ""),
    ]
    await page.goto("/#/login")
    messages = await page.evaluate(
        """async (cases) => {
            const api = await import('/js/api.js');
            return cases.map(([code, status, title]) =>
                [code, api.errorMessage(new api.ApiError({ code, status, title, detail: title }))]);
        }""",
        cases,
    )
    for code, message in messages:
        assert re.search(r"[\u4e00-\u9fff]", message), (code, message)
        assert not LATIN.search(message), (code, message)
        assert not HTTP_STATUS.search(message), (code, message)


def test_service_worker_precaches_the_whole_shell() -> None:
    sw = (PWA / "sw.js").read_text(encoding="utf-8")
    block = re.search(r"const SHELL = \[(.*?)\];", sw, re.S)
    assert block, "SHELL list not found in sw.js"
    listed = re.findall(r"'([^']+)'", block.group(1))
    assert len(listed) == len(set(listed)), "duplicate entries in SHELL"
    on_disk = {"/index.html", "/manifest.webmanifest"}
    for folder, pattern in (
        ("js", "*.js"),
        ("css", "*.css"),
        ("icons", "*.png"),
        ("vendor", "*.js"),
        ("vendor", "*.css"),
    ):
        on_disk |= {"/" + p.relative_to(PWA).as_posix() for p in (PWA / folder).rglob(pattern)}
    assert set(listed) == on_disk, f"sw.js SHELL differs from the files: {set(listed) ^ on_disk}"
    assert re.search(r"const VERSION = 'fw-shell-v\d+';", sw)

    # every shell file must reach a commit (an ignore rule such as build/ would silently drop it)
    repo = PWA.parent
    git = shutil.which("git")
    if git and (repo / ".git").exists():
        paths = [f"pwa{url}" for url in sorted(listed)] + ["pwa/sw.js"]
        ignored = subprocess.run(
            [git, "check-ignore", "--no-index", *paths], cwd=repo, capture_output=True, text=True, check=False
        ).stdout.split()
        assert not ignored, f"shell files ignored by git: {ignored}"

    # Shell assets are served cache-first, so any change must come with a new VERSION.
    digest = hashlib.sha256()
    for url in sorted(listed):
        digest.update(url.encode() + b"\0" + (PWA / url.lstrip("/")).read_bytes() + b"\0")
    recorded = re.search(r"^// shell digest: ([0-9a-f]{64})$", sw, re.M)
    assert recorded and recorded.group(1) == digest.hexdigest(), (
        "The app shell changed: run `python scripts/bump_shell.py` (new VERSION and digest line "
        f"// shell digest: {digest.hexdigest()})"
    )
