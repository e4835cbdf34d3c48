"""What every consumer must get from the runner, whatever its transport does.

The contract: a projection's read model, and a processor's appended reactions, equal applying
every stored event of its categories once, in stream order. It is run over log adapters that
misbehave in the ways a real broker may (redelivery, interleaving of partitions, an old range
republished after newer events, offsets that start again on a new cluster) and in ways it must
not (a stream's versions out of order, events never delivered): the runner must hold in both.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core.events import Actor, RecordedEvent
from core.log import Cursor, Delivery, EventLogConsumer
from core.projections import (
    ConsumerWatermark,
    DeadLetter,
    Runner,
    StreamTracking,
    consumer_status,
)
from core.services import Services
from core.store import StoredEvent
from tests.core.fixtures import (
    CounterAdded,
    CounterEchoProcessor,
    CounterOpened,
    CounterProjection,
    counter_state,
    counters,
    test_metadata,
)

ALICE = Actor(id="alice", role="user")
PARTITIONS = 3


class ScriptedLog(EventLogConsumer):
    """Hands over a fixed sequence of deliveries in chunks, then nothing."""

    def __init__(self, deliveries: Sequence[Delivery], chunks: Sequence[int]) -> None:
        self.pending = list(deliveries)
        self.chunks = list(chunks) or [7]
        self.acknowledged: list[Cursor] = []
        self._n = 0

    def start(self, after_position: int) -> None:
        return None

    def poll(self, timeout_s: float, max_records: int) -> list[Delivery]:
        size = min(max_records, self.chunks[self._n % len(self.chunks)])
        self._n += 1
        out, self.pending = self.pending[:size], self.pending[size:]
        return out

    def acknowledge(self, cursors: Sequence[Cursor]) -> None:
        self.acknowledged += cursors

    def close(self) -> None:
        return None


def kafka_like(events: Sequence[RecordedEvent], rng: random.Random) -> list[Delivery]:
    """What Kafka may do: per-partition order kept (a stream stays in its partition), but
    partitions interleaved at random; ranges redelivered; an old range republished after newer
    events (a relay stuck on a dead broker); then a new cluster whose offsets start at 0 again
    and which receives everything once more."""
    parts: dict[int, list[RecordedEvent]] = {p: [] for p in range(PARTITIONS)}
    for e in events:
        parts[hash(e.stream_id) % PARTITIONS].append(e)
    records: dict[int, list[RecordedEvent]] = {}
    for p, evs in parts.items():
        seq: list[RecordedEvent] = []
        i = 0
        while i < len(evs):
            step = rng.randint(1, 5)
            seq += evs[i : i + step]
            i += step
            if rng.random() < 0.3:  # a redelivered range
                seq += evs[max(0, i - rng.randint(1, 4)) : i]
            if rng.random() < 0.15 and i > 3:  # republished after newer ones
                start = rng.randint(0, i - 1)
                seq += evs[start : start + rng.randint(1, 3)]
        records[p] = seq
    out: list[Delivery] = []
    cursors = {p: 0 for p in records}
    for epoch in range(2):
        offsets = dict.fromkeys(records, 0)  # a new cluster: offsets start again
        while any(cursors[p] < len(records[p]) for p in records):
            p = rng.choice([q for q in records if cursors[q] < len(records[q])])
            e = records[p][cursors[p]]
            out.append(Delivery(e, Cursor(f"topic-{epoch}", p, offsets[p])))
            offsets[p] += 1
            cursors[p] += 1
        if epoch == 0:
            cursors = {p: rng.randint(0, len(records[p])) for p in records}
    return out


def order_breaking(events: Sequence[RecordedEvent], rng: random.Random) -> list[Delivery]:
    """What no broker should do, and the runner survives anyway: any order (a stream's version
    n+2 before n+1), duplicates, and events never delivered at all."""
    chosen = [e for e in events if rng.random() > 0.2]
    chosen += rng.sample(list(events), k=min(len(events), rng.randint(0, 6)))
    rng.shuffle(chosen)
    return [Delivery(e, Cursor("chaos", 0, i)) for i, e in enumerate(chosen)]


def seed(svc: Services, rng: random.Random, streams: int = 4) -> dict[str, list[int]]:
    """Interleaved appends; returns each stream's amounts in version order."""
    amounts: dict[str, list[int]] = {}
    for _ in range(streams):
        sid = f"tcounter-{uuid.uuid4().hex}"
        svc.store.append(sid, [CounterOpened(label="c")], expected_version=0, actor=ALICE)
        amounts[sid] = []
    for _ in range(streams * 4):
        sid = rng.choice(sorted(amounts))
        amount = rng.randint(1, 9)
        svc.store.append(
            sid, [CounterAdded(amount=amount)], expected_version=len(amounts[sid]) + 1, actor=ALICE
        )
        amounts[sid].append(amount)
    return amounts


def expected_counters(amounts: dict[str, list[int]]) -> list[tuple[object, ...]]:
    return sorted(
        (
            sid,
            "c",
            sum(a),
            len(a) + 1,
            ",".join(str(v) for v in range(1, len(a) + 2)),
        )
        for sid, a in amounts.items()
    )


def forget(svc: Services) -> None:
    with svc.sessions() as s, s.begin():
        s.execute(delete(counters))
        s.execute(delete(StreamTracking))
        s.execute(delete(ConsumerWatermark))
        s.execute(delete(DeadLetter))
        s.execute(delete(StoredEvent).where(StoredEvent.category == "techo"))


Scenario = Callable[[Sequence[RecordedEvent], random.Random], list[Delivery]]


