"""The event store: append with optimistic concurrency, gap-free global order, outbox.

Recorder guarantees (named after what they give, as in pyeventsourcing):
- per stream: versions 1..n, unique ``(stream_id, version)``; an append states the version it
  expects and fails with :class:`ConcurrencyConflict` if the stream moved on;
- total order: every event gets a global ``position``, gap-free and in commit order, so a reader
  tailing ``position > checkpoint`` can never skip an event that commits late;
- idempotent: appending events whose ids are already recorded returns the recorded events;
- outbox: each event's outbox row is written in the same transaction as the event;
- personal data sealed: the fields an event type declares personal are written encrypted with
  their subject's key and opened on every read, or read as a placeholder once the key is
  erased (core/privacy.py).
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import Base, transaction
from core.errors import ClearframeError, ConcurrencyConflict, Conflict, ValidationFailed
from core.events import (
    Actor,
    EventPayload,
    NewEvent,
    RecordedEvent,
    payload_to_dict,
    stream_category,
    utcnow,
)
from core.privacy import keyring_of, open_row_payload, seal_payload, sealing_spec
from core.transient import retry_transient

JsonType = JSON().with_variant(JSONB(), "postgresql")
MAX_EVENTS_PER_APPEND = 10_000


class StoredEvent(Base):
    __tablename__ = "events"

    stream_id: Mapped[str] = mapped_column(String(264), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, nullable=False)
    category: Mapped[str] = mapped_column(String(63), nullable=False)
    type: Mapped[str] = mapped_column(String(128), nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    correlation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    causation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    # Whose personal data the payload holds sealed (None: it holds none, and nothing to open).
    personal_subject: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (
        Index("ix_events_category_position", "category", "position"),
        Index("ix_events_type_position", "type", "position"),
        Index(
            "ix_events_personal_subject",
            "personal_subject",
            sqlite_where=personal_subject.is_not(None),
            postgresql_where=personal_subject.is_not(None),
        ),
    )


class EventStoreHead(Base):
    """One row holding the last global position; its row lock serialises appends."""

    __tablename__ = "event_store_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)


class OutboxEntry(Base):
    __tablename__ = "outbox"

    position: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.position", ondelete="CASCADE"), primary_key=True
    )
    topic_category: Mapped[str] = mapped_column(String(63), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    partition: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "position",
            sqlite_where=published_at.is_(None),
            postgresql_where=published_at.is_(None),
        ),
    )


# Core (not ORM) inserts: executemany without the ORM's per-row bookkeeping.
EVENTS_TABLE = cast(Table, StoredEvent.__table__)
OUTBOX_TABLE = cast(Table, OutboxEntry.__table__)


def _envelope(row: StoredEvent, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "type": row.type,
        "schema_version": row.schema_version,
        "stream_id": row.stream_id,
        "stream_version": row.version,
        "position": row.position,
        "occurred_at": row.occurred_at,
        "actor": {"id": row.actor_id, "role": row.actor_role},
        "correlation_id": row.correlation_id,
        "causation_id": row.causation_id,
        "payload": payload,
    }


def row_to_event(row: StoredEvent) -> RecordedEvent:
    """The recorded event of a row read in a session; sealed personal values are opened (or
    read as their placeholder once erased) before upcasting, with the session's keyring."""
    payload = row.payload if row.personal_subject is None else open_row_payload(row)
    return RecordedEvent.from_wire(_envelope(row, payload))


def row_to_stored_event(row: StoredEvent) -> RecordedEvent:
    """The event of a row as it is stored: its own schema version, no upcasting, and personal
    values still sealed. This is what goes on the wire (the relay), so a topic never holds
    personal data in the clear and an erasure reaches what the broker retains too."""
    return RecordedEvent.model_validate(_envelope(row, row.payload))


