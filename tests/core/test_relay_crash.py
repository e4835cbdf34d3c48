"""The relay killed between publishing and marking the outbox loses nothing, and consumers see
every event once."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition

from core.events import Actor
from core.log import make_log_consumer
from core.outbox import OutboxRelay
from core.projections import Runner
from core.services import Services
from core.settings import Settings
from tests.core.fixtures import (
    CounterAdded,
    CounterOpened,
    CounterProjection,
    counter_state,
    test_metadata,
)

pytestmark = pytest.mark.kafka
ALICE = Actor(id="alice", role="user")


def _relay_then_die(settings_json: str) -> None:
    settings = Settings.model_validate_json(settings_json)
    services = Services.from_settings(settings)

    def die(_positions: list[int]) -> None:
        os._exit(137)  # killed after the broker acknowledged, before the outbox is marked

    OutboxRelay(settings, services.sessions, after_publish=die).relay_once(limit=5)


def all_records(svc: Services) -> list[bytes]:
    topic = svc.settings.topic_for("tcounter")
    consumer = KafkaConsumer(
        bootstrap_servers=svc.settings.kafka_bootstrap, group_id=None, enable_auto_commit=False
    )
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    end = consumer.end_offsets(parts)
    values: list[bytes] = []
    while any(consumer.position(tp) < end[tp] for tp in parts):
        for records in consumer.poll(timeout_ms=1000).values():
            values += [r.headers and dict(r.headers)["event_id"] for r in records]
    consumer.close()
    return values


def test_relay_killed_between_publish_and_mark(
    make_services: Callable[..., Services], kafka_settings: dict[str, object]
) -> None:
    svc = make_services("postgres", relay_lease_s=1.0, **kafka_settings)
    test_metadata.create_all(svc.engine)
    streams = [f"tcounter-{uuid.uuid4().hex}" for _ in range(4)]
    for s in streams:
        svc.store.append(
            s,
            [CounterOpened(label="x"), CounterAdded(amount=1), CounterAdded(amount=2)],
            expected_version=0,
            actor=ALICE,
        )

    child = multiprocessing.get_context("spawn").Process(
        target=_relay_then_die, args=(svc.settings.model_dump_json(),)
    )
    child.start()
    child.join(120)
    assert child.exitcode == 137
    relay = OutboxRelay(svc.settings, svc.sessions)
    assert relay.pending() == 12  # nothing was marked: the first 5 will be re-sent

    assert relay.relay_once() == 0  # the dead relay's lease has not expired yet
    time.sleep(1.2)
    assert relay.publish_pending() == 12
    relay.close()
    assert relay.pending() == 0

    sent = Counter(all_records(svc))
    assert len(sent) == 12 and all(n >= 1 for n in sent.values())
    assert sum(sent.values()) == 17  # the crashed batch of 5 is in Kafka twice

    runner = Runner(
        CounterProjection(),
        lambda: make_log_consumer(svc.settings, svc.store, "crash-proj", ["tcounter"]),
        svc.store,
    )
    deadline = time.monotonic() + 60
    while runner.stats.applied + runner.stats.skipped < 17 and time.monotonic() < deadline:
        runner.run_once(0.5)
    runner.close()
    assert runner.stats.applied == 12 and runner.stats.skipped == 5
    with svc.sessions() as s:
        assert [(row[2], row[3]) for row in counter_state(s)] == [(3, 3)] * 4
