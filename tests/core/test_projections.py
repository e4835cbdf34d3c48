"""Projection runner properties: idempotent under redelivery, rebuild equals live."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from core.events import Actor, RecordedEvent
from core.log import Cursor, Delivery, SqlTailConsumer
from core.projections import ConsumerWatermark, Runner, StreamTracking, lag
from core.replay import rebuild, replay_check
from core.services import Services
from tests.core.fixtures import (
    CounterAdded,
    CounterOpened,
    CounterProjection,
    counter_state,
    counters,
    test_metadata,
)

ALICE = Actor(id="alice", role="user")


@pytest.fixture
def svc(make_services: Callable[..., Services]) -> Services:
    s = make_services("sqlite")
    test_metadata.create_all(s.engine)
    return s


def seed(svc: Services, streams: int = 3, adds: int = 4) -> list[RecordedEvent]:
    for _ in range(streams):
        sid = f"tcounter-{uuid.uuid4().hex}"
        svc.store.append(sid, [CounterOpened(label="l")], expected_version=0, actor=ALICE)
        for i in range(adds):
            svc.store.append(sid, [CounterAdded(amount=i + 1)], expected_version=i + 1, actor=ALICE)
    return svc.store.read_all(limit=10_000)


def runner(svc: Services) -> Runner:
    return Runner(CounterProjection(), lambda: SqlTailConsumer(svc.store, ["tcounter"]), svc.store)


def reset(svc: Services) -> None:
    with svc.sessions() as s, s.begin():
        s.execute(delete(counters))
        s.execute(delete(StreamTracking))
        s.execute(delete(ConsumerWatermark))


def deliveries_with_resends(
    events: list[RecordedEvent], plan: list[tuple[int, int]]
) -> list[Delivery]:
    """A partition's record sequence where a crashed relay re-sent earlier events.

    ``plan`` holds (advance, rewind) steps: send ``advance`` new events, then re-send the last
    ``rewind`` of them. Offsets always grow, as they do in Kafka.
    """
    seq: list[RecordedEvent] = []
    sent = 0
    for advance, rewind in plan:
        upto = min(len(events), sent + advance)
        seq += events[sent:upto]
        sent = upto
        seq += events[max(0, sent - rewind) : sent]
    seq += events[sent:]
    return [Delivery(e, Cursor("topic", 0, offset)) for offset, e in enumerate(seq)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=8),
    cuts=st.lists(st.integers(1, 8), min_size=1, max_size=10),
    redeliver=st.lists(st.booleans(), max_size=10),
)
def test_duplicated_and_redelivered_batches_equal_one_clean_pass(
    svc: Services, plan: list[tuple[int, int]], cuts: list[int], redeliver: list[bool]
) -> None:
    if not svc.store.head_position():
        seed(svc)
    events = svc.store.read_all(limit=10_000)
    reset(svc)
    r = runner(svc)
    r.process([Delivery(e, Cursor("topic", 0, i)) for i, e in enumerate(events)])
    with svc.sessions() as s:
        clean = counter_state(s)

    reset(svc)
    r = runner(svc)
    records = deliveries_with_resends(events, plan)
    i = 0
    for n, cut in enumerate(cuts * 10):
        if i >= len(records):
            break
        batch = records[i : i + cut]
        r.process(batch)
        if n < len(redeliver) and redeliver[n]:
            r.process(batch)  # the consumer restarted before acknowledging: same offsets again
        i += cut
    r.process(records[i:])
    with svc.sessions() as s:
        assert counter_state(s) == clean


def test_a_failing_event_is_dead_lettered_and_the_rest_applied(svc: Services) -> None:
    events = seed(svc, streams=2, adds=2)
    broken = CounterProjection()
    original = broken._added

    def sometimes_fails(session, event):  # type: ignore[no-untyped-def]
        if event.payload["amount"] == 2:
            raise ValueError("handler bug")
        original(session, event)

    broken._added = sometimes_fails  # type: ignore[method-assign]
    broken._dispatch = {**broken._dispatch}
    r = Runner(broken, lambda: SqlTailConsumer(svc.store, ["tcounter"]), svc.store)
    r.process([Delivery(e, Cursor("sql", 0, e.position)) for e in events])
    assert r.stats.dead_lettered == 2 and r.stats.applied == len(events) - 2
    with svc.sessions() as s:
        assert [row[2] for row in counter_state(s)] == [1, 1]


def test_lag_counts_unapplied_events(svc: Services) -> None:
    seed(svc, streams=2, adds=1)
    r = runner(svc)
    assert lag(svc, r.consumer) == 4
    r.run_until_idle(idle_s=0.05)
    assert lag(svc, r.consumer) == 0


def test_rebuild_equals_live_and_replay_check_catches_drift(svc: Services) -> None:
    seed(svc)
    r = runner(svc)
    r.run_until_idle(idle_s=0.05)
    with svc.sessions() as s:
        live = counter_state(s)
    factories = {"test-counters": lambda _services: CounterProjection()}
    assert replay_check(svc, factories, progress=False, out=lambda _m: None) == []

    with svc.sessions() as s, s.begin():  # drift: someone edited the read model by hand
        s.execute(update(counters).values(total=counters.c.total + 1))
    diffs = replay_check(svc, factories, progress=False, out=lambda _m: None)
    assert [(d.projection, d.table, d.changed, d.only_live, d.only_rebuilt) for d in diffs] == [
        ("test-counters", "test_counters", 3, 0, 0)
    ]
    assert diffs.state == "DIFFERENT" and len(diffs[0].examples) == 3

    assert rebuild(CounterProjection(), svc, progress=False, out=lambda _m: None) == len(
        svc.store.read_all(limit=10_000)
    )
    with svc.sessions() as s:
        assert counter_state(s) == live
    assert replay_check(svc, factories, progress=False, out=lambda _m: None) == []
    # the rebuilt projection's checkpoint lets the live worker continue without re-applying
    r2 = runner(svc)
    r2.run_until_idle(idle_s=0.05)
    assert r2.stats.applied == 0


def test_a_processor_stops_between_reactions_and_the_rest_is_applied_once_later(
    svc: Services,
) -> None:
    """SIGTERM sets the worker's stop event; a long batch must not hold the process up, and
    what it left undone is applied after the restart, once."""
    import threading

    from tests.core.fixtures import CounterEchoProcessor

    events = seed(svc, streams=1, adds=4)  # one stream: 5 events, 4 echoes
    stop = threading.Event()
    processor = CounterEchoProcessor()
    original = processor.handle

    def stop_after_two(event: RecordedEvent):  # type: ignore[no-untyped-def]
        appends = original(event)
        if processor.handled == 2:
            stop.set()
        return appends

    processor.handle = stop_after_two  # type: ignore[method-assign]
    first = Runner(processor, lambda: SqlTailConsumer(svc.store, ["tcounter"]), svc.store)
    first.run_forever(stop)  # returns: the stop was seen between two reactions
    assert processor.handled == 2
    echoes = [e for e in svc.store.read_all(limit=10_000) if e.type == "TestCounterEchoed"]
    assert len(echoes) == 1

    again = CounterEchoProcessor()
    second = Runner(again, lambda: SqlTailConsumer(svc.store, ["tcounter"]), svc.store)
    second.run_until_idle(idle_s=0.1, max_s=10)
    echoes = [e for e in svc.store.read_all(limit=10_000) if e.type == "TestCounterEchoed"]
    assert sorted(e.payload["source_version"] for e in echoes) == [2, 3, 4, 5]
    assert again.handled == len(events) - 2
