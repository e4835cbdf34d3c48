"""Prompt moderation on the labelled prompt sets: precision/recall per category, latency.

    .venv/bin/python bench/moderation_eval.py [--split dev|heldout|all] [--errors]

Runs the shipped pipeline (blocklists, minors, public figures, living artists, MiniLM
semantic stage) plus the opt-out package's ``ip`` stage over the fictional filings in
``tests/data/prompts_optouts.json``. A prompt labelled with a prohibited category
counts as caught when it is refused for any reason (recall); the per-category table credits
the reason shown to the requester (the most severe refused category). Benign prompts must be approved, and a living-artist rewrite
still counts as approved. Latency is per prompt, after model load and a warm-up pass, with the encoders' thread
counts as the service runs them.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trust_safety.classifiers.text_embedding import shared_minilm  # noqa: E402
from trust_safety.moderation.categories import Category  # noqa: E402
from trust_safety.moderation.pipeline import PromptModerationPipeline, build_default_pipeline  # noqa: E402
from trust_safety.moderation.stages import PromptStage  # noqa: E402

DATA = ROOT / "tests" / "data"
# "dev" is what lists, exemplars and thresholds were tuned on; "heldout" never was.
# The prompts_i18n_* files translate prompts of the same split into twelve languages.
SPLITS = {
    "dev": ("prompts_dev.jsonl", "prompts_dev2.jsonl", "prompts_i18n_dev.jsonl"),
    "heldout": ("prompts_heldout.jsonl", "prompts_i18n_heldout.jsonl"),
}


def load_prompts(split: str) -> list[dict[str, Any]]:
    names = (
        [n for group in SPLITS.values() for n in group] if split == "all" else list(SPLITS[split])
    )
    rows: list[dict[str, Any]] = []
    for name in names:
        with (DATA / name).open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


def optout_stage(embedder: Any) -> PromptStage:
    """The opt-out package's ``ip`` stage over the fixture opt-outs (as a service builds it)."""
    from trust_safety.optout.prompt_matcher import OptOutPromptMatcher
    from trust_safety.optout.seed import registry_from_file
    from trust_safety.optout.stage import OptOutStage

    registry = registry_from_file(DATA / "prompts_optouts.json")
    return OptOutStage(OptOutPromptMatcher(registry.all(), embedder))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


WARM_UP = [
    "a lighthouse on a cliff at dusk",
    "a red bicycle leaning on a fence",
    "a b0wl of r4men",
    "t h r e e owls on a branch",
]


def _top_scores(scores: Any) -> dict[str, float]:
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:2]
    return {c.value: round(v, 3) for c, v in ranked}


