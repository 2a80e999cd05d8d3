"""The short form of benchmarks/live_load.py: officers posting once a second while command-center
screens watch, each group in its own process. Not a timing test: every action must be accepted
and reach every screen exactly once, with no error and no screen disconnected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_action_reaches_every_watcher_once_under_load(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    argv = [sys.executable, str(ROOT / "benchmarks" / "live_load.py"), "--officers", "20", "--watchers", "50"]
    argv += ["--seconds", "10", "--check", "--json", str(out)]
    url = os.environ.get("FIELDWATCH_TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        argv += ["--database-url", url]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["statuses"] == {"201": result["offered"]}, result["statuses"]
    assert result["offered"] == 200
    assert result["receipts"] == result["expected_receipts"] == 200 * 50
    assert (result["missing"], result["duplicated"], result["closed"]) == (0, 0, [])
