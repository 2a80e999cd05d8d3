"""What being on duty costs the phone: positions sent and location fixes (GPS wake-ups) per hour.

Runs the officer's app in Debian's Chromium against the real server (demo data), with the phone's
location service replaced by tests/e2e/geo_stub.js (a watch delivers one fix a second, as a GPS
does). Two phases of --seconds each: standing at one place, then walking (50 m every 10 s). The
baseline is the duty module of another git revision (--baseline, default main), served in place of
pwa/js/duty.js in the same run. Position posts are answered by the browser, so the server's rate
limit does not blur the count. Exports added since the baseline are stubbed onto it (they do not
track anything).

    python benchmarks/duty_battery.py --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, app_server

REPO = Path(__file__).resolve().parents[1]
STUB = REPO / "tests" / "e2e" / "geo_stub.js"


async def run_variant(
    browser: Any, base_url: str, password: str, duty_js: str | None, seconds: float
) -> dict:
    ctx = await browser.new_context(
        base_url=base_url, viewport=VIEWPORT, locale="zh-CN", service_workers="block"
    )
    page = await ctx.new_page()
    await page.add_init_script(path=str(STUB))
    posts = {"standing": 0, "walking": 0}
    phase = ["standing"]

    async def positions(route: Any) -> None:
        if route.request.method == "POST":
            posts[phase[0]] += 1
            await route.fulfill(status=201, json={})
        else:
            await route.continue_()

    await page.route("**/api/v1/positions", positions)
    if duty_js is not None:
        await page.route(
            "**/js/duty.js",
            lambda route: route.fulfill(status=200, body=duty_js, content_type="text/javascript"),
        )
    await page.goto("/")
    await page.get_by_label("用户名").fill("officer2")
    await page.get_by_label("密码", exact=True).fill(password)
    await page.get_by_role("button", name="登录", exact=True).click()
    await page.get_by_test_id("duty-toggle").click()
    await page.wait_for_timeout(seconds * 1000)
    standing = await page.evaluate("window.__geo")
    phase[0] = "walking"
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        await page.evaluate("window.__move(50)")
        await page.wait_for_timeout(10_000)
    walking = await page.evaluate("window.__geo")
    await ctx.close()
    per_hour = 3600 / seconds
    return {
        "standing": {
            "posts": posts["standing"] * per_hour,
            "fixes": standing["fixes"] * per_hour,
            "high": standing["highFixes"] * per_hour,
        },
        "walking": {
            "posts": posts["walking"] * per_hour,
            "fixes": (walking["fixes"] - standing["fixes"]) * per_hour,
            "high": (walking["highFixes"] - standing["highFixes"]) * per_hour,
        },
        "high_watch": standing["highWatching"] > 0,
    }


def baseline_source(revision: str) -> str:
    """pwa/js/duty.js as it is at `revision` (a git revision of this repository)."""
    shown = subprocess.run(  # noqa: S603 - git with fixed arguments, the revision is the operator's
        ["git", "show", f"{revision}:pwa/js/duty.js"],  # noqa: S607 - git from PATH, as the scripts use it
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    source = shown.stdout
    # Exports today's pages import from the module, where the old one lacks them; tracking is untouched.
    if "export function dutyReport" not in source:
        source += "\nexport function dutyReport() { return { sentAt: null, failed: false, noGps: false }; }\n"
    if "export function reportFix" not in source:
        source += "\nexport function reportFix() {}\n"
    return source


async def main(seconds: float, revision: str, baseline_js: str) -> None:
    with app_server() as (base_url, password, _):
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                base = await run_variant(browser, base_url, password, baseline_js, seconds)
                now = await run_variant(browser, base_url, password, None, seconds)
            finally:
                await browser.close()
    print(f"| per hour ({seconds:.0f} s per phase) | {revision} | this tree | ratio |")
    print("|---|---|---|---|")
    labels = (("posts", "positions sent"), ("fixes", "location fixes"), ("high", "high-accuracy (GPS) fixes"))
    for phase in ("standing", "walking"):
        for key, label in labels:
            b, n = base[phase][key], now[phase][key]
            ratio = f"{n / b:.2f}" if b else "–"
            print(f"| {phase}: {label} | {b:.0f} | {n:.0f} | {ratio} |")
    on = {True: "yes", False: "no"}
    print(f"| GPS watch kept on between records | {on[base['high_watch']]} | {on[now['high_watch']]} | |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument(
        "--baseline", default="main", help="git revision whose pwa/js/duty.js is the baseline"
    )
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.baseline, baseline_source(args.baseline)))
