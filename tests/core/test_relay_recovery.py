"""The outbox relay recovers from a broker that went away (and came back empty), keeps each
partition in store order, stops promptly on SIGTERM without losing the outbox, and shows its
lag (``clearframe relay-status``, ``/readyz``).

Real PostgreSQL and real Tansu brokers (started here, so that they can be stopped); no mocks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import MessageSizeTooLargeError
from sqlalchemy import select

from core.events import Actor, EventPayload, event_type
from core.outbox import OutboxRelay
from core.services import Services
from core.store import OutboxEntry
from tests.conftest import free_port
from tests.utils.tansu import TansuBroker

pytestmark = pytest.mark.kafka
ALICE = Actor(id="alice", role="user")
CATEGORY = "trelay"
REPO = Path(__file__).resolve().parents[2]


@event_type("TestRelayTicked", category=CATEGORY)
class Ticked(EventPayload):
    n: int


@event_type("TestRelayBlob", category=CATEGORY)
class Blob(EventPayload):
    data: str


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    b = TansuBroker(tmp_path)
    b.start()
    yield b
    b.stop()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


def append(svc: Services, streams: list[str], n: int) -> list[int]:
    """Append ``n`` events to each of ``streams``, interleaved; returns their positions."""
    positions = []
    for _ in range(n):
        for stream in streams:
            recorded = svc.store.append(
                stream, [Ticked(n=len(positions))], expected_version=None, actor=ALICE
            )
            positions += [e.position for e in recorded]
    return positions


def read_topic(bootstrap: str, topic: str) -> dict[int, list[tuple[int, int, str]]]:
    """Every record of ``topic``: partition -> [(offset, position, stream id)] in offset order."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        assert parts, f"no topic {topic} on {bootstrap}"
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        out: dict[int, list[tuple[int, int, str]]] = {tp.partition: [] for tp in parts}
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < end[tp] for tp in parts):
            assert time.monotonic() < deadline, "could not read the topic back"
            for tp, records in consumer.poll(timeout_ms=500).items():
                for r in records:
                    value = json.loads(r.value)
                    out[tp.partition].append((r.offset, value["position"], value["stream_id"]))
        return out
    finally:
        consumer.close()


def outbox(svc: Services) -> dict[int, tuple[Any, int | None, int | None]]:
    with svc.sessions() as s:
        return {
            row.position: (row.published_at, row.partition, row.offset)
            for row in s.scalars(select(OutboxEntry))
        }


def check_topic(svc: Services, bootstrap: str, positions: list[int]) -> None:
    """``positions`` are all on the broker, each partition holds first appearances in increasing
    position order, one stream stays in one partition, and the outbox points at the records."""
    records = read_topic(bootstrap, svc.settings.topic_for(CATEGORY))
    rows = outbox(svc)
    found: dict[int, tuple[int, int]] = {}
    stream_partition: dict[str, int] = {}
    for partition, recs in records.items():
        first_appearances = []
        for offset, position, stream in recs:
            assert stream_partition.setdefault(stream, partition) == partition
            if position not in found:
                found[position] = (partition, offset)
                first_appearances.append(position)
        assert first_appearances == sorted(first_appearances), (partition, first_appearances)
    assert set(positions) <= set(found)
    for position in positions:
        published_at, partition, offset = rows[position]
        assert published_at is not None
        # the outbox names the partition, and an offset holding that event
        assert partition == found[position][0]
        assert (offset, position) in {(o, p) for o, p, _ in records[partition]}


