"""``fieldwatch serve`` with a chosen SQLite engine class, for comparing engines without editing
the app: ``--sqlite-engine stock`` is Piccolo's SQLiteEngine, ``pooled`` is
backend.db.sqlite_pool.PooledSQLiteEngine; ``default`` leaves backend.db as it is. PostgreSQL URLs
are not affected. Everything after ``--`` goes to ``fieldwatch``.

    .venv/bin/python benchmarks/serve_app.py --sqlite-engine pooled -- serve --port 8000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def use_sqlite_engine(kind: str) -> None:
    """Make backend.db.engine_from_url build SQLite engines of class ``kind`` (same path and
    connection settings as it would otherwise use)."""
    if kind == "default":
        return
    from piccolo.engine.sqlite import SQLiteEngine

    import backend.db
    from backend.db.sqlite_pool import PooledSQLiteEngine

    engine_cls = {"stock": SQLiteEngine, "pooled": PooledSQLiteEngine}[kind]
    original = backend.db.engine_from_url

    def engine_from_url(url: str):
        engine = original(url)
        if not isinstance(engine, SQLiteEngine) or type(engine) is engine_cls:
            return engine
        reserved = {"database", "detect_types", "isolation_level"}
        kwargs = {k: v for k, v in engine.connection_kwargs.items() if k not in reserved}
        return engine_cls(path=engine.path, **kwargs)  # a dropped pooled engine closes itself

    backend.db.engine_from_url = engine_from_url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite-engine", choices=["default", "stock", "pooled"], default="default")
    parser.add_argument("fieldwatch_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    use_sqlite_engine(args.sqlite_engine)
    from backend.cli import main as fieldwatch

    rest = args.fieldwatch_args[1:] if args.fieldwatch_args[:1] == ["--"] else args.fieldwatch_args
    return fieldwatch(rest)


if __name__ == "__main__":
    sys.exit(main())
