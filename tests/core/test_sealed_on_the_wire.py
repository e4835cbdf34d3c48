"""Personal values stay sealed on the topics: the relay publishes payloads as stored, a plain
Kafka reader sees no plaintext, Clearframe's consumers open them through the store's keyring,
and after an erasure the records the broker still holds read as placeholders."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition

from core.db import transaction
from core.events import Actor
from core.log import Delivery, make_log_consumer
from core.outbox import OutboxRelay
from core.privacy import ERASED, SEALED, SEALED_RECORD_HEADER, factory_keyring
from core.services import Services
from tests.core.fixtures import NoteTaken, test_metadata

pytestmark = pytest.mark.kafka
ALICE = Actor(id="alice", role="user")


def raw_records(svc: Services, category: str) -> list[tuple[bytes, dict[str, bytes]]]:
    topic = svc.settings.topic_for(category)
    reader = KafkaConsumer(bootstrap_servers=svc.settings.kafka_bootstrap, group_id=None)
    parts = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or []]
    reader.assign(parts)
    reader.seek_to_beginning(*parts)
    end = reader.end_offsets(parts)
    out: list[tuple[bytes, dict[str, bytes]]] = []
    deadline = time.monotonic() + 30
    while any(reader.position(tp) < end[tp] for tp in parts) and time.monotonic() < deadline:
        for records in reader.poll(timeout_ms=500).values():
            out += [(r.value, dict(r.headers or [])) for r in records]
    reader.close()
    return out


def consume(svc: Services, group: str, want: int) -> list[Delivery]:
    consumer = make_log_consumer(svc.settings, svc.store, group, ["tnote"])
    consumer.start(0)
    got: list[Delivery] = []
    deadline = time.monotonic() + 60
    while len(got) < want and time.monotonic() < deadline:
        got += consumer.poll(0.5, 100)
    consumer.close()
    return got


def test_topics_hold_sealed_values_and_an_erasure_reaches_them(
    make_services: Callable[..., Services], kafka_settings: dict[str, object]
) -> None:
    svc = make_services("postgres", **kafka_settings)
    test_metadata.create_all(svc.engine)
    stream = f"tnote-{uuid.uuid4().hex}"
    svc.store.append(
        stream,
        [
            NoteTaken(
                author_id="ann",
                text="dear diary",
                place={"name": "Ann's flat", "x": 1},
                mentions=["Bob Example"],
                stars=5,
            )
        ],
        expected_version=0,
        actor=ALICE,
    )
    relay = OutboxRelay(svc.settings, svc.sessions)
    relay.publish_pending()
    relay.close()

    [(value, headers)] = raw_records(svc, "tnote")
    for plain in (b"dear diary", b"Ann's flat", b"Bob Example"):
        assert plain not in value
    assert SEALED.encode() in value and headers[SEALED_RECORD_HEADER] == b"1"

    [opened] = consume(svc, "g-open", 1)
    assert opened.event.payload["text"] == "dear diary"
    assert opened.event.payload["place"] == {"name": "Ann's flat", "x": 1}
    assert opened.event.payload["mentions"] == ["Bob Example"]

    keyring = factory_keyring(svc.sessions)
    assert keyring is not None
    with transaction(svc.sessions) as session:
        assert keyring.erase(session, "ann") >= 1
    [erased] = consume(svc, "g-erased", 1)
    assert erased.event.payload["text"] == ERASED
    assert erased.event.payload["place"]["name"] == ERASED and erased.event.payload["stars"] == 5
