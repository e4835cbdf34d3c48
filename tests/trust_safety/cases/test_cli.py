from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.auth import Principal, Role
from core.cli import main
from core.services import Services
from tests.trust_safety.cases.builders import decision
from tests.trust_safety.cases.foreign import publish
from trust_safety.cases.enforcement import act_on_own_initiative


def test_export_and_report_from_the_log(
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLEARFRAME_DATABASE_URL", services.settings.effective_database_url)
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(services.settings.data_dir))
    publish(services, "asset-1", "user-owner")
    reviewer = Principal("rev", "rev", {Role.reviewer})
    taken = act_on_own_initiative(
        services, reviewer, decision(case_id=None, source_type="SOURCE_VOLUNTARY")
    )
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["export-statements", "--out", str(out1)]) == 0
    assert main(["export-statements", "--out", str(out2), "--batch", "1"]) == 0
    body = json.loads(out1.read_text().strip())
    assert [s["puid"] for s in body["statements"]] == [taken.puid]
    assert out1.read_text() == out2.read_text()  # one statement: same body whatever the batch
    capsys.readouterr()
    assert (
        main(
            [
                "transparency-report",
                "--start",
                "2000-01-01T00:00:00+00:00",
                "--end",
                "2100-01-01T00:00:00+00:00",
            ]
        )
        == 0
    )
    figures = json.loads(capsys.readouterr().out)
    assert figures["actions_taken"] == 1 and figures["own_initiative_actions"] == 1
    assert main(["transparency-report", "--start", "2000-01-01", "--end", "2100-01-01"]) == 2
    assert main(["export-statements", "--batch", "0"]) == 2
