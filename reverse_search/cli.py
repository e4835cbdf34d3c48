"""``clearframe search FILE`` and ``clearframe reverse-search {ingest,rebuild,status}``.

Only the parsers are built at import: the index, FAISS and the embedders load inside the
commands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from core.errors import Forbidden, Unauthenticated, ValidationFailed

SEARCH_ROLES = frozenset({"investigator", "admin"})


def _services(args: argparse.Namespace) -> Any:
    from core.cli import _services as services_of_command

    return services_of_command(args)


def cmd_search(args: argparse.Namespace) -> int:
    from core.auth import authenticate
    from reverse_search.service import InvestigatorSearch, state_flags

    services = _services(args)
    token = args.token or os.environ.get("CLEARFRAME_TOKEN", "")
    if not token:
        raise Unauthenticated("pass --token or set CLEARFRAME_TOKEN (an investigator's API token)")
    principal = authenticate(services.sessions, services.settings, token)
    if not principal.roles & SEARCH_ROLES:
        raise Forbidden("reverse search is for investigators and admins")
    search = InvestigatorSearch(services)
    if args.text:
        report = search.search_text(
            args.text, principal.actor(), "cli search --text", args.max_results
        )
    else:
        if args.file is None:
            raise ValidationFailed("give a FILE to search, or --text")
        path = Path(args.file)
        if not path.is_file():
            raise ValidationFailed(f"{path} is not a file")
        report = search.search_file(path, principal.actor(), "cli search", args.max_results)
    out = args.out or sys.stdout
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str), file=out)
        return 0
    print(
        f"search {report.search_id}  query sha256 {report.query_sha256[:16]}…  "
        f"({report.query_kind}, {report.embedder})",
        file=out,
    )
    if not report.hits:
        print(report.message, file=out)
        return 0
    for rank, hit in enumerate(report.hits, start=1):
        m, r = hit.match, hit.record
        print(
            f"{rank}. generation {hit.generation_id}  asset {m.asset_id}  score {m.score:.3f}  "
            f"speed {m.speed:g}x  [{', '.join(state_flags(r['holds'])) or r['visibility']}]\n"
            f"   query {m.query_start_s:.1f}-{m.query_end_s:.1f}s  ->  generation "
            f"{m.generation_start_s:.1f}-{m.generation_end_s:.1f}s\n"
            f"   account {r['account_id']}  requested {r['requested_at']}  prompt {r['prompt']!r}\n"
            f"   moderation {len(r['moderation'])} decision(s), enforcement {len(r['enforcement'])} "
            f"action(s), C2PA manifest {r['c2pa'].get('manifest_id')}, watermark {r['watermark_payload']}",
            file=out,
        )
        for change in r["history"]:
            print(
                f"   {change['at']}  {change['change']} {change['kind']} hold {change['hold']}: "
                f"{change['reason']} -> {change['visibility']}",
                file=out,
            )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Bring the index up to date with every signed asset (bulk ingest of an archive)."""
    from tqdm import tqdm

    from core.projections import lag, make_runner
    from reverse_search.indexer import ReverseSearchIndexer

    services = _services(args)
    indexer = ReverseSearchIndexer(services, progress=not args.no_progress)
    fingerprinted = indexer.reconcile()
    runner = make_runner(indexer, services)
    behind = lag(services, indexer)
    bar = tqdm(total=behind, desc="index events", unit="ev", disable=args.no_progress)
    try:
        while runner.run_once(0.2):
            now = lag(services, indexer)
            bar.update(max(0, behind - now))
            behind = now
    finally:
        bar.close()
        runner.close()
    indexer.engine.save(force=True)
    status = indexer.engine.status()
    print(
        f"indexed {status['assets']} assets ({status['vectors']} vectors, {status['structure']}); "
        f"{fingerprinted} fingerprinted by the catch-up, {len(status['failed'])} failed"
    )
    return 1 if status["failed"] else 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from core.replay import rebuild
    from reverse_search.indexer import ReverseSearchIndexer

    services = _services(args)
    indexer = ReverseSearchIndexer(services, progress=not args.no_progress)
    rebuild(indexer, services, progress=not args.no_progress)
    status = indexer.engine.status()
    print(
        f"index rebuilt: {status['assets']} assets, {status['vectors']} vectors, {status['structure']}"
    )
    return 1 if status["failed"] else 0


def cmd_status(args: argparse.Namespace) -> int:
    from reverse_search.engine import engine_for

    print(json.dumps(engine_for(_services(args)).status(), indent=2))
    return 0


def install_cli(sub: Any) -> None:
    p = sub.add_parser("search", help="reverse search: which of our generations is this clip?")
    p.add_argument("file", nargs="?", help="a video or image file")
    p.add_argument("--text", help="search by description (needs the CLIP embedder)")
    p.add_argument("--token", help="API token of an investigator (default: $CLEARFRAME_TOKEN)")
    p.add_argument("--max-results", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=cmd_search, out=None)

    p = sub.add_parser("reverse-search", help="reverse-search index maintenance")
    rs = p.add_subparsers(dest="action", required=True)
    pi = rs.add_parser(
        "ingest", help="fingerprint every signed asset not yet indexed (progress bar)"
    )
    pi.add_argument("--no-progress", action="store_true")
    pi.set_defaults(func=cmd_ingest)
    pr = rs.add_parser("rebuild", help="drop the index and its read model, rebuild both by replay")
    pr.add_argument("--no-progress", action="store_true")
    pr.set_defaults(func=cmd_rebuild)
    ps = rs.add_parser("status", help="print the index status")
    ps.set_defaults(func=cmd_status)
