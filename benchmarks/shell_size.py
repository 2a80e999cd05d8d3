"""The PWA's first visit in bytes: the JS and CSS the service worker precaches at install (its SHELL
less ON_DEMAND), each gzip -9, as tests/e2e/test_command.py counts them against the 150 KB budget.
Compares git revisions (or the work tree): python -m benchmarks.shell_size main worktree"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def reader(rev: str) -> Callable[[str], bytes]:
    if rev == "worktree":
        return lambda path: (REPO / path).read_bytes()
    git = shutil.which("git") or "git"
    # The revision is the operator's own argument, given to git as one argv entry (no shell).
    return lambda path: (
        subprocess.run(  # noqa: S603
            [git, "show", f"{rev}:{path}"], cwd=REPO, capture_output=True, check=True
        ).stdout
    )


def first_visit_bytes(read: Callable[[str], bytes]) -> int:
    sw = read("pwa/sw.js").decode()
    shell_block = re.search(r"const SHELL = \[(.*?)\];", sw, re.S)
    lazy_block = re.search(r"const ON_DEMAND = new Set\(\[(.*?)\]\);", sw, re.S)
    assert shell_block and lazy_block, "SHELL / ON_DEMAND not found in sw.js"
    lazy = set(re.findall(r"'([^']+)'", lazy_block.group(1)))
    return sum(
        len(gzip.compress(read("pwa" + url), 9))
        for url in re.findall(r"'([^']+)'", shell_block.group(1))
        if url not in lazy and url.endswith((".js", ".css"))
    )


def main(revs: list[str]) -> None:
    base = None
    for rev in revs or ["worktree"]:
        size = first_visit_bytes(reader(rev))
        base = base or size
        print(f"{rev:>12}  {size:>8,} B  {size / base:.3f}×")


if __name__ == "__main__":
    main(sys.argv[1:])