class _GroupCommitWriter:
    """Writes concurrent appends of one process in shared transactions.

    Appends are serialised by the head row's lock and each durable commit costs an fsync, so
    one transaction per append caps a process at roughly 1/fsync-latency appends per second.
    Here one thread takes every append waiting in the queue, runs each in its own savepoint
    (a conflict fails only that append and gives its positions back) and commits them
    together: one fsync for the group. Callers block until their append is durable.
    """

    def __init__(self, store: EventStore, max_group: int = 128) -> None:
        self.store = store
        self.max_group = max_group
        self.queue: queue.Queue[tuple[dict[str, Any], Future[list[RecordedEvent]]]] = queue.Queue()
        self.thread = threading.Thread(
            target=self._run, name="event-store-group-commit", daemon=True
        )
        self.thread.start()

    def submit(self, request: dict[str, Any]) -> list[RecordedEvent]:
        future: Future[list[RecordedEvent]] = Future()
        self.queue.put((request, future))
        return future.result()

    def _run(self) -> None:
        while True:
            group = [self.queue.get()]
            while len(group) < self.max_group:
                try:
                    group.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._write(group)

    def _write(self, group: list[tuple[dict[str, Any], Future[list[RecordedEvent]]]]) -> None:
        # No savepoints: an append that fails with a ClearframeError (conflict, bad input) has
        # written nothing and given its positions back. Any other error aborts the group, and
        # its appends are then written one transaction each so that one cannot sink the rest.
        done: list[tuple[Future[list[RecordedEvent]], list[RecordedEvent]]] = []
        failed: list[tuple[Future[list[RecordedEvent]], BaseException]] = []
        try:
            with transaction(self.store.sessions) as s:
                for request, future in group:
                    try:
                        done.append((future, self.store.append(**request, session=s)))
                    except ClearframeError as exc:
                        failed.append((future, exc))
        except Exception:
            if len(group) == 1:
                self._write_alone(*group[0])
            else:
                for request, future in group:
                    self._write_alone(request, future)
            return
        for future, result in done:
            future.set_result(result)
        for future, error in failed:
            future.set_exception(error)

    def _write_alone(self, request: dict[str, Any], future: Future[list[RecordedEvent]]) -> None:
        def alone() -> list[RecordedEvent]:
            with transaction(self.store.sessions) as s:
                return self.store.append(**request, session=s)

        try:
            result = retry_transient(alone)  # the ids are fixed: a repeat cannot write twice
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)


