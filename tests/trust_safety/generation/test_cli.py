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


def test_moderate_prompt_puts_a_referred_decision_to_the_configured_filter(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.utils.llm_filter import running_chat_server

    turkish = "Bir köpek yavrusu karlı bir parkta top ile oynuyor"
    # No filter configured: the uncovered language is refused, as the gate refuses it.
    assert main(["moderate-prompt", turkish]) == 3
    plain = json.loads(capsys.readouterr().out)
    assert plain["referral"] == "language_unsupported" and "filter_review" not in plain
    with running_chat_server() as server:
        for key, value in {
            "KIND": "openai",
            "URL": server.url,
            "MODEL": "judge",
            "API_KEY": "sk-cli-test",
        }.items():
            monkeypatch.setenv(f"CLEARFRAME_LLM_FILTER_{key}", value)
        server.answer('{"verdict": "allow", "category": null, "rationale": "a puppy"}')
        assert main(["moderate-prompt", turkish]) == 0
        reviewed = json.loads(capsys.readouterr().out)
        assert reviewed["filter_review"]["verdict"] == "allow"
        assert reviewed["filter_review"]["rationale"] == "a puppy"
        server.answer("not json at all")
        assert main(["moderate-prompt", turkish]) == 3  # no verdict: fail closed
        failed = json.loads(capsys.readouterr().out)
        assert failed["filter_review"]["verdict"] is None and failed["filter_review"]["failure"]
        assert main(["moderate-prompt", "--no-filter", turkish]) == 3
        assert "filter_review" not in json.loads(capsys.readouterr().out)
        assert len(server.requests) == 2


def test_build_model_cache_leaves_the_graph_and_both_exemplar_matrices_in_the_cache(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On the machine's cache, which ``make`` built at install (writing the files itself is
    embed_with_disk_cache's, tested in test_pipeline.py)."""
    import numpy as np

    from trust_safety.classifiers.text_embedding import default_cache_dir

    assert main(["build-model-cache"]) == 0
    files = [Path(line) for line in capsys.readouterr().out.split()]
    assert all(f.parent == default_cache_dir() and f.is_file() for f in files)
    # MiniLM's ONNX graph, the English exemplars (MiniLM) and the translated ones (e5).
    graph, *matrices = files
    assert graph.suffix == ".onnx" and graph.stat().st_size > 1_000_000
    dims = sorted(np.load(f, allow_pickle=False).shape[1] for f in matrices)
    assert dims == [384, 384]
