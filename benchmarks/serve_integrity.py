"""What the integrity check costs an evidence read: the object read as the API streams it, with and
without ``evidence.integrity.check`` before it, on the local store.

    .venv/bin/python benchmarks/serve_integrity.py [--sizes 1M,64M] [--rounds 7] [--json out.json]

Variants, interleaved in the same rounds (each once per round after a warm-up):

* ``a: read only``           – ``store.open_range`` to the end (the read the API did before the check);
* ``b: sealed check + read`` – the steady state: a stat, its fingerprint's MAC compared, then the read;
* ``c: unsealed + read``     – the worst case (first read after an upload or after the object's stat
  changed): a full re-hash, the seal written, then the read.

A time is the median per read over rounds; a ratio the median of the per-round ratios against a.
The database is a throw-away SQLite file (the seal is written there in c).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import log, machine, scratch_settings, table, write_json


def _size(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].isalpha() else int(text)


async def _read(store: object, key: str) -> int:
    total = 0
    async for chunk in store.open_range(key, 0, None):  # type: ignore[attr-defined]
        total += len(chunk)
    return total


async def main(args: argparse.Namespace) -> int:
    from backend.db import bind, engine_from_url, migrate
    from backend.evidence import integrity
    from backend.lib.signing import load_or_create
    from backend.live.publish import OFFLINE
    from media_store import open_store

    with scratch_settings() as scratch:
        url = f"sqlite:///{scratch / 'bench.sqlite3'}"
        with contextlib.redirect_stdout(io.StringIO()):
            await migrate(engine_from_url(url))
        bind(engine_from_url(url))
        store = open_store(f"file://{scratch / 'media'}")
        key = load_or_create(scratch / "integrity-key.pem")
        rows = []
        for label in args.sizes.split(","):
            size = _size(label)
            stored = await store.put_bytes(os.urandom(size), content_type="application/octet-stream")
            row = {
                "id": uuid.uuid4(),
                "unit_id": None,
                "object_key": stored.key,
                "content_type": "video/mp4",
                "sha256": stored.sha256,
                "size": stored.size,
                "seal": None,
                "renditions": {},
            }
            unsealed = integrity.target(row, "content")
            assert unsealed is not None
            fp = await store.fingerprint(stored.key)
            seal = key.mac(integrity.seal_message(row["id"], unsealed, fp))
            sealed = integrity.Target(**{**unsealed.__dict__, "seal": seal})

            def variants(
                row: dict = row, sealed: integrity.Target = sealed, unsealed: integrity.Target = unsealed
            ) -> dict[str, Callable[[], Awaitable[object]]]:
                async def a() -> object:
                    return await _read(store, sealed.key)

                async def b() -> object:
                    await integrity.check(row, sealed, store, key, OFFLINE)
                    return await _read(store, sealed.key)

                async def c() -> object:
                    await integrity.check(row, unsealed, store, key, OFFLINE)
                    return await _read(store, unsealed.key)

                return {"a: read only": a, "b: sealed check + read": b, "c: unsealed + read": c}

            times: dict[str, list[float]] = {}
            ops = variants()
            for op in ops.values():
                await op()  # warm-up
            for _ in range(args.rounds):
                for name, op in ops.items():
                    start = time.perf_counter()
                    await op()
                    times.setdefault(name, []).append(time.perf_counter() - start)
            base = times["a: read only"]
            for name, series in times.items():
                ratios = [x / y for x, y in zip(series, base, strict=True)]
                rows.append(
                    [
                        label,
                        name,
                        f"{statistics.median(series) * 1000:.2f}",
                        f"{statistics.median(ratios):.2f}×",
                    ]
                )
            log(f"{label} done")
    print(table(["size", "variant", "median ms per read", "vs a"], rows))
    print(f"\n{args.rounds} rounds; machine: {machine()}")
    write_json(args.json, {"rows": rows, "rounds": args.rounds, "machine": machine()})
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1M,64M")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json")
    sys.exit(asyncio.run(main(parser.parse_args())))
