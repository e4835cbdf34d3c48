"""Consumers of the event log: projections (read models) and processors (reactions).

A :class:`Projection` applies events to its read-model tables. The runner writes those changes
and the projection's checkpoint in one database transaction, so a redelivered or re-sent event
changes nothing, and any projection can be dropped and rebuilt by replay.

A :class:`Processor` reacts to events (moderate a prompt, generate a video): its slow work runs
outside any transaction, then the events it appends and its checkpoint are written in one
transaction. Appended events get ids derived from the causing event, so a reaction that is
repeated after a crash appends nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Integer, String, Table, Text, Uuid, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from tenacity import Retrying, stop_after_attempt, wait_exponential

from core.db import Base, transaction
from core.events import (
    SYSTEM_ACTOR,
    Actor,
    EventPayload,
    NewEvent,
    RecordedEvent,
    derived_event_id,
    utcnow,
)
from core.log import Delivery, EventLogConsumer
from core.store import EventStore

log = logging.getLogger(__name__)


class Checkpoint(Base):
    """How far a consumer got in one partition of one source."""

    __tablename__ = "checkpoints"

    consumer: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class DeadLetter(Base):
    """An event a consumer gave up on after retries; kept so nothing is silently lost."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    event_id: Mapped[Any] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_type: Mapped[str] = mapped_column(String(128), nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


