"""`clearframe consumers`: each consumer against the store's head, per category."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.app import create_app
from core.cli import main
from core.services import Services
from core.settings import Settings
from tests.utils import drain, make_principal


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLEARFRAME_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLEARFRAME_KAFKA_BOOTSTRAP", raising=False)
    assert main(["migrate"]) == 0
    return tmp_path


def statuses(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    return {
        s["consumer"]: s
        for s in (json.loads(line) for line in capsys.readouterr().out.splitlines() if line)
    }


def test_a_consumer_behind_the_store_is_shown_and_fails_the_check(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = Services.from_settings(Settings(data_dir=data_dir))
    try:
        _, user = make_principal(services, "user")
        with TestClient(create_app(services)) as client:
            for n in range(2):
                filed = client.post(
                    "/v1/reports",
                    headers=user,
                    json={
                        "target": {"kind": "account", "id": f"acct-{n}"},
                        "category": "spam",
                        "explanation": "the same link in every comment",
                        "good_faith": True,
                    },
                )
                assert filed.status_code == 201, filed.text
        stored = services.store.count(["report"])
        assert stored >= 2
        assert main(["consumers", "cases-queue", "--check"]) == 1
        behind = statuses(capsys)["cases-queue"]
        assert behind["unapplied"] == stored and behind["watermark"] == 0
        assert behind["categories"] == {"report": {"head": behind["head"], "unapplied": stored}}

        drain(services, ["cases-queue"])
        assert main(["consumers", "cases-queue", "--check"]) == 0
        caught_up = statuses(capsys)["cases-queue"]
        assert caught_up["unapplied"] == 0 and caught_up["watermark"] == caught_up["head"]
    finally:
        services.close()


def test_an_unknown_consumer_is_refused(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consumers", "no-such-consumer"]) == 2
    assert "unknown consumer" in capsys.readouterr().err
