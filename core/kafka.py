"""kafka-python clients with the settings Clearframe relies on, and bounded retries.

Nothing here depends on the test broker (Tansu): only standard Kafka protocol features are used
(idempotent producer, acks=all, consumer groups with manual commits).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from core.settings import Settings

log = logging.getLogger(__name__)

# Every network call against the broker is retried a bounded number of times with backoff;
# after that the error surfaces to the caller (the worker loop logs it and tries again later).
network_retry = retry(
    retry=retry_if_exception_type((KafkaError, OSError)),
    wait=wait_exponential(multiplier=0.2, max=5),
    stop=stop_after_delay(60),
    before_sleep=before_sleep_log(log, logging.WARNING),
    reraise=True,
)


def bootstrap_servers(settings: Settings) -> list[str]:
    return [s.strip() for s in settings.kafka_bootstrap.split(",") if s.strip()]


def relay_timeout_s(settings: Settings) -> float:
    """How long one relay attempt may wait on the broker (to connect, for metadata, for the
    acknowledgement of a batch): a third of the relay lease, between 2 and 10 s.

    The lease is renewed once a third of it has passed, so an attempt that gives up within a
    third of it ends before another relay can take the lease over and send the same events.
    """
    return min(10.0, max(2.0, settings.relay_lease_s / 3))


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": f"{settings.kafka_client_id}-relay",
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "max_in_flight_requests_per_connection": 5,
        "retries": 10,
        "request_timeout_ms": 30_000,
    }
    config.update(overrides)
    return config


@network_retry
def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    return KafkaProducer(**producer_config(settings, **overrides))


def bounded_producer(settings: Settings, timeout_s: float) -> KafkaProducer:
    """An idempotent producer whose blocking calls each end within about ``timeout_s``.

    No retries here: the caller (the relay) backs off and builds a new one. Nothing listening
    on any bootstrap address fails at once (``KafkaConnectionError``) instead of waiting for the
    bootstrap timeout. Topics are never auto-created (``ensure_topics`` creates them with the
    configured partition count).
    """
    if not tcp_reachable(settings, min(1.0, timeout_s)):
        raise KafkaConnectionError(f"nothing listens on {settings.kafka_bootstrap}")
    ms = int(timeout_s * 1000)
    config = producer_config(
        settings,
        request_timeout_ms=ms,
        max_block_ms=ms,
        bootstrap_timeout_ms=ms,
        allow_auto_create_topics=False,
        reconnect_backoff_max_ms=1_000,
    )
    # the library fails a record not acknowledged within this (it must cover one request)
    config["delivery_timeout_ms"] = ms + int(config["linger_ms"])
    return KafkaProducer(**config)


def close_producer(producer: KafkaProducer, timeout_s: float = 0.0) -> None:
    """Close ``producer`` without hanging on a broker that is gone.

    ``KafkaProducer.close`` flushes first and raises when records are still unacknowledged;
    with ``timeout_s`` 0 (or once that graceful close failed) the I/O thread is stopped without
    sending what is left: those records' futures fail, and the relay leaves their events
    unpublished in the outbox.
    """
    if timeout_s > 0:
        try:
            producer.close(timeout=timeout_s)
            return
        except Exception as exc:  # fall through to the forced close
            log.info("producer did not close within %.1f s (%s); forcing it", timeout_s, exc)
    sender = getattr(producer, "_sender", None)
    if sender is not None and sender.is_alive():
        sender.force_close()
        sender.join(1.0)
    try:
        producer.close(timeout=0)
    except Exception as exc:  # nothing more can be done with it
        log.warning("producer did not close: %s", exc)


def _host_port(server: str) -> tuple[str, int]:
    server = server.split("://", 1)[-1]
    host, sep, port = server.rpartition(":")
    if not sep or not port.isdigit():
        return server.strip("[]"), 9092
    return host.strip("[]"), int(port)


def tcp_reachable(settings: Settings, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections on a bootstrap address (within ``timeout_s``
    in all): a cheap first check before a client that would wait for its bootstrap timeout."""
    servers = bootstrap_servers(settings)
    if not servers:
        return False
    for server in servers:
        try:
            with socket.create_connection(_host_port(server), timeout=timeout_s / len(servers)):
                return True
        except (OSError, ValueError):
            continue
    return False