Handler = Callable[[Any, Session, RecordedEvent], None]


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of the named event types."""

    def decorate(fn: Handler) -> Handler:
        fn.__handles__ = event_types  # type: ignore[attr-defined]
        return fn

    return decorate


class Consumer(ABC):
    name: ClassVar[str]
    categories: ClassVar[tuple[str, ...]]


class Projection(Consumer):
    """A read model. Subclasses set ``name``, ``categories`` and ``tables``, and mark their
    handler methods with :func:`handles`. Handlers must derive every value from the event
    (use ``event.occurred_at``, never the wall clock), so that a rebuild equals the live state.
    """

    tables: ClassVar[tuple[Table, ...]] = ()
    _dispatch: ClassVar[dict[str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dispatch: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                for event_type_name in getattr(value, "__handles__", ()):
                    dispatch[event_type_name] = attr
        cls._dispatch = dispatch

    @property
    def event_types(self) -> set[str]:
        return set(self._dispatch)

    def apply(self, session: Session, event: RecordedEvent) -> None:
        method = self._dispatch.get(event.type)
        if method is not None:
            getattr(self, method)(session, event)

    def reset(self, session: Session) -> None:
        """Forget all state (rebuild); the default empties ``tables``."""
        for table in reversed(self.tables):
            session.execute(delete(table))

    def after_commit(self) -> None:
        """Called after each committed batch (projections with state outside the DB)."""


@dataclass
class Append:
    """Events a processor wants appended, written atomically with its checkpoint."""

    stream_id: str
    events: Sequence[EventPayload | NewEvent]
    expected_version: int | None = None
    actor: Actor = SYSTEM_ACTOR


class Processor(Consumer):
    """A reaction to events. ``handle`` may be slow; it must not hold a transaction."""

    max_attempts: ClassVar[int] = 3

    @abstractmethod
    def handle(self, event: RecordedEvent) -> Sequence[Append]: ...

    def on_dead_letter(self, event: RecordedEvent, error: BaseException) -> Sequence[Append]:
        """Events to append when ``event`` failed ``max_attempts`` times (e.g. a *Failed)."""
        return ()


@dataclass
class RunStats:
    applied: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Progress:
    """Where a consumer is in one partition; kept in memory during a batch, written once at
    its end (an ORM object changed per event would be flushed before every handler query)."""

    offset: int
    last_position: int
    stored: bool


def _checkpoints(
    session: Session, consumer: str, keys: Iterable[tuple[str, int]], lock: bool
) -> dict[tuple[str, int], _Progress]:
    keys = set(keys)
    if not keys:
        return {}
    stmt = select(
        Checkpoint.source, Checkpoint.partition, Checkpoint.offset, Checkpoint.last_position
    ).where(Checkpoint.consumer == consumer, Checkpoint.source.in_({k[0] for k in keys}))
    if lock:
        stmt = stmt.with_for_update()
    return {
        (source, partition): _Progress(offset, last_position, True)
        for source, partition, offset, last_position in session.execute(stmt)
        if (source, partition) in keys
    }


def _already_applied(cp: _Progress | None, delivery: Delivery) -> bool:
    if cp is None:
        return False
    return delivery.cursor.offset <= cp.offset or delivery.event.position <= cp.last_position


def _advance(cps: dict[tuple[str, int], _Progress], d: Delivery) -> None:
    key = (d.cursor.source, d.cursor.partition)
    cp = cps.get(key)
    if cp is None:
        cps[key] = _Progress(d.cursor.offset, d.event.position, False)
    else:
        cp.offset = max(cp.offset, d.cursor.offset)
        cp.last_position = max(cp.last_position, d.event.position)


def _save_checkpoints(
    session: Session, consumer: str, cps: dict[tuple[str, int], _Progress], at: datetime
) -> None:
    from sqlalchemy import insert, update

    for (source, partition), cp in cps.items():
        values = {"offset": cp.offset, "last_position": cp.last_position, "updated_at": at}
        if cp.stored:
            session.execute(
                update(Checkpoint)
                .where(
                    Checkpoint.consumer == consumer,
                    Checkpoint.source == source,
                    Checkpoint.partition == partition,
                )
                .values(**values)
            )
        else:
            session.execute(
                insert(Checkpoint).values(
                    consumer=consumer, source=source, partition=partition, **values
                )
            )
            cp.stored = True


def _dead_letter(
    session: Session, consumer: str, event: RecordedEvent, error: BaseException
) -> None:
    session.add(
        DeadLetter(
            consumer=consumer,
            event_id=event.event_id,
            position=event.position,
            event_type=event.type,
            error="".join(traceback.format_exception_only(type(error), error)).strip()[:4000],
            failed_at=utcnow(),
        )
    )


class Runner:
    """Runs one consumer (projection or processor) over one event-log consumer."""

    def __init__(
        self,
        consumer: Projection | Processor,
        log_factory: Callable[[], EventLogConsumer],
        store: EventStore,
        *,
        batch_size: int = 500,
        poll_timeout_s: float = 0.5,
    ) -> None:
        self.consumer = consumer
        self.log_factory = log_factory
        self.log = log_factory()
        self.store = store
        self.sessions = store.sessions
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.stats = RunStats()
        self._started = False

    def resume_from(self, source: str, partition: int) -> int | None:
        with self.store.read_sessions() as s:
            cp = s.get(Checkpoint, (self.consumer.name, source, partition))
            return cp.offset if cp else None

    def start(self) -> None:
        if not self._started:
            self.log.start(self.resume_from)
            self._started = True

    def run_once(self, timeout_s: float | None = None) -> int:
        """Poll one batch and process it; returns the number of deliveries seen."""
        self.start()
        deliveries = self.log.poll(
            self.poll_timeout_s if timeout_s is None else timeout_s, self.batch_size
        )
        if deliveries:
            self.process(deliveries)
        return len(deliveries)

    def process(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        if isinstance(self.consumer, Projection):
            self._project(self.consumer, deliveries)
        else:
            for d in deliveries:
                self._react(self.consumer, d)
        self.log.acknowledge([d.cursor for d in deliveries])
        self.stats.batches += 1

    def run_until_idle(self, idle_s: float = 0.5, max_s: float = 60.0) -> RunStats:
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline and self.run_once(idle_s):
            pass
        return self.stats

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:
                # Keep the worker alive. Events polled but not committed are not lost: a fresh
                # log consumer resumes from the database checkpoint.
                self.stats.errors.append(repr(exc))
                log.exception("%s: batch failed; resuming from the checkpoint", self.consumer.name)
                stop.wait(1.0)
                self.reconnect()
        self.close()

    def reconnect(self) -> None:
        try:
            self.log.close()
        except Exception:
            log.warning("%s: closing the log consumer failed", self.consumer.name, exc_info=True)
        self.log = self.log_factory()
        self._started = False

    def close(self) -> None:
        self.log.close()

    # -- projections -------------------------------------------------------------------------

    def _project(self, projection: Projection, deliveries: Sequence[Delivery]) -> None:
        name = projection.name
        applied = skipped = 0
        try:
            with transaction(self.sessions) as s:
                cps = _checkpoints(
                    s, name, {(d.cursor.source, d.cursor.partition) for d in deliveries}, True
                )
                for d in deliveries:
                    if _already_applied(cps.get((d.cursor.source, d.cursor.partition)), d):
                        skipped += 1
                        continue
                    projection.apply(s, d.event)
                    _advance(cps, d)
                    applied += 1
                _save_checkpoints(s, name, cps, deliveries[-1].event.occurred_at)
            self.stats.applied += applied
            self.stats.skipped += skipped
        except Exception:
            # One bad event must not stall the rest: redo the batch one event at a time, each
            # in a savepoint, and dead-letter the events whose handler fails.
            log.warning("%s: batch failed, applying event by event", name, exc_info=True)
            self._project_one_by_one(projection, deliveries)
        projection.after_commit()

    def _project_one_by_one(self, projection: Projection, deliveries: Sequence[Delivery]) -> None:
        name = projection.name
        with transaction(self.sessions) as s:
            cps = _checkpoints(
                s, name, {(d.cursor.source, d.cursor.partition) for d in deliveries}, True
            )
            for d in deliveries:
                if _already_applied(cps.get((d.cursor.source, d.cursor.partition)), d):
                    self.stats.skipped += 1
                    continue
                try:
                    with s.begin_nested():
                        projection.apply(s, d.event)
                    self.stats.applied += 1
                except Exception as exc:
                    log.error(
                        "%s: dead-lettering %s (%s): %s", name, d.event.event_id, d.event.type, exc
                    )
                    _dead_letter(s, name, d.event, exc)
                    self.stats.dead_lettered += 1
                _advance(cps, d)
            _save_checkpoints(s, name, cps, deliveries[-1].event.occurred_at)

    # -- processors --------------------------------------------------------------------------

    def _react(self, processor: Processor, d: Delivery) -> None:
        name = processor.name
        key = (d.cursor.source, d.cursor.partition)
        with self.store.read_sessions() as s:
            seen = _already_applied(_checkpoints(s, name, [key], False).get(key), d)
        if seen:
            self.stats.skipped += 1
            return
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(processor.max_attempts),
                wait=wait_exponential(multiplier=0.1, max=2),
                reraise=True,
            ):
                with attempt:
                    appends = processor.handle(d.event)
                    self._commit_reaction(processor, d, appends, failed=None)
            self.stats.applied += 1
        except Exception as exc:
            log.error(
                "%s: giving up on %s (%s) after %d attempts: %s",
                name,
                d.event.event_id,
                d.event.type,
                processor.max_attempts,
                exc,
            )
            self._commit_reaction(processor, d, processor.on_dead_letter(d.event, exc), failed=exc)
            self.stats.dead_lettered += 1

    def _commit_reaction(
        self,
        processor: Processor,
        d: Delivery,
        appends: Sequence[Append],
        failed: BaseException | None,
    ) -> None:
        name = processor.name
        key = (d.cursor.source, d.cursor.partition)
        with transaction(self.sessions) as s:
            cps = _checkpoints(s, name, [key], True)
            if _already_applied(cps.get(key), d):
                return
            for n, append in enumerate(appends):
                events = [
                    e
                    if isinstance(e, NewEvent)
                    else NewEvent(
                        e, derived_event_id(d.event.event_id, f"{name}/{n}/{append.stream_id}", i)
                    )
                    for i, e in enumerate(append.events)
                ]
                self.store.append(
                    append.stream_id,
                    events,
                    expected_version=append.expected_version,
                    actor=append.actor,
                    causation=d.event,
                    session=s,
                )
            if failed is not None:
                _dead_letter(s, name, d.event, failed)
            _advance(cps, d)
            _save_checkpoints(s, name, cps, d.event.occurred_at)


def make_runner(
    consumer: Projection | Processor, services: Any, *, group_suffix: str = ""
) -> Runner:
    from core.log import make_log_consumer

    def log_factory() -> EventLogConsumer:
        return make_log_consumer(
            services.settings, services.store, consumer.name + group_suffix, consumer.categories
        )

    return Runner(consumer, log_factory, services.store, batch_size=services.settings.batch_size)


def lag(services: Any, consumer: Consumer) -> int:
    """How many events of the consumer's categories it has not applied yet.

    With Kafka this counts only events the relay already published (the others are the relay's
    backlog, see ``OutboxRelay.pending``).
    """
    from sqlalchemy import func

    from core.log import SQL_SOURCE
    from core.store import OutboxEntry, StoredEvent

    with services.read_sessions() as s:
        cps = {
            (c.source, c.partition): c.last_position
            for c in s.scalars(select(Checkpoint).where(Checkpoint.consumer == consumer.name))
        }
        if not services.settings.uses_kafka:
            done = cps.get((SQL_SOURCE, 0), 0)
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(StoredEvent)
                    .where(
                        StoredEvent.category.in_(consumer.categories), StoredEvent.position > done
                    )
                )
                or 0
            )
        behind = 0
        groups = s.execute(
            select(StoredEvent.category, OutboxEntry.partition)
            .join(OutboxEntry, OutboxEntry.position == StoredEvent.position)
            .where(
                OutboxEntry.published_at.is_not(None), StoredEvent.category.in_(consumer.categories)
            )
            .group_by(StoredEvent.category, OutboxEntry.partition)
        ).all()
        for category, partition in groups:
            done = cps.get((services.settings.topic_for(category), partition), 0)
            behind += int(
                s.scalar(
                    select(func.count())
                    .select_from(StoredEvent)
                    .join(OutboxEntry, OutboxEntry.position == StoredEvent.position)
                    .where(
                        StoredEvent.category == category,
                        OutboxEntry.partition == partition,
                        OutboxEntry.published_at.is_not(None),
                        StoredEvent.position > done,
                    )
                )
                or 0
            )
        return behind
