"""Consumers of the event log: projections (read models) and processors (reactions).

A :class:`Projection` applies events to its read-model tables; a :class:`Processor` reacts to
events (moderate a prompt, generate a video) by appending events of its own. Both are run by a
:class:`Runner`, which makes the effect of a consumer equal to applying every stored event of
its categories exactly once, in stream order, whatever the transport does.

How (the terms are pyeventsourcing's, see docs/events.md):

- The event store is the *notification log*: gap-free global positions in commit order. Kafka
  is only a low-latency way of hearing about new events, and may redeliver, reorder across
  partitions, republish old events after new ones, lose events, or start its offsets again.
- *Tracking* is kept per stream: the last version of each stream the consumer applied
  (:class:`StreamTracking`), plus a *watermark* (:class:`ConsumerWatermark`): every event of
  the consumer's categories at or below that store position is applied. Tracking is written in
  the same transaction as the read model (projections) or as the appended reactions
  (processors): a *process recorder*. So an event is applied iff its position is at or below
  the watermark or its version is at or below its stream's tracked version.
- A delivered event that is already applied is skipped, whatever its offset. One that skips
  versions of its stream (version n+2 before n+1) first applies the missing versions, read
  from the store: a gap is healed, never skipped.
- A *catch-up* pass reads the store after the watermark, applies every event the transport has
  not delivered within a grace period, and advances the watermark over applied events. That
  heals everything the transport lost (a broker restarted empty, a new cluster, a recreated
  topic), and it is reported (a warning and ``RunStats.caught_up``).

With the embedded SQL tail the transport is the store itself, read in position order, so the
watermark simply follows it and no catch-up pass is needed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    and_,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.db import Base, transaction, utc
from core.deadletters import record_dead_letter
from core.events import (
    SYSTEM_ACTOR,
    Actor,
    EventPayload,
    NewEvent,
    RecordedEvent,
    derived_event_id,
    utcnow,
)
from core.log import STORE_SOURCE, Delivery, EventLogConsumer
from core.store import EventStore, StoredEvent, row_to_event

log = logging.getLogger(__name__)


class ConsumerWatermark(Base):
    """Every event of the consumer's categories at or below ``position`` is applied.

    The row is also the consumer's mutex: each transaction that applies events locks it first,
    so members of one consumer group never apply the same event twice.
    """

    __tablename__ = "consumer_watermarks"

    consumer: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class StreamTracking(Base):
    """The last version of one stream that one consumer applied."""

    __tablename__ = "stream_tracking"

    consumer: Mapped[str] = mapped_column(String(128), primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(264), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class DeadLetter(Base):
    """An event a consumer gave up on after retries; kept so nothing is silently lost, and
    published as ``EventDeadLettered`` (core/deadletters.py)."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    event_id: Mapped[Any] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_type: Mapped[str] = mapped_column(String(128), nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # set when an operator's retry applied it (core/deadletters.py); the row stays as history
    retried_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


Handler = Callable[[Any, Session, RecordedEvent], None]


