"""CLI: bulk-import opt-out filings, and try the prompt matcher against the live registry."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.events import Actor

IMPORT_ACTOR = Actor(id="operator:optout-import", role="admin")


def cmd_import(args: argparse.Namespace) -> int:
    from core.cli import _services
    from trust_safety.optout.errors import InvalidOptOut
    from trust_safety.optout.seed import filings_from_document
    from trust_safety.optout.service import optout_stream

    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidOptOut(f"cannot read {args.file}: {exc}") from None
    facts = filings_from_document(document)  # every filing validated before any is appended
    services = _services(args)
    try:
        filed = skipped = 0
        for fact in facts:
            sid = optout_stream(fact.optout_id)
            if services.store.stream_version(sid) > 0:
                skipped += 1  # re-running an import files nothing twice
                continue
            services.store.append(sid, [fact], expected_version=0, actor=IMPORT_ACTOR)
            filed += 1
        print(json.dumps({"filed": filed, "already_filed": skipped}))
    finally:
        services.close()
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from core.cli import _services
    from trust_safety.moderation.normalise import normalise
    from trust_safety.optout.public import prompt_matcher

    services = _services(args)
    try:
        position, matcher = prompt_matcher(services)
        result = matcher.match(normalise(args.prompt), territory=args.territory)
        out: dict[str, Any] = {
            "registry_position": position,
            "optout_ids": list(result.optout_ids),
            "matches": [
                {
                    "optout_id": m.optout_id,
                    "method": m.method.value,
                    "score": round(m.score, 4),
                    "matched": m.matched,
                    "prompt_span": m.prompt_span,
                }
                for m in result.matches
            ],
        }
        json.dump(out, sys.stdout)
        print()
    finally:
        services.close()
    return 0


def install_cli(sub: Any) -> None:
    p = sub.add_parser(
        "optout-import", help="file opt-outs from a JSON document ({optouts: [...]})"
    )
    p.add_argument("file")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("optout-match", help="which opt-outs a prompt matches, and how")
    p.add_argument("prompt")
    p.add_argument(
        "--territory", default=None, type=_territory, help="ISO 3166-1 alpha-2 of the request"
    )
    p.set_defaults(func=cmd_match)


def _territory(value: str) -> str:
    from trust_safety.optout.territories import UnknownTerritory, territory_code

    try:
        return territory_code(value)
    except UnknownTerritory as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
