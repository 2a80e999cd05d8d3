"""fieldwatch command line: serve | migrate | demo | create-admin | create-user | verify |
audit-head | backfill-watermarks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.settings import get_settings

if TYPE_CHECKING:
    import uvicorn


def _migrate() -> None:
    """Apply the migrations; a database that cannot be reached yet (a server still starting, a
    network not up) is waited for, up to FIELDWATCH_DATABASE_WAIT_SECONDS, then a clear error."""
    from backend.db import engine_from_url, migrate
    from backend.lib.outages import database_unreachable

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    where = settings.database_url.split("@")[-1]  # never the password
    deadline = time.monotonic() + settings.database_wait_s
    while True:
        try:
            asyncio.run(migrate(engine_from_url(settings.database_url)))
            return
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            reason = f"{type(exc).__name__}: {exc}"
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit(
                    f"error: the database at {where} cannot be reached ({reason}); waited "
                    f"{settings.database_wait_s} s (FIELDWATCH_DATABASE_WAIT_SECONDS)"
                ) from None
            print(f"waiting for the database at {where} ({reason})", file=sys.stderr, flush=True)
            time.sleep(min(2.0, left))


def cmd_migrate(_: argparse.Namespace) -> int:
    _migrate()
    print("migrations applied")
    return 0


def server_config(app: Any, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    """How ``serve`` runs the app under uvicorn."""
    import uvicorn

    from backend.live.wire import FrameProtocol

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # Events are small JSON: per-connection deflate would cost ~100 KiB and a compression per
        # client per event, undoing the encode-once fan-out.
        ws_per_message_deflate=False,
        ws=FrameProtocol,  # uvicorn's own, letting the hub write each event's frame once to all
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.app import create_app

    _migrate()
    settings = get_settings()
    print(f"fieldwatch on http://{args.host}:{args.port}/  (data: {settings.data_dir})", flush=True)
    uvicorn.Server(server_config(create_app(settings), args.host, args.port, args.log_level)).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from backend.demo import seed

    _migrate()
    logins, password = asyncio.run(seed(get_settings(), args.password))
    print("\nDemo data ready. Sign in with any of these users, password:", password)
    for username, description in logins:
        print(f"  {username:<12} {description}")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from backend.demo import create_user_cli

    password = args.password or getpass.getpass("Password: ")
    _migrate()
    try:
        user = asyncio.run(create_user_cli(get_settings(), args.username, args.role, args.unit, password))
    except Exception as exc:  # the message is the user-facing reason
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {user.username} ({', '.join(user.roles)}) id={user.id}")
    return 0


ADMIN_PASSWORD_ENV = "FIELDWATCH_ADMIN_PASSWORD"  # noqa: S105 - the variable's name


def _admin_password() -> str:
    """The first admin's password, never from the command line (argv is readable by every user of
    the host and lands in shell histories): FIELDWATCH_ADMIN_PASSWORD, else the first line of stdin
    when it is piped, else asked twice at the terminal."""
    if os.environ.get(ADMIN_PASSWORD_ENV):
        return os.environ[ADMIN_PASSWORD_ENV]
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def cmd_create_admin(args: argparse.Namespace) -> int:
    from backend.demo import create_first_admin

    try:
        password = _admin_password()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not password:
        print(f"error: no password: pipe it on stdin or set {ADMIN_PASSWORD_ENV}", file=sys.stderr)
        return 1
    _migrate()
    try:
        user = asyncio.run(create_first_admin(get_settings(), args.username, args.name, password))
    except Exception as exc:  # the message is the user-facing reason
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created the first admin {user.username} id={user.id}; sign in to set the district up")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from backend.audit.heads import HeadRejected
    from backend.evidence.verify import read_heads, run_verify

    try:
        outside = read_heads(args.head)
    except (OSError, ValueError, HeadRejected) as exc:
        print(f"error: cannot read the tree head: {exc}", file=sys.stderr)
        return 2
    _migrate()
    return asyncio.run(run_verify(get_settings(), outside))


def cmd_audit_head(args: argparse.Namespace) -> int:
    import json

    from backend.audit.heads import newest, sign
    from backend.db import connected
    from backend.lib.signing import load_or_create

    async def run() -> dict[str, object] | None:
        settings = get_settings()
        key = load_or_create(settings.integrity_key_path)
        async with connected(settings.database_url):
            if not args.no_sign:
                await sign(key)
            head = await newest()
        return head.as_json(key) if head else None

    with contextlib.redirect_stdout(sys.stderr):  # stdout is the head alone, to keep as a file
        _migrate()
    head = asyncio.run(run())
    if head is None:
        print("error: the audit log is empty; there is no tree head to sign", file=sys.stderr)
        return 1
    print(json.dumps(head, indent=2))
    return 0


def cmd_backfill_watermarks(_: argparse.Namespace) -> int:
    from backend.app import register_domains
    from backend.evidence.backfill import run_backfill

    _migrate()
    register_domains()
    return asyncio.run(run_backfill(get_settings()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldwatch", description="行政执法协调监督 fieldwatch")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve the API and the PWA")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply migrations and exit").set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load idempotent demo data and print the logins")
    demo.add_argument("--password", help="password for every demo user (default: generated once, kept)")
    demo.set_defaults(func=cmd_demo)

    verify = sub.add_parser(
        "verify",
        help="check the audit log against its signed tree heads and re-hash every stored original and "
        "rendition against its upload entry; exit 1 on any problem",
    )
    verify.add_argument(
        "--head",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a tree head kept outside (audit-head's JSON); the log must be consistent with it",
    )
    verify.set_defaults(func=cmd_verify)

    audit_head = sub.add_parser(
        "audit-head", help="sign a tree head of the audit log if it grew, and print the newest as JSON"
    )
    audit_head.add_argument("--no-sign", action="store_true", help="print the newest head only")
    audit_head.set_defaults(func=cmd_audit_head)

    sub.add_parser(
        "backfill-watermarks",
        help="make the watermarked copy of photos stored while no CJK font was available",
    ).set_defaults(func=cmd_backfill_watermarks)

    admin = sub.add_parser(
        "create-admin",
        help="create the first admin of a fresh install (no demo data); the password comes from "
        f"{ADMIN_PASSWORD_ENV} or stdin, never the command line",
    )
    admin.add_argument("--username", required=True)
    admin.add_argument("--name", help="the name shown in the app (default: the username)")
    admin.set_defaults(func=cmd_create_admin)

    create = sub.add_parser("create-user", help="create a user")
    create.add_argument("username")
    create.add_argument("--role", action="append", required=True, help="repeat for several roles")
    create.add_argument("--unit", action="append", default=[], help="unit name or id; repeatable")
    create.add_argument("--password", help="prompted for when omitted")
    create.set_defaults(func=cmd_create_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
