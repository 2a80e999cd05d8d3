"""Live views in a real browser: the command center's feed, counters, map and alerts, the supervisor's
phone view, acknowledgement seen on a second screen, a reconnect that recovers what was missed, and
the officer's SOS."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PWA = Path(__file__).resolve().parents[2] / "pwa"
BEIJING = ZoneInfo("Asia/Shanghai")
WALL = {"width": 1600, "height": 900}
PHONE = {"width": 390, "height": 844}
GEO = {"latitude": 29.16, "longitude": 107.11, "accuracy": 15}
CG001_NAME = "对占用城市道路违法经营的行政处罚"
TILES = "https://tile.openstreetmap.org/**"
SHOTS = os.environ.get("FIELDWATCH_E2E_SCREENSHOTS")


async def shot(page: Page, name: str) -> None:
    """Save the screen when FIELDWATCH_E2E_SCREENSHOTS names a folder."""
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


async def command_page(new_page, password: str) -> Page:
    """The command center on a wall screen, with map tiles unreachable (as on a closed network)."""
    page = await new_page(viewport=WALL)
    await page.context.route(TILES, lambda route: route.abort())
    await sign_in(page, "command", password, "command")
    await expect(page.get_by_role("heading", level=1, name="指挥中心")).to_be_visible()
    await expect(page.get_by_test_id("live-status")).to_contain_text("实时连接正常")
    return page


async def supervisor_page(new_page, password: str) -> Page:
    page = await new_page(viewport=PHONE)
    await sign_in(page, "supervisor", password, "supervisor")
    await expect(page.get_by_role("heading", level=1, name="执法监督")).to_be_visible()
    await expect(page.get_by_test_id("live-status")).to_contain_text("实时连接正常")
    return page


def record_action(api, officer: str = "officer1", partner: str = "officer2") -> dict:
    """An on-site action by `officer` and `partner` of 水江镇, recorded through the API."""
    client = api(officer)
    unit = next(u for u in client.user["units"] if u["name"] == "水江镇")
    items = client.get("/items", unit_id=unit["id"], limit=200)["items"]
    item = next(i for i in items if i["code"] == "CG-001")
    body = {
        "unit_id": unit["id"],
        "item_id": item["id"],
        "kind": "inspection",
        "officer_ids": [client.user["id"], api(partner).user["id"]],
        "occurred_at": datetime.now(UTC).isoformat(),
        "location": {"lat": 29.158, "lon": 107.097, "accuracy_m": 12},
        "address": "水江镇滨江路12号门前",
        "notes": "现场检查",
    }
    return client.post("/actions", body)


def attach_photo(client, action_id: str) -> dict:
    """A JPEG attached to the action by the officer, as the phone's upload does."""
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 120, 200)).save(buf, "JPEG")
    conn = http.client.HTTPConnection(client.host, int(client.port), timeout=30)
    try:
        conn.request(
            "POST",
            f"/api/v1/actions/{action_id}/evidence",
            buf.getvalue(),
            {"Authorization": f"Bearer {client.token}", "Content-Type": "image/jpeg"},
        )
        res = conn.getresponse()
        body = json.loads(res.read())
    finally:
        conn.close()
    assert res.status == 201, body
    return body


async def counter(page: Page, testid: str) -> int:
    value = page.get_by_test_id(testid).locator(".counter__value")
    await expect(value).to_have_text(re.compile(r"^\d+$"))
    return int(await value.inner_text())


# ---- the feed and the counters -------------------------------------------------------------------


async def test_command_center_shows_a_new_action_live(new_page, api, password: str) -> None:
    command = await command_page(new_page, password)
    before = await counter(command, "count-records")
    for label in ("今日执法记录", "在岗人员", "未处理告警", "超期文书"):
        await expect(command.get_by_text(label, exact=True)).to_be_visible()
    # Overdue supervision documents are counted, and the number opens their list.
    await counter(command, "count-overdue")
    overdue_link = command.get_by_test_id("count-overdue-link")
    await expect(overdue_link).to_have_attribute("href", "#/documents/filter/overdue")

    action = record_action(api)
    card = command.locator(f'[data-action-id="{action["id"]}"]')
    await expect(card).to_be_visible(timeout=5_000)
    # newest on top, with unit and item names, kind, Beijing time, officers and the evidence count
    await expect(command.get_by_test_id("feed-item").first).to_have_attribute("data-action-id", action["id"])
    await expect(card.get_by_test_id("feed-unit")).to_have_text("水江镇")
    await expect(card.get_by_test_id("feed-item-name")).to_have_text(CG001_NAME)
    await expect(card).to_contain_text("检查")
    await expect(card).to_contain_text("张伟、李强")
    occurred = datetime.fromisoformat(action["occurred_at"].replace("Z", "+00:00"))
    await expect(card.locator("time")).to_have_text(occurred.astimezone(BEIJING).strftime("%H:%M"))
    await expect(card.get_by_test_id("feed-evidence")).to_contain_text("现场证据 0 项")
    # the thumbnail slot stays empty until a photo arrives
    thumb = card.get_by_test_id("feed-thumb").locator("img")
    await expect(card.get_by_test_id("feed-thumb")).to_be_attached()
    await expect(thumb).to_have_count(0)

    # the officer uploads a photo: its thumbnail and the new count appear on the card
    attach_photo(api("officer1"), action["id"])
    await expect(card.get_by_test_id("feed-evidence")).to_contain_text("现场证据 1 项")
    await expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    await expect(thumb).to_have_attribute("alt", "现场照片")
    assert await thumb.evaluate("(img) => img.decode().then(() => img.naturalWidth)") > 0

    await expect(command.get_by_test_id("count-records").locator(".counter__value")).to_have_text(
        str(before + 1)
    )
    await shot(command, "command-center")

    # in English the page is built again, with a new stream, and shows the same card once
    await command.get_by_role("button", name="切换为英文界面").click()
    await expect(command.get_by_role("heading", level=1, name="Command center")).to_be_visible()
    await expect(command.get_by_test_id("live-status")).to_contain_text("Live connection OK")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Inspection")
    # this time the photo comes from the action's evidence list
    await expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    await command.get_by_role("button", name=re.compile("Switch to Chinese")).click()
    await expect(command.get_by_role("heading", level=1, name="指挥中心")).to_be_visible()


# ---- alerts on two screens, the SOS marker on the map ---------------------------------------------


async def test_alert_is_acknowledged_on_one_screen_and_updates_the_other(
    new_page, api, password: str
) -> None:
    command = await command_page(new_page, password)
    supervisor = await supervisor_page(new_page, password)
    officer = api("officer1")

    alert = officer.post("/sos", {"lat": 29.161, "lon": 107.104, "accuracy_m": 15})
    on_command = command.locator(f'[data-alert-id="{alert["id"]}"]')
    on_phone = supervisor.locator(f'[data-alert-id="{alert["id"]}"]')
    for card in (on_command, on_phone):
        await expect(card).to_be_visible(timeout=5_000)
        await expect(card).to_have_attribute("data-severity", "high")
        await expect(card).to_contain_text("紧急")  # the severity in words, not only in colour
        await expect(card).to_contain_text("紧急求助")
        await expect(card).to_contain_text("张伟发出紧急求助")
        await expect(card.get_by_test_id("alert-status")).to_have_text("未处理")
        await expect(card).to_have_class(re.compile(r"\bis-flashing\b"))

    for page in (command, supervisor):
        await expect(page.get_by_test_id("count-alerts").locator(".counter__value")).not_to_have_text(
            re.compile(r"^(0|—)$")
        )
        await expect(page.get_by_test_id("count-on-duty").locator(".counter__value")).not_to_have_text(
            re.compile(r"^(0|—)$")
        )

    # the SOS officer on the map, blinking and labelled, although no map tile loads
    marker = command.locator(f'[data-testid="officer-marker"][data-user-id="{officer.user["id"]}"]')
    await expect(marker).to_be_visible()
    await expect(marker).to_have_attribute("data-sos", "true")
    await expect(marker).to_have_class(re.compile(r"\bofficer-marker--sos\b"))
    await expect(command.locator(".map-label--sos").filter(has_text="张伟")).to_contain_text("SOS")
    await expect(command.get_by_test_id("map-note")).to_have_text("地图底图无法加载，人员位置照常显示。")
    assert await command.locator(".leaflet-tile-loaded").count() == 0
    # the same in words beside the map
    await expect(command.get_by_test_id("duty-list")).to_contain_text("SOS 求助张伟")
    await shot(command, "command-center-sos")
    await shot(supervisor, "supervisor-sos")

    # 确认 on the phone: the wall screen follows without a reload
    await on_phone.get_by_role("button", name="确认", exact=True).click()
    await expect(on_phone.get_by_test_id("alert-status")).to_have_text("已确认")
    await expect(on_command.get_by_test_id("alert-status")).to_have_text("已确认")
    await expect(on_command.get_by_test_id("alert-handled")).to_contain_text("刘明")
    await expect(on_command.get_by_role("button", name="确认", exact=True)).to_have_count(0)
    await expect(on_command).not_to_have_class(re.compile(r"\bis-flashing\b"))

    # 处理 on the wall screen: the phone follows, and the marker stops blinking
    await on_command.get_by_role("button", name="处理", exact=True).click()
    await expect(on_command.get_by_test_id("alert-status")).to_have_text("已处理")
    await expect(on_phone.get_by_test_id("alert-status")).to_have_text("已处理")
    await expect(on_phone.get_by_role("button")).to_have_count(0)
    await expect(marker).to_have_attribute("data-sos", "false")
    stored = api("command").get("/alerts", limit=200)["items"]
    assert next(a for a in stored if a["id"] == alert["id"])["status"] == "resolved"
    await shot(supervisor, "supervisor")


