"""``clearframe verify FILE``: the provenance report of a file, as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.events import Actor


def cmd_verify(args: argparse.Namespace) -> int:
    from core.cli import EXIT_INPUT, CliError, _wired_services
    from provenance.service import check_file

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file")
    services = _wired_services(args)
    check_id, report = check_file(
        services,
        path,
        actor=Actor(id=args.operator, role="investigator"),
        channel="cli",
        include_fingerprints=not args.no_fingerprints,
    )
    out: dict[str, Any] = {"check_id": check_id, **report.to_dict()}
    print(json.dumps(out, indent=2 if args.pretty else None, default=str))
    if report.conclusion == "unreadable":
        # As the API's 422: the check is recorded, but the file itself was the problem.
        print(
            f"error: {path.name} cannot be decoded as a video; nothing in it could be checked",
            file=sys.stderr,
        )
        return EXIT_INPUT
    return 0


def install_cli(sub: Any) -> None:
    p = sub.add_parser("verify", help="provenance report of a video: C2PA, watermark, fingerprints")
    p.add_argument("file")
    p.add_argument(
        "--operator", default="cli", help="who runs the check (recorded in the audit event)"
    )
    p.add_argument("--no-fingerprints", action="store_true", help="skip reverse-search matches")
    p.add_argument("--pretty", action="store_true")
    p.set_defaults(func=cmd_verify)
