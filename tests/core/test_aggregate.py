"""The one command handler: fold, decide, append at the version read, decide again on a race."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.aggregate import decide_append, execute, load
from core.errors import ConcurrencyConflict, ValidationFailed
from core.events import SYSTEM_ACTOR, EventPayload, RecordedEvent
from core.services import Services
from tests.core.fixtures import CounterAdded, CounterOpened


class CapReached(ValidationFailed):
    code = "test_cap_reached"


@dataclass(frozen=True)
class Counter:
    opened: bool = False
    total: int = 0


@dataclass(frozen=True)
class Add:
    amount: int
    cap: int = 1_000_000


class CounterAggregate:
    category = "tcounter"

    def __init__(self) -> None:
        self.decisions = 0  # how often decide ran (a lost race makes it run again)
        self._lock = threading.Lock()

    def initial(self) -> Counter:
        return Counter()

    def evolve(self, state: Counter, event: RecordedEvent) -> Counter:
        if event.type == CounterOpened.event_type_name:
            return Counter(opened=True, total=state.total)
        if event.type == CounterAdded.event_type_name:
            return Counter(state.opened, state.total + event.payload_as(CounterAdded).amount)
        return state

    def decide(self, state: Counter, command: Add) -> list[EventPayload]:
        with self._lock:
            self.decisions += 1
        if command.amount == 0:
            return []
        if state.total + command.amount > command.cap:
            raise CapReached(f"adding {command.amount} to {state.total} passes {command.cap}")
        opening: list[EventPayload] = [] if state.opened else [CounterOpened(label="t")]
        return [*opening, CounterAdded(amount=command.amount)]


@pytest.fixture(params=["sqlite", "postgres"])
def svc(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    return make_services(request.param)


def test_execute_folds_decides_and_appends_at_the_version_it_read(svc: Services) -> None:
    agg, key = CounterAggregate(), uuid.uuid4().hex
    first = execute(svc.store, agg, key, Add(2))
    assert [e.type for e in first] == ["TestCounterOpened", "TestCounterAdded"]
    second = execute(svc.store, agg, key, Add(3), actor=SYSTEM_ACTOR)
    assert [(e.type, e.stream_version) for e in second] == [("TestCounterAdded", 3)]
    assert load(svc.store, agg, key).state == Counter(True, 5)
    assert load(svc.store, agg, key).version == 3
    assert execute(svc.store, agg, key, Add(0)) == []  # nothing decided, nothing appended
    assert svc.store.stream_version(f"tcounter-{key}") == 3


def test_a_domain_error_from_decide_passes_through_and_appends_nothing(svc: Services) -> None:
    agg, key = CounterAggregate(), uuid.uuid4().hex
    execute(svc.store, agg, key, Add(4, cap=5))
    with pytest.raises(CapReached):
        execute(svc.store, agg, key, Add(2, cap=5))
    assert load(svc.store, agg, key).state.total == 4


def test_racing_commands_are_decided_again_on_fresh_state(svc: Services) -> None:
    """Eight writers add 1 under a cap of 5: exactly five succeed, whatever the interleaving,
    because every decision rests on the stream as it was when it was appended."""
    agg, key = CounterAggregate(), uuid.uuid4().hex
    execute(svc.store, agg, key, Add(1, cap=5))
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def writer() -> None:
        barrier.wait()
        try:
            execute(svc.store, agg, key, Add(1, cap=5), attempts=20)
            outcomes.append("ok")
        except CapReached:
            outcomes.append("cap")
        except ConcurrencyConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert load(svc.store, agg, key).state.total == 5
    # 20 attempts each: every writer is decided to an answer, none gives up on a conflict
    assert sorted(outcomes) == ["cap"] * 4 + ["ok"] * 4
    assert agg.decisions >= 9  # the first command and each writer at least once


def test_decide_append_carries_the_version_and_a_stale_one_conflicts(svc: Services) -> None:
    agg, key = CounterAggregate(), uuid.uuid4().hex
    execute(svc.store, agg, key, Add(1))
    [append] = decide_append(svc.store, agg, key, Add(2))
    assert append.stream_id == f"tcounter-{key}" and append.expected_version == 2
    execute(svc.store, agg, key, Add(1))  # another writer moves the stream on
    with pytest.raises(ConcurrencyConflict):
        svc.store.append(
            append.stream_id,
            append.events,
            expected_version=append.expected_version,
            actor=append.actor,
        )
    assert decide_append(svc.store, agg, key, Add(0)) == []