def handles(*event_types: str | type[EventPayload]) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of these event types: their payload classes
    (a published contract's, so a renamed event fails at import) or, for a domain's own
    events, their names."""
    names = tuple(t if isinstance(t, str) else t.event_type_name for t in event_types)
    if not all(names):
        raise TypeError(f"handles(): {event_types!r} names a class not declared as an event type")

    def decorate(fn: Handler) -> Handler:
        fn.__handles__ = names  # type: ignore[attr-defined]
        return fn

    return decorate


class Consumer(ABC):
    name: ClassVar[str]
    categories: ClassVar[tuple[str, ...]]


class Projection(Consumer):
    """A read model. Subclasses set ``name``, ``categories`` and ``tables``, and mark their
    handler methods with :func:`handles`. Handlers must derive every value from the event
    (use ``event.occurred_at``, never the wall clock), so that a rebuild equals the live state.
    They may rely on the order of each stream, never on the order across streams.
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

    def on_idle(self) -> None:
        """Called when a poll found nothing new: a moment to persist throttled state."""


@dataclass
class Append:
    """Events a processor wants appended, written atomically with its tracking.

    ``expected_version`` has no default: a reaction states the version of the stream it read
    (None, "any version", has to be asked for), so two writers on one stream show up as a
    conflict instead of interleaving.
    """

    stream_id: str
    events: Sequence[EventPayload | NewEvent]
    expected_version: int | None
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
    healed: int = 0  # applied from the store to fill a gap in a stream
    caught_up: int = 0  # applied from the store because the transport had not delivered them
    dead_lettered: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


# -- tracking ----------------------------------------------------------------------------------


def _insert_for(session: Session) -> Any:
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


def ensure_watermark(session: Session, consumer: str) -> None:
    insert = _insert_for(session)
    session.execute(
        insert(ConsumerWatermark)
        .values(consumer=consumer, position=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["consumer"])
    )


@dataclass
class Tracking:
    """What one consumer has applied, for the streams of the events at hand."""

    consumer: str
    watermark: int
    versions: dict[str, int]
    changed: dict[str, int] = field(default_factory=dict)
    watermark_changed: bool = False

    def applied(self, event: RecordedEvent) -> bool:
        return event.position <= self.watermark or event.stream_version <= self.versions.get(
            event.stream_id, 0
        )

    def mark(self, event: RecordedEvent) -> None:
        if event.stream_version > self.versions.get(event.stream_id, 0):
            self.versions[event.stream_id] = event.stream_version
            self.changed[event.stream_id] = event.stream_version

    def advance(self, position: int) -> None:
        if position > self.watermark:
            self.watermark = position
            self.watermark_changed = True


def load_tracking(
    session: Session, consumer: str, stream_ids: Iterable[str], *, lock: bool
) -> Tracking:
    """The consumer's watermark and the tracked versions of ``stream_ids``. With ``lock`` the
    watermark row is locked until the transaction ends (see :class:`ConsumerWatermark`)."""
    stmt = select(ConsumerWatermark.position).where(ConsumerWatermark.consumer == consumer)
    if lock:
        stmt = stmt.with_for_update()
    watermark = session.scalar(stmt)
    if watermark is None:
        ensure_watermark(session, consumer)
        watermark = session.scalar(stmt) or 0
    ids = sorted(set(stream_ids))
    versions: dict[str, int] = {}
    for chunk in range(0, len(ids), 500):
        versions.update(
            session.execute(
                select(StreamTracking.stream_id, StreamTracking.version).where(
                    StreamTracking.consumer == consumer,
                    StreamTracking.stream_id.in_(ids[chunk : chunk + 500]),
                )
            ).all()
        )
    return Tracking(consumer, int(watermark), versions)


def save_tracking(session: Session, tracking: Tracking) -> None:
    if tracking.changed:
        insert = _insert_for(session)
        stmt = insert(StreamTracking)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["consumer", "stream_id"],
                set_={"version": stmt.excluded.version},
            ),
            [
                {"consumer": tracking.consumer, "stream_id": sid, "version": version}
                for sid, version in tracking.changed.items()
            ],
        )
        tracking.changed = {}
    if tracking.watermark_changed:
        session.execute(
            update(ConsumerWatermark)
            .where(
                ConsumerWatermark.consumer == tracking.consumer,
                ConsumerWatermark.position < tracking.watermark,
            )
            .values(position=tracking.watermark, updated_at=utcnow())
        )
        tracking.watermark_changed = False


def forget_tracking(session: Session, consumer: str) -> None:
    """Drop what the consumer applied (a rebuild starts again). The watermark row stays, set
    to 0, so a member waiting on its lock finds it still there and locked after the rebuild."""
    session.execute(delete(StreamTracking).where(StreamTracking.consumer == consumer))
    ensure_watermark(session, consumer)
    session.execute(
        update(ConsumerWatermark)
        .where(ConsumerWatermark.consumer == consumer)
        .values(position=0, updated_at=utcnow())
    )


def track_everything_up_to(
    session: Session, consumer: str, categories: Iterable[str], position: int
) -> None:
    """Record that every event of ``categories`` up to ``position`` is applied (a rebuild)."""
    cats = list(categories)
    session.execute(
        _insert_for(session)(StreamTracking).from_select(
            ["consumer", "stream_id", "version"],
            select(
                literal(consumer, String).label("consumer"),
                StoredEvent.stream_id,
                func.max(StoredEvent.version),
            )
            .where(StoredEvent.category.in_(cats), StoredEvent.position <= position)
            .group_by(StoredEvent.stream_id),
        )
    )
    ensure_watermark(session, consumer)
    session.execute(
        update(ConsumerWatermark)
        .where(ConsumerWatermark.consumer == consumer)
        .values(position=position, updated_at=utcnow())
    )


