"""The outbox relay: publishes recorded events to Kafka in position order, at least once.

Crash safety: rows are marked published only after the broker acknowledged them (acks=all), so
a crash between publishing and marking re-sends those events on restart. Consumers drop a
re-sent event because its global position is not above the last one they applied from that
partition (events of one partition arrive in increasing position order, since one relay at a
time sends in position order and the idempotent producer keeps per-partition order).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import DateTime, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import Base, transaction
from core.events import utcnow
from core.kafka import ensure_topics, make_producer, network_retry
from core.settings import Settings
from core.store import OutboxEntry, StoredEvent, row_to_event

log = logging.getLogger(__name__)


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


class OutboxRelay:
    LEASE = "outbox-relay"

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        after_publish: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._after_publish = after_publish  # a test hook to kill the process at the worst time
        self._producer: Any = None
        self._known_topics: set[str] = set()
        self.published = 0
        self._lease_renewed_at = float("-inf")

    @property
    def producer(self) -> Any:
        if self._producer is None:
            self._producer = make_producer(self.settings)
        return self._producer

    def relay_once(self, limit: int | None = None) -> int:
        """Publish one batch of unpublished events; returns how many were published."""
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
            batch = [(row_to_event(r), self.settings.topic_for(cat)) for r, cat in rows]
            s.rollback()
        if not batch:
            return 0
        topics = {topic for _, topic in batch}
        if not topics <= self._known_topics:
            ensure_topics(self.settings, topics - self._known_topics)
            self._known_topics |= topics
        placed = self._publish(batch)
        if self._after_publish is not None:
            self._after_publish([p for p, _, _ in placed])
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
        return len(placed)

    @network_retry
    def _publish(self, batch: list[tuple[Any, str]]) -> list[tuple[int, int, int]]:
        futures = []
        for event, topic in batch:
            futures.append(
                (
                    event.position,
                    self.producer.send(
                        topic,
                        key=event.stream_id.encode(),
                        value=event.to_json(),
                        headers=[
                            ("type", event.type.encode()),
                            ("schema_version", str(event.schema_version).encode()),
                            ("event_id", str(event.event_id).encode()),
                            ("content-type", b"application/json"),
                        ],
                    ),
                )
            )
        self.producer.flush()
        placed = []
        for position, future in futures:
            meta = future.get(timeout=30)
            placed.append((position, meta.partition, meta.offset))
        return placed

    def publish_pending(self) -> int:
        """Publish batches until nothing is left (tools, tests, benchmarks); returns the count."""
        total = 0
        while published := self.relay_once():
            total += published
        return total

    def pending(self) -> int:
        from sqlalchemy import func

        with self.sessions() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.published_at.is_(None))
                )
                or 0
            )

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
