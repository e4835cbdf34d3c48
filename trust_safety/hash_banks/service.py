"""Commands on banks and matches: thin handlers that load, decide and append."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.aggregate import execute
from core.errors import ValidationFailed
from core.events import Actor, stream_id
from core.ports import Resource
from core.services import Services
from trust_safety.hash_banks.banks import (
    BANKS,
    AddHashes,
    CreateBank,
    RemoveHashes,
    UpdateBank,
)
from trust_safety.hash_banks.errors import UnknownMatch
from trust_safety.hash_banks.events import (
    MATCH,
    BankEntry,
    HashContributed,
    KnownMediaConfirmed,
    KnownMediaMatched,
)
from trust_safety.hash_banks.exchanges import contribute, contribution_target
from trust_safety.hash_banks.reports import ReportClient, configured_client
from trust_safety.hash_banks.settings import HashBankSettings
from trust_safety.hash_banks.signals import VPDQ, parse_vpdq

REPORT_CLIENT = Resource[ReportClient](
    "hash_banks.report_client",
    lambda services: configured_client(services.settings.section(HashBankSettings)),
)


def create_bank(services: Services, command: CreateBank, actor: Actor) -> None:
    execute(services.store, BANKS, command.bank_id, command, actor=actor)


def update_bank(services: Services, bank_id: str, command: UpdateBank, actor: Actor) -> None:
    execute(services.store, BANKS, bank_id, command, actor=actor)


def add_hashes(
    services: Services,
    bank_id: str,
    entries: Sequence[BankEntry],
    actor: Actor,
    source: str = "manual",
) -> int:
    recorded = execute(services.store, BANKS, bank_id, AddHashes(entries, source), actor=actor)
    return sum(len(e.payload["entries"]) for e in recorded)


def remove_hashes(
    services: Services, bank_id: str, entries: Sequence[BankEntry], actor: Actor, reason: str
) -> int:
    recorded = execute(
        services.store, BANKS, bank_id, RemoveHashes(entries, "manual", reason=reason), actor=actor
    )
    return sum(len(e.payload["entries"]) for e in recorded)


def load_match(services: Services, match_id: str) -> tuple[KnownMediaMatched, list[Any]]:
    try:
        events = services.store.read_stream(stream_id(MATCH, match_id))
    except ValidationFailed:
        raise UnknownMatch(f"no hash match {match_id!r}") from None
    found = [e for e in events if e.type == KnownMediaMatched.event_type_name]
    if not found:
        raise UnknownMatch(f"no hash match {match_id!r}")
    return found[0].payload_as(KnownMediaMatched), events


def confirm_match(services: Services, match_id: str, reviewer: Actor, note: str) -> list[str]:
    """A reviewer confirms the match; with the operator's opt-in its file hashes go back to
    the exchange (threatexchange's ``report_opinion``), each outcome an event. Returns the
    contribution statuses."""
    matched, events = load_match(services, match_id)
    settings = services.settings.section(HashBankSettings)
    appended: list[Any] = []
    if not any(e.type == KnownMediaConfirmed.event_type_name for e in events):
        appended.append(KnownMediaConfirmed(match_id=match_id, reviewer_id=reviewer.id, note=note))
    statuses: list[str] = []
    target = contribution_target(settings)
    done = {
        (e.payload["signal_type"], e.payload["signal"])
        for e in events
        if e.type == HashContributed.event_type_name and e.payload["status"] == "contributed"
    }
    if target is not None:
        signals = []
        for h in matched.hashes:
            t, s = str(h["signal_type"]), str(h["signal"])
            if t == VPDQ:
                parse_vpdq(s)  # what went in as a match is a valid signal
            if (t, s) not in done:
                signals.append((t, s))
        bank = str(matched.matches[0]["bank_id"]) if matched.matches else ""
        for t, s, status, detail in contribute(target, signals):
            statuses.append(status)
            appended.append(
                HashContributed(
                    match_id=match_id,
                    exchange=target.get_name(),
                    bank_id=bank,
                    signal_type=t,
                    signal=s,
                    status=status,
                    detail=detail,
                )
            )
    if appended:
        services.store.append(
            stream_id(MATCH, match_id), appended, expected_version=len(events), actor=reviewer
        )
    return statuses
