"""The operator commands, run as an operator would: in a fresh data directory."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env["FIELDWATCH_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _count(data_dir: Path, table: str) -> int:
    with sqlite3.connect(data_dir / "fieldwatch.sqlite3") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names


def test_demo_is_idempotent_and_prints_the_logins(tmp_path: Path) -> None:
    first = _run(tmp_path, "demo", "--password", "demo-pass-123")
    assert first.returncode == 0, first.stderr
    for username in (
        "admin",
        "supervisor",
        "invited",
        "liaison",
        "command",
        "reviewer",
        "officer1",
        "expired",
        "revoked",
    ):
        assert f"  {username} " in first.stdout
    assert "demo-pass-123" in first.stdout
    counts = {
        t: _count(tmp_path, t) for t in ("users", "units", "enforcement_items", "delegations", "certificates")
    }
    again = _run(tmp_path, "demo", "--password", "demo-pass-123")
    assert again.returncode == 0, again.stderr
    assert {t: _count(tmp_path, t) for t in counts} == counts
    with sqlite3.connect(tmp_path / "fieldwatch.sqlite3") as db:
        pilots = {r[0] for r in db.execute("SELECT name FROM units WHERE pilot")}
        statuses = dict(
            db.execute(
                "SELECT u.username, c.status FROM certificates c JOIN users u ON u.id = c.user"
            ).fetchall()
        )
    assert pilots == {"西城街道", "水江镇", "三泉镇"}
    assert statuses["revoked"] == "revoked" and statuses["officer1"] == "valid"


def test_generated_demo_password_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = _run(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    secret = tmp_path / "demo-password"
    assert secret.stat().st_mode & 0o077 == 0
    password = secret.read_text().strip()
    assert len(password) >= 12 and password in first.stdout
    assert password in _run(tmp_path, "demo").stdout


def test_token_signing_keys_are_made_private_and_kept(tmp_path: Path) -> None:
    from backend.lib.keys import load_keyring, rotate

    keys_dir = tmp_path / "keys"
    first = load_keyring(keys_dir)
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    [pem] = list(keys_dir.glob("*.pem"))
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600 and pem.stem == first.signing_kid
    assert load_keyring(keys_dir).signing_kid == first.signing_kid  # a restart keeps the key
    newer = rotate(keys_dir)
    again = load_keyring(keys_dir)
    assert again.signing_kid == newer and set(again.public_keys) == {first.signing_kid, newer}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys_dir.glob("*.pem"))


def test_create_user_refuses_bad_input_and_creates_good(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    _run(tmp_path, "demo", "--password", "demo-pass-123")
    before = _count(tmp_path, "users")
    unknown_unit = _run(
        tmp_path,
        "create-user",
        "newbie",
        "--role",
        "officer",
        "--unit",
        "不存在的镇",
        "--password",
        "long-enough-1",
    )
    assert unknown_unit.returncode == 1 and "不存在的镇" in unknown_unit.stderr
    bad_role = _run(tmp_path, "create-user", "newbie", "--role", "king", "--password", "long-enough-1")
    assert bad_role.returncode == 1 and "roles" in bad_role.stderr
    assert _count(tmp_path, "users") == before
    ok = _run(
        tmp_path,
        "create-user",
        "newbie",
        "--role",
        "officer",
        "--unit",
        "水江镇",
        "--password",
        "long-enough-1",
    )
    assert ok.returncode == 0, ok.stderr
    assert "newbie" in ok.stdout and _count(tmp_path, "users") == before + 1