def _unapplied_after(
    session: Session, consumer: str, categories: Sequence[str], after: int, limit: int
) -> list[tuple[int, datetime, bool]]:
    """(position, occurred_at, applied) of the consumer's events after ``after``."""
    rows = session.execute(
        select(
            StoredEvent.position,
            StoredEvent.occurred_at,
            StoredEvent.version <= func.coalesce(StreamTracking.version, 0),
        )
        .outerjoin(
            StreamTracking,
            and_(
                StreamTracking.consumer == consumer,
                StreamTracking.stream_id == StoredEvent.stream_id,
            ),
        )
        .where(StoredEvent.category.in_(list(categories)), StoredEvent.position > after)
        .order_by(StoredEvent.position)
        .limit(limit)
    ).all()
    return [(int(p), at, bool(done)) for p, at, done in rows]


def _retry_transaction() -> Retrying:
    """Redo a transaction that lost a race or its connection: a failed one wrote nothing."""
    return Retrying(
        retry=retry_if_exception_type(DBAPIError),
        stop=stop_after_attempt(5),
        wait=wait_exponential(multiplier=0.05, max=2),
        reraise=True,
    )


class _Stopping(Exception):
    """Raised between two reactions once the worker was asked to stop."""


class Runner:
    """Runs one consumer (projection or processor) over one event-log consumer.

    ``catch_up_grace_s`` is how long the transport gets to deliver an event before the runner
    applies it from the store itself; None means the transport is the store (the SQL tail).
    """

    def __init__(
        self,
        consumer: Projection | Processor,
        log_factory: Callable[[], EventLogConsumer],
        store: EventStore,
        *,
        batch_size: int = 500,
        poll_timeout_s: float = 0.5,
        catch_up_grace_s: float | None = None,
        catch_up_interval_s: float = 2.0,
    ) -> None:
        self.consumer = consumer
        self.log_factory = log_factory
        self.log = log_factory()
        self.store = store
        self.sessions = store.sessions
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.catch_up_grace_s = catch_up_grace_s
        self.catch_up_interval_s = catch_up_interval_s
        self.stats = RunStats()
        self._started = False
        self._last_catch_up = float("-inf")
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        # Set by run_forever: a processor's batch can take minutes (the prompt gate under load),
        # so reactions stop between events instead of at the end of the batch.
        self._stop: threading.Event | None = None

    @property
    def name(self) -> str:
        return self.consumer.name

    def watermark(self) -> int:
        with self.store.read_sessions() as s:
            return int(
                s.scalar(
                    select(ConsumerWatermark.position).where(
                        ConsumerWatermark.consumer == self.name
                    )
                )
                or 0
            )

    def start(self) -> None:
        if not self._started:
            with transaction(self.sessions) as s:
                ensure_watermark(s, self.name)
            self.log.start(self.watermark())
            self._started = True

    def run_once(self, timeout_s: float | None = None) -> int:
        """Poll one batch and process it, and catch up from the store when it is time; returns
        the number of events seen."""
        self.start()
        deliveries = self.log.poll(
            self.poll_timeout_s if timeout_s is None else timeout_s, self.batch_size
        )
        if deliveries:
            self.process(deliveries, contiguous=self.log.contiguous)
        elif isinstance(self.consumer, Projection):
            self.consumer.on_idle()
        seen = len(deliveries)
        if (
            self.catch_up_grace_s is not None
            and time.monotonic() - self._last_catch_up >= self.catch_up_interval_s
        ):
            seen += self.catch_up()
        return seen

    def process(self, deliveries: Sequence[Delivery], *, contiguous: bool = False) -> None:
        """Apply deliveries in any order, each event once, and acknowledge them to the log.

        ``contiguous``: these are all the events of the categories after the watermark, in
        position order (the SQL tail), so the watermark moves to the last of them.
        """
        if not deliveries:
            return
        try:
            self._apply([d.event for d in deliveries], contiguous=contiguous)
        except _Stopping:
            # Nothing of this batch is acknowledged: the log redelivers it, and what was applied
            # before the stop is tracked, so it is skipped then.
            return
        transported = [d.cursor for d in deliveries if d.cursor.source != STORE_SOURCE]
        if transported:
            self.log.acknowledge(transported)
        self.stats.batches += 1

    def _apply(self, events: Sequence[RecordedEvent], *, contiguous: bool) -> None:
        if isinstance(self.consumer, Projection):
            self._project(self.consumer, events, contiguous)
        else:
            for e in events:
                if self._stop is not None and self._stop.is_set():
                    raise _Stopping
                self._react(self.consumer, e, contiguous)

    def catch_up(self, grace_s: float | None = None) -> int:
        """Apply the events of the store the transport has not delivered within ``grace_s``
        and advance the watermark over what is applied; returns how many were applied.

        One member of a consumer group does this at a time (a lease), so a lost event is
        reacted to once, not by every member.
        """
        from core.outbox import acquire_lease

        self._last_catch_up = time.monotonic()
        grace = self.catch_up_grace_s if grace_s is None else grace_s
        grace = 0.0 if grace is None else grace
        if not acquire_lease(
            self.sessions, self._lease, self._holder, max(10.0, 5 * self.catch_up_interval_s)
        ):
            return 0
        applied = 0
        while True:
            with self.store.read_sessions() as s:
                after = int(
                    s.scalar(
                        select(ConsumerWatermark.position).where(
                            ConsumerWatermark.consumer == self.name
                        )
                    )
                    or 0
                )
                rows = _unapplied_after(
                    s, self.name, self.consumer.categories, after, self.batch_size
                )
            if not rows:
                return applied
            cutoff = utcnow() - timedelta(seconds=grace)
            missing = [p for p, at, done in rows if not done and utc(at) <= cutoff]
            if missing:
                events = self._read_positions(missing)
                log.warning(
                    "%s: catching up %d event(s) from the store that the transport did not "
                    "deliver (positions %d..%d)",
                    self.name,
                    len(events),
                    missing[0],
                    missing[-1],
                )
                self._apply(events, contiguous=False)
                self.stats.caught_up += len(events)
                applied += len(events)
            taken = set(missing)
            reach = after
            for position, _at, done in rows:
                if not (done or position in taken):
                    break
                reach = position
            if reach > after:
                for attempt in _retry_transaction():
                    with attempt, transaction(self.sessions) as s:
                        t = load_tracking(s, self.name, (), lock=True)
                        t.advance(reach)
                        save_tracking(s, t)
            if reach < rows[-1][0] or len(rows) < self.batch_size:
                return applied

    def _read_positions(self, positions: Sequence[int]) -> list[RecordedEvent]:
        with self.store.read_sessions() as s:
            rows = s.scalars(
                select(StoredEvent)
                .where(StoredEvent.position.in_(list(positions)))
                .order_by(StoredEvent.position)
            ).all()
            return [row_to_event(r) for r in rows]

    def run_until_idle(self, idle_s: float = 0.5, max_s: float = 60.0) -> RunStats:
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline and self.run_once(idle_s):
            pass
        return self.stats

    def run_forever(self, stop: threading.Event) -> None:
        self._stop = stop
        while not stop.is_set():
            try:
                self.run_once()
            except _Stopping:
                break
            except Exception as exc:
                # Keep the worker alive. Events polled but not committed are not lost: they are
                # redelivered, or applied from the store by the catch-up pass.
                self.stats.errors.append(repr(exc))
                log.exception("%s: batch failed; resuming", self.name)
                stop.wait(1.0)
                self.reconnect()
        self.close()

    def reconnect(self) -> None:
        try:
            self.log.close()
        except Exception:
            log.warning("%s: closing the log consumer failed", self.name, exc_info=True)
        self.log = self.log_factory()
        self._started = False

    def close(self) -> None:
        self.log.close()
        if self.catch_up_grace_s is not None:
            self._release_lease()

    @property
    def _lease(self) -> str:
        return f"catch-up:{self.name}"[:64]

    def _release_lease(self) -> None:
        from core.outbox import Lease

        try:
            with transaction(self.sessions) as s:
                s.execute(
                    update(Lease)
                    .where(Lease.name == self._lease, Lease.holder == self._holder)
                    .values(expires_at=utcnow())
                )
        except Exception:  # an unreleased lease only delays the next holder until it expires
            log.warning("%s: could not release the catch-up lease", self.name, exc_info=True)

    # -- projections -------------------------------------------------------------------------

    def _missing_before(
        self, session: Session, tracking: Tracking, event: RecordedEvent
    ) -> list[RecordedEvent]:
        """The versions of ``event``'s stream before it that are not applied yet (a gap)."""
        known = tracking.versions.get(event.stream_id, 0)
        if event.stream_version <= known + 1:
            return []
        earlier = self.store.read_stream(event.stream_id, from_version=known + 1, session=session)
        return [
            e
            for e in earlier
            if e.stream_version < event.stream_version and not tracking.applied(e)
        ]

    def _project(
        self, projection: Projection, events: Sequence[RecordedEvent], contiguous: bool
    ) -> None:
        try:
            for attempt in _retry_transaction():
                with attempt:
                    stats = RunStats()
                    with transaction(self.sessions) as s:
                        self._project_batch(s, projection, events, contiguous, stats, False)
                    self._count(stats)
        except Exception:
            # One bad event must not stall the rest: redo the batch one event at a time, each
            # in a savepoint, and dead-letter the events whose handler fails.
            log.warning("%s: batch failed, applying event by event", self.name, exc_info=True)
            stats = RunStats()
            with transaction(self.sessions) as s:
                self._project_batch(s, projection, events, contiguous, stats, True)
            self._count(stats)
        projection.after_commit()

    def _project_batch(
        self,
        s: Session,
        projection: Projection,
        events: Sequence[RecordedEvent],
        contiguous: bool,
        stats: RunStats,
        isolate: bool,
    ) -> None:
        tracking = load_tracking(s, self.name, (e.stream_id for e in events), lock=True)
        for event in events:
            if tracking.applied(event):
                stats.skipped += 1
                continue
            for earlier in self._missing_before(s, tracking, event):
                self._apply_one(s, projection, tracking, earlier, stats, isolate)
                stats.healed += 1
            self._apply_one(s, projection, tracking, event, stats, isolate)
            stats.applied += 1
        if contiguous:
            tracking.advance(max(e.position for e in events))
        save_tracking(s, tracking)

    def _apply_one(
        self,
        s: Session,
        projection: Projection,
        tracking: Tracking,
        event: RecordedEvent,
        stats: RunStats,
        isolate: bool,
    ) -> None:
        if not isolate:
            projection.apply(s, event)
        else:
            try:
                with s.begin_nested():
                    projection.apply(s, event)
            except Exception as exc:
                log.error(
                    "%s: dead-lettering %s (%s): %s", self.name, event.event_id, event.type, exc
                )
                record_dead_letter(s, self.store, self.name, event, exc)
                stats.dead_lettered += 1
                stats.applied -= 1
        tracking.mark(event)

    def _count(self, stats: RunStats) -> None:
        self.stats.applied += stats.applied
        self.stats.skipped += stats.skipped
        self.stats.healed += stats.healed
        self.stats.dead_lettered += stats.dead_lettered

    # -- processors --------------------------------------------------------------------------

    def _react(self, processor: Processor, event: RecordedEvent, contiguous: bool) -> None:
        with self.store.read_sessions() as s:
            tracking = load_tracking(s, self.name, [event.stream_id], lock=False)
            if tracking.applied(event):
                self.stats.skipped += 1
                if contiguous:
                    self._advance_watermark(event.position)
                return
            missing = self._missing_before(s, tracking, event)
        for earlier in missing:
            self._react_once(processor, earlier, contiguous=False)
            self.stats.healed += 1
        self._react_once(processor, event, contiguous)

    def _advance_watermark(self, position: int) -> None:
        for attempt in _retry_transaction():
            with attempt, transaction(self.sessions) as s:
                t = load_tracking(s, self.name, (), lock=True)
                t.advance(position)
                save_tracking(s, t)

    def _react_once(self, processor: Processor, event: RecordedEvent, contiguous: bool) -> None:
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(processor.max_attempts),
                wait=wait_exponential(multiplier=0.1, max=2),
                reraise=True,
            ):
                with attempt:
                    appends = processor.handle(event)
                    done = self._commit_reaction(processor, event, appends, None, contiguous)
        except Exception as exc:
            log.error(
                "%s: giving up on %s (%s) after %d attempts: %s",
                self.name,
                event.event_id,
                event.type,
                processor.max_attempts,
                exc,
            )
            done = self._commit_reaction(
                processor, event, processor.on_dead_letter(event, exc), exc, contiguous
            )
            if done:
                self.stats.dead_lettered += 1
            return
        if done:
            self.stats.applied += 1
        else:
            self.stats.skipped += 1

    def _commit_reaction(
        self,
        processor: Processor,
        event: RecordedEvent,
        appends: Sequence[Append],
        failed: BaseException | None,
        contiguous: bool,
    ) -> bool:
        """Append the reaction and track the event in one transaction; False if another member
        of the group got there first."""
        with transaction(self.sessions) as s:
            tracking = load_tracking(s, self.name, [event.stream_id], lock=True)
            if tracking.applied(event):
                return False
            for n, append in enumerate(appends):
                events = [
                    e
                    if isinstance(e, NewEvent)
                    else NewEvent(
                        e,
                        derived_event_id(event.event_id, f"{self.name}/{n}/{append.stream_id}", i),
                    )
                    for i, e in enumerate(append.events)
                ]
                self.store.append(
                    append.stream_id,
                    events,
                    expected_version=append.expected_version,
                    actor=append.actor,
                    causation=event,
                    session=s,
                )
            if failed is not None:
                record_dead_letter(s, self.store, self.name, event, failed)
            tracking.mark(event)
            if contiguous:
                tracking.advance(event.position)
            save_tracking(s, tracking)
            return True


