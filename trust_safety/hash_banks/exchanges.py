"""Filling banks from exchanges, and giving confirmed hashes back, through threatexchange.

Every source is a threatexchange ``SignalExchangeAPI``: ``LocalFileSignalExchangeAPI`` for a
hash file on disk (one ``<signal type> <hash>`` a line, or bare hashes of one type), and,
where the operator configured them (settings.py), ``NCMECSignalExchangeAPI`` (NCMEC hash
sharing), ``StopNCIISignalExchangeAPI`` and ``FBThreatExchangeSignalExchangeAPI``.

:func:`import_from_exchange` runs the API's ``fetch_iter`` from the checkpoint of the bank's
last import and turns each fetched record into bank hashes with the API's own
``naive_convert_to_signal_type``, one record at a time and keyed by the record's key: a
record that now converts to other hashes (or to none: a deletion upstream) removes the ones
it no longer names. The additions, the removals and the ``BankImportCompleted`` closing the
import (its counts and the new checkpoint) are appended in one transaction, at the version
of the bank they were decided on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threatexchange.exchanges import fetch_state
from threatexchange.exchanges.impl.file_api import (
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.exchanges.signal_exchange_api import SignalExchangeAPI
from threatexchange.utils.dataclass_json import dataclass_dump_dict, dataclass_load_dict

from core.aggregate import Transaction, transact
from core.events import Actor
from core.services import Services
from trust_safety.hash_banks.banks import BANKS, AddHashes, BankState, CompleteImport, RemoveHashes
from trust_safety.hash_banks.errors import (
    ExchangeNotConfigured,
    InvalidHashFile,
    UnknownBank,
)
from trust_safety.hash_banks.events import BankEntry, BankImportCompleted
from trust_safety.hash_banks.settings import HashBankSettings
from trust_safety.hash_banks.signals import SIGNAL_TYPES, validate_signal

AnyExchange = SignalExchangeAPI[Any, Any, Any, Any, Any]
MAX_FILE_BYTES = 512 << 20


def _key(record_key: Any) -> str:
    return json.dumps(record_key, default=str) if not isinstance(record_key, str) else record_key


def _record_signals(api: AnyExchange, key: Any, value: Any) -> set[tuple[str, str]]:
    if value is None:
        return set()
    converted = api.naive_convert_to_signal_type(
        list(SIGNAL_TYPES.values()), api_collab(api), {key: value}
    )
    out = set()
    for s_type, signals in converted.items():
        for signal in signals:
            try:
                out.add((s_type.get_name(), validate_signal(s_type.get_name(), signal)))
            except ValueError:
                continue
    return out


def api_collab(api: AnyExchange) -> Any:
    return getattr(api, "collab", None)


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    added: int
    removed: int
    unchanged: int
    invalid: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "added": self.added,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "invalid": self.invalid,
        }


def _last_checkpoint(services: Services, bank_id: str, exchange: str) -> dict[str, Any] | None:
    from core.events import stream_id

    for event in reversed(services.store.read_stream(stream_id(BANKS.category, bank_id))):
        if event.type == BankImportCompleted.event_type_name:
            done = event.payload_as(BankImportCompleted)
            if done.exchange == exchange:
                return done.checkpoint
    return None


def import_from_exchange(
    services: Services,
    bank_id: str,
    api: AnyExchange,
    *,
    source: str,
    actor: Actor,
    resume: bool = True,
) -> ImportResult:
    """Fetch from ``api`` (from the bank's last checkpoint of that exchange when ``resume``)
    and apply the difference to the bank."""
    exchange = api.get_name()
    checkpoint_cls = api.get_checkpoint_cls()
    stored = _last_checkpoint(services, bank_id, exchange) if resume else None
    checkpoint = None
    if stored is not None:
        try:
            checkpoint = dataclass_load_dict(stored, checkpoint_cls)
        except Exception:  # an old or foreign checkpoint: fetch everything again
            checkpoint = None
        if checkpoint is not None and checkpoint.is_stale():
            checkpoint = None
    fetched: dict[str, set[tuple[str, str]]] = {}
    invalid = 0
    last = checkpoint
    for delta in api.fetch_iter(list(SIGNAL_TYPES.values()), checkpoint):
        for key, value in delta.updates.items():
            signals = _record_signals(api, key, value)
            if value is not None and not signals:
                invalid += 1
            fetched[_key(key)] = signals
        last = delta.checkpoint
    full = checkpoint is None and isinstance(api, LocalFileSignalExchangeAPI)
    import_id = uuid.uuid4().hex

    def work(tx: Transaction) -> ImportResult:
        loaded = tx.load(BANKS, bank_id)
        state: BankState = loaded.state
        if state.created is None:
            raise UnknownBank(f"no hash bank {bank_id!r}")
        # A hash's source key names the list it came from (the exchange and, for files, the
        # file) and its record there; a later import of that list updates those hashes only.
        scope = f"{exchange}:{source}|"
        by_key: dict[str, set[tuple[str, str]]] = {}
        for pair, source_key in state.hashes.items():
            if source_key is not None and source_key.startswith(scope):
                by_key.setdefault(source_key[len(scope) :], set()).add(pair)
        add: list[BankEntry] = []
        remove: list[BankEntry] = []
        unchanged = 0
        for key, signals in fetched.items():
            before = by_key.get(key, set())
            for t, s in sorted(signals - before):
                if (t, s) not in state.hashes:
                    add.append(BankEntry(signal_type=t, signal=s, source_key=f"{scope}{key}"))
            remove += [BankEntry(signal_type=t, signal=s) for t, s in sorted(before - signals)]
            unchanged += len(before & signals)
        if full:  # a file is the whole list: what it no longer holds leaves the bank
            for key in sorted(set(by_key) - set(fetched)):
                remove += [BankEntry(signal_type=t, signal=s) for t, s in sorted(by_key[key])]
        version = loaded.version
        events: list[Any] = []
        events += BANKS.decide(state, AddHashes(add, source=exchange, import_id=import_id))
        events += BANKS.decide(
            state,
            RemoveHashes(remove, source=exchange, import_id=import_id, reason="gone upstream"),
        )
        done = BankImportCompleted(
            bank_id=bank_id,
            import_id=import_id,
            exchange=exchange,
            source=source[:500],
            added=len(add),
            removed=len(remove),
            unchanged=unchanged,
            invalid=invalid,
            checkpoint=_dump_checkpoint(last),
        )
        events += BANKS.decide(state, CompleteImport(done))
        tx.append(BANKS, bank_id, events, expected_version=version)
        return ImportResult(import_id, len(add), len(remove), unchanged, invalid)

    return transact(services.store, work, actor=actor)


def _dump_checkpoint(checkpoint: Any) -> dict[str, Any] | None:
    if checkpoint is None:
        return None
    try:
        return json.loads(json.dumps(dataclass_dump_dict(checkpoint), default=str))
    except Exception:  # a checkpoint that cannot round-trip is not kept (next run refetches)
        return None


def file_exchange(path: Path, signal_type: str | None = None) -> LocalFileSignalExchangeAPI:
    """threatexchange's local file exchange over ``path``, after checking it is readable."""
    if signal_type is not None and signal_type not in SIGNAL_TYPES:
        raise InvalidHashFile(f"unknown signal type {signal_type!r}; known: {sorted(SIGNAL_TYPES)}")
    if not path.is_file():
        raise InvalidHashFile(f"no hash file at {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidHashFile(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidHashFile(f"cannot read {path} as UTF-8 text: {exc}") from None
    collab = FileCollaborationConfig(
        name=f"file:{path.name}", filename=str(path.resolve()), signal_type=signal_type
    )
    return LocalFileSignalExchangeAPI(collab)


def import_file(
    services: Services,
    bank_id: str,
    path: Path,
    *,
    actor: Actor,
    signal_type: str | None = None,
    name: str | None = None,
) -> ImportResult:
    """Import a local hash file (threatexchange's file format) into the bank: the file is
    the bank's whole list from that file (``name``, default its file name), so a hash that a
    new version of the file no longer holds leaves the bank."""
    api = file_exchange(path, signal_type)
    return import_from_exchange(
        services, bank_id, api, source=(name or path.name)[:200], actor=actor, resume=False
    )


# -- the operator's network exchanges -------------------------------------------------------------


@dataclass(frozen=True)
class ConfiguredExchange:
    name: str
    bank_id: str
    category: str
    build: Any  # () -> SignalExchangeAPI, built only when fetched

    def api(self) -> AnyExchange:
        built: AnyExchange = self.build()
        return built


def configured_exchanges(settings: HashBankSettings) -> list[ConfiguredExchange]:
    """The network exchanges the operator gave credentials for (none by default)."""
    out: list[ConfiguredExchange] = []
    if settings.ncmec_credentials is not None:
        creds = settings.ncmec_credentials

        def ncmec() -> AnyExchange:
            from threatexchange.exchanges.clients.ncmec.hash_api import NCMECEnvironment
            from threatexchange.exchanges.impl.ncmec_api import (
                NCMECCollabConfig,
                NCMECCredentials,
                NCMECSignalExchangeAPI,
            )

            try:
                env = NCMECEnvironment[settings.ncmec_environment]
            except KeyError:
                raise ExchangeNotConfigured(
                    f"NCMEC environment {settings.ncmec_environment!r}: one of "
                    f"{[e.name for e in NCMECEnvironment]}"
                ) from None
            user, _, password = creds.get_secret_value().partition(":")
            return NCMECSignalExchangeAPI.for_collab(
                NCMECCollabConfig(name="ncmec", environment=env),
                NCMECCredentials(user, password),
            )

        out.append(ConfiguredExchange("ncmec", settings.ncmec_bank, "csam", ncmec))
    if settings.stopncii_subscription_key is not None:
        sub, fetch = settings.stopncii_subscription_key, settings.stopncii_fetch_function_key

        def stopncii() -> AnyExchange:
            from threatexchange.exchanges.collab_config import CollaborationConfigBase
            from threatexchange.exchanges.impl.stop_ncii_api import (
                StopNCIICredentials,
                StopNCIISignalExchangeAPI,
            )

            assert fetch is not None  # settings require both
            return StopNCIISignalExchangeAPI.for_collab(
                CollaborationConfigBase(name="stopncii", api="stop_ncii", enabled=True),
                StopNCIICredentials(sub.get_secret_value(), fetch.get_secret_value()),
            )

        out.append(ConfiguredExchange("stopncii", settings.stopncii_bank, "ncii", stopncii))
    if settings.threatexchange_token is not None:
        token, group = settings.threatexchange_token, settings.threatexchange_privacy_group

        def threatexchange() -> AnyExchange:
            from threatexchange.exchanges.impl.fb_threatexchange_api import (
                FBThreatExchangeCollabConfig,
                FBThreatExchangeCredentials,
                FBThreatExchangeSignalExchangeAPI,
            )

            assert group is not None  # settings require both
            return FBThreatExchangeSignalExchangeAPI.for_collab(
                FBThreatExchangeCollabConfig(name="threatexchange", privacy_group=group),
                FBThreatExchangeCredentials(token.get_secret_value()),
            )

        out.append(
            ConfiguredExchange(
                "fb_threatexchange",
                settings.threatexchange_bank,
                settings.threatexchange_category,
                threatexchange,
            )
        )
    return out


# -- contributing confirmed hashes back -----------------------------------------------------------


class ContributionFile(LocalFileSignalExchangeAPI):
    """threatexchange's local file exchange, taking contributions: threatexchange 1.2.17's own
    ``report_opinion`` opens the file with an invalid mode (``"wta"``) and fails on an empty
    file, so positives are appended here in the same line format its ``fetch_iter`` reads."""

    def report_opinion(
        self,
        s_type: type[Any],
        signal: str,
        opinion: fetch_state.SignalOpinion,
    ) -> None:
        if opinion.category != fetch_state.SignalOpinionCategory.POSITIVE_CLASS or opinion.tags:
            # threatexchange's own way of saying an exchange takes no such opinion; contribute()
            # records it as "not_supported".
            raise NotImplementedError
        path = Path(self.collab.filename)
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{s_type.get_name()} {signal}\n")


def contribution_target(settings: HashBankSettings) -> AnyExchange | None:
    """The exchange confirmed hashes go back to, or None when the operator did not opt in."""
    if not settings.contribute_confirmed:
        return None
    if settings.contribute_to == "file":
        assert settings.contribute_file is not None  # settings require it
        path = Path(settings.contribute_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        return ContributionFile(
            FileCollaborationConfig(name="contributions", filename=str(path.resolve()))
        )
    for exchange in configured_exchanges(settings):
        if exchange.name == settings.contribute_to:
            return exchange.api()
    raise ExchangeNotConfigured(
        f"contributions go to {settings.contribute_to!r}, which has no credentials configured"
    )


def contribute(
    api: AnyExchange, signals: Iterable[tuple[str, str]]
) -> list[tuple[str, str, str, str]]:
    """Report each signal to ``api`` as a positive (threatexchange's ``report_opinion``);
    returns (signal type, signal, status, detail) per signal."""
    out = []
    opinion = fetch_state.SignalOpinion(
        True, fetch_state.SignalOpinionCategory.POSITIVE_CLASS, set()
    )
    for signal_type, signal in signals:
        cls = SIGNAL_TYPES.get(signal_type)
        if cls is None:
            continue
        try:
            api.report_opinion(cls, signal, opinion)
            out.append((signal_type, signal, "contributed", ""))
        except NotImplementedError:
            out.append((signal_type, signal, "not_supported", f"{api.get_name()} takes no uploads"))
        except Exception as exc:  # the exchange's failure is recorded, never raised at a reviewer
            out.append((signal_type, signal, "failed", str(exc)[:500]))
    return out
