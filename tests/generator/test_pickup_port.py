"""The consent / opt-out re-check at pick-up cannot be skipped: without a module that
provides the ``pickup_policy`` port, the generator worker does not start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import core.modules
from contracts.ports import PICKUP_POLICY
from core.cli import main


@pytest.fixture
def without_pickup_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loaded = core.modules.load_modules()
    stripped = tuple(
        replace(m, provides={p: f for p, f in m.provides.items() if p is not PICKUP_POLICY})
        for m in loaded
    )
    assert stripped != loaded
    monkeypatch.setattr(core.modules, "load_modules", lambda: stripped)
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLEARFRAME_DATABASE_URL", raising=False)


@pytest.mark.usefixtures("without_pickup_policy")
def test_a_missing_pickup_policy_stops_the_worker_from_starting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc = main(["worker", "generator"])
    err = capsys.readouterr().err
    assert rc != 0
    assert err.startswith("error [wiring_failed]: the modules cannot start")
    assert "module 'generator' requires port 'pickup_policy'" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("without_pickup_policy")
def test_nor_does_serve_or_any_other_worker_of_the_process(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # wiring checks every loaded module, whichever workers this process was asked to run
    assert main(["worker", "output-moderation"]) != 0
    assert main(["serve", "--no-migrate", "--workers", "none"]) != 0
    assert capsys.readouterr().err.count("requires port 'pickup_policy'") == 2
