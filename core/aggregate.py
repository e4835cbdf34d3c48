"""One shape for every command: fold a stream into a state, decide, append at that version.

An aggregate is three pure parts: an initial state, ``evolve(state, event) -> state`` and
``decide(state, command) -> events``. :func:`execute` is the one handler that runs them: it
loads the stream, folds it, asks ``decide``, and appends what was decided with the version it
read as the expected version. When another writer got there first the append is a
:class:`~core.errors.ConcurrencyConflict`; the command is then decided again on the fresh
state (tenacity), so a decision always rests on the stream as it was when it was appended.

A processor that reacts by writing to an aggregate of its own calls :func:`decide_append`
instead: it returns the :class:`~core.projections.Append`, carrying the expected version, that
the runner commits with the processor's tracking (a conflict there makes the runner call the
processor again, on fresh state). Projections may reuse ``evolve`` to build read models.

A command that decides on several aggregates at once (an action that also closes a case and
tells people about it) runs in :func:`transact`: every load and append inside it shares one
database transaction and one correlation id, and a lost race on any of its streams decides
the whole command again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from core.db import transaction
from core.errors import ConcurrencyConflict
from core.events import SYSTEM_ACTOR, Actor, EventPayload, NewEvent, RecordedEvent, stream_id
from core.projections import Append
from core.store import EventStore

S = TypeVar("S")
R = TypeVar("R")
C_contra = TypeVar("C_contra", contravariant=True)

# How often a command is decided again after losing a race for its stream.
CONFLICT_ATTEMPTS = 5


class Aggregate(Protocol[S, C_contra]):
    """The pure parts of an aggregate; ``category`` names its streams (``<category>-<key>``)."""

    category: str

    def initial(self) -> S: ...

    def evolve(self, state: S, event: RecordedEvent) -> S: ...

    def decide(self, state: S, command: C_contra) -> Sequence[EventPayload | NewEvent]: ...


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S
    version: int  # 0: the stream does not exist yet


def fold(aggregate: Aggregate[S, Any], events: Iterable[RecordedEvent]) -> Loaded[S]:
    state, version = aggregate.initial(), 0
    for event in events:
        state, version = aggregate.evolve(state, event), event.stream_version
    return Loaded(state, version)


def load(
    store: EventStore, aggregate: Aggregate[S, Any], key: str, session: Session | None = None
) -> Loaded[S]:
    return fold(aggregate, store.read_stream(stream_id(aggregate.category, key), session=session))


def load_latest(
    store: EventStore, aggregate: Aggregate[S, Any], key: str, session: Session | None = None
) -> Loaded[S]:
    """Fold only the stream's last event: for an aggregate whose state is a function of that
    event alone (its ``evolve`` ignores the state it is given), so a long stream costs one read."""
    sid = stream_id(aggregate.category, key)
    version = store.stream_version(sid, session=session)
    if version == 0:
        return Loaded(aggregate.initial(), 0)
    return fold(aggregate, store.read_stream(sid, from_version=version, session=session))


def _conflict_retries(attempts: int) -> Retrying:
    return Retrying(
        retry=retry_if_exception_type(ConcurrencyConflict),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=0.005, max=0.1),
        reraise=True,
    )


def execute(
    store: EventStore,
    aggregate: Aggregate[S, C_contra],
    key: str,
    command: C_contra,
    *,
    actor: Actor = SYSTEM_ACTOR,
    causation: RecordedEvent | None = None,
    attempts: int = CONFLICT_ATTEMPTS,
) -> list[RecordedEvent]:
    """Decide ``command`` on the aggregate's current state and append the decision.

    Returns what was appended (nothing when ``decide`` found nothing to do). The domain errors
    ``decide`` raises pass through unchanged; a lost race is retried up to ``attempts`` times
    and then surfaces as the ConcurrencyConflict (409).
    """
    stream = stream_id(aggregate.category, key)
    for attempt in _conflict_retries(attempts):
        with attempt:
            loaded = load(store, aggregate, key)
            events = aggregate.decide(loaded.state, command)
            if not events:
                return []
            return store.append(
                stream,
                events,
                expected_version=loaded.version,
                actor=actor,
                causation=causation,
            )
    raise AssertionError("unreachable: tenacity reraises the last conflict")


class Transaction:
    """Loads and appends of one command over several aggregates, in one database transaction.

    Every append carries the version its stream was read at (or none, for a stream whose
    appends cannot contradict each other), and all of them one correlation id, so the log
    shows them as one decision.
    """

    def __init__(
        self,
        store: EventStore,
        session: Session,
        actor: Actor,
        causation: RecordedEvent | None = None,
    ) -> None:
        self.store, self.session, self.actor, self.causation = store, session, actor, causation
        self.correlation_id: uuid.UUID | None = None
        self.recorded: list[RecordedEvent] = []

    def load(self, aggregate: Aggregate[S, Any], key: str) -> Loaded[S]:
        return load(self.store, aggregate, key, session=self.session)

    def load_latest(self, aggregate: Aggregate[S, Any], key: str) -> Loaded[S]:
        return load_latest(self.store, aggregate, key, session=self.session)

    def append(
        self,
        aggregate: Aggregate[Any, Any],
        key: str,
        events: Sequence[EventPayload | NewEvent],
        *,
        expected_version: int | None,
    ) -> list[RecordedEvent]:
        out = self.store.append(
            stream_id(aggregate.category, key),
            list(events),
            expected_version=expected_version,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation=self.causation,
            session=self.session,
        )
        self.correlation_id = self.correlation_id or out[0].correlation_id
        self.recorded.extend(out)
        return out

    def execute(
        self, aggregate: Aggregate[S, C_contra], key: str, command: C_contra
    ) -> list[RecordedEvent]:
        """Fold, decide and append one aggregate's part of the command, at the version read."""
        loaded = self.load(aggregate, key)
        events = aggregate.decide(loaded.state, command)
        if not events:
            return []
        return self.append(aggregate, key, events, expected_version=loaded.version)


def transact(
    store: EventStore,
    work: Callable[[Transaction], R],
    *,
    actor: Actor = SYSTEM_ACTOR,
    causation: RecordedEvent | None = None,
    attempts: int = CONFLICT_ATTEMPTS,
) -> R:
    """Run ``work`` in one transaction; a lost race on any stream it appends to rolls all of it
    back and runs it again on fresh state, up to ``attempts`` times (then the conflict, 409).

    ``work`` must decide from what it loads through the :class:`Transaction` (or from hints
    that cannot break an invariant): it may run more than once.
    """
    for attempt in _conflict_retries(attempts):
        with attempt, transaction(store.sessions) as session:
            return work(Transaction(store, session, actor, causation))
    raise AssertionError("unreachable: tenacity reraises the last conflict")


def decide_append(
    store: EventStore,
    aggregate: Aggregate[S, C_contra],
    key: str,
    command: C_contra,
    *,
    actor: Actor = SYSTEM_ACTOR,
) -> list[Append]:
    """A processor's reaction on its own aggregate: the append to commit with its tracking."""
    loaded = load(store, aggregate, key)
    events = aggregate.decide(loaded.state, command)
    if not events:
        return []
    return [
        Append(
            stream_id(aggregate.category, key),
            list(events),
            expected_version=loaded.version,
            actor=actor,
        )
    ]
