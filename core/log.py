"""The event log port: how a consumer hears about new events, with two adapters.

- :class:`SqlTailConsumer` tails the SQL event store by global position (embedded default).
- :class:`KafkaLogConsumer` is a member of a Kafka consumer group (production); partitions are
  spread over the group's members, so a worker scales out by starting more of them.

The log is a transport, not the source of truth: the runner (``core.projections``) tracks what
it applied per stream in the database, so a log may redeliver, reorder across partitions or
lose events, and Kafka offsets may start again. The SQL tail is ``contiguous``: it hands over
every event of its categories in position order, so the runner's watermark can follow it.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import OffsetAndMetadata, TopicPartition

from core.events import RecordedEvent
from core.settings import Settings
from core.store import EventStore

log = logging.getLogger(__name__)

STORE_SOURCE = "store"


@dataclass(frozen=True)
class Cursor:
    source: str  # STORE_SOURCE, or the Kafka topic
    partition: int
    offset: int  # the global position for the store, the Kafka offset otherwise


@dataclass(frozen=True)
class Delivery:
    event: RecordedEvent
    cursor: Cursor


class EventLogConsumer(ABC):
    """One member of a consumer group over the stream categories it subscribes to."""

    #: True when every event of the categories is delivered once, in position order.
    contiguous: bool = False

    @abstractmethod
    def start(self, after_position: int) -> None:
        """Begin delivering; ``after_position`` is the consumer's watermark in the store."""

    @abstractmethod
    def poll(self, timeout_s: float, max_records: int) -> list[Delivery]: ...

    @abstractmethod
    def acknowledge(self, cursors: Sequence[Cursor]) -> None:
        """Tell the log these were processed (the database tracking is already written)."""

    @abstractmethod
    def close(self) -> None: ...


class SqlTailConsumer(EventLogConsumer):
    contiguous = True

    def __init__(self, store: EventStore, categories: Iterable[str], poll_interval_s: float = 0.05):
        self.store = store
        self.categories = sorted(set(categories))
        self.poll_interval_s = poll_interval_s
        self._after = 0

    def start(self, after_position: int) -> None:
        self._after = after_position

    def poll(self, timeout_s: float, max_records: int) -> list[Delivery]:
        deadline = time.monotonic() + timeout_s
        while True:
            events = self.store.read_all(
                after_position=self._after, limit=max_records, categories=self.categories
            )
            if events:
                self._after = events[-1].position
                return [Delivery(e, Cursor(STORE_SOURCE, 0, e.position)) for e in events]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            time.sleep(min(self.poll_interval_s, remaining))

    def acknowledge(self, cursors: Sequence[Cursor]) -> None:
        return None  # the tracking written with the read model is the acknowledgement

    def close(self) -> None:
        return None


class KafkaLogConsumer(EventLogConsumer):
    """Records carry payloads as stored: personal values sealed, the written schema version.
    Sealed values are opened through ``store``'s keyring, then the payload is upcast."""

    def __init__(
        self,
        settings: Settings,
        group_id: str,
        categories: Iterable[str],
        store: EventStore | None = None,
    ) -> None:
        from core.kafka import ensure_topics, make_consumer

        self.store = store
        self.settings = settings
        self.group_id = group_id
        self.topics = sorted({settings.topic_for(c) for c in categories})
        ensure_topics(settings, self.topics)
        self.consumer = make_consumer(settings, group_id)
        self.malformed = 0

    def start(self, after_position: int) -> None:
        # Where to resume is the group's committed offset, and the beginning of a partition
        # the group never committed on (a new cluster, a recreated topic): offsets only save
        # re-reading. Whatever they skip is applied from the store by the runner's catch-up.
        self.consumer.subscribe(self.topics)

    def poll(self, timeout_s: float, max_records: int) -> list[Delivery]:
        from core.privacy import SEALED_RECORD_HEADER, open_wire_payloads

        batches = self.consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        read: list[tuple[dict[str, Any], Cursor]] = []
        sealed: list[dict[str, Any]] = []
        for tp, records in batches.items():
            for record in records:
                cursor = Cursor(tp.topic, tp.partition, record.offset)
                try:
                    wire = json.loads(record.value)
                    if not isinstance(wire, dict) or not isinstance(wire.get("payload"), dict):
                        raise ValueError("not an event envelope")
                except ValueError as exc:
                    self._skip(cursor, exc)
                    continue
                read.append((wire, cursor))
                if any(k == SEALED_RECORD_HEADER for k, _ in record.headers or ()):
                    sealed.append(wire)
        if sealed:
            if self.store is None:
                raise RuntimeError("sealed records need the store's keyring to be opened")
            open_wire_payloads(self.store.read_sessions, sealed)
        out: list[Delivery] = []
        for wire, cursor in read:
            try:
                event = RecordedEvent.from_wire(wire)
            except Exception as exc:
                self._skip(cursor, exc)
                continue
            out.append(Delivery(event, cursor))
        out.sort(key=lambda d: (d.cursor.source, d.cursor.partition, d.cursor.offset))
        return out

    def _skip(self, cursor: Cursor, error: BaseException) -> None:
        # Not ours or not readable by this version: skip it rather than block the partition
        # forever, and say so loudly. (If it was ours, the catch-up pass applies it from the
        # store.)
        self.malformed += 1
        log.error(
            "skipping unreadable record %s:%s@%s: %s",
            cursor.source,
            cursor.partition,
            cursor.offset,
            error,
        )

    def acknowledge(self, cursors: Sequence[Cursor]) -> None:
        latest: dict[TopicPartition, int] = {}
        for c in cursors:
            tp = TopicPartition(c.source, c.partition)
            latest[tp] = max(latest.get(tp, -1), c.offset)
        if latest:
            try:
                self.consumer.commit(
                    {tp: OffsetAndMetadata(off + 1, "", -1) for tp, off in latest.items()}
                )
            except Exception as exc:  # the database tracking is authoritative
                log.warning("kafka offset commit failed (database tracking kept): %s", exc)

    def close(self) -> None:
        self.consumer.close()


def make_log_consumer(
    settings: Settings, store: EventStore, group_id: str, categories: Iterable[str]
) -> EventLogConsumer:
    if settings.uses_kafka:
        return KafkaLogConsumer(settings, group_id, categories, store)
    return SqlTailConsumer(store, categories, settings.poll_interval_s)