def make_consumer(settings: Settings, group_id: str | None, **overrides: Any) -> KafkaConsumer:
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": f"{settings.kafka_client_id}-{group_id or 'reader'}",
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        # A shorter session than the default makes a group (re)join take seconds, not ~20 s,
        # while still tolerating a slow batch (poll intervals are bounded separately).
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 1_000,
        "max_poll_interval_ms": 600_000,
        "max_poll_records": settings.batch_size,
    }
    config.update(overrides)
    return _connect_consumer(config)


@network_retry
def _connect_consumer(config: dict[str, Any]) -> KafkaConsumer:
    return KafkaConsumer(**config)


def create_missing_topics(
    settings: Settings, topics: Iterable[str], timeout_s: float | None = None
) -> list[str]:
    """Create the missing ones of ``topics`` (one attempt; with ``timeout_s``, every broker
    call is bounded by it); returns the names that were created."""
    wanted = sorted(set(topics))
    if not wanted:
        return []
    bounded: dict[str, Any] = {}
    if timeout_s is not None:
        ms = int(timeout_s * 1000)
        bounded = {"request_timeout_ms": ms, "bootstrap_timeout_ms": ms}
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers(settings),
        client_id=f"{settings.kafka_client_id}-admin",
        **bounded,
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        created = []
        for topic in missing:
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            name=topic,
                            num_partitions=settings.kafka_partitions,
                            replication_factor=settings.kafka_replication_factor,
                        )
                    ],
                    **({} if timeout_s is None else {"timeout_ms": int(timeout_s * 1000)}),
                )
                created.append(topic)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


@network_retry
def ensure_topics(settings: Settings, topics: Iterable[str]) -> list[str]:
    """Create missing topics (retried with backoff); returns the names that were created."""
    return create_missing_topics(settings, topics)


def broker_reachable(settings: Settings, timeout_s: float = 1.0) -> bool:
    """Whether the broker answers a metadata request; every step is bounded by ``timeout_s``."""
    if not tcp_reachable(settings, min(timeout_s, 0.5)):
        return False
    ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers(settings),
            client_id=f"{settings.kafka_client_id}-probe",
            request_timeout_ms=ms,
            bootstrap_timeout_ms=ms,
        )
    except Exception:
        return False
    try:
        admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        admin.close()


class BrokerProbe:
    """A broker check for a readiness endpoint that answers within ``wait_s``.

    The probe runs in a background thread (one at a time) and its result is kept for
    ``ttl_s``; a caller waits at most ``wait_s`` for a fresh one, and a probe that takes longer
    reads as unreachable. A broker that is down therefore never blocks the endpoint for the
    clients' own timeouts (tens of seconds). The probe itself may take up to
    ``probe_timeout_s``: a slow broker that answers in time is seen as reachable on a later
    call, while callers are never held longer than ``wait_s``.
    """

    def __init__(
        self,
        settings: Settings,
        ttl_s: float = 3.0,
        wait_s: float = 1.0,
        probe_timeout_s: float | None = None,
    ) -> None:
        self.settings, self.ttl_s, self.wait_s = settings, ttl_s, wait_s
        self.probe_timeout_s = max(wait_s, probe_timeout_s or wait_s)
        self._lock = threading.Lock()
        self._result: tuple[float, bool] | None = None  # (monotonic time checked, reachable)
        self._thread: threading.Thread | None = None

    def _probe(self) -> None:
        ok = broker_reachable(self.settings, timeout_s=self.probe_timeout_s)
        with self._lock:
            self._result = (time.monotonic(), ok)

    def check(self) -> str:
        """``ok``, ``unreachable``, or ``unreachable (no answer within N s)``."""
        asked = time.monotonic()
        with self._lock:
            if self._result is not None and asked - self._result[0] < self.ttl_s:
                return "ok" if self._result[1] else "unreachable"
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._probe, name="broker-probe", daemon=True
                )
                self._thread.start()
            thread = self._thread
        thread.join(self.wait_s)
        with self._lock:
            if self._result is not None and self._result[0] >= asked:
                return "ok" if self._result[1] else "unreachable"
        return f"unreachable (no answer within {self.wait_s:g} s)"