async def test_refused_action_is_an_alert_in_plain_chinese(new_page, api, password: str) -> None:
    command = await command_page(new_page, password)
    client = api("officer1")
    unit = next(u for u in client.user["units"] if u["name"] == "水江镇")
    item = next(i for i in client.get("/items", unit_id=unit["id"])["items"] if i["code"] == "CG-001")
    body = {
        "unit_id": unit["id"],
        "item_id": item["id"],
        "kind": "inspection",
        "officer_ids": [client.user["id"], api("revoked").user["id"]],
        "occurred_at": datetime.now(UTC).isoformat(),
        "location": {"lat": 29.15, "lon": 107.1, "accuracy_m": 12},
    }
    status, _ = client.call("POST", "/actions", body)
    assert status == 422
    card = command.get_by_test_id("alert").filter(has_text="冯军").first
    await expect(card).to_contain_text("张伟提交的执法记录被拒绝：冯军的执法证已注销。")
    await expect(card.get_by_test_id("alert-status")).to_have_text("未处理")
    await card.get_by_role("button", name="误报", exact=True).click()
    await expect(card.get_by_test_id("alert-status")).to_have_text("误报")


# ---- reconnect -----------------------------------------------------------------------------------


async def test_reconnects_by_itself_and_shows_the_missed_action_once(new_page, api, password: str) -> None:
    command = await command_page(new_page, password)
    status = command.get_by_test_id("live-status")
    await command.evaluate("() => { window.__sameDocument = true; }")

    await command.context.set_offline(True)
    try:
        await expect(status).to_contain_text("连接中断，正在重连")
        action = record_action(api)
        await command.wait_for_timeout(2_500)
        await expect(command.locator(f'[data-action-id="{action["id"]}"]')).to_have_count(0)
        await shot(command, "command-center-reconnecting")
        listed: list[str] = []
        command.on("request", lambda r: listed.append(r.url) if "/api/v1/actions" in r.url else None)
    finally:
        await command.context.set_offline(False)

    await expect(status).to_contain_text("实时连接正常", timeout=15_000)
    card = command.locator(f'[data-action-id="{action["id"]}"]')
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text(CG001_NAME)
    # no duplicate from the overlap of the replay or from reloading the lists
    await command.wait_for_timeout(2_000)
    await expect(card).to_have_count(1)
    items = command.get_by_test_id("feed-item")
    ids = await items.evaluate_all("(els) => els.map((e) => e.dataset.actionId)")
    assert len(ids) == len(set(ids))
    assert await command.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    assert not listed, f"the missed action should come from the stream's replay, not a new list: {listed}"


async def test_refused_token_is_renewed_and_the_stream_resumes(new_page, api, password: str) -> None:
    command = await command_page(new_page, password)
    await command.evaluate("() => sessionStorage.setItem('fw.access', 'not-a-valid-token')")
    refreshed = []
    sockets = []
    command.on("response", lambda r: refreshed.append(r.status) if r.url.endswith("/auth/refresh") else None)
    command.on("websocket", lambda ws: sockets.append(ws))
    await command.reload()
    await expect(command.get_by_test_id("live-status")).to_contain_text("实时连接正常")
    assert refreshed and all(s == 200 for s in refreshed), refreshed
    # Whichever noticed the refused token first (a REST call or the stream's 4401), the token was renewed
    # once and the live socket is the last one opened; any earlier socket has been closed.
    assert sockets and not sockets[-1].is_closed(), sockets
    for ws in sockets[:-1]:
        assert ws.is_closed() or await _closes(ws), ws
    assert all("token" not in ws.url and "bearer" not in ws.url for ws in sockets)
    action = record_action(api)
    await expect(command.locator(f'[data-action-id="{action["id"]}"]')).to_have_count(1)


async def _closes(ws, within_ms: float = 5000) -> bool:
    """True once a Playwright WebSocket reports it closed (polling its state)."""
    import asyncio

    for _ in range(int(within_ms / 50)):
        if ws.is_closed():
            return True
        await asyncio.sleep(0.05)
    return ws.is_closed()


