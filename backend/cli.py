"""fieldwatch command line: serve | migrate | demo | verify | backfill-watermarks | create-user."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence

from backend.settings import get_settings


def _migrate() -> None:
    from backend.db import engine_from_url, migrate

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(migrate(engine_from_url(settings.database_url)))


def cmd_migrate(_: argparse.Namespace) -> int:
    _migrate()
    print("migrations applied")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.app import create_app

    _migrate()
    settings = get_settings()
    print(f"fieldwatch on http://{args.host}:{args.port}/  (data: {settings.data_dir})", flush=True)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        # Events are small JSON: per-connection deflate would cost ~100 KiB and a compression per
        # client per event, undoing the encode-once fan-out.
        ws_per_message_deflate=False,
        log_level=args.log_level,
        proxy_headers=False,
        server_header=False,
    )
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


def cmd_verify(_: argparse.Namespace) -> int:
    from backend.evidence.verify import run_verify

    _migrate()
    return asyncio.run(run_verify(get_settings()))


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

    sub.add_parser("verify", help="re-hash every stored original; exit 1 on a mismatch").set_defaults(
        func=cmd_verify
    )

    sub.add_parser(
        "backfill-watermarks",
        help="make the watermarked copy of photos stored while no CJK font was available",
    ).set_defaults(func=cmd_backfill_watermarks)

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
