"""kafka-python clients with the settings Clearframe relies on, and bounded retries.

Nothing here depends on the test broker (Tansu): only standard Kafka protocol features are used
(idempotent producer, acks=all, consumer groups with manual commits).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
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


@network_retry
def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
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
    return KafkaProducer(**config)


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


@network_retry
def ensure_topics(settings: Settings, topics: Iterable[str]) -> list[str]:
    """Create missing topics; returns the names that were created."""
    wanted = sorted(set(topics))
    if not wanted:
        return []
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers(settings), client_id=f"{settings.kafka_client_id}-admin"
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
                    ]
                )
                created.append(topic)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def broker_reachable(settings: Settings, timeout_s: float = 3.0) -> bool:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers(settings),
            client_id=f"{settings.kafka_client_id}-probe",
            request_timeout_ms=int(timeout_s * 1000),
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
