"""The outbox relay: publishes recorded events to Kafka in position order, at least once.

Crash safety: rows are marked published only after the broker acknowledged them (acks=all), so
a crash between publishing and marking re-sends those events on restart. Consumers skip a
re-sent event because their per-stream tracking already holds its version (core/projections.py);
they rely on nothing the relay does beyond per-stream order, and not even on that to be
correct, only to be fast.

Recovery: a failed publish (the broker down, a timeout, a fatal producer error such as a
restarted, empty cluster that no longer knows the producer id) closes the producer and the next
attempt builds a new one and creates the topics again, after an exponential backoff (at most
``OutboxRelay.backoff_max_s``). Only the acknowledged prefix of a batch is marked; the rest is
sent again from the oldest unpublished event. Every wait observes the relay's ``stop`` event.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import DateTime, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    stop_when_event_set,
    wait_exponential_jitter,
)

from core.db import Base, transaction
from core.events import utcnow
from core.privacy import SEALED_RECORD_HEADER
from core.settings import Settings
from core.store import OutboxEntry, StoredEvent, row_to_stored_event

# core.kafka (kafka-python) is imported where a producer is built, so that reading the relay's
# lag (``clearframe relay-status``, /readyz) does not load the Kafka client.

log = logging.getLogger(__name__)
WAIT_SLICE_S = 0.5  # the longest a relay wait goes without looking at its stop event


class Lease(Base):
    """A named lease so that only one process at a time runs a singleton (the relay)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128), nullable=False)
    expires_at: Mapped[Any] = mapped_column(DateTime(timezone=True), nullable=False)


def acquire_lease(sessions: sessionmaker[Session], name: str, holder: str, seconds: float) -> bool:
    with transaction(sessions) as s:
        lease = s.scalars(select(Lease).where(Lease.name == name).with_for_update()).first()
        now = utcnow()
        expires = now + timedelta(seconds=seconds)
        if lease is None:
            s.add(Lease(name=name, holder=holder, expires_at=expires))
            return True
        current_expiry = lease.expires_at
        if current_expiry.tzinfo is None:  # SQLite hands back naive UTC
            current_expiry = current_expiry.replace(tzinfo=now.tzinfo)
        if lease.holder == holder or current_expiry < now:
            lease.holder, lease.expires_at = holder, expires
            return True
        return False


@dataclass(frozen=True)
class RelayLag:
    """How far the relay is behind: the unpublished outbox rows and the oldest of them."""

    unpublished: int
    oldest_position: int | None
    oldest_age_s: float | None  # since that event occurred

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def relay_lag(sessions: sessionmaker[Session]) -> RelayLag:
    """Two index reads: the oldest unpublished row (partial index ``ix_outbox_unpublished``)
    joined to its event, and the count of unpublished rows (the same index)."""
    with sessions() as s:
        oldest = s.execute(
            select(OutboxEntry.position, StoredEvent.occurred_at)
            .join(StoredEvent, StoredEvent.position == OutboxEntry.position)
            .where(OutboxEntry.published_at.is_(None))
            .order_by(OutboxEntry.position)
            .limit(1)
        ).first()
        if oldest is None:
            s.rollback()
            return RelayLag(unpublished=0, oldest_position=None, oldest_age_s=None)
        count = s.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.published_at.is_(None))
        )
        s.rollback()
    position, occurred_at = oldest
    now = utcnow()
    if occurred_at.tzinfo is None:  # SQLite hands back naive UTC
        occurred_at = occurred_at.replace(tzinfo=now.tzinfo)
    age = max(0.0, (now - occurred_at).total_seconds())
    return RelayLag(
        unpublished=int(count or 0), oldest_position=int(position), oldest_age_s=round(age, 3)
    )


class RelayStopped(Exception):
    """The relay was asked to stop while a batch waited for its acknowledgement."""


