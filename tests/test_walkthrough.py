"""The README's walk-through, run as written against a live `clearframe serve`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the README lost its walk-through block"
    return match.group(1)


def test_readme_walkthrough_against_a_live_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CLEARFRAME_DATA_DIR": str(tmp_path / "var"),
        "CLEARFRAME_API_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CLEARFRAME_DATABASE_URL", None)
    env.pop("CLEARFRAME_KAFKA_BOOTSTRAP", None)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed in finally, after the server
    server = subprocess.Popen(
        [os.path.join(bin_dir, "clearframe"), "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.5)
        for key in ("CLEARFRAME_DATA_DIR", "PATH"):
            monkeypatch.setenv(key, env[key])
        monkeypatch.setenv("CLEARFRAME_URL", f"http://127.0.0.1:{port}")
        exec(compile(readme_block(), "README.md#walkthrough", "exec"), {"__name__": "walkthrough"})
        printed = capsys.readouterr().out.split()
        assert printed[1] in ("Trusted", "Valid"), printed  # C2PA state of our own download
        assert re.fullmatch(r"[0-9a-f]{16}", printed[2]), printed  # the watermark serial
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
