"""The event-log contract, run against the SQL tail (embedded) and Kafka (Tansu broker)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from core.events import Actor
from core.log import Delivery, EventLogConsumer, KafkaLogConsumer, make_log_consumer
from core.outbox import OutboxRelay
from core.projections import Runner
from core.services import Services
from tests.core.fixtures import (
    CounterAdded,
    CounterOpened,
    CounterProjection,
    counter_state,
    test_metadata,
)

ALICE = Actor(id="alice", role="user")


def write_counters(svc: Services, streams: int, adds: int) -> dict[str, int]:
    """Interleaved appends to several streams; returns the expected total per stream."""
    ids = [f"tcounter-{uuid.uuid4().hex}" for _ in range(streams)]
    for s in ids:
        svc.store.append(s, [CounterOpened(label=s[-6:])], expected_version=0, actor=ALICE)
    for i in range(adds):
        for s in ids:
            svc.store.append(s, [CounterAdded(amount=i)], expected_version=i + 1, actor=ALICE)
    return {s: sum(range(adds)) for s in ids}


class EventLogContract:
    backend: str = "postgres"
    uses_kafka: bool

    @pytest.fixture
    def svc(
        self, make_services: Callable[..., Services], request: pytest.FixtureRequest
    ) -> Services:
        overrides = request.getfixturevalue("kafka_settings") if self.uses_kafka else {}
        svc = make_services(self.backend, **overrides)
        test_metadata.create_all(svc.engine)
        return svc

    def publish(self, svc: Services) -> None:
        if svc.settings.uses_kafka:
            relay = OutboxRelay(svc.settings, svc.sessions)
            relay.publish_pending()
            relay.close()
            assert relay.pending() == 0

    def consumer(self, svc: Services, group: str) -> EventLogConsumer:
        return make_log_consumer(svc.settings, svc.store, group, ["tcounter"])

    def poll_until(
        self, consumer: EventLogConsumer, want: int, max_s: float = 60
    ) -> list[Delivery]:
        got: list[Delivery] = []
        deadline = time.monotonic() + max_s
        while len(got) < want and time.monotonic() < deadline:
            got += consumer.poll(0.5, 500)
        return got

    def test_delivers_every_event_once_in_stream_order(self, svc: Services) -> None:
        expected = write_counters(svc, streams=4, adds=5)
        self.publish(svc)
        c = self.consumer(svc, "g-order")
        c.start(0)
        got = self.poll_until(c, 24)
        c.close()
        ids = [d.event.event_id for d in got]
        assert len(ids) == 24 and len(set(ids)) == 24
        for s in expected:
            versions = [d.event.stream_version for d in got if d.event.stream_id == s]
            assert versions == list(range(1, 7))

    def test_runner_resumes_from_its_checkpoint_without_loss_or_overlap(
        self, svc: Services
    ) -> None:
        def runner() -> Runner:
            return Runner(CounterProjection(), lambda: self.consumer(svc, "g-resume"), svc.store)

        expected = write_counters(svc, streams=3, adds=4)
        self.publish(svc)
        first = runner()
        self._run_until(first, svc, 15)
        first.close()
        more = {s: None for s in expected}
        for s in more:
            svc.store.append(s, [CounterAdded(amount=100)], expected_version=5, actor=ALICE)
        self.publish(svc)
        second = runner()
        self._run_until(second, svc, 18)
        second.close()
        assert second.stats.applied == 3  # only the new events, none twice
        with svc.sessions() as s:
            state = counter_state(s)
        assert [(row[0], row[2], row[3]) for row in state] == sorted(
            (sid, total + 100, 6) for sid, total in expected.items()
        )

    def _run_until(self, runner: Runner, svc: Services, events: int, max_s: float = 60) -> None:
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline:
            runner.run_once(0.5)
            with svc.sessions() as s:
                if sum(row[3] for row in counter_state(s)) >= events:
                    return
        raise TimeoutError("runner did not catch up")


class TestSqlTailLog(EventLogContract):
    backend = "sqlite"
    uses_kafka = False


@pytest.mark.kafka
class TestKafkaLog(EventLogContract):
    uses_kafka = True

    def test_group_members_share_partitions_without_overlap(self, svc: Services) -> None:
        write_counters(svc, streams=12, adds=2)  # 36 events spread over 3 partitions
        self.publish(svc)
        members = [self.consumer(svc, "g-scale") for _ in range(2)]
        seen: list[list[Delivery]] = [[], []]
        stop = threading.Event()

        def run(i: int) -> None:
            members[i].start(0)
            while not stop.is_set():
                seen[i] += members[i].poll(0.3, 100)
                members[i].acknowledge([d.cursor for d in seen[i]])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ids = [d.event.event_id for part in seen for d in part]
            a = {d.cursor.partition for d in seen[0]}
            b = {d.cursor.partition for d in seen[1]}
            if len(set(ids)) == 36 and a and b:
                break
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        for m in members:
            m.close()
        all_ids = {d.event.event_id for part in seen for d in part}
        assert len(all_ids) == 36
        assert {d.cursor.partition for d in seen[0]} and {d.cursor.partition for d in seen[1]}

    def test_unreadable_record_is_skipped_not_blocking(self, svc: Services) -> None:
        from core.kafka import ensure_topics, make_producer

        topic = svc.settings.topic_for("tcounter")
        ensure_topics(svc.settings, [topic])
        producer = make_producer(svc.settings)
        producer.send(topic, key=b"tcounter-junk", value=b"not json at all", partition=0).get(10)
        producer.close()
        write_counters(svc, streams=1, adds=1)
        self.publish(svc)
        c = self.consumer(svc, "g-junk")
        assert isinstance(c, KafkaLogConsumer)
        c.start(0)
        got = self.poll_until(c, 2)
        c.close()
        assert len(got) == 2 and c.malformed == 1
