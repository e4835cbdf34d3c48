"""Operator commands.

* ``clearframe moderate-prompt`` shows the gate's full decision for a prompt against the live
  lists and opt-outs, with its evidence, without appending anything. A decision the gate
  would refer is put to the configured LLM filter too (``filter_review``), unless
  ``--no-filter``; no verdict means refused, as in the gate.
* ``clearframe build-model-cache`` exports MiniLM's ONNX graph and embeds the moderation
  exemplars once (into ``CLEARFRAME_CACHE_DIR``), so the first decision after start needs
  neither; the README's commands run it at install.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def cmd_moderate(args: argparse.Namespace) -> int:
    from core.cli import _services
    from trust_safety.generation.gate import gate_pipeline
    from trust_safety.moderation.stages import ModerationContext

    services = _services(args)
    try:
        decision = gate_pipeline(services).moderate(
            args.prompt, ModerationContext(requester_id=args.requester, territory=args.territory)
        )
        record = decision.to_record()
        approved = decision.approved
        if decision.referral is not None and not args.no_filter:
            review = _filter_review(services, args.prompt, record)
            if review is not None:
                record["filter_review"] = review
                approved = review["verdict"] == "allow"
        json.dump(record, sys.stdout, ensure_ascii=False)
        print()
    finally:
        services.close()
    return 0 if approved else 3


def _filter_review(services: Any, prompt: str, record: dict[str, Any]) -> dict[str, Any] | None:
    """The configured filter's reading of a referred decision; None when none is configured."""
    from trust_safety.generation.gate import PROMPT_FILTER
    from trust_safety.moderation.llm_filter import FilterFailed

    prompt_filter = services.resource(PROMPT_FILTER)
    if prompt_filter is None:
        return None
    try:
        verdict = prompt_filter.review(
            prompt,
            referral=str(record["referral"]),
            language=record["language"]["code"],
            scores=dict(record["scores"]),
        )
    except FilterFailed as exc:
        return {"verdict": None, "failure": exc.failure, "model_id": prompt_filter.model_id}
    return {
        "verdict": verdict.verdict,
        "reason_category": verdict.category.value if verdict.category else None,
        "rationale": verdict.rationale,
        "model_id": verdict.model_id,
        "elapsed_ms": verdict.elapsed_ms,
        "failure": None,
    }


def cmd_build_model_cache(args: argparse.Namespace) -> int:
    import time

    from trust_safety.classifiers.text_embedding import default_cache_dir
    from trust_safety.moderation.pipeline import build_exemplar_cache

    cache_dir = default_cache_dir()
    started = time.monotonic()
    try:
        files = build_exemplar_cache(cache_dir)
    except OSError as exc:
        print(f"cannot write the model cache in {cache_dir}: {exc.strerror}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    for path in files:
        print(path)
    print(f"moderation models cached in {cache_dir} in {took:.1f} s", file=sys.stderr)
    return 0


def install_cli(sub: Any) -> None:
    p = sub.add_parser(
        "moderate-prompt",
        help="the gate's decision and evidence for a prompt (exit 3 when refused); appends nothing",
    )
    p.add_argument("prompt")
    p.add_argument("--requester", default=None, help="principal id, for public-figure consent")
    p.add_argument("--territory", default=None, help="ISO 3166-1 alpha-2 of the request")
    p.add_argument(
        "--no-filter",
        action="store_true",
        help="do not put a referred decision to the configured LLM filter",
    )
    p.set_defaults(func=cmd_moderate)
    p = sub.add_parser(
        "build-model-cache",
        help="export MiniLM's graph and embed the moderation exemplars into CLEARFRAME_CACHE_DIR (run at install)",
    )
    p.set_defaults(func=cmd_build_model_cache)
