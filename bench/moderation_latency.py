"""The prompt gate's latency with the multilingual stage beside the others, against the same
stages one after another, in one process.

Every prompt of the labelled sets (dev and held-out, English and the twelve translated sets)
is decided twice, once by each pipeline, in alternating order, with the embedding caches off
so that both encode. ``--busy-core`` keeps one core busy in another process meanwhile, as a
service worker would: what running a stage beside the others costs when there is no core to
spare. The last line printed is one JSON object.

    .venv/bin/python bench/moderation_latency.py [--busy-core] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.moderation_eval import WARM_UP, load_prompts, optout_stage  # noqa: E402
from trust_safety.classifiers.text_embedding import (  # noqa: E402
    MiniLMEmbedder,
    MultilingualE5Embedder,
)
from trust_safety.moderation.pipeline import (  # noqa: E402
    PromptModerationPipeline,
    build_default_pipeline,
)


def _ms(samples: list[float]) -> dict[str, float] | None:
    if not samples:
        return None
    return {
        "median_ms": round(float(np.median(samples)), 2),
        "p99_ms": round(float(np.percentile(samples, 99)), 2),
        "n": len(samples),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--busy-core", action="store_true", help="spin one core meanwhile")
    parser.add_argument("--limit", type=int, default=0, help="at most N prompts (0: all)")
    args = parser.parse_args(argv)
    if args.limit < 0:
        parser.error("--limit must not be negative")
    rows = load_prompts("all")
    if args.limit:
        # Spread over the sets, so that a short run still holds every language.
        rows = rows[:: max(1, len(rows) // args.limit)][: args.limit]

    minilm = MiniLMEmbedder(cache_size=0)
    beside = build_default_pipeline(
        embedder=minilm,
        multilingual_embedder=MultilingualE5Embedder(cache_size=0),
        extra_stages=[optout_stage(minilm)],
    )
    inline = PromptModerationPipeline(beside.stages, beside.policy, run_beside=False)
    for text in WARM_UP:
        beside.moderate(text)
        inline.moderate(text)

    spinner = None
    if args.busy_core:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
    times: dict[str, dict[str, list[float]]] = {
        mode: {"en": [], "other": []} for mode in ("beside", "inline")
    }
    try:
        for i, row in enumerate(rows):
            group = "en" if row.get("lang", "en") == "en" else "other"
            order = (("beside", beside), ("inline", inline))
            for mode, pipeline in order if i % 2 else order[::-1]:
                start = time.perf_counter()
                pipeline.moderate(row["text"])
                times[mode][group].append((time.perf_counter() - start) * 1000.0)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()

    report: dict[str, Any] = {"bench": "moderation_latency", "busy_core": args.busy_core}
    for mode, groups in times.items():
        report[mode] = {
            group: _ms(samples)
            for group, samples in {**groups, "all": sum(groups.values(), [])}.items()
        }
    for group in ("other", "all"):
        fast, slow = report["beside"][group], report["inline"][group]
        for stat in ("median_ms", "p99_ms"):
            if fast and slow:
                report[f"inline_over_beside_{group}_{stat[:-3]}"] = round(
                    slow[stat] / fast[stat], 2
                )
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