def evaluate(pipeline: PromptModerationPipeline, rows: list[dict[str, Any]]) -> dict[str, Any]:
    # Warm-up on prompts outside the set: the first calls pay for lazy initialisation, and
    # set prompts must not be answered from the embedding cache.
    for text in WARM_UP:
        pipeline.moderate(text)
    latencies: list[float] = []
    per_cat_tp: Counter[str] = Counter()
    per_cat_fp: Counter[str] = Counter()
    per_cat_fn: Counter[str] = Counter()
    caught = 0
    prohibited = 0
    benign_refused = 0
    benign = 0
    by_variant: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    # language -> [caught, prohibited, benign refused, benign]
    by_language: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    errors: list[dict[str, Any]] = []
    for row in rows:
        start = time.perf_counter()
        decision = pipeline.moderate(row["text"])
        latencies.append((time.perf_counter() - start) * 1000.0)
        label = row["label"]
        language = by_language[row.get("lang", "en")]
        # Refused for a harm, or not approved because the language is not covered.
        refused = {c.value for c in decision.refused_categories}
        if not decision.approved and not refused:
            refused = {str(decision.refusal_code)}
        # The per-category table credits the reason the requester is shown (the most severe).
        primary = decision.reason.value if decision.reason else None
        if label == "benign":
            benign += 1
            language[3] += 1
            if refused:
                benign_refused += 1
                language[2] += 1
                errors.append(
                    {"id": row["id"], "label": label, "got": sorted(refused), "text": row["text"]}
                )
        else:
            prohibited += 1
            language[1] += 1
            by_variant[row["variant"]][1] += 1
            if refused:
                caught += 1
                language[0] += 1
                by_variant[row["variant"]][0] += 1
            else:
                errors.append(
                    {
                        "id": row["id"],
                        "label": label,
                        "got": [],
                        "text": row["text"],
                        "top": _top_scores(decision.scores),
                    }
                )
            if primary == label:
                per_cat_tp[label] += 1
            else:
                per_cat_fn[label] += 1
        if primary is not None and primary != label:
            per_cat_fp[primary] += 1
    per_category = {}
    for category in Category:
        tp, fp, fn = per_cat_tp[category], per_cat_fp[category], per_cat_fn[category]
        per_category[category.value] = {
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "support": tp + fn,
        }
    languages = {
        code: {
            "recall": round(c / p, 4) if p else None,
            "fpr": round(fr / b, 4) if b else None,
            "n": p + b,
        }
        for code, (c, p, fr, b) in sorted(by_language.items())
    }
    return {
        "n": len(rows),
        "languages": languages,
        "recall_prohibited": round(caught / prohibited, 4) if prohibited else None,
        "fpr_benign": round(benign_refused / benign, 4) if benign else None,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "per_category": per_category,
        "recall_by_variant": {v: round(c / t, 3) for v, (c, t) in sorted(by_variant.items())},
        "errors": errors,
        "latencies": latencies,
        "counts": {
            "caught": caught,
            "prohibited": prohibited,
            "benign_refused": benign_refused,
            "benign": benign,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--errors", action="store_true", help="list misclassified prompts")
    args = parser.parse_args()

    load_start = time.perf_counter()
    embedder = shared_minilm()
    extra = optout_stage(embedder)
    pipeline = build_default_pipeline(embedder=embedder, extra_stages=[extra])
    load_s = time.perf_counter() - load_start

    splits = ["dev", "heldout"] if args.split == "all" else [args.split]
    summary: dict[str, Any] = {
        "bench": "moderation_eval",
        "load_s": round(load_s, 2),
        # onnx, or torch where the graph could not be had (slower: see docs/moderation.md)
        "minilm_backend": embedder.backend,
    }
    summary["ip_stage"] = extra.name
    results = {}
    for split in splits:
        result = evaluate(pipeline, load_prompts(split))
        results[split] = result
        print(f"== {split}: {result['n']} prompts")
        print(f"{'category':<20}{'precision':>10}{'recall':>10}{'support':>9}")
        for category, m in result["per_category"].items():
            p = "-" if m["precision"] is None else f"{m['precision']:.3f}"
            r = "-" if m["recall"] is None else f"{m['recall']:.3f}"
            print(f"{category:<20}{p:>10}{r:>10}{m['support']:>9}")
        print(f"recall (prohibited, any reason): {result['recall_prohibited']}")
        print(f"false-positive rate (benign):    {result['fpr_benign']}")
        print(f"recall by variant: {result['recall_by_variant']}")
        print(f"latency per prompt: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
        print(f"{'language':<10}{'recall':>8}{'fpr':>8}{'n':>6}")
        for code, m in result["languages"].items():
            print(f"{code:<10}{m['recall']!s:>8}{m['fpr']!s:>8}{m['n']:>6}")
        if args.errors:
            for e in result["errors"]:
                top = f" top={e['top']}" if e.get("top") else ""
                print(f"  MISS {e['id']} [{e['label']} -> {e['got']}] {e['text']!r}{top}")
    # Headline figures pool the splits' own runs (each prompt moderated once, cold cache).
    counts: Counter[str] = Counter()
    latencies: list[float] = []
    for result in results.values():
        counts.update(result["counts"])
        latencies.extend(result["latencies"])
    summary.update(
        recall_prohibited=round(counts["caught"] / counts["prohibited"], 4),
        fpr_benign=round(counts["benign_refused"] / counts["benign"], 4),
        p50_ms=round(statistics.median(latencies), 2),
        p99_ms=round(percentile(latencies, 99), 2),
        n=len(latencies),
    )
    for split, result in results.items():
        summary[split] = {
            "recall_prohibited": result["recall_prohibited"],
            "fpr_benign": result["fpr_benign"],
            "p99_ms": result["p99_ms"],
            "n": result["n"],
            "languages": result["languages"],
        }
    # The per-language headline is the held-out split's where it ran (never tuned on).
    headline = results.get("heldout") or next(iter(results.values()))
    recalls = [m["recall"] for m in headline["languages"].values() if m["recall"] is not None]
    fprs = [m["fpr"] for m in headline["languages"].values() if m["fpr"] is not None]
    summary.update(
        languages=headline["languages"],
        min_language_recall=min(recalls) if recalls else None,
        max_language_fpr=max(fprs) if fprs else None,
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
