"""Snapshot of the shipped pipeline's decisions on a fixed prompt set (Osprey-style).

A change to lists, exemplars, thresholds or code that flips a decision shows up here as a diff
to review. After reviewing, regenerate with:

    CLEARFRAME_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/trust_safety/moderation/test_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from trust_safety.classifiers.text_embedding import shared_minilm
from trust_safety.moderation.pipeline import build_default_pipeline

DATA = Path(__file__).resolve().parents[2] / "data"
PROMPTS = DATA / "prompts_snapshot.jsonl"
EXPECTED = DATA / "prompts_snapshot_expected.json"


def decisions(cache_dir: Path) -> dict[str, Any]:
    pipeline = build_default_pipeline(embedder=shared_minilm(), cache_dir=cache_dir)
    out: dict[str, Any] = {}
    for line in PROMPTS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        decision = pipeline.moderate(row["text"])
        out[row["id"]] = {
            "outcome": "approved" if decision.approved else "refused",
            "reason": decision.refusal_code,
            "language": decision.language.code,
            "refused": [c.value for c in decision.refused_categories],
            "minor_mode": decision.minor_mode,
            "rewritten": decision.rewrite.after if decision.rewrite else None,
        }
    return out


@pytest.mark.slow
def test_decisions_match_the_reviewed_snapshot(tmp_path: Path) -> None:
    actual = decisions(tmp_path)
    if os.environ.get("CLEARFRAME_UPDATE_SNAPSHOTS") == "1":
        EXPECTED.write_text(
            json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    changed = {
        k: {"expected": expected.get(k), "actual": v}
        for k, v in actual.items()
        if expected.get(k) != v
    }
    assert not changed, json.dumps(changed, indent=1, ensure_ascii=False)
    assert set(expected) == set(actual)
