"""The operator commands, run as an operator would: in a fresh data directory."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path


def _run(
    data_dir: Path, *args: str, stdin: str | None = None, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env["FIELDWATCH_DATA_DIR"] = str(data_dir)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
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


def test_create_admin_makes_the_first_admin_of_an_empty_install_and_only_the_first(tmp_path: Path) -> None:
    # Nothing in the way of the password reaching argv: there is no option for it.
    in_argv = _run(tmp_path, "create-admin", "--username", "chief", "--password", "long-enough-1")
    assert in_argv.returncode == 2 and "--password" in in_argv.stderr
    short = _run(tmp_path, "create-admin", "--username", "chief", stdin="short\n")
    assert short.returncode == 1 and "password" in short.stderr
    empty = _run(tmp_path, "create-admin", "--username", "chief", stdin="")
    assert empty.returncode == 1 and "FIELDWATCH_ADMIN_PASSWORD" in empty.stderr
    assert _count(tmp_path, "users") == 0

    ok = _run(
        tmp_path, "create-admin", "--username", "chief", "--name", "区司法局管理员", stdin="long-enough-1\n"
    )
    assert ok.returncode == 0, ok.stderr
    assert "chief" in ok.stdout and "long-enough-1" not in ok.stdout + ok.stderr
    with sqlite3.connect(tmp_path / "fieldwatch.sqlite3") as db:
        users = db.execute("SELECT username, display_name, roles, active FROM users").fetchall()
        created = db.execute("SELECT action FROM audit_log").fetchall()
    assert users == [("chief", "区司法局管理员", " admin ", 1)]
    assert ("user.created",) in created
    # No demo data came with it: the district is set up from here in the app.
    for table in ("units", "enforcement_items", "delegations", "certificates"):
        assert _count(tmp_path, table) == 0, table

    # Once an active admin exists, further accounts are made in the app (also from the environment).
    second = _run(
        tmp_path,
        "create-admin",
        "--username",
        "deputy",
        env_extra={"FIELDWATCH_ADMIN_PASSWORD": "long-enough-2"},
    )
    assert second.returncode == 1 and "admin exists" in second.stderr
    assert _count(tmp_path, "users") == 1


def test_create_admin_takes_the_password_from_the_environment(tmp_path: Path) -> None:
    ok = _run(
        tmp_path,
        "create-admin",
        "--username",
        "chief",
        env_extra={"FIELDWATCH_ADMIN_PASSWORD": "long-enough-1"},
    )
    assert ok.returncode == 0, ok.stderr
    with sqlite3.connect(tmp_path / "fieldwatch.sqlite3") as db:
        assert db.execute("SELECT username, display_name, roles FROM users").fetchall() == [
            ("chief", "chief", " admin ")
        ]


def test_backfill_watermarks_needs_the_font_and_is_a_no_op_when_nothing_waits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env.update(FIELDWATCH_DATA_DIR=str(tmp_path), FIELDWATCH_CJK_FONT=str(tmp_path / "absent.ttc"))
    missing = subprocess.run(
        [sys.executable, "-m", "backend.cli", "backfill-watermarks"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1 and "absent.ttc" in missing.stderr, missing.stderr
    done = _run(tmp_path, "backfill-watermarks")
    assert done.returncode == 0, done.stderr
    assert "0 watermark(s) rendered, 0 failed" in done.stdout


def test_audit_head_creates_the_key_owner_only_and_verify_checks_a_kept_head(tmp_path: Path) -> None:
    import json
    import stat

    empty = _run(tmp_path, "audit-head")
    assert empty.returncode == 1 and "empty" in empty.stderr
    key_file = tmp_path / "integrity-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    _run(tmp_path, "demo", "--password", "demo-pass-123")
    head = _run(tmp_path, "audit-head")
    assert head.returncode == 0, head.stderr
    kept = json.loads(head.stdout)  # stdout is the head alone
    assert kept["tree_size"] == _count(tmp_path, "audit_log") and kept["public_key"]
    assert _count(tmp_path, "audit_tree_head") == 1
    again = json.loads(_run(tmp_path, "audit-head").stdout)
    assert again == kept and _count(tmp_path, "audit_tree_head") == 1  # nothing new to sign
    (tmp_path / "head.json").write_text(head.stdout)
    done = _run(tmp_path, "verify", "--head", str(tmp_path / "head.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "consistent with 2 signed tree head(s)" in done.stdout

    # Another key (a replaced key file) does not vouch for heads the first one signed.
    other = tmp_path / "elsewhere" / "other-key.pem"
    env_key = {"FIELDWATCH_INTEGRITY_KEY_FILE": str(other)}
    replaced = _run_env(tmp_path, env_key, "verify", "--head", str(tmp_path / "head.json"))
    assert replaced.returncode == 1 and "valid signature" in replaced.stdout
    assert other.exists() and stat.S_IMODE(other.stat().st_mode) == 0o600


def _run_env(data_dir: Path, extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env.update(FIELDWATCH_DATA_DIR=str(data_dir), **extra)
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_migrating_an_existing_sqlite_database_lets_actions_go_without_a_gps_fix(tmp_path: Path) -> None:
    """A database made before records could be unlocated keeps its rows when the location columns
    become nullable, and accepts an unlocated row after."""
    assert _run(tmp_path, "migrate").returncode == 0
    path = tmp_path / "fieldwatch.sqlite3"
    with sqlite3.connect(path) as db:
        # Put the database back as it was before the change, with one located record in it.
        create = db.execute("SELECT sql FROM sqlite_master WHERE name = 'actions'").fetchone()[0]
        old = create
        for name in ("lat", "lon", "accuracy_m"):
            old = old.replace(
                f'"{name}" DOUBLE PRECISION DEFAULT null', f'"{name}" DOUBLE PRECISION NOT NULL DEFAULT 0.0'
            )
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'actions'", (old,))
        db.execute(f"PRAGMA schema_version = {version + 1}")
        db.execute("PRAGMA writable_schema = OFF")
        db.execute("DELETE FROM migration WHERE name = '2026-12-03T09:00:00:000000'")
        db.execute(
            "INSERT INTO actions (id, kind, lat, lon, accuracy_m, address, notes, status, request_hash)"
            " VALUES ('a0000000-0000-0000-0000-000000000001', 'inspection', 29.5, 107.1, 8,"
            " '和平路', '', 'recorded', '')"
        )
    with sqlite3.connect(path) as db:
        assert [r[3] for r in db.execute("PRAGMA table_info(actions)") if r[1] == "lat"] == [
            1
        ]  # NOT NULL again
    migrated = _run(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(path) as db:
        notnull = {r[1]: r[3] for r in db.execute("PRAGMA table_info(actions)")}
        assert (notnull["lat"], notnull["lon"], notnull["accuracy_m"]) == (0, 0, 0)
        assert notnull["kind"] == 1  # the other constraints stand
        assert db.execute("SELECT lat, lon, accuracy_m FROM actions").fetchall() == [(29.5, 107.1, 8.0)]
        db.execute(
            "INSERT INTO actions (id, kind, address, notes, status, request_hash)"
            " VALUES ('a0000000-0000-0000-0000-000000000002', 'inspection', '无定位', '', 'recorded', '')"
        )
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_unreachable_database_is_waited_for_then_named_without_its_password(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env |= {
        "FIELDWATCH_DATA_DIR": str(tmp_path),
        # A port nothing listens on (refused at once), with a password that must not be printed.
        "FIELDWATCH_DATABASE_URL": "postgresql://fieldwatch:s3cret-pw@127.0.0.1:9/fieldwatch",
        "FIELDWATCH_DATABASE_WAIT_SECONDS": "3",
    }
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "waiting for the database at 127.0.0.1:9/fieldwatch" in done.stderr
    assert "error: the database at 127.0.0.1:9/fieldwatch cannot be reached" in done.stderr
    assert "FIELDWATCH_DATABASE_WAIT_SECONDS" in done.stderr
    assert "Traceback" not in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout
