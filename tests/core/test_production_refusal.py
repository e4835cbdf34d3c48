"""Production refuses to start while any development secret is in place, in every process kind.

The refusal is one message listing every problem, exit 2, no traceback, and it comes before
any heavy module (torch, FAISS, OpenCV, C2PA, the routers, the database) is imported.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from core.preflight import checked_settings
from core.settings import (
    DEVELOPMENT_ADMIN_TOKEN,
    DEVELOPMENT_SECRET_KEY,
    ConfigurationError,
    InsecureConfiguration,
    Settings,
    secret_weakness,
)
from provenance.pki import DEV_CHAIN_FILE, DEV_KEY_FILE, DEV_ROOT_FILE
from provenance.settings import DEVELOPMENT_WATERMARK_KEY
from tests.utils.credentials import operator_credentials

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "faiss", "cv2", "open_clip", "c2pa", "fastapi", "sqlalchemy", "alembic")

CHAIN = "CLEARFRAME_PROVENANCE_SIGNING_CHAIN"
KEY = "CLEARFRAME_PROVENANCE_SIGNING_KEY"
ANCHORS = "CLEARFRAME_PROVENANCE_TRUST_ANCHORS"


@pytest.mark.parametrize(
    "value",
    [
        "a" * 36,
        "k" * 40,
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",  # a run: long, many distinct characters
        "0123456789abcdef" * 4,  # a repeated pattern
        "correct-horse",
        # a placeholder word inside random-looking hex (fixed: test ids must be the same in
        # every xdist worker)
        "please-changeme-5f1c9a0e7b3d42a8c6e1f09d2b7a4c83",
        DEVELOPMENT_SECRET_KEY,
        DEVELOPMENT_WATERMARK_KEY,
        DEVELOPMENT_ADMIN_TOKEN,
        "",
    ],
)
def test_weak_secrets_are_refused_whatever_their_length(value: str) -> None:
    assert secret_weakness(value) is not None


def test_random_secrets_pass() -> None:
    for _ in range(200):
        assert secret_weakness(secrets.token_urlsafe(32)) is None
        assert secret_weakness(secrets.token_hex(32)) is None


# ------------------------------------------------------------------ every process kind × secret


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Strong production settings, and where the development credentials lie."""
    from provenance.pki import create_development_credentials
    from provenance.settings import development_keys_dir

    root = tmp_path_factory.mktemp("production")
    data_dir = root / "data"
    chain, key, anchors = operator_credentials(root / "operator")
    dev = development_keys_dir(data_dir)
    create_development_credentials(dev)
    strong = {
        "CLEARFRAME_ENV": "production",
        "CLEARFRAME_DATA_DIR": str(data_dir),
        # never reached: every case below is refused before the database is opened
        "CLEARFRAME_DATABASE_URL": "postgresql://clearframe@127.0.0.1:9/never",
        "CLEARFRAME_SECRET_KEY": secrets.token_urlsafe(32),
        "CLEARFRAME_DEV_ADMIN_TOKEN": "",
        "CLEARFRAME_PROVENANCE_WATERMARK_KEY": secrets.token_urlsafe(32),
        CHAIN: str(chain),
        KEY: str(key),
        ANCHORS: str(anchors),
    }
    return {
        "strong": strong,
        "dev_chain": str(dev / DEV_CHAIN_FILE),
        "dev_key": str(dev / DEV_KEY_FILE),
        "dev_root": str(dev / DEV_ROOT_FILE),
    }


def _development_secrets(
    d: dict[str, object],
) -> dict[str, tuple[dict[str, str | None], list[str]]]:
    """Each case: the one change to the strong settings (None: unset, so the default applies)
    and the variables the refusal must name."""
    return {
        "secret key left at its default": (
            {"CLEARFRAME_SECRET_KEY": None},
            ["CLEARFRAME_SECRET_KEY"],
        ),
        "secret key of 36 × 'a'": ({"CLEARFRAME_SECRET_KEY": "a" * 36}, ["CLEARFRAME_SECRET_KEY"]),
        "development admin token": (
            {"CLEARFRAME_DEV_ADMIN_TOKEN": None},
            ["CLEARFRAME_DEV_ADMIN_TOKEN"],
        ),
        "watermark key left at its default": (
            {"CLEARFRAME_PROVENANCE_WATERMARK_KEY": None},
            ["CLEARFRAME_PROVENANCE_WATERMARK_KEY"],
        ),
        "weak watermark key": (
            {"CLEARFRAME_PROVENANCE_WATERMARK_KEY": "abcdefghijklmnopqrstuvwxyz012345"},
            ["CLEARFRAME_PROVENANCE_WATERMARK_KEY"],
        ),
        "development signing certificate": ({CHAIN: str(d["dev_chain"])}, [CHAIN]),
        "development signing key": ({KEY: str(d["dev_key"])}, [KEY]),
        "development trust anchors": ({ANCHORS: str(d["dev_root"])}, [ANCHORS]),
        "the development CA (no credentials set)": (
            {CHAIN: None, KEY: None, ANCHORS: None},
            [CHAIN, KEY, ANCHORS],
        ),
    }


def _process_kinds() -> list[list[str]]:
    from core.modules import all_processors, all_projections

    workers = ["relay", *sorted(all_projections()), *sorted(all_processors())]
    return [
        ["serve"],
        ["serve", "--workers", "none"],
        ["serve", "--workers", "all"],
        *(["worker", name] for name in workers),
        ["worker", "generator,provenance-signing,output-moderation"],
        ["reverse-search", "ingest", "--no-progress"],
        ["migrate"],
        ["principal", "create", "--name", "Ana", "--role", "admin", "--with-token"],
    ]


# Runs the real CLI's main() once per case in one fresh interpreter (one interpreter per case
# would take minutes on a small machine), then reports which heavy modules it imported.
_DRIVER = """
import contextlib, io, json, os, sys
from core.cli import main
cases = json.load(sys.stdin)
results = []
for case in cases:
    for name in [n for n in os.environ if n.startswith("CLEARFRAME_")]:
        del os.environ[name]
    os.environ.update(case["env"])
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(case["argv"])
        except SystemExit as exc:
            rc = exc.code
        except BaseException as exc:
            rc = repr(exc)
    results.append({"rc": rc, "stderr": err.getvalue()})
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1].split(",")))
print(json.dumps({"results": results, "heavy": heavy}))
"""


def _env(strong: dict[str, str], change: dict[str, str | None]) -> dict[str, str]:
    env = {**strong, **{k: v for k, v in change.items() if v is not None}}
    return {k: v for k, v in env.items() if change.get(k, "") is not None}


def test_every_process_kind_refuses_every_development_secret(deployment: dict[str, object]) -> None:
    strong: dict[str, str] = deployment["strong"]  # type: ignore[assignment]
    cases, expected = [], []
    for argv in _process_kinds():
        for label, (change, names) in _development_secrets(deployment).items():
            cases.append({"argv": argv, "env": _env(strong, change)})
            expected.append((argv, label, names, change))
    # the control: with every secret strong the same checks let a command run
    cases.append({"argv": ["settings"], "env": strong})
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARFRAME_")}
    run = subprocess.run(
        [sys.executable, "-c", _DRIVER, ",".join(HEAVY)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    *results, control = report["results"]
    assert control["rc"] == 0, control["stderr"]
    wrong = []
    for (argv, label, names, change), result in zip(expected, results, strict=True):
        err = result["stderr"]
        values = [v for v in change.values() if v and not v.startswith("/")]
        if (
            result["rc"] != 2
            or "production refuses to start (1 problem(s))" not in err
            or not all(n in err for n in names)
            or "Traceback" in err
            or any(v in err for v in values)  # a weak secret is never echoed
        ):
            wrong.append(f"{' '.join(argv)} with {label}: rc={result['rc']} {err!r}")
    assert wrong == [], "\n".join(wrong[:10])
    # refused before any heavy import: not even the database layer or the web framework
    assert report["heavy"] == []


def test_the_real_processes_refuse_with_one_message(deployment: dict[str, object]) -> None:
    """The issue's cases as separate processes: an API node (`serve --workers none`) holding the
    development watermark key and CA, and the generator worker (a raw CertificateError before)."""
    strong: dict[str, str] = deployment["strong"]  # type: ignore[assignment]
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLEARFRAME_")}
    for argv, change, names in [
        (
            ["serve", "--workers", "none"],
            {"CLEARFRAME_PROVENANCE_WATERMARK_KEY": None, CHAIN: None, KEY: None, ANCHORS: None},
            ["CLEARFRAME_PROVENANCE_WATERMARK_KEY", CHAIN, KEY, ANCHORS, "2 problem(s)"],
        ),
        (["worker", "generator"], {CHAIN: None, KEY: None, ANCHORS: None}, [CHAIN, "1 problem"]),
        (
            ["serve"],
            {"CLEARFRAME_SECRET_KEY": "a" * 36, "CLEARFRAME_DEV_ADMIN_TOKEN": None},
            ["CLEARFRAME_SECRET_KEY", "CLEARFRAME_DEV_ADMIN_TOKEN", "2 problem(s)"],
        ),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "core.cli", *argv],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**base, **_env(strong, change)},
            timeout=120,
        )
        assert result.returncode == 2, (argv, result.stderr)
        assert all(n in result.stderr for n in names), (argv, result.stderr)
        assert "Traceback" not in result.stderr and "CertificateError" not in result.stderr
        assert result.stdout == ""  # nothing started


# ------------------------------------------------------------------ in-process starts


def test_services_built_in_code_fail_closed_in_production(tmp_path: Path) -> None:
    from core.services import Services

    settings = Settings(
        env="production",
        data_dir=tmp_path,
        database_url="postgresql://clearframe@127.0.0.1:9/never",
        secret_key="k" * 40,
        dev_admin_token="",
    )
    with pytest.raises(InsecureConfiguration) as refused:
        Services.from_settings(settings)
    assert any("CLEARFRAME_SECRET_KEY" in p for p in refused.value.problems)
    assert any("CLEARFRAME_PROVENANCE_WATERMARK_KEY" in p for p in refused.value.problems)


def test_development_still_runs_on_its_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("CLEARFRAME_")]:
        monkeypatch.delenv(name)
    assert checked_settings().is_development


def test_every_section_is_validated_at_start_up_without_echoing_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A broken section stops any process at start-up (not at first use), in development too,
    and the message names the variables but never their values (they may be secrets)."""
    for name in [n for n in os.environ if n.startswith("CLEARFRAME_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CLEARFRAME_RS_EMBEDDER", "clip")
    monkeypatch.setenv("CLEARFRAME_GENERATOR_INFERENCE_STEPS", "s3cr3t-looking-value")
    with pytest.raises(ConfigurationError) as refused:
        checked_settings()
    message = str(refused.value)
    assert "CLEARFRAME_RS_CLIP_CHECKPOINT" in message
    assert "CLEARFRAME_GENERATOR_INFERENCE_STEPS" in message
    assert "s3cr3t-looking-value" not in message
    monkeypatch.setenv("CLEARFRAME_API_PORT", "s3cr3t-port")
    with pytest.raises(ConfigurationError) as refused:
        checked_settings()  # the core section broken too: every section still reported
    message = str(refused.value)
    assert "CLEARFRAME_API_PORT" in message and "CLEARFRAME_RS_CLIP_CHECKPOINT" in message
    assert "s3cr3t" not in message