def test_relay_recovers_when_the_broker_comes_back_empty(
    make_services: Callable[..., Services], broker: TansuBroker
) -> None:
    svc = make_services(
        "postgres",
        kafka_bootstrap=broker.bootstrap,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}",
        kafka_partitions=3,
        relay_lease_s=6.0,  # a 2 s timeout per attempt
        batch_size=7,  # several batches per phase, so a failure can fall inside one
    )
    streams = [f"{CATEGORY}-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    relay = OutboxRelay(svc.settings, svc.sessions)
    thread = threading.Thread(target=relay.run, name="relay", daemon=True)
    thread.start()
    try:
        first = append(svc, streams, 3)
        wait_for(lambda: relay.pending() == 0, 30, "the first events to be published")
        check_topic(svc, broker.bootstrap, first)

        # 1. The broker goes away while events keep being appended; it comes back empty.
        broker.stop()
        while_down = append(svc, streams, 2)
        wait_for(lambda: relay.failures >= 2, 30, "the relay to fail against the dead broker")
        while_down += append(svc, streams, 2)
        assert relay.pending() == len(while_down)  # nothing marked that was not acknowledged
        broker.start()
        wait_for(lambda: relay.pending() == 0, 60, "the relay to publish to the new broker")
        check_topic(svc, broker.bootstrap, while_down)

        # 2. A quick restart while the relay idles: its producer id is unknown to the new
        # broker (the producer would fail for ever), and the topics are gone.
        builds = relay.producers_built
        broker.stop()
        broker.start()
        after_restart = append(svc, streams, 3)
        wait_for(lambda: relay.pending() == 0, 60, "the relay to publish after a restart")
        assert relay.producers_built > builds
        check_topic(svc, broker.bootstrap, after_restart)
    finally:
        relay.stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert all(published_at is not None for published_at, _, _ in outbox(svc).values())


def test_relay_marks_only_the_acknowledged_prefix(
    make_services: Callable[..., Services], kafka_settings: dict[str, object]
) -> None:
    """An event the producer refuses (over its 1 MB request limit) ends the batch: the events
    before it are published and marked, it and every later one stay unpublished."""
    svc = make_services("postgres", **kafka_settings)
    streams = [f"{CATEGORY}-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    before = append(svc, streams, 1)
    huge = svc.store.append(
        streams[0], [Blob(data="x" * 1_100_000)], expected_version=None, actor=ALICE
    )[0].position
    after = append(svc, streams, 1)
    relay = OutboxRelay(svc.settings, svc.sessions)
    with pytest.raises(MessageSizeTooLargeError):
        relay.relay_once()
    relay.close()
    rows = outbox(svc)
    assert all(rows[p][0] is not None for p in before)
    assert all(rows[p][0] is None for p in [huge, *after])
    assert relay.failures == 1 and relay.pending() == 1 + len(after)
    check_topic(svc, svc.settings.kafka_bootstrap, before)


def test_a_stop_request_ends_the_wait_for_acknowledgements(
    make_services: Callable[..., Services], broker: TansuBroker
) -> None:
    """A batch that cannot be acknowledged leaves every one of its events unpublished, and a
    stop request ends the wait for the acknowledgement at once."""
    svc = make_services(
        "postgres",
        kafka_bootstrap=broker.bootstrap,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}",
        kafka_partitions=3,
        relay_lease_s=30.0,  # each attempt may wait 10 s for its acknowledgements
    )
    streams = [f"{CATEGORY}-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    append(svc, streams, 2)
    relay = OutboxRelay(svc.settings, svc.sessions)
    assert relay.timeout_s == 10.0
    assert relay.publish_pending() == 6
    broker.stop()
    append(svc, streams, 2)
    # the producer still has its metadata: the sends are accepted and wait for acks
    timer = threading.Timer(1.0, relay.stop.set)
    timer.start()
    started = time.monotonic()
    assert relay.relay_once() == 0
    # the stop request (after 1 s), not the attempt's own 10 s timeout, ended the wait; a
    # timeout would also have counted as a failure
    assert time.monotonic() - started < relay.timeout_s
    assert relay.failures == 0
    timer.join()
    assert relay.pending() == 6
    relay.close()
    relay = OutboxRelay(svc.settings, svc.sessions)
    with pytest.raises(Exception):  # noqa: B017 - any Kafka error: nothing listens
        relay.relay_once()
    assert relay.pending() == 6 and relay.failures == 1
    broker.start()
    assert relay.publish_pending() == 6
    relay.close()


def _clearframe() -> list[str]:
    script = Path(sys.executable).with_name("clearframe")
    return [str(script)] if script.exists() else [sys.executable, "-m", "core.cli"]


def test_sigterm_stops_a_relay_stuck_on_a_dead_broker(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens here
    svc = make_services(
        "postgres", kafka_bootstrap=dead, kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}"
    )
    positions = append(svc, [f"{CATEGORY}-{uuid.uuid4().hex[:8]}" for _ in range(3)], 2)
    env = {
        **os.environ,
        "CLEARFRAME_DATABASE_URL": svc.settings.database_url,
        "CLEARFRAME_DATA_DIR": str(tmp_path / "worker"),
        "CLEARFRAME_KAFKA_BOOTSTRAP": dead,
        "CLEARFRAME_KAFKA_TOPIC_PREFIX": svc.settings.kafka_topic_prefix,
    }
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            [*_clearframe(), "worker", "relay"], env=env, cwd=REPO, stdout=o, stderr=e
        )
    try:
        wait_for(lambda: "running" in out.read_text(), 60, "the worker to start")
        # stuck retrying: two attempts failed, it is in its backoff or its next attempt
        wait_for(lambda: "attempt 2 failed" in err.read_text(), 30, "the relay to retry")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)  # its retry backoff reaches 10 s; the signal must end it sooner
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, err.read_text()[-3000:]
    assert "Traceback" not in err.read_text()
    assert "worker relay stopped" in out.read_text()
    rows = outbox(svc)
    assert sorted(rows) == sorted(positions)
    assert all(published_at is None for published_at, _, _ in rows.values())


