"""CLI commands of the cases domain: transparency figures and the statements export."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import ValidationFailed


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValidationFailed(f"{value!r} needs a timezone (e.g. 2026-01-01T00:00:00+00:00)")
    return moment


def cmd_transparency_report(args: argparse.Namespace) -> int:
    from core.cli import _services
    from trust_safety.cases.transparency import compute_transparency

    services = _services(args)
    try:
        events = services.store.iter_all(categories=("report", "enforcement", "appeal"))
        report = compute_transparency(
            events,
            _instant(args.start),
            _instant(args.end),
            _instant(args.as_of) if args.as_of else None,
        )
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    finally:
        services.close()
    return 0


def cmd_export_statements(args: argparse.Namespace) -> int:
    """Statements of every action in the log, as Transparency Database submission bodies.

    Read from the event log (not a read model), deduplicated by puid: running it twice writes
    the same file.
    """
    from contracts.enforcement import EnforcementActionTaken
    from contracts.statement_of_reasons import (
        MAX_STATEMENTS_PER_SUBMISSION,
        StatementOfReasons,
        export_submissions,
    )
    from core.cli import _services

    services = _services(args)
    try:
        statements = (
            StatementOfReasons.parse(e.payload["statement"])
            for e in services.store.iter_all(categories=("enforcement",))
            if e.type == EnforcementActionTaken.event_type_name
        )
        count = 0
        target: Any = (
            open(args.out, "w", encoding="utf-8")  # noqa: SIM115 - closed by the with below
            if args.out != "-"
            else contextlib.nullcontext(sys.stdout)
        )
        with target as out:
            batch = MAX_STATEMENTS_PER_SUBMISSION if args.batch is None else args.batch
            for body in export_submissions(statements, batch_size=batch):
                out.write(json.dumps(body, sort_keys=True, ensure_ascii=False) + "\n")
                count += len(body["statements"])
        where = "stdout" if args.out == "-" else str(Path(args.out).resolve())
        print(f"exported {count} statements to {where}", file=sys.stderr)
    finally:
        services.close()
    return 0


def install_cli(sub: Any) -> None:
    p = sub.add_parser(
        "transparency-report",
        help="Santa Clara figures for a period, recomputed from the event log",
    )
    p.add_argument("--start", required=True, help="ISO 8601 with timezone, inclusive")
    p.add_argument("--end", required=True, help="ISO 8601 with timezone, exclusive")
    p.add_argument("--as-of", help="figures as known at this instant (default: --end)")
    p.set_defaults(func=cmd_transparency_report)

    p = sub.add_parser(
        "export-statements",
        help="statements of reasons as EU Transparency Database submission bodies (JSON lines)",
    )
    p.add_argument("--out", default="-", help="file to write, '-' for stdout")
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        help="statements per body (default: the most the Database accepts in one)",
    )
    p.set_defaults(func=cmd_export_statements)
