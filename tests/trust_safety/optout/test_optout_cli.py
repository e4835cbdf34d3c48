"""``clearframe optout-import`` and ``clearframe optout-match`` on the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main

DATA = Path(__file__).parent / "data"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLEARFRAME_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLEARFRAME_KAFKA_BOOTSTRAP", raising=False)
    assert main(["migrate"]) == 0
    return tmp_path


def test_import_is_idempotent_and_match_reads_the_projection(env, capsys):
    assert main(["optout-import", str(DATA / "optouts.json")]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "filed": 15,
        "already_filed": 0,
    }
    assert main(["optout-import", str(DATA / "optouts.json")]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "filed": 0,
        "already_filed": 15,
    }
    assert main(["rebuild", "optout-registry"]) == 0
    capsys.readouterr()
    assert main(["optout-match", "p1kachu and sp1derman", "--territory", "FR"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sorted(out["optout_ids"]) == ["oo-pokemon", "oo-spiderman"]


def test_bad_files_exit_2_without_a_traceback(env, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"optouts": [{"optout_id": "x", "scopes": ["prompts"]}]}')
    for argv in (["optout-import", str(broken)], ["optout-import", str(tmp_path / "none.json")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "optout" in err and "Traceback" not in err


def test_match_refuses_a_territory_that_is_not_a_country(env, capsys):
    assert main(["optout-match", "captain comet", "--territory", "XX"]) == 2
    assert "not an ISO 3166-1 alpha-2 territory code" in capsys.readouterr().err