def run(svc: Services, consumer: object, deliveries: list[Delivery], chunks: list[int]) -> Runner:
    """Deliver everything the transport has (nothing is old enough for the catch-up pass yet),
    then let the catch-up pass apply what it never delivered."""
    log = ScriptedLog(deliveries, chunks)
    runner = Runner(
        consumer,  # type: ignore[arg-type]
        lambda: log,
        svc.store,
        batch_size=50,
        catch_up_grace_s=3600.0,
        catch_up_interval_s=0.0,
    )
    try:
        for _ in range(10_000):
            if runner.run_once(0) == 0:
                break
        runner.catch_up(grace_s=0)
    finally:
        runner.close()
    return runner


def deliveries(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Hypothesis over a delivery scenario's seed and the transport's chunk sizes; the fixture
    is shared by the examples, which reset it themselves."""

    def wrap(test: Callable[..., None]) -> Callable[..., None]:
        return settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.differing_executors,
            ],
        )(
            given(seed_value=st.integers(0, 2**32), chunks=st.lists(st.integers(1, 9), max_size=5))(
                test
            )
        )

    return wrap


class ConsumerContract:
    backend = "sqlite"
    scenario: Scenario

    @pytest.fixture
    def svc(self, make_services: Callable[..., Services]) -> Services:
        s = make_services(self.backend)
        test_metadata.create_all(s.engine)
        return s

    def deliver(
        self, svc: Services, consumer: object, seed_value: int, chunks: list[int]
    ) -> tuple[Runner, dict[str, list[int]]]:
        """Fresh counters, delivered to ``consumer`` by this suite's scenario."""
        rng = random.Random(seed_value)
        forget(svc)
        with svc.sessions() as s, s.begin():
            s.execute(delete(StoredEvent).where(StoredEvent.category == "tcounter"))
        amounts = seed(svc, rng)
        events = svc.store.read_all(limit=10_000, categories=["tcounter"])
        return run(svc, consumer, type(self).scenario(events, rng), chunks), amounts

    def check_projection(self, svc: Services, seed_value: int, chunks: list[int]) -> None:
        runner, amounts = self.deliver(svc, CounterProjection(), seed_value, chunks)
        with svc.sessions() as s:
            assert counter_state(s) == expected_counters(amounts)
        status = consumer_status(svc, runner.consumer)
        assert status["unapplied"] == 0 and status["watermark"] == status["head"]
        assert runner.stats.dead_lettered == 0

    def check_processor(self, svc: Services, seed_value: int, chunks: list[int]) -> None:
        runner, amounts = self.deliver(svc, CounterEchoProcessor(), seed_value, chunks)
        for sid, a in amounts.items():
            echoes = svc.store.read_stream("techo-" + sid.removeprefix("tcounter-"))
            assert [(e.payload["source_version"], e.payload["amount"]) for e in echoes] == [
                (v + 2, amount) for v, amount in enumerate(a)
            ]
        with svc.sessions() as s:
            assert s.scalars(select(DeadLetter)).all() == []
        assert runner.stats.dead_lettered == 0

    @deliveries(examples=25)
    def test_projection_equals_one_clean_pass(
        self, svc: Services, seed_value: int, chunks: list[int]
    ) -> None:
        self.check_projection(svc, seed_value, chunks)

    @deliveries(examples=10)
    def test_processor_reacts_once_in_stream_order(
        self, svc: Services, seed_value: int, chunks: list[int]
    ) -> None:
        self.check_processor(svc, seed_value, chunks)


class TestKafkaLikeDelivery(ConsumerContract):
    scenario = staticmethod(kafka_like)


class TestOrderBreakingDelivery(ConsumerContract):
    scenario = staticmethod(order_breaking)


@pytest.mark.postgres
class TestKafkaLikeDeliveryOnPostgres(ConsumerContract):
    backend = "postgres"
    scenario = staticmethod(kafka_like)


@pytest.mark.postgres
class TestOrderBreakingDeliveryOnPostgres(ConsumerContract):
    backend = "postgres"
    scenario = staticmethod(order_breaking)


def test_a_gap_is_healed_from_the_store_and_counted(make_services: Callable[..., Services]) -> None:
    svc = make_services("sqlite")
    test_metadata.create_all(svc.engine)
    sid = f"tcounter-{uuid.uuid4().hex}"
    svc.store.append(
        sid,
        [CounterOpened(label="c"), CounterAdded(amount=1), CounterAdded(amount=2)],
        expected_version=0,
        actor=ALICE,
    )
    last = svc.store.read_stream(sid)[-1]
    runner = run(svc, CounterProjection(), [Delivery(last, Cursor("t", 0, 0))], [1])
    assert runner.stats.healed == 2 and runner.stats.applied == 1
    with svc.sessions() as s:
        assert counter_state(s) == [(sid, "c", 3, 3, "1,2,3")]


def test_lost_events_are_caught_up_from_the_store_and_reported(
    make_services: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    svc = make_services("sqlite")
    test_metadata.create_all(svc.engine)
    amounts = seed(svc, random.Random(3), streams=3)
    runner = run(svc, CounterProjection(), [], [5])  # the transport delivers nothing at all
    assert runner.stats.caught_up == sum(len(a) + 1 for a in amounts.values())
    assert "catching up" in caplog.text
    with svc.sessions() as s:
        assert counter_state(s) == expected_counters(amounts)


def test_catch_up_waits_out_the_grace_period(make_services: Callable[..., Services]) -> None:
    svc = make_services("sqlite")
    test_metadata.create_all(svc.engine)
    seed(svc, random.Random(4), streams=2)
    runner = Runner(
        CounterProjection(), lambda: ScriptedLog([], [5]), svc.store, catch_up_grace_s=3600
    )
    assert runner.catch_up() == 0  # young events are left to the transport
    assert consumer_status(svc, runner.consumer)["unapplied"] == 10
    assert runner.catch_up(grace_s=0) == 10