FAKE_SOCKET = """async (password) => {
    const api = await import('/js/api.js');
    await api.login('command', password);
    window.__sockets = [];
    window.WebSocket = class {
        static OPEN = 1;
        constructor(url, protocols) {
            Object.assign(this, { url, protocols, sent: [], readyState: 1 });
            window.__sockets.push(this);
        }
        send(message) { this.sent.push(JSON.parse(message)); }
        close(code) { this.closedWith = code; }
    };
    const { LiveStream } = await import('/js/live.js');
    const stream = new LiveStream({ types: ['action.created'] });
    window.__events = [];
    window.__status = [];
    stream.on('action.created', (e) => window.__events.push(e.id));
    stream.on('status', (s) => window.__status.push(s));
    stream.start();
}"""


async def test_live_client_backs_off_renews_its_token_and_notices_a_silent_link(
    page: Page, password: str
) -> None:
    """The stream client alone, against a scripted socket and a fake clock."""
    await page.clock.install()
    await page.goto("/#/login")
    await page.evaluate(FAKE_SOCKET, password)
    await page.wait_for_function("() => window.__sockets.length === 1")

    def server(i: int, *messages: dict, opening: bool = False) -> str:
        """Script for socket i: optionally open it, then deliver the messages."""
        sends = "".join(f"ws.onmessage({{ data: JSON.stringify({json.dumps(m)}) }});" for m in messages)
        return f"() => {{ const ws = window.__sockets[{i}]; {'ws.onopen();' if opening else ''} {sends} }}"

    async def status() -> str:
        return await page.evaluate("() => window.__status.at(-1)")

    first = await page.evaluate("() => window.__sockets[0]")
    assert first["url"].endswith("/api/v1/live") and "bearer" not in first["url"]
    assert first["protocols"][0] == "fieldwatch" and first["protocols"][1].startswith("bearer.")
    await page.evaluate(
        server(
            0,
            {"type": "hello", "data": {"last_event_id": "100"}},
            {"type": "action.created", "id": "101"},
            opening=True,
        )
    )
    assert await page.evaluate("() => window.__sockets[0].sent") == [{"subscribe": ["action.created"]}]
    assert await status() == "open"

    # heartbeats keep the link; 60 s of silence is a dead link, then the first retry comes after about 1 s
    await page.clock.run_for(30_000)
    await page.evaluate(server(0, {"type": "heartbeat"}))
    await page.clock.run_for(59_000)
    assert await status() == "open"
    await page.clock.run_for(1_100)
    assert await status() == "reconnecting"
    assert await page.evaluate("() => [window.__sockets.length, window.__sockets[0].closedWith]") == [1, 4000]
    await page.clock.run_for(1_300)
    await page.wait_for_function("() => window.__sockets.length === 2")

    # 4401: the token is renewed through the refresh flow and the next socket carries the new one
    await page.evaluate("() => { const ws = window.__sockets[1]; ws.onopen(); ws.onclose({ code: 4401 }); }")
    await page.clock.run_for(2_600)
    await page.wait_for_function("() => window.__sockets.length === 3")
    tokens = await page.evaluate("() => window.__sockets.map((ws) => ws.protocols[1])")
    assert tokens[0] == tokens[1] != tokens[2]

    # after the gap: resume a little before the newest id seen; repeats are dropped
    await page.evaluate(
        server(
            2,
            {"type": "hello", "data": {"last_event_id": "105"}},
            {"type": "action.created", "id": "101"},
            {"type": "action.created", "id": "102"},
            opening=True,
        )
    )
    assert await page.evaluate("() => window.__sockets[2].sent") == [
        {"subscribe": ["action.created"]},
        {"resume_after": "69"},
    ]
    assert await page.evaluate("() => window.__events") == ["101", "102"]
    assert await status() == "open"


# ---- the officer's SOS ------------------------------------------------------------------------------


async def hold_sos(page: Page) -> None:
    await page.get_by_test_id("sos").hover()
    await page.mouse.down()
    await page.wait_for_timeout(2_300)
    await page.mouse.up()


async def test_officer_sos_reaches_the_command_center(new_page, password: str) -> None:
    command = await command_page(new_page, password)
    officer = await new_page(permissions=["geolocation"], geolocation=GEO)
    await sign_in(officer, "officer3", password, "officer")

    await hold_sos(officer)
    await expect(officer.locator(".sos__msg")).to_have_text("求助信号已发出，已附带您的位置。")
    card = command.get_by_test_id("alert").filter(has_text="王磊发出紧急求助").first
    await expect(card).to_contain_text("位置：29.16000，107.11000（精度约 15 米）")
    await expect(card).to_contain_text("单位：三泉镇")
    label = command.locator(".map-label--sos").filter(has_text="王磊")
    await expect(label).to_be_visible()


