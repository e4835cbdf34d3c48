"""Fit the policy's thresholds on the dev prompts by cross-validation, and print calibration.

    .venv/bin/python bench/fit_thresholds.py [--folds 5] [--fp-cost 2.0] [--write]

Every dev prompt (English and the translated sets) is read once by the shipped stages; the
fit then replays candidate policies over those readings with the policy's own ``decide``.
Fitted: the own thresholds of the stages whose scores sit on another scale (the multilingual
encoder's, and the English stages' over a gloss), what a single weak term may add to a
semantic score (the boost cap; two distinct weak terms add the full boost), and with
``--fit all`` each category's threshold too. The
objective is missed prohibited prompts plus ``--fp-cost`` times refused benign ones,
minimised by coordinate descent over a grid, starting from the shipped policy.

Cross-validation: the dev prompts are split into folds by *source* prompt (a prompt and its
translations stay in one fold, or the fit would see the answer in another language); each
fold is scored by a policy fitted on the others. That estimate is what the fitted values are
worth on prompts the fit did not see. The final values are fitted on all dev prompts; with
``--write --version V`` they go to ``trust_safety/moderation/data/policy.json`` as version V.

Calibration: per score band, the share of prompts in it that are prohibited, for the
combined score the policy compares with its threshold. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.moderation_eval import load_prompts, optout_stage  # noqa: E402
from trust_safety.classifiers.text_embedding import shared_minilm  # noqa: E402
from trust_safety.moderation.categories import Category  # noqa: E402
from trust_safety.moderation.pipeline import build_default_pipeline  # noqa: E402
from trust_safety.moderation.policy import Policy, PolicyOutcome  # noqa: E402
from trust_safety.moderation.stages import StageResult  # noqa: E402

POLICY_PATH = ROOT / "trust_safety" / "moderation" / "data" / "policy.json"
# The stages with their own scale; the English semantic stage's scale is the categories'.
OWN_SCALE_STAGES = ("semantic_multilingual", "gloss_en")
# Categories decided by lists and name matching only: their thresholds are not fitted.
NOT_FITTED = (Category.PUBLIC_FIGURES, Category.IP)
GRID = [round(0.40 + 0.02 * i, 2) for i in range(29)]  # 0.40 .. 0.96
# What one weak term may add (the policy's single_weak_term_boost), up to the full boost.
SINGLE_BOOST = "single_weak_term_boost"
BOOST_GRID = [round(0.02 * i, 2) for i in range(11)]  # 0 .. 0.20
# Bands of the highest score over its threshold (1.0: at the threshold).
BANDS = [0.0, 0.4, 0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 10.0]


class Reading:
    __slots__ = ("label", "source", "lang", "covered", "results")

    def __init__(
        self, label: str, source: str, lang: str, covered: bool, results: list[StageResult]
    ) -> None:
        self.label, self.source, self.lang = label, source, lang
        self.covered, self.results = covered, results


def read_all(rows: list[dict[str, Any]]) -> list[Reading]:
    embedder = shared_minilm()
    pipeline = build_default_pipeline(embedder=embedder, extra_stages=[optout_stage(embedder)])
    readings = []
    for i, row in enumerate(rows):
        _, language, results = pipeline.read(row["text"])
        source = row.get("source_id", row["id"])
        readings.append(
            Reading(row["label"], source, row.get("lang", "en"), language.covered, results)
        )
        if (i + 1) % 200 == 0:
            print(f"  read {i + 1}/{len(rows)}", file=sys.stderr, flush=True)
    return readings


def _picklable(readings: list[Reading]) -> list[Reading]:
    """The readings with their rewrites' ``apply`` closures dropped (in place): the policy
    never reads them, and pickle cannot store them."""
    for r in readings:
        r.results = [
            replace(res, rewrite=replace(res.rewrite, apply=None)) if res.rewrite else res
            for res in r.results
        ]
    return readings


def errors(policy: Policy, readings: list[Reading]) -> tuple[int, int, int, int]:
    """(missed prohibited, prohibited, refused benign, benign)."""
    missed = prohibited = refused = benign = 0
    for r in readings:
        outcome: PolicyOutcome = policy.decide(r.results)
        blocked = not outcome.approved or not r.covered
        if r.label == "benign":
            benign += 1
            refused += blocked
        else:
            prohibited += 1
            missed += not blocked
    return missed, prohibited, refused, benign


def cost(policy: Policy, readings: list[Reading], fp_cost: float) -> float:
    missed, _, refused, _ = errors(policy, readings)
    return missed + fp_cost * refused


def with_value(policy: Policy, stage: str | None, category: Category, value: float) -> Policy:
    if stage == SINGLE_BOOST:
        return replace(policy, single_weak_term_boost=value)
    if stage is None:
        thresholds = {**policy.thresholds, category: value}
        # A minor threshold may not be looser than the general one.
        minor = {c: min(v, thresholds[c]) for c, v in policy.minor_thresholds.items()}
        return replace(policy, thresholds=thresholds, minor_thresholds=minor)
    per_stage = {s: dict(v) for s, v in policy.stage_thresholds.items()}
    per_stage.setdefault(stage, {})[category] = value
    return replace(policy, stage_thresholds=per_stage)


def current(policy: Policy, stage: str | None, category: Category) -> float:
    if stage == SINGLE_BOOST:
        single = policy.single_weak_term_boost
        return policy.weak_term_boost if single is None else single
    if stage is None:
        return policy.thresholds[category]
    return policy.stage_thresholds.get(stage, {}).get(category, policy.thresholds[category])


def fit(
    start: Policy,
    readings: list[Reading],
    fp_cost: float,
    *,
    categories: bool,
    max_single_boost: float,
    passes: int = 2,
) -> Policy:
    # The cap is a product rule (one weak term must not decide), not a free parameter: the
    # fit chooses below it, and fits the thresholds around it.
    single = start.single_weak_term_boost
    if single is None or single > max_single_boost:
        start = replace(start, single_weak_term_boost=max_single_boost)
    boost_grid = [v for v in BOOST_GRID if v <= max_single_boost]
    policy = start
    fitted = [c for c in Category if c not in NOT_FITTED]
    params: list[tuple[str | None, Category]] = [(None, c) for c in fitted] if categories else []
    params += [(s, c) for s in OWN_SCALE_STAGES for c in fitted]
    params.append((SINGLE_BOOST, Category.SEXUAL))  # the category is unused
    best = cost(policy, readings, fp_cost)
    for _ in range(passes):
        moved = False
        for stage, category in params:
            here = current(policy, stage, category)
            for value in boost_grid if stage == SINGLE_BOOST else GRID:
                candidate = with_value(policy, stage, category, value)
                c = cost(candidate, readings, fp_cost)
                # Ties go to the stricter-on-benign value: a higher threshold, a smaller boost.
                stricter = value < here if stage == SINGLE_BOOST else value > here
                if c < best - 1e-9 or (abs(c - best) < 1e-9 and stricter):
                    best, policy, here, moved = c, candidate, value, moved or c < best
        if not moved:
            break
    return policy


def folds(readings: list[Reading], k: int, seed: int) -> list[list[int]]:
    sources = sorted({r.source for r in readings})
    random.Random(seed).shuffle(sources)
    fold_of = {s: i % k for i, s in enumerate(sources)}
    out: list[list[int]] = [[] for _ in range(k)]
    for i, r in enumerate(readings):
        out[fold_of[r.source]].append(i)
    return out


def rates(policy: Policy, readings: list[Reading]) -> dict[str, Any]:
    missed, prohibited, refused, benign = errors(policy, readings)
    by_lang: dict[str, list[Reading]] = defaultdict(list)
    for r in readings:
        by_lang[r.lang].append(r)
    languages = {}
    for lang, group in sorted(by_lang.items()):
        m, p, f, b = errors(policy, group)
        languages[lang] = {
            "recall": round(1 - m / p, 4) if p else None,
            "fpr": round(f / b, 4) if b else None,
        }
    return {
        "recall": round(1 - missed / prohibited, 4) if prohibited else None,
        "fpr": round(refused / benign, 4) if benign else None,
        "languages": languages,
    }


def calibration(policy: Policy, readings: list[Reading]) -> list[dict[str, Any]]:
    """Per band of the highest score over its threshold (1.0: at it): how many prompts, and
    the share of them that is prohibited. A calibrated score has that share rising with it."""
    counts = [[0, 0] for _ in BANDS[:-1]]
    for r in readings:
        outcome = policy.decide(r.results)
        top = max(
            (s / outcome.thresholds_applied[c] for c, s in outcome.scores.items()),
            default=0.0,
        )
        band = next(i for i in range(len(BANDS) - 1) if top < BANDS[i + 1] or i == len(BANDS) - 2)
        counts[band][0] += 1
        counts[band][1] += r.label != "benign"
    return [
        {
            "band": f"{BANDS[i]:.1f}-{BANDS[i + 1]:.1f}"
            if i < len(BANDS) - 2
            else f">={BANDS[i]:.1f}",
            "n": n,
            "prohibited_share": round(p / n, 3) if n else None,
        }
        for i, (n, p) in enumerate(counts)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fp-cost", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="write the fitted policy.json")
    parser.add_argument("--version", default=None, help="the written policy's version (--write)")
    parser.add_argument(
        "--fit",
        choices=["stages", "all"],
        default="stages",
        help="stages: the own-scale stages' thresholds only (the default: refitting the "
        "English categories' thresholds too lowered held-out recall, see docs/moderation.md); "
        "all: the categories' thresholds as well",
    )
    parser.add_argument(
        "--max-single-boost",
        type=float,
        default=0.15,
        help="the most one weak term may add (the cap the fit stays under; default 0.15)",
    )
    parser.add_argument(
        "--readings", type=Path, default=None, help="cache the stages' readings in this file"
    )
    args = parser.parse_args()
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    if args.fp_cost <= 0:
        parser.error("--fp-cost must be positive")
    if not 0.0 <= args.max_single_boost <= 0.5:
        parser.error("--max-single-boost must be in [0, 0.5]")
    if args.write and not args.version:
        parser.error("--write needs --version (the policy version decisions will record)")
    import torch

    torch.set_num_threads(1)
    from trust_safety.moderation.policy import load_default_policy

    shipped = load_default_policy()
    start = time.perf_counter()
    if args.readings is not None and args.readings.is_file():
        with args.readings.open("rb") as fh:
            dev, heldout = pickle.load(fh)  # noqa: S301 - a file this script wrote
    else:
        dev = read_all(load_prompts("dev"))
        heldout = read_all(load_prompts("heldout"))
        if args.readings is not None:
            # Written aside and renamed, so that a failed dump leaves no torn cache behind.
            partial = args.readings.with_suffix(".partial")
            with partial.open("wb") as fh:
                pickle.dump((_picklable(dev), _picklable(heldout)), fh)
            partial.replace(args.readings)
    print(
        f"read {len(dev)} dev and {len(heldout)} held-out prompts in "
        f"{time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )

    cv_missed = cv_prohibited = cv_refused = cv_benign = 0
    for i, test_idx in enumerate(folds(dev, args.folds, args.seed)):
        test = set(test_idx)
        train = [r for j, r in enumerate(dev) if j not in test]
        policy = fit(
            shipped,
            train,
            args.fp_cost,
            categories=args.fit == "all",
            max_single_boost=args.max_single_boost,
        )
        m, p, f, b = errors(policy, [dev[j] for j in test_idx])
        cv_missed, cv_prohibited = cv_missed + m, cv_prohibited + p
        cv_refused, cv_benign = cv_refused + f, cv_benign + b
        print(f"fold {i}: recall {1 - m / max(p, 1):.3f}, fpr {f / max(b, 1):.3f}", file=sys.stderr)
    final = fit(
        shipped,
        dev,
        args.fp_cost,
        categories=args.fit == "all",
        max_single_boost=args.max_single_boost,
    )
    summary = {
        "bench": "fit_thresholds",
        "fp_cost": args.fp_cost,
        "fit": args.fit,
        "folds": args.folds,
        "cv": {
            "recall": round(1 - cv_missed / cv_prohibited, 4),
            "fpr": round(cv_refused / cv_benign, 4),
        },
        "shipped_on_dev": rates(shipped, dev),
        "fitted_on_dev": rates(final, dev),
        "shipped_on_heldout": rates(shipped, heldout),
        "fitted_on_heldout": rates(final, heldout),
        "calibration_dev": calibration(final, dev),
        "calibration_heldout": calibration(final, heldout),
        "fitted": final.to_json(),
    }
    print(f"{'band':<10}{'dev n':>7}{'dev share':>11}{'held n':>8}{'held share':>12}")
    for d, h in zip(summary["calibration_dev"], summary["calibration_heldout"], strict=True):
        print(
            f"{d['band']:<10}{d['n']:>7}{d['prohibited_share']!s:>11}{h['n']:>8}"
            f"{h['prohibited_share']!s:>12}"
        )
    if args.write:
        data = final.to_json()
        data["version"] = args.version
        POLICY_PATH.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {POLICY_PATH.relative_to(ROOT)}", file=sys.stderr)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
