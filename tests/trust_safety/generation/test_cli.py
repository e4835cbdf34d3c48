from __future__ import annotations

import json
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


def test_moderate_prompt_prints_the_decision_and_exits_3_when_refused(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["moderate-prompt", "a lighthouse in the style of Banksy"]) == 0
    approved = json.loads(capsys.readouterr().out)
    assert approved["approved"] and approved["rewrite"]["refs"] == ["artist-banksy"]
    assert main(["moderate-prompt", "a s w a s t i k a banner"]) == 3
    refused = json.loads(capsys.readouterr().out)
    assert refused["reason"] == "hate_symbols"
    assert {"blocklist", "public_figures", "optout_registry"} <= set(refused["data_versions"])
