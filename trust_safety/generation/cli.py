"""Operator commands: ``clearframe moderate-prompt`` shows the gate's full decision for a prompt
against the live lists and opt-outs, with its evidence, without appending anything."""

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
        json.dump(decision.to_record(), sys.stdout, ensure_ascii=False)
        print()
    finally:
        services.close()
    return 0 if decision.approved else 3


def install_cli(sub: Any) -> None:
    p = sub.add_parser(
        "moderate-prompt",
        help="the gate's decision and evidence for a prompt (exit 3 when refused); appends nothing",
    )
    p.add_argument("prompt")
    p.add_argument("--requester", default=None, help="principal id, for public-figure consent")
    p.add_argument("--territory", default=None, help="ISO 3166-1 alpha-2 of the request")
    p.set_defaults(func=cmd_moderate)
