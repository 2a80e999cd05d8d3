"""``fieldwatch serve`` with a chosen SQLite engine class, for comparing engines without editing
the app: ``--sqlite-engine stock`` is Piccolo's SQLiteEngine, ``pooled`` is
backend.db.sqlite_pool.PooledSQLiteEngine, ``plain-aiosqlite`` is
benchmarks.aiosqlite_pool.PlainAiosqliteEngine (closed when the app shuts down); ``default`` leaves
backend.db as it is. PostgreSQL URLs are not affected. Everything after ``--`` goes to ``fieldwatch``.

    .venv/bin/python benchmarks/serve_app.py --sqlite-engine pooled -- serve --port 8000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


SQLITE_ENGINES = ("default", "stock", "pooled", "plain-aiosqlite")
_made: list = []  # the PlainAiosqliteEngines made, to close at the app's shutdown


def sqlite_engine_like(kind: str, engine):
    """``engine`` if it is not SQLite or already of class ``kind``, else an engine of that class on
    the same file with the same connection settings."""
    from piccolo.engine.sqlite import SQLiteEngine

    from backend.db.sqlite_pool import PooledSQLiteEngine
    from benchmarks.aiosqlite_pool import PlainAiosqliteEngine

    engine_cls = {
        "stock": SQLiteEngine,
        "pooled": PooledSQLiteEngine,
        "plain-aiosqlite": PlainAiosqliteEngine,
    }[kind]
    if not isinstance(engine, SQLiteEngine) or type(engine) is engine_cls:
        return engine
    reserved = {"database", "detect_types", "isolation_level"}
    kwargs = {k: v for k, v in engine.connection_kwargs.items() if k not in reserved}
    engine = engine_cls(path=engine.path, **kwargs)  # a dropped pooled engine closes itself
    if isinstance(engine, PlainAiosqliteEngine):
        _made.append(engine)
    return engine


async def close_made_engines() -> None:
    """aiosqlite's threads are not daemons: an engine left open keeps the process alive."""
    while _made:
        await _made.pop().close()


def use_sqlite_engine(kind: str) -> None:
    """Make backend.db's engine_from_url build SQLite engines of class ``kind``, and the app close
    at its shutdown every plain-aiosqlite engine made so far (the migrations' one too). Call it
    before importing backend.app."""
    if kind == "default":
        return
    import backend.db
    import backend.db.binding
    import backend.db.engines

    original = backend.db.engines.engine_from_url

    def engine_from_url(url: str):
        return sqlite_engine_like(kind, original(url))

    for module in (backend.db, backend.db.binding, backend.db.engines):
        module.engine_from_url = engine_from_url
    import backend.app

    create_app = backend.app.create_app

    def create_app_closing_engines(*args, **kwargs):
        app = create_app(*args, **kwargs)
        app.on_shutdown.append(close_made_engines)
        return app

    backend.app.create_app = create_app_closing_engines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite-engine", choices=SQLITE_ENGINES, default="default")
    parser.add_argument("fieldwatch_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    use_sqlite_engine(args.sqlite_engine)
    from backend.cli import main as fieldwatch

    rest = args.fieldwatch_args[1:] if args.fieldwatch_args[:1] == ["--"] else args.fieldwatch_args
    return fieldwatch(rest)


if __name__ == "__main__":
    sys.exit(main())
