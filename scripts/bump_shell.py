"""Start a new app-shell version after changing any file the service worker precaches.

Shell files are served cache-first, so phones only pick up a change when sw.js changes: this bumps
VERSION and records the digest that tests/e2e checks. Run: python scripts/bump_shell.py
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

PWA = Path(__file__).resolve().parent.parent / "pwa"


def main() -> None:
    sw_path = PWA / "sw.js"
    sw = sw_path.read_text()
    shell_block = re.search(r"const SHELL = \[(.*?)\];", sw, re.S)
    assert shell_block, "SHELL list not found in sw.js"
    listed = re.findall(r"'([^']+)'", shell_block.group(1))
    digest = hashlib.sha256()
    for url in sorted(listed):
        digest.update(url.encode() + b"\0" + (PWA / url.lstrip("/")).read_bytes() + b"\0")
    recorded = re.search(r"^// shell digest: ([0-9a-f]{64})$", sw, re.M)
    if recorded and recorded.group(1) == digest.hexdigest():
        print("shell unchanged")
        return
    version = int(re.search(r"const VERSION = 'fw-shell-v(\d+)';", sw).group(1)) + 1  # type: ignore[union-attr]
    sw = re.sub(r"const VERSION = 'fw-shell-v\d+';", f"const VERSION = 'fw-shell-v{version}';", sw)
    sw = re.sub(r"^// shell digest: [0-9a-f]{64}$", f"// shell digest: {digest.hexdigest()}", sw, flags=re.M)
    sw_path.write_text(sw)
    print(f"shell is now fw-shell-v{version}")


if __name__ == "__main__":
    main()
