"""Lighthouse mobile performance of the app's first load, as the server sends it.

Lighthouse (npm `lighthouse`, pinned below) is installed on first use into the git-ignored
`.cache/lighthouse/` and drives Debian's Chromium (CHROME_PATH). Its default mobile profile:
a Moto G Power-class viewport, 4× CPU slowdown, simulated slow 4G. The page is the app's entry
(`/`, the sign-in screen, which loads the whole precached shell: every first visit starts there).

Baseline, in the same run and in interleaved rounds: the same `pwa/` files from Python's plain
`http.server` (no compression, no cache headers), so the ratio shows what the server adds.

    python -m benchmarks.lighthouse --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CHROMIUM, app_server
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[1]
VERSION = "13.5.0"
PREFIX = REPO / ".cache" / "lighthouse"
CLI = PREFIX / "node_modules" / "lighthouse" / "cli" / "index.js"
AUDITS = (
    ("first-contentful-paint", "FCP ms"),
    ("largest-contentful-paint", "LCP ms"),
    ("total-blocking-time", "TBT ms"),
    ("speed-index", "SI ms"),
    ("cumulative-layout-shift", "CLS"),
    ("total-byte-weight", "bytes"),
)


def install() -> None:
    installed = PREFIX / "node_modules" / "lighthouse" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == VERSION:
        return
    npm = shutil.which("npm")
    if not npm:
        sys.exit("Lighthouse needs Node.js and npm (Debian: apt-get install nodejs npm)")
    PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed arguments
        [npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", f"lighthouse@{VERSION}"],
        check=True,
    )


def lighthouse(url: str) -> dict[str, Any]:
    node = shutil.which("node") or "node"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        subprocess.run(  # noqa: S603 - fixed arguments, a local URL
            [
                node,
                str(CLI),
                url,
                "--only-categories=performance",
                "--output=json",
                f"--output-path={out}",
                "--quiet",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            ],
            env=dict(os.environ, CHROME_PATH=CHROMIUM),
            check=True,
            timeout=300,
        )
        report = json.loads(out.read_text())
    row = {"score": report["categories"]["performance"]["score"]}
    for key, label in AUDITS:
        row[label] = report["audits"][key]["numericValue"]
    # Lighthouse 13's insights: text compression is part of the document-latency insight; the cache
    # insight scores the lifetimes of the static files (1 = nothing to gain).
    for key, label in (("document-latency-insight", "latency insight"), ("cache-insight", "cache insight")):
        row[label] = report["audits"][key]["score"] or 0.0
    return row


def plain_server(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(REPO / "pwa"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    install()
    port = free_port()
    plain = plain_server(port)
    results: dict[str, list[dict[str, Any]]] = {"app": [], "plain http.server": []}
    try:
        with app_server() as (base_url, _, _):
            for _ in range(args.rounds):
                results["app"].append(lighthouse(f"{base_url}/"))
                results["plain http.server"].append(lighthouse(f"http://127.0.0.1:{port}/"))
    finally:
        plain.terminate()
        plain.wait(timeout=10)
    medians = {name: summary(rows) for name, rows in results.items()}
    labels = list(medians["app"])
    print(f"Lighthouse {VERSION}, mobile, median of {args.rounds} rounds")
    print(f"{'':>18}" + "".join(f"{name:>20}" for name in medians) + f"{'app / plain':>14}")
    for label in labels:
        a, b = medians["app"][label], medians["plain http.server"][label]
        ratio = f"{a / b:.2f}" if b else "-"
        print(f"{label:>18}" + "".join(f"{medians[n][label]:>20,.2f}" for n in medians) + f"{ratio:>14}")
    print("scores per round:", {name: [r["score"] for r in rows] for name, rows in results.items()})


if __name__ == "__main__":
    main()