def make_runner(
    consumer: Projection | Processor, services: Any, *, group_suffix: str = ""
) -> Runner:
    from core.log import make_log_consumer

    def log_factory() -> EventLogConsumer:
        return make_log_consumer(
            services.settings, services.store, consumer.name + group_suffix, consumer.categories
        )

    settings = services.settings
    return Runner(
        consumer,
        log_factory,
        services.store,
        batch_size=settings.batch_size,
        catch_up_grace_s=settings.catch_up_grace_s if settings.uses_kafka else None,
        catch_up_interval_s=settings.catch_up_interval_s,
    )


def lag(services: Any, consumer: Consumer) -> int:
    """How many stored events of the consumer's categories it has not applied yet (with Kafka
    this includes the relay's backlog: the store, not the broker, says what exists)."""
    return consumer_status(services, consumer)["unapplied"]


def consumer_status(services: Any, consumer: Consumer) -> dict[str, Any]:
    """Where a consumer stands against the store: its watermark, the store's last position and
    the events not applied yet, per category and in all, and its dead letters."""
    with services.read_sessions() as s:
        watermark = int(
            s.scalar(
                select(ConsumerWatermark.position).where(
                    ConsumerWatermark.consumer == consumer.name
                )
            )
            or 0
        )
        cats = list(consumer.categories)
        # one max() per category: each is a backward scan of ix_events_category_position
        heads = {
            c: int(
                s.scalar(
                    select(func.coalesce(func.max(StoredEvent.position), 0)).where(
                        StoredEvent.category == c
                    )
                )
                or 0
            )
            for c in cats
        }
        unapplied = dict(
            s.execute(
                select(StoredEvent.category, func.count())
                .outerjoin(
                    StreamTracking,
                    and_(
                        StreamTracking.consumer == consumer.name,
                        StreamTracking.stream_id == StoredEvent.stream_id,
                    ),
                )
                .where(
                    StoredEvent.category.in_(cats),
                    StoredEvent.position > watermark,
                    or_(
                        StreamTracking.version.is_(None),
                        StoredEvent.version > StreamTracking.version,
                    ),
                )
                .group_by(StoredEvent.category)
            ).all()
        )
        dead = int(
            s.scalar(
                select(func.count())
                .select_from(DeadLetter)
                .where(DeadLetter.consumer == consumer.name, DeadLetter.retried_at.is_(None))
            )
            or 0
        )
    return {
        "consumer": consumer.name,
        "watermark": watermark,
        "head": max(heads.values(), default=0),
        "unapplied": sum(int(n) for n in unapplied.values()),
        "dead_letters": dead,
        "categories": {c: {"head": heads[c], "unapplied": int(unapplied.get(c, 0))} for c in cats},
    }
