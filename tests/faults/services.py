"""Private backing services for the fault tests: started on a free loopback port, stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def wait_port(port: int, *, open_: bool = True, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            is_open = s.connect_ex(("127.0.0.1", port)) == 0
        if is_open == open_:
            return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not {'open' if open_ else 'close'} within {within}s")


@dataclass
class RedisServer:
    """``redis-server`` without persistence, bound to 127.0.0.1; start and stop it as often as needed."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_port(self.port)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        wait_port(self.port, open_=False)


@dataclass
class ApiServer:
    """``fieldwatch serve`` as a process of its own, which a test may SIGKILL and start again."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from tests.servers import free_port, healthy

        self.port = free_port()
        args = [
            sys.executable,
            "-m",
            "backend.cli",
            "serve",
            "--port",
            str(self.port),
            "--log-level",
            "error",
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "FIELDWATCH_LOGIN_RATE_PER_MINUTE": "100000", **self.env},
            )
        deadline = time.monotonic() + 60
        while not healthy(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"API did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up code of the app runs."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