def test_relay_status_reports_the_oldest_unpublished_event(
    make_services: Callable[..., Services],
    kafka_settings: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from core.cli import main

    svc = make_services("postgres", **kafka_settings)
    monkeypatch.setenv("CLEARFRAME_DATABASE_URL", svc.settings.database_url)
    monkeypatch.setenv("CLEARFRAME_KAFKA_BOOTSTRAP", svc.settings.kafka_bootstrap)

    def status() -> dict[str, Any]:
        assert main(["relay-status"]) == 0
        result: dict[str, Any] = json.loads(capsys.readouterr().out)
        return result

    assert status() == {"unpublished": 0, "oldest_position": None, "oldest_age_s": None}
    streams = [f"{CATEGORY}-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    positions = append(svc, streams, 2)
    time.sleep(0.2)
    lag = status()
    assert lag["unpublished"] == 4 and lag["oldest_position"] == min(positions)
    assert 0.2 <= lag["oldest_age_s"] < 120
    relay = OutboxRelay(svc.settings, svc.sessions)
    assert relay.relay_once(limit=3) == 3
    assert relay.lag().as_dict() | {"oldest_age_s": None} == {
        "unpublished": 1,
        "oldest_position": max(positions),
        "oldest_age_s": None,
    }
    assert status()["oldest_position"] == max(positions)
    relay.publish_pending()
    relay.close()
    assert status()["unpublished"] == 0


def _readyz(svc: Services) -> tuple[int, dict[str, Any]]:
    from fastapi.testclient import TestClient

    from core.app import create_app

    with TestClient(create_app(svc), raise_server_exceptions=False) as client:
        response = client.get("/readyz")
    return response.status_code, response.json()


def test_readyz_answers_promptly_when_the_broker_is_down(
    make_services: Callable[..., Services],
) -> None:
    svc = make_services("postgres", kafka_bootstrap=f"127.0.0.1:{free_port()}")
    positions = append(svc, [f"{CATEGORY}-{uuid.uuid4().hex[:8]}"], 3)
    status, body = _readyz(svc)
    assert status == 503 and body["ready"] is False, body
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")
    assert body["relay"]["unpublished"] == 3
    assert body["relay"]["oldest_position"] == positions[0]


def test_readyz_answers_promptly_when_the_broker_does_not_answer(
    make_services: Callable[..., Services],
) -> None:
    """Something accepts connections on the broker's address but never answers (a hung broker):
    the probe's own timeouts are not waited for. The probe may take 3 s; the endpoint answers
    after its 0.8 s bound, and says so, instead of waiting for it (no wall clock is asserted:
    the bound shows in the answer)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        svc = make_services("postgres", kafka_bootstrap=f"127.0.0.1:{port}")
        status, body = _readyz(svc)
    assert status == 503, body
    assert body["checks"]["broker"] == "unreachable (no answer within 0.8 s)", body


def test_readyz_with_a_live_broker_reports_the_relay(
    make_services: Callable[..., Services], kafka_settings: dict[str, object]
) -> None:
    svc = make_services("postgres", **kafka_settings)
    append(svc, [f"{CATEGORY}-{uuid.uuid4().hex[:8]}"], 2)
    relay = OutboxRelay(svc.settings, svc.sessions)
    assert relay.publish_pending() == 2
    relay.close()
    status, body = _readyz(svc)
    assert status == 200 and body["ready"] is True, body
    assert body["relay"] == {"unpublished": 0, "oldest_position": None, "oldest_age_s": None}
