"""Precision/recall of the IP opt-out prompt matcher on the labelled opt-out prompt set.

Run: .venv/bin/python bench/optout_eval.py [--verbose]
Prints recall per kind of positive prompt, the false-positive rate on benign look-alikes,
and p50/p99 matching latency per prompt after the model is loaded (the MiniLM embedding of
the prompt's views included). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trust_safety.classifiers.text_embedding import MiniLMEmbedder  # noqa: E402
from trust_safety.moderation.normalise import normalise  # noqa: E402
from trust_safety.optout.prompt_matcher import OptOutPromptMatcher  # noqa: E402
from trust_safety.optout.seed import registry_from_file  # noqa: E402

DATA = ROOT / "tests" / "trust_safety" / "optout" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true", help="print every miss and false hit")
    parser.add_argument(
        "--holdout", action="store_true", help="use the held-out set (never tuned on)"
    )
    args = parser.parse_args()

    import torch

    # One request is one thread: measure per-prompt latency as a server worker would see it,
    # not a 2-core machine's intra-op threads fighting other processes.
    torch.set_num_threads(1)
    registry = registry_from_file(DATA / "optouts.json")
    embedder = MiniLMEmbedder()
    started = time.perf_counter()
    matcher = OptOutPromptMatcher(registry.all(), embedder)
    compile_ms = (time.perf_counter() - started) * 1000
    prompt_file = DATA / ("prompts_holdout.jsonl" if args.holdout else "prompts.jsonl")
    rows = [json.loads(line) for line in prompt_file.read_text().splitlines() if line]

    # Warm the model (first inference allocates); then time each prompt uncached.
    matcher.match(normalise("warm up the model"))
    embedder._cache.clear()
    hits: dict[str, list[bool]] = defaultdict(list)
    false_positives: list[str] = []
    misses: list[str] = []
    wrong_id: list[str] = []
    latencies: list[float] = []
    benign_total = 0
    for row in rows:
        t0 = time.perf_counter()
        result = matcher.match(normalise(row["prompt"]), territory=row.get("territory"))
        latencies.append((time.perf_counter() - t0) * 1000)
        if row["label"] == "benign":
            benign_total += 1
            if result.matches:
                false_positives.append(f"{row['prompt']!r} -> {result.matches[0]}")
        else:
            found = row["optout_id"] in result.optout_ids
            hits[row["kind"]].append(found)
            if not found:
                misses.append(
                    f"[{row['kind']}] {row['prompt']!r} -> {result.matches[:1]} "
                    f"uncorroborated={result.uncorroborated[:1]}"
                )
            extra = set(result.optout_ids) - {row["optout_id"]}
            if extra:
                wrong_id.append(f"{row['prompt']!r} also -> {sorted(extra)}")
    if args.verbose:
        for line in misses:
            print("MISS", line)
        for line in false_positives:
            print("FP  ", line)
        for line in wrong_id:
            print("XTRA", line)
    positives = [h for values in hits.values() for h in values]
    recall_by_kind = {k: round(sum(v) / len(v), 3) for k, v in sorted(hits.items())}
    latencies.sort()
    figures = {
        "bench": "optout_eval",
        "set": prompt_file.name,
        "optouts": matcher.optout_count,
        "prompts": len(rows),
        "positives": len(positives),
        "benign": benign_total,
        "recall_ip": round(sum(positives) / len(positives), 4),
        "recall_by_kind": recall_by_kind,
        "fpr_benign": round(len(false_positives) / benign_total, 4),
        "extra_optout_hits": len(wrong_id),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
        "compile_ms": round(compile_ms, 1),
    }
    for key, value in figures.items():
        if key != "bench":
            print(f"{key:>18}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
