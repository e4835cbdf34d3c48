"""The bank aggregate (``hashbank-<bank_id>``): a bank's settings and the hashes it holds.

Pure parts (``initial``/``evolve``/``decide``), run by :func:`core.aggregate.execute` or in a
:class:`~core.aggregate.Transaction`. An addition of a hash the bank holds already, and a
removal of one it does not hold, decide nothing, so a re-run import appends nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from core.events import EventPayload, RecordedEvent
from trust_safety.hash_banks.errors import BankExists, InvalidBank, InvalidHash, UnknownBank
from trust_safety.hash_banks.events import (
    BANK,
    MAX_BATCH,
    BankEntry,
    BankHashesAdded,
    BankHashesRemoved,
    BankImportCompleted,
    HashBankCreated,
    HashBankUpdated,
)
from trust_safety.hash_banks.signals import validate_signal


class KnownCategory(StrEnum):
    CSAM = "csam"
    NCII = "ncii"
    TERRORISM = "terrorism"


class BankAction(StrEnum):
    BLOCK = "block"  # refuse the upload, block the output
    FLAG = "flag"  # record the match and let it through


CATEGORY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
BANK_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def check_category(category: str, action: str) -> None:
    if not CATEGORY_PATTERN.match(category):
        raise InvalidBank(
            f"category {category!r}: use csam, ncii, terrorism or your own name "
            "(lowercase letters, digits, '_', 2-40 characters)"
        )
    if action not in set(BankAction):
        raise InvalidBank(f"action {action!r}: one of {[a.value for a in BankAction]}")
    if category == KnownCategory.CSAM and action != BankAction.BLOCK:
        raise InvalidBank("a csam bank always blocks: known CSAM is never let through")


@dataclass
class BankState:
    created: HashBankCreated | None = None
    enabled: bool = True
    action: str = BankAction.BLOCK
    # (signal type, signal) -> the exchange record key it came from
    hashes: dict[tuple[str, str], str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateBank:
    bank_id: str
    name: str
    category: str
    action: str = BankAction.BLOCK
    exchange: str | None = None
    description: str = ""


@dataclass(frozen=True)
class UpdateBank:
    enabled: bool | None = None
    action: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class AddHashes:
    entries: Sequence[BankEntry]
    source: str
    import_id: str | None = None


@dataclass(frozen=True)
class RemoveHashes:
    entries: Sequence[BankEntry]
    source: str
    import_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class CompleteImport:
    event: BankImportCompleted


Command = CreateBank | UpdateBank | AddHashes | RemoveHashes | CompleteImport


def normal_entry(entry: BankEntry) -> BankEntry:
    try:
        signal = validate_signal(entry.signal_type, entry.signal)
    except ValueError as exc:
        raise InvalidHash(f"{entry.signal_type}: {exc}") from None
    return entry.model_copy(update={"signal": signal})


def _batches(entries: list[BankEntry]) -> list[list[BankEntry]]:
    return [entries[i : i + MAX_BATCH] for i in range(0, len(entries), MAX_BATCH)]


class Bank:
    category = BANK

    def initial(self) -> BankState:
        return BankState()

    def evolve(self, state: BankState, event: RecordedEvent) -> BankState:
        if event.type == HashBankCreated.event_type_name:
            created = event.payload_as(HashBankCreated)
            state.created, state.enabled, state.action = created, created.enabled, created.action
        elif event.type == HashBankUpdated.event_type_name:
            u = event.payload_as(HashBankUpdated)
            state.enabled = state.enabled if u.enabled is None else u.enabled
            state.action = state.action if u.action is None else u.action
        elif event.type == BankHashesAdded.event_type_name:
            for e in event.payload_as(BankHashesAdded).entries:
                state.hashes[(e.signal_type, e.signal)] = e.source_key
        elif event.type == BankHashesRemoved.event_type_name:
            for e in event.payload_as(BankHashesRemoved).entries:
                state.hashes.pop((e.signal_type, e.signal), None)
        return state

    def decide(self, state: BankState, command: Command) -> list[EventPayload]:
        if isinstance(command, CreateBank):
            if state.created is not None:
                raise BankExists(f"hash bank {command.bank_id!r} exists already")
            if not BANK_ID_PATTERN.match(command.bank_id):
                raise InvalidBank(
                    f"bank id {command.bank_id!r}: lowercase letters, digits, '_.-', up to 64"
                )
            check_category(command.category, command.action)
            return [
                HashBankCreated(
                    bank_id=command.bank_id,
                    name=command.name,
                    harm_category=command.category,
                    action=command.action,
                    exchange=command.exchange,
                    description=command.description,
                )
            ]
        if state.created is None:
            raise UnknownBank("no such hash bank")
        bank_id = state.created.bank_id
        if isinstance(command, UpdateBank):
            if command.action is not None:
                check_category(state.created.harm_category, command.action)
            if command.enabled is None and command.action is None:
                return []
            return [
                HashBankUpdated(
                    bank_id=bank_id,
                    enabled=command.enabled,
                    action=command.action,
                    reason=command.reason,
                )
            ]
        if isinstance(command, AddHashes):
            fresh: dict[tuple[str, str], BankEntry] = {}
            for entry in map(normal_entry, command.entries):
                key = (entry.signal_type, entry.signal)
                if key not in state.hashes:
                    fresh.setdefault(key, entry)
            return [
                BankHashesAdded(
                    bank_id=bank_id, source=command.source, import_id=command.import_id, entries=b
                )
                for b in _batches(list(fresh.values()))
            ]
        if isinstance(command, RemoveHashes):
            gone: dict[tuple[str, str], BankEntry] = {}
            for entry in map(normal_entry, command.entries):
                key = (entry.signal_type, entry.signal)
                if key in state.hashes:
                    gone.setdefault(key, entry)
            return [
                BankHashesRemoved(
                    bank_id=bank_id,
                    source=command.source,
                    import_id=command.import_id,
                    reason=command.reason,
                    entries=b,
                )
                for b in _batches(list(gone.values()))
            ]
        return [command.event]


BANKS = Bank()
