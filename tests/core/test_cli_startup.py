"""A fast CLI: light commands import no heavy module, every command that needs the database
says which command to run first, nothing a user can cause prints a traceback, and `serve`
warms the models in the background."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from core.cli import _warm_in_background, main
from core.modules import Module
from core.ports import Resource
from core.services import Services
from core.settings import Settings
from core.warmup import WarmUp

ROOT = Path(__file__).resolve().parents[2]
# fastapi too: managing principals and tokens needs the database, not the web framework
HEAVY = (
    "torch",
    "torchvision",
    "faiss",
    "cv2",
    "open_clip",
    "c2pa",
    "av",
    "nudenet",
    "scipy",
    "fastapi",
)
DOMAINS = ("trust_safety", "generator", "provenance", "reverse_search", "feed")

# Runs argv lists through the real CLI in one fresh interpreter, then lists what it imported
# that a light command must not: heavy libraries and any domain's routers or workers.
_DRIVER = """
import contextlib, io, json, sys
from core.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
    out.append({"rc": rc, "stdout": buf.getvalue()})
heavy = set(sys.argv[2].split(","))
domains = tuple(sys.argv[3].split(","))
loaded = sorted(
    m for m in sys.modules
    if m.split(".")[0] in heavy
    or (m.startswith(domains) and m.rsplit(".", 1)[-1] in ("router", "worker", "projection"))
)
print(json.dumps({"runs": out, "loaded": loaded}))
"""


def _run_light(argvs: list[list[str]], data_dir: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARFRAME_")}
    result = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(argvs), ",".join(HEAVY), ",".join(DOMAINS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "CLEARFRAME_DATA_DIR": str(data_dir)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    report: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return report


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    report = _run_light(
        [["--help"], ["principal", "create", "--help"], ["token", "create", "--help"]], tmp_path
    )
    assert [r["rc"] for r in report["runs"]] == [0, 0, 0]
    assert "moderate-prompt" in report["runs"][0]["stdout"]  # domain commands are listed
    assert report["loaded"] == []


def test_principal_and_token_commands_import_no_heavy_module(fresh: Path) -> None:
    assert main(["migrate"]) == 0
    created = _run_light(
        [["principal", "create", "--name", "Ana", "--role", "investigator", "--with-token"]],
        fresh,
    )
    assert created["runs"][0]["rc"] == 0 and created["loaded"] == []
    principal = json.loads(created["runs"][0]["stdout"])
    report = _run_light(
        [
            ["token", "create", "--principal", principal["principal_id"]],
            ["token", "revoke", principal["token_id"]],
        ],
        fresh,
    )
    assert [r["rc"] for r in report["runs"]] == [0, 0]
    assert report["loaded"] == []


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory that was never migrated."""
    for name in [n for n in os.environ if n.startswith("CLEARFRAME_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.parametrize(
    "argv",
    [
        ["moderate-prompt", "a cat"],
        ["principal", "create", "--name", "Ana", "--role", "user"],
        ["token", "create", "--principal", "p_1"],
        ["token", "revoke", str(uuid.uuid4())],
        ["optout-match", "a cat"],
        ["optout-import", "FILE"],
        ["transparency-report", "--start", "2026-01-01T00:00:00Z", "--end", "2026-02-01T00:00:00Z"],
        ["export-statements"],
        ["rebuild", "feed"],
        ["replay-check", "--no-progress"],
        ["consumers"],
        ["relay-status"],
        ["reverse-search", "status"],
        ["search", "--text", "a cat", "--token", "cf_x"],
        ["verify", "FILE"],
        ["worker", "feed"],
    ],
)
def test_a_never_migrated_database_gets_one_line_naming_the_command(
    fresh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    given = tmp_path / "given.json"
    given.write_text('{"optouts": []}')
    argv = [str(given) if a == "FILE" else a for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "run `clearframe migrate` first" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not (fresh / "clearframe.db").exists()  # nothing was created on the way


def test_a_database_behind_this_version_says_so(
    fresh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--revision", "core_0001"]) == 0
    capsys.readouterr()
    assert main(["consumers"]) == 1
    err = capsys.readouterr().err
    assert "run `clearframe migrate`" in err and "Traceback" not in err, err
    assert "SELECT" not in err  # never the statement


def test_an_unexpected_error_is_one_line_and_the_traceback_needs_verbose(
    fresh: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(_args: Any) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("core.cli.cmd_settings", boom)
    assert main(["settings"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error [internal]: RuntimeError: the disk is full (run with -v for the traceback)"
    )
    assert main(["-v", "settings"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_serve_warms_the_models_in_the_background(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warmed: list[str] = []
    release = threading.Event()

    def slow(services: Any) -> None:
        release.wait(10)
        warmed.append("slow")

    def broken(services: Any) -> None:
        raise OSError("no weights here")

    modules = (Module(name="models", warm=[slow]), Module(name="other", warm=[broken]))
    monkeypatch.setattr("core.modules.load_modules", lambda: modules)
    services = SimpleNamespace(warm_up=WarmUp())
    thread = _warm_in_background(services)  # type: ignore[arg-type]
    assert "warming models in the background (models, other)" in capsys.readouterr().out
    assert thread.is_alive()  # serve went on while the models load
    assert services.warm_up.modules()["models"] == "warming"
    assert services.warm_up.check() in ("warming", "failed: other")
    release.set()
    thread.join(10)
    assert warmed == ["slow"]
    out = capsys.readouterr().out
    assert "ready: models warm after" in out and "other failed" in out
    # the failure names its type only: the message may hold a server path
    assert services.warm_up.modules() == {"models": "ready", "other": "failed: OSError"}
    assert services.warm_up.check() == "failed: other"


def test_a_model_is_built_once_when_threads_ask_together() -> None:
    services = Services(
        settings=Settings(),
        engine=None,
        sessions=None,
        store=None,  # type: ignore[arg-type]
    )
    builds: list[int] = []
    start = threading.Barrier(4)

    def build(_services: Services) -> object:
        builds.append(1)
        threading.Event().wait(0.2)
        return object()

    model = Resource[object]("model", build)
    got: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(services.resource(model))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len({id(g) for g in got}) == 1
