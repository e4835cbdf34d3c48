"""The README's walk-through, run as written against a live `clearframe serve`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.utils.serve import start_serve

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
    server = start_serve(tmp_path / "var", tmp_path / "serve.log", ready_within_s=120)
    try:
        for key in ("CLEARFRAME_DATA_DIR", "PATH"):
            monkeypatch.setenv(key, server.env[key])
        monkeypatch.setenv("CLEARFRAME_URL", server.url)
        exec(compile(readme_block(), "README.md#walkthrough", "exec"), {"__name__": "walkthrough"})
        printed = capsys.readouterr().out.split()
        assert printed[1] in ("Trusted", "Valid"), printed  # C2PA state of our own download
        assert re.fullmatch(r"[0-9a-f]{16}", printed[2]), printed  # the watermark serial
    finally:
        server.stop()
