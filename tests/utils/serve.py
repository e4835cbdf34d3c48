"""A live ``clearframe serve`` on the embedded default (SQLite, in-process log) in a data
directory of its own, for the tests and benchmarks that drive it from outside: the README's
walk-through, the console's browser tests, ``bench/console.py``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_serve(data_dir: Path, log: Path, *, ready_within_s: float = 180) -> LiveServer:
    """Start ``clearframe serve`` and return once ``/readyz`` says so; a server that exits or
    is not ready in time is stopped and its log's tail raised."""
    port = free_port()
    env = {
        **os.environ,
        "CLEARFRAME_DATA_DIR": str(data_dir),
        "CLEARFRAME_API_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""),
    }
    for key in ("CLEARFRAME_DATABASE_URL", "CLEARFRAME_KAFKA_BOOTSTRAP"):
        env.pop(key, None)
    with log.open("wb") as out:  # the child keeps its own handle
        process = subprocess.Popen(
            [str(BIN / "clearframe"), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", env, log)
    deadline = time.monotonic() + ready_within_s
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)  # not listening yet
            continue
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"clearframe serve did not become ready:\n{server.log_tail()}")
