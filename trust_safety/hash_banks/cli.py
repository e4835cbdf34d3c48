"""``clearframe hash-banks ...``: banks, imports from files and exchanges, reports, evidence."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

from core.events import Actor

OPERATOR = Actor(id="operator:hash-banks", role="admin")


def _out(value: Any) -> None:
    print(json.dumps(value, sort_keys=True, default=str))


def cmd_create(args: argparse.Namespace) -> int:
    from core.cli import _services
    from trust_safety.hash_banks.banks import CreateBank
    from trust_safety.hash_banks.service import create_bank

    services = _services(args)
    try:
        create_bank(
            services,
            CreateBank(
                args.bank_id, args.name or args.bank_id, args.category, args.action, args.exchange
            ),
            OPERATOR,
        )
        _out({"created": args.bank_id})
    finally:
        services.close()
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from core.cli import _services
    from trust_safety.hash_banks.exchanges import import_file

    services = _services(args)
    try:
        result = import_file(
            services, args.bank_id, Path(args.file), actor=OPERATOR, signal_type=args.signal_type
        )
        _out({"bank_id": args.bank_id, **result.as_dict()})
    finally:
        services.close()
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Run every configured network exchange (NCMEC, StopNCII, ThreatExchange) once."""
    from core.cli import _services
    from trust_safety.hash_banks.banks import CreateBank
    from trust_safety.hash_banks.errors import BankExists
    from trust_safety.hash_banks.exchanges import configured_exchanges, import_from_exchange
    from trust_safety.hash_banks.service import create_bank
    from trust_safety.hash_banks.settings import HashBankSettings

    services = _services(args)
    try:
        out = []
        for exchange in configured_exchanges(services.settings.section(HashBankSettings)):
            if args.only and exchange.name not in args.only:
                continue
            with contextlib.suppress(BankExists):
                create_bank(
                    services,
                    CreateBank(
                        exchange.bank_id, exchange.name, exchange.category, exchange=exchange.name
                    ),
                    OPERATOR,
                )
            result = import_from_exchange(
                services, exchange.bank_id, exchange.api(), source=exchange.name, actor=OPERATOR
            )
            out.append({"exchange": exchange.name, "bank_id": exchange.bank_id, **result.as_dict()})
        _out({"fetched": out})
    finally:
        services.close()
    return 0


def cmd_hash(args: argparse.Namespace) -> int:
    """Print a file's signals in the hash file format (to bank something by hand)."""
    import io

    from trust_safety.hash_banks.signals import (
        bank_signals,
        decode_video_rgb,
        digests,
        rgb_of_image_bytes,
    )

    data = Path(args.file).read_bytes()
    md5, sha256 = digests(data)
    if Path(args.file).suffix.lower() in (".mp4", ".mov", ".webm", ".mkv"):
        frames, times = decode_video_rgb(io.BytesIO(data), args.seconds_per_hash)
        signals = bank_signals(frames, times)
    else:
        signals = bank_signals([rgb_of_image_bytes(data)])
    for signal_type, signal in [("md5", md5), ("sha256", sha256), *signals]:
        print(f"{signal_type} {signal}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from core.cli import _services
    from trust_safety.hash_banks.evidence import purge_expired

    services = _services(args)
    try:
        _out({"purged": purge_expired(services, OPERATOR)})
    finally:
        services.close()
    return 0


def cmd_export_evidence(args: argparse.Namespace) -> int:
    """Decrypt one evidence file for the authorities (audited: EvidenceAccessed)."""
    from core.cli import _services
    from trust_safety.hash_banks.evidence import access_evidence

    services = _services(args)
    try:
        actor = Actor(id=f"operator:{args.operator}", role="admin")
        record, data = access_evidence(services, args.evidence_id, actor, args.purpose)
        target = Path(args.out)
        target.write_bytes(data)
        target.chmod(0o600)
        _out({"evidence_id": record.evidence_id, "sha256": record.sha256, "written": str(target)})
    finally:
        services.close()
    return 0


def install_cli(sub: Any) -> None:
    p = sub.add_parser("hash-banks", help="known harmful media: banks, imports, evidence")
    s = p.add_subparsers(dest="hash_banks_command", required=True)
    c = s.add_parser("create", help="create a bank")
    c.add_argument("bank_id")
    c.add_argument("--category", required=True, help="csam, ncii, terrorism or your own")
    c.add_argument("--name")
    c.add_argument("--action", default="block", choices=["block", "flag"])
    c.add_argument("--exchange")
    c.set_defaults(func=cmd_create)
    i = s.add_parser("import", help="import a hash file (threatexchange's format)")
    i.add_argument("bank_id")
    i.add_argument("file")
    i.add_argument("--signal-type", help="the type of every line of a file of bare hashes")
    i.set_defaults(func=cmd_import)
    f = s.add_parser("fetch", help="fetch from the configured exchanges")
    f.add_argument("--only", nargs="*", help="exchange names (ncmec, stopncii, fb_threatexchange)")
    f.set_defaults(func=cmd_fetch)
    h = s.add_parser(
        "hash", help="print a file's signals (with centre-crop variants) as hash file lines"
    )
    h.add_argument("file")
    h.add_argument("--seconds-per-hash", type=float, default=1.0)
    h.set_defaults(func=cmd_hash)
    g = s.add_parser("purge-evidence", help="shred evidence whose retention ended")
    g.set_defaults(func=cmd_purge)
    e = s.add_parser("export-evidence", help="decrypt one evidence file (audited)")
    e.add_argument("evidence_id")
    e.add_argument("--out", required=True)
    e.add_argument("--operator", required=True, help="who exports it")
    e.add_argument("--purpose", required=True, help="why (e.g. the legal request)")
    e.set_defaults(func=cmd_export_evidence)