async def test_offline_sos_says_so_and_is_sent_when_the_network_is_back(new_page, api, password: str) -> None:
    officer = await new_page()
    await sign_in(officer, "officer4", password, "officer")
    message = officer.locator(".sos__msg")

    await officer.context.set_offline(True)
    try:
        await hold_sos(officer)
        await expect(message).to_contain_text("网络不通，求助信号未能发出，请拨打电话求助。")
    finally:
        await officer.context.set_offline(False)
    await expect(message).to_have_text("网络已恢复，求助信号已发出。")
    officer_id = api("officer4").user["id"]
    sos = [
        a
        for a in api("command").get("/alerts", type="officer.sos", limit=200)["items"]
        if a["subject_user_id"] == officer_id
    ]
    assert len(sos) == 1, sos
    assert sos[0]["data"]["note"].startswith("网络中断时发出的求助")


# ---- what an officer's phone downloads -------------------------------------------------------------


def served_size(base_url: str, path: str) -> tuple[int, str]:
    """Bytes on the wire for `path` fetched as a browser does (brotli or gzip accepted), and the encoding."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "br, gzip"})
        res = conn.getresponse()
        body = res.read()  # http.client does not decode: this is what was sent
        assert res.status == 200, (path, res.status)
        return len(body), res.getheader("Content-Encoding") or ""
    finally:
        conn.close()


async def test_officer_first_load_leaves_out_the_live_views_and_the_map(
    new_page, password: str, live_server
) -> None:
    officer = await new_page()
    fetched: list[str] = []
    officer.context.on("request", lambda r: fetched.append(r.url))
    await sign_in(officer, "officer1", password, "officer")
    await officer.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
    )
    await officer.wait_for_load_state("networkidle")
    paths = {re.sub(r"^https?://[^/]+", "", u) for u in fetched}
    for lazy in (
        "/js/pages/command.js",
        "/js/pages/watch.js",
        "/js/pages/supervisor.js",
        "/vendor/leaflet-1.9.4/leaflet.js",
        "/vendor/leaflet-1.9.4/leaflet.css",
    ):
        assert lazy not in paths, f"{lazy} downloaded by an officer's phone"
    # nor does the service worker put them on the phone at install
    cached = await officer.evaluate(
        """async () => {
            const urls = [];
            for (const n of await caches.keys()) {
                for (const req of await (await caches.open(n)).keys()) urls.push(new URL(req.url).pathname);
            }
            return urls;
        }"""
    )
    assert "/js/app.js" in cached
    assert not [u for u in cached if "leaflet" in u or u.endswith(("/command.js", "/watch.js"))], cached
    # everything fetched for the first visit (page and install), as served (compressed), within the budget
    assets = sorted(p for p in paths | set(cached) if p.endswith((".js", ".css")))
    served = {p: served_size(live_server[0], p) for p in assets}
    assert all(enc in ("br", "gzip") for _, enc in served.values()), served
    size = sum(n for n, _ in served.values())
    assert size <= 150_000, (size, served)
    raw = sum(len((PWA / p.lstrip("/")).read_bytes()) for p in assets)
    print(f"officer first load: {len(assets)} JS/CSS files, {raw} bytes, {size} bytes as served")


async def test_the_map_follows_the_officers_and_shows_an_sos_far_away(new_page, api, password: str) -> None:
    """An SOS 120 km outside the district view is on the screen; with no tiles the grid stands in."""
    command = await command_page(new_page, password)
    far = api("officer6")
    status, body = far.call("POST", "/sos", {"lat": 30.25, "lon": 108.2, "accuracy_m": 20})
    assert status in (200, 201), body
    await expect(command.locator(".map-label--sos").filter(has_text="吴敏")).to_be_visible()
    on_screen = await command.evaluate(
        """() => {
            const map = document.querySelector('[data-testid="map"]').getBoundingClientRect();
            const sos = document.querySelectorAll('[data-testid="officer-marker"][data-sos="true"]');
            return [...sos].map((el) => {
                const r = el.getBoundingClientRect();
                return r.width > 0 && r.left >= map.left && r.right <= map.right
                    && r.top >= map.top && r.bottom <= map.bottom;
            });
        }"""
    )
    assert on_screen and all(on_screen), on_screen
    # The tiles are unreachable here (a closed network): the positions sit on the offline grid.
    await expect(command.get_by_test_id("map")).to_have_class(re.compile("map__canvas--offline"))
