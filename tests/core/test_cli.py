"""The clearframe CLI: bad input exits non-zero with a message, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLEARFRAME_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLEARFRAME_KAFKA_BOOTSTRAP", raising=False)
    assert main(["migrate"]) == 0
    return tmp_path


def test_principals_and_tokens(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["principal", "create", "--name", "Ivy", "--role", "investigator", "--with-token"])
        == 0
    )
    created = json.loads(capsys.readouterr().out)
    assert created["token"].startswith("cf_") and created["roles"] == ["investigator"]
    assert main(["token", "create", "--principal", created["principal_id"]]) == 0
    token_id = json.loads(capsys.readouterr().out)["token_id"]
    assert main(["token", "revoke", token_id]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["principal", "create", "--name", "X", "--role", "emperor"], "unknown role"),
        (["token", "create", "--principal", "p_missing"], "no principal"),
        (["token", "revoke", "not-a-uuid"], "not a token id"),
        (["rebuild", "no-such-projection"], "unknown projection"),
        (["worker", "no-such-worker"], "unknown worker"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_replay_check_passes_on_a_consistent_database(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay-check", "--no-progress"]) == 0
    assert "identical" in capsys.readouterr().out


def test_production_with_dev_secrets_refuses_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "settings"],
        capture_output=True,
        text=True,
        env={**os.environ, "CLEARFRAME_ENV": "production", "CLEARFRAME_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "CLEARFRAME_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
