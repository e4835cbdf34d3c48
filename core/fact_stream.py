"""An aggregate whose commands arrive already bound: a handler passes ``decide`` a function of
the folded record that returns the one fact to append (or raises the domain's refusal).

A domain whose pure commands are plain functions (``revoke(record, actor_id, ...) -> fact``)
runs them through :func:`core.aggregate.execute` this way, so a lost race for the stream is
decided again on the fresh record instead of reaching the caller as a first-try conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from core.aggregate import execute, load
from core.events import Actor, EventPayload, RecordedEvent
from core.folds import Recorded
from core.store import EventStore

R = TypeVar("R")


# A bound command: the record as folded so far (None before the stream's first fact) -> fact.
Decision = Callable[[R | None], EventPayload]


class FactStream(Generic[R]):
    def __init__(
        self,
        category: str,
        apply: Callable[[R | None, Recorded[Any]], R],
        missing: Callable[[str], Exception],
    ) -> None:
        self.category = category
        self._apply = apply
        self._missing = missing  # the domain's not-found error for a key with no stream

    def initial(self) -> R | None:
        return None

    def evolve(self, state: R | None, event: RecordedEvent) -> R | None:
        return self._apply(state, Recorded(event.decode(), event.occurred_at, event.actor.id))

    def decide(self, state: R | None, command: Decision[R]) -> list[EventPayload]:
        return [command(state)]

    def require(self, store: EventStore, key: str) -> tuple[R, int]:
        """The record folded from the stream and its version; the domain's not-found error
        when the stream does not exist."""
        loaded = load(store, self, key)
        return self._existing(loaded.state, key), loaded.version

    def create(self, store: EventStore, key: str, decision: Decision[R], actor: Actor) -> int:
        """Decide on whatever the stream holds (None when it is new) and append; the appended
        fact's stream version."""
        return execute(store, self, key, decision, actor=actor)[-1].stream_version

    def change(
        self, store: EventStore, key: str, decide: Callable[[R], EventPayload], actor: Actor
    ) -> int:
        """Decide on the existing record and append; the domain's not-found error when there
        is none."""
        return self.create(store, key, lambda r: decide(self._existing(r, key)), actor)

    def _existing(self, record: R | None, key: str) -> R:
        if record is None:
            raise self._missing(key)
        return record
