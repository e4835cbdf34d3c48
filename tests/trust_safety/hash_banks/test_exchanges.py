"""A tailing exchange (the shape of NCMEC's and StopNCII's APIs in threatexchange): each fetch
resumes from the checkpoint of the bank's last import, and a record deleted upstream leaves
the bank. The exchange is an in-process SignalExchangeAPI; nothing leaves the process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.collab_config import CollaborationConfigBase
from threatexchange.exchanges.signal_exchange_api import SignalExchangeAPIWithSimpleUpdates

from core.events import stream_id
from core.services import Services
from tests.trust_safety.hash_banks.helpers import ADMIN
from tests.trust_safety.hash_banks.media import encoded, scene
from trust_safety.hash_banks.banks import CreateBank
from trust_safety.hash_banks.exchanges import import_from_exchange
from trust_safety.hash_banks.index import BANK_INDEX, MatchPolicy
from trust_safety.hash_banks.service import create_bank
from trust_safety.hash_banks.signals import hash_image


@dataclass
class PageCheckpoint(state.FetchCheckpointBase):
    page: int


class TailingExchange(
    SignalExchangeAPIWithSimpleUpdates[
        CollaborationConfigBase, PageCheckpoint, state.FetchedSignalMetadata
    ]
):
    pages: list[dict[tuple[str, str], state.FetchedSignalMetadata | None]] = []
    started_at: list[int] = []

    def __init__(self) -> None:
        self.collab = CollaborationConfigBase(name="tail", api="tail", enabled=True)

    @classmethod
    def get_name(cls) -> str:
        return "tailing_test"

    @staticmethod
    def get_config_cls() -> type[CollaborationConfigBase]:
        return CollaborationConfigBase

    @staticmethod
    def get_checkpoint_cls() -> type[PageCheckpoint]:
        return PageCheckpoint

    @staticmethod
    def get_record_cls() -> type[state.FetchedSignalMetadata]:
        return state.FetchedSignalMetadata

    @classmethod
    def for_collab(cls, collab: CollaborationConfigBase) -> TailingExchange:
        return cls()

    def fetch_iter(
        self, supported_signal_types: Sequence[Any], checkpoint: PageCheckpoint | None
    ) -> Iterator[Any]:
        start = checkpoint.page if checkpoint is not None else 0
        self.started_at.append(start)
        for i in range(start, len(self.pages)):
            yield state.FetchDelta(dict(self.pages[i]), PageCheckpoint(i + 1))


def test_a_tailing_exchange_resumes_from_its_checkpoint_and_deletions_leave_the_bank(
    services: Services,
) -> None:
    create_bank(services, CreateBank("tail-bank", "tail", "csam", exchange="tailing_test"), ADMIN)
    a = hash_image(encoded(scene(81)))
    b = hash_image(encoded(scene(82)))
    assert a.pdq is not None and b.pdq is not None
    meta = state.FetchedSignalMetadata()
    TailingExchange.pages = [{("pdq", a.pdq[0]): meta, ("pdq", b.pdq[0]): meta}]
    TailingExchange.started_at = []
    first = import_from_exchange(
        services, "tail-bank", TailingExchange(), source="tail", actor=ADMIN
    )
    assert (first.added, first.removed) == (2, 0)
    index = services.resource(BANK_INDEX)
    assert index.match(a, MatchPolicy()) and index.match(b, MatchPolicy())

    # upstream: a is withdrawn, an exact hash arrives
    TailingExchange.pages.append({("pdq", a.pdq[0]): None, ("video_md5", b.md5): meta})
    second = import_from_exchange(
        services, "tail-bank", TailingExchange(), source="tail", actor=ADMIN
    )
    assert TailingExchange.started_at == [0, 1]  # the second run resumed after page one
    assert (second.added, second.removed) == (1, 1)
    assert index.match(a, MatchPolicy()) == []  # withdrawn upstream: no longer matches
    assert {m.signal_type for m in index.match(b, MatchPolicy())} == {"pdq", "video_md5"}
    done = [
        e.payload
        for e in services.store.read_stream(stream_id("hashbank", "tail-bank"))
        if e.type == "BankImportCompleted"
    ]
    assert [d["checkpoint"] for d in done] == [{"page": 1}, {"page": 2}]
    # nothing new upstream: the next run appends only its completion
    third = import_from_exchange(
        services, "tail-bank", TailingExchange(), source="tail", actor=ADMIN
    )
    assert (third.added, third.removed, TailingExchange.started_at[-1]) == (0, 0, 2)