class EventStore:
    """Application recorder over one SQL database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        read_sessions: sessionmaker[Session] | None = None,
        group_commit: bool = False,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self._group_commit = group_commit
        self._writer: _GroupCommitWriter | None = None
        self._writer_lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        events: Sequence[EventPayload | NewEvent],
        *,
        expected_version: int | None,
        actor: Actor,
        correlation_id: uuid.UUID | None = None,
        causation: RecordedEvent | None = None,
        session: Session | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` to ``stream_id``; ``expected_version`` None means any version.

        With ``session`` the append joins the caller's transaction (a projection writing its
        checkpoint, a command writing a read model); otherwise it commits on its own, and a
        transient database failure is retried (core/transient.py).
        """
        # Ids are fixed once, before any retry: a repeat of an append that did commit (the
        # connection dropped on the way back) is recognised by them, and returns what was
        # recorded instead of a second copy.
        events = [e if isinstance(e, NewEvent) else NewEvent(e) for e in events]
        if session is None and self._group_commit:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = _GroupCommitWriter(self)
            return self._writer.submit(
                dict(
                    stream_id=stream_id,
                    events=events,
                    expected_version=expected_version,
                    actor=actor,
                    correlation_id=correlation_id,
                    causation=causation,
                )
            )
        if session is None:

            def own_transaction() -> list[RecordedEvent]:
                with transaction(self.sessions) as own:
                    return self.append(
                        stream_id,
                        events,
                        expected_version=expected_version,
                        actor=actor,
                        correlation_id=correlation_id,
                        causation=causation,
                        session=own,
                    )

            return retry_transient(own_transaction)
        category = stream_category(stream_id)
        new = [e if isinstance(e, NewEvent) else NewEvent(e) for e in events]
        if not new:
            raise ValidationFailed("nothing to append")
        if len(new) > MAX_EVENTS_PER_APPEND:
            raise ValidationFailed(f"at most {MAX_EVENTS_PER_APPEND} events per append")
        if expected_version is not None and expected_version < 0:
            raise ValidationFailed("expected_version must be >= 0")
        if len({e.event_id for e in new}) != len(new):
            raise ValidationFailed("duplicate event ids in one append")
        for e in new:
            if e.payload.category != category:
                raise ValidationFailed(
                    f"{e.payload.event_type_name} belongs to category {e.payload.category!r}, "
                    f"not to stream {stream_id!r}"
                )
        if causation is not None:
            correlation_id = causation.correlation_id
        correlation_id = correlation_id or new[0].event_id

        payloads = [payload_to_dict(e.payload) for e in new]  # as the caller sees them
        specs = [sealing_spec(session, e.payload, p) for e, p in zip(new, payloads, strict=True)]

        ids = [e.event_id for e in new]
        # Taking the positions first also takes the head row's lock (see _allocate).
        last = self._allocate(session, len(new))
        head = last - len(new)
        current, already = session.execute(
            select(
                select(func.coalesce(func.max(StoredEvent.version), 0))
                .where(StoredEvent.stream_id == stream_id)
                .scalar_subquery(),
                select(func.count()).where(StoredEvent.event_id.in_(ids)).scalar_subquery(),
            )
        ).one()
        if already or (expected_version is not None and current != expected_version):
            # Give the numbers back before failing or returning: in a shared (group-commit)
            # transaction nothing else would. We still hold the lock, so nobody took more.
            self._allocate(session, -len(new))
        if already:
            rows_found = session.scalars(
                select(StoredEvent)
                .where(StoredEvent.event_id.in_(ids))
                .order_by(StoredEvent.version)
            ).all()
            if len(rows_found) == len(new) and all(r.stream_id == stream_id for r in rows_found):
                return [row_to_event(r) for r in rows_found]
            raise Conflict("some of these event ids are already recorded elsewhere")
        if expected_version is not None and current != expected_version:
            raise ConcurrencyConflict(
                f"stream {stream_id} is at version {current}, expected {expected_version}",
                stream_id=stream_id,
                expected_version=expected_version,
                actual_version=current,
            )

        now = utcnow()
        causation_id = causation.event_id if causation else None
        rows: list[dict[str, Any]] = []
        for i, e in enumerate(new, start=1):
            # Sealed under the head lock: the subject's first key is created by one append only.
            stored, subject = seal_payload(session, specs[i - 1], payloads[i - 1])
            rows.append(
                {
                    "stream_id": stream_id,
                    "version": current + i,
                    "position": head + i,
                    "event_id": e.event_id,
                    "category": category,
                    "type": e.payload.event_type_name,
                    "schema_version": e.payload.schema_version,
                    "occurred_at": now,
                    "actor_id": actor.id,
                    "actor_role": actor.role,
                    "correlation_id": correlation_id,
                    "causation_id": causation_id,
                    "payload": stored,
                    "personal_subject": subject,
                }
            )
        # Core executemany: psycopg pipelines the rows, and the compiled statement is cached.
        session.execute(insert(EVENTS_TABLE), rows)
        session.execute(
            insert(OUTBOX_TABLE),
            [{"position": r["position"], "topic_category": category} for r in rows],
        )
        return [
            RecordedEvent(
                event_id=r["event_id"],
                type=r["type"],
                schema_version=r["schema_version"],
                stream_id=stream_id,
                stream_version=r["version"],
                position=r["position"],
                occurred_at=now,
                actor=actor,
                correlation_id=correlation_id,
                causation_id=causation_id,
                payload=payload,
            )
            for r, payload in zip(rows, payloads, strict=True)
        ]

    def _allocate(self, session: Session, n: int) -> int:
        """Move the head by ``n`` and return the new head position.

        The UPDATE takes the head row's lock and holds it until commit. That makes positions
        gap-free (a rolled-back append gives its numbers back) and makes commit order equal
        position order, so a reader tailing ``position > checkpoint`` never skips a
        transaction that commits late. On SQLite the IMMEDIATE transaction already holds the
        database's write lock.
        """
        head = session.execute(
            update(EventStoreHead)
            .where(EventStoreHead.id == 1)
            .values(position=EventStoreHead.position + n)
            .returning(EventStoreHead.position)
        ).scalar()
        if head is None:
            raise RuntimeError("event_store_head row missing: run `clearframe migrate`")
        return int(head)

    # -- reading ---------------------------------------------------------------------------

    def read_stream(
        self, stream_id: str, *, from_version: int = 1, session: Session | None = None
    ) -> list[RecordedEvent]:
        stmt = (
            select(StoredEvent)
            .where(StoredEvent.stream_id == stream_id, StoredEvent.version >= from_version)
            .order_by(StoredEvent.version)
        )
        return self._read(stmt, session)

    def stream_version(self, stream_id: str, session: Session | None = None) -> int:
        stmt = select(func.coalesce(func.max(StoredEvent.version), 0)).where(
            StoredEvent.stream_id == stream_id
        )
        return self._scalar(stmt, session)

    def read_all(
        self,
        *,
        after_position: int = 0,
        limit: int = 1000,
        categories: Iterable[str] | None = None,
        up_to_position: int | None = None,
        session: Session | None = None,
        types: Iterable[str] | None = None,
    ) -> list[RecordedEvent]:
        stmt = select(StoredEvent).where(StoredEvent.position > after_position)
        if categories is not None:
            stmt = stmt.where(StoredEvent.category.in_(list(categories)))
        if types is not None:
            stmt = stmt.where(StoredEvent.type.in_(list(types)))
        if up_to_position is not None:
            stmt = stmt.where(StoredEvent.position <= up_to_position)
        stmt = stmt.order_by(StoredEvent.position).limit(limit)
        return self._read(stmt, session)

    def read_latest(
        self,
        types: Iterable[str],
        *,
        actor_id: str | None = None,
        limit: int = 50,
        session: Session | None = None,
    ) -> list[RecordedEvent]:
        """The newest events of these types (by one actor, if given), newest first: an
        audit trail's "what did I do lately" without a read model of its own."""
        stmt = select(StoredEvent).where(StoredEvent.type.in_(list(types)))
        if actor_id is not None:
            stmt = stmt.where(StoredEvent.actor_id == actor_id)
        stmt = stmt.order_by(StoredEvent.position.desc()).limit(max(1, min(limit, 1000)))
        return self._read(stmt, session)

    def iter_all(
        self,
        *,
        categories: Iterable[str] | None = None,
        up_to_position: int | None = None,
        batch: int = 1000,
    ) -> Iterator[RecordedEvent]:
        cats = list(categories) if categories is not None else None
        after = 0
        while True:
            page = self.read_all(
                after_position=after, limit=batch, categories=cats, up_to_position=up_to_position
            )
            if not page:
                return
            yield from page
            after = page[-1].position

    def head_position(self, session: Session | None = None) -> int:
        stmt = select(func.coalesce(func.max(StoredEvent.position), 0))
        return self._scalar(stmt, session)

    def count(self, categories: Iterable[str] | None = None, session: Session | None = None) -> int:
        stmt = select(func.count()).select_from(StoredEvent)
        if categories is not None:
            stmt = stmt.where(StoredEvent.category.in_(list(categories)))
        return self._scalar(stmt, session)

    def _read(self, stmt: Any, session: Session | None) -> list[RecordedEvent]:
        if session is not None:
            return _to_events(session, session.scalars(stmt).all())

        def read() -> list[RecordedEvent]:
            with self.read_sessions() as s:
                return _to_events(s, s.scalars(stmt).all())

        return retry_transient(read)

    def _scalar(self, stmt: Any, session: Session | None) -> int:
        if session is not None:
            return int(session.scalar(stmt) or 0)

        def read() -> int:
            with self.read_sessions() as s:
                return int(s.scalar(stmt) or 0)

        return retry_transient(read)


def _to_events(session: Session, rows: Sequence[StoredEvent]) -> list[RecordedEvent]:
    subjects = {r.personal_subject for r in rows if r.personal_subject is not None}
    keyring = keyring_of(session)
    if subjects and keyring is not None:
        keyring.prefetch(session, subjects)  # one query for the page, not one per event
    return [row_to_event(r) for r in rows]