class OutboxRelay:
    LEASE = "outbox-relay"
    backoff_max_s = 10.0  # the longest wait between two failed attempts

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        after_publish: Callable[[list[int]], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._after_publish = after_publish  # a test hook to kill the process at the worst time
        self.stop = stop or threading.Event()
        self._producer: Any = None
        self._known_topics: set[str] = set()
        self.published = 0
        self.producers_built = 0
        self.failures = 0  # failed publish attempts
        self._lease_renewed_at = float("-inf")

    @property
    def timeout_s(self) -> float:
        from core.kafka import relay_timeout_s

        return relay_timeout_s(self.settings)

    @property
    def producer(self) -> Any:
        if self._producer is None:
            from core.kafka import bounded_producer

            self._producer = bounded_producer(self.settings, self.timeout_s)
            self.producers_built += 1
        return self._producer

    def _discard_producer(self) -> None:
        """Close the producer (without waiting on the broker) so that the next attempt builds a
        new one: after a fatal error (e.g. a restarted cluster that does not know the producer
        id) the old one would fail forever. The new cluster may have no topics either."""
        producer, self._producer = self._producer, None
        self._known_topics = set()
        if producer is not None:
            from core.kafka import close_producer

            close_producer(producer)

    def relay_once(self, limit: int | None = None) -> int:
        """Publish one batch of unpublished events; returns how many were published.

        A failed publish marks the acknowledged prefix of the batch, closes the producer and
        raises the error; the next call builds a new producer (``run`` backs off in between).
        """
        if self.stop.is_set():
            return 0
        # Renewing the lease is a transaction (an fsync): do it when a third of it has passed,
        # not on every batch.
        if time.monotonic() - self._lease_renewed_at > self.settings.relay_lease_s / 3:
            if not acquire_lease(
                self.sessions, self.LEASE, self.holder, self.settings.relay_lease_s
            ):
                return 0
            self._lease_renewed_at = time.monotonic()
        limit = limit or self.settings.batch_size
        with self.sessions() as s:
            rows = s.execute(
                select(StoredEvent, OutboxEntry.topic_category)
                .join(OutboxEntry, OutboxEntry.position == StoredEvent.position)
                .where(OutboxEntry.published_at.is_(None))
                .order_by(OutboxEntry.position)
                .limit(limit)
            ).all()
            batch = [
                (row_to_stored_event(r), self.settings.topic_for(cat), r.personal_subject)
                for r, cat in rows
            ]
            s.rollback()
        if not batch:
            return 0
        try:
            placed, failure = self._publish(batch)
        except BaseException:
            self.failures += 1
            self._discard_producer()
            raise
        if failure is not None:
            self.failures += not isinstance(failure, RelayStopped)
            self._discard_producer()
        if self._after_publish is not None:
            self._after_publish([p for p, _, _ in placed])
        if placed:
            now = utcnow()
            with transaction(self.sessions) as s:
                s.execute(
                    update(OutboxEntry),
                    [
                        {"position": pos, "published_at": now, "partition": part, "offset": off}
                        for pos, part, off in placed
                    ],
                )
            self.published += len(placed)
        if failure is not None and not isinstance(failure, RelayStopped):
            raise failure
        return len(placed)

    def _publish(
        self, batch: list[tuple[Any, str, str | None]]
    ) -> tuple[list[tuple[int, int, int]], BaseException | None]:
        """Send ``batch`` (in position order) and wait for the acknowledgements; returns the
        acknowledged prefix as (position, partition, offset) and the error that ended it.

        Why marking only that prefix keeps each partition in store order, also across a
        failure: the producer is idempotent (acks=all, at most 5 requests in flight), so the
        broker takes a partition's batches of one producer session only in sequence; a batch
        that fails fails the later batches of that partition in the same session (they are
        rejected as out of sequence, or the session is fenced), so a partition never holds a
        newer event of that session without the older ones before it. The relay then closes
        that producer and the next one starts again from the oldest unmarked event. Marking
        stops at the first event, in position order over the whole batch, that was not
        acknowledged, so no event is marked while an older one is still unacknowledged; an
        event acknowledged after that point is simply sent again (at least once: a later copy,
        never a newer event's first appearance ahead of an older one's).
        """
        from kafka.errors import KafkaError, KafkaTimeoutError

        from core.kafka import create_missing_topics

        producer = self.producer
        topics = {topic for _, topic, _ in batch}
        if not topics <= self._known_topics:
            create_missing_topics(self.settings, topics - self._known_topics, self.timeout_s)
            self._known_topics |= topics
        futures: list[tuple[int, Any]] = []
        send_error: BaseException | None = None
        try:
            for event, topic, subject in batch:
                headers = [
                    ("type", event.type.encode()),
                    ("schema_version", str(event.schema_version).encode()),
                    ("event_id", str(event.event_id).encode()),
                    ("content-type", b"application/json"),
                ]
                if subject is not None:
                    headers.append((SEALED_RECORD_HEADER, b"1"))
                futures.append(
                    (
                        event.position,
                        producer.send(
                            topic,
                            key=event.stream_id.encode(),
                            value=event.to_json(),
                            headers=headers,
                        ),
                    )
                )
        except Exception as exc:  # e.g. no metadata for a topic within the timeout
            send_error = exc
        # The library fails a record after its delivery timeout (about timeout_s); wait a
        # little longer for that, in slices, so that a stop request is seen within one.
        deadline = time.monotonic() + self.timeout_s + 1.0
        while futures:
            try:
                producer.flush(timeout=max(0.0, min(WAIT_SLICE_S, deadline - time.monotonic())))
                break
            except KafkaTimeoutError:
                if self.stop.is_set() or time.monotonic() >= deadline:
                    break
            except KafkaError:
                break
        placed: list[tuple[int, int, int]] = []
        for position, future in futures:
            if not future.is_done:
                if self.stop.is_set():
                    return placed, RelayStopped("stopped before the acknowledgement")
                return placed, KafkaTimeoutError(
                    f"position {position} not acknowledged within {self.timeout_s:g} s"
                )
            if future.failed():
                return placed, future.exception
            meta = future.value
            placed.append((position, meta.partition, meta.offset))
        return placed, send_error

    def run(self, stop: threading.Event | None = None) -> None:
        """Relay until ``stop`` (default: ``self.stop``) is set, then close the producer.

        A failed attempt is retried after an exponential backoff with jitter, from 0.5 s up to
        ``backoff_max_s``; the backoff starts again after a batch that succeeded. Every wait
        looks at the stop event at least every ``WAIT_SLICE_S``.
        """
        if stop is not None:
            self.stop = stop
        retrying = self._retrying()
        try:
            while not self.stop.is_set():
                try:
                    moved = retrying(self.relay_once)
                except Exception as exc:  # only once stopping: the last attempt failed
                    log.info("relay: stopping after a failed attempt (%s)", exc)
                    break
                if moved == 0:
                    self._sleep(self.settings.poll_interval_s)
        finally:
            self.close()

    def _retrying(self, give_up_after_s: float | None = None) -> Retrying:
        """Retry failed attempts with backoff until stopped (or ``give_up_after_s``)."""
        stop: Any = stop_when_event_set(self.stop)
        if give_up_after_s is not None:
            stop = stop | stop_after_delay(give_up_after_s)
        return Retrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential_jitter(initial=0.5, max=self.backoff_max_s, jitter=0.5),
            stop=stop,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.stop.wait(min(WAIT_SLICE_S, left))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        from kafka.errors import KafkaError
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, KafkaError | OSError | OperationalError):
            log.warning(
                "relay: attempt %d failed (%s: %s); next in %.1f s",
                state.attempt_number,
                type(exc).__name__,
                exc,
                wait,
            )
        else:
            log.error(
                "relay: attempt %d failed; next in %.1f s", state.attempt_number, wait, exc_info=exc
            )

    def publish_pending(self, give_up_after_s: float = 60.0) -> int:
        """Publish batches until nothing is left (tools, tests, benchmarks); returns the count.

        A failed batch is retried with backoff; an error that lasts ``give_up_after_s`` is
        raised."""
        retrying = self._retrying(give_up_after_s)
        total = 0
        while published := retrying(self.relay_once):
            total += published
        return total

    def pending(self) -> int:
        with self.sessions() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.published_at.is_(None))
                )
                or 0
            )

    def lag(self) -> RelayLag:
        return relay_lag(self.sessions)

    def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            from core.kafka import close_producer

            close_producer(producer, timeout_s=1.0)
