"""Read models built by applying events in order, and the aggregate parts over one.

A fold function may take each fact as :class:`Recorded`, so it runs alike on the log's
envelopes and on facts built in tests. A fold object (a queue, an inbox, a book of appeals)
mutates itself in :meth:`Fold.apply`; the same fold serves a projection over many streams
and, through :class:`FoldAggregate`, the state an aggregate decides on when it is loaded
from one stream.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

P = TypeVar("P")


@dataclass(frozen=True)
class Recorded(Generic[P]):
    """A fact with the envelope data a pure fold needs: when, and by whom."""

    fact: P
    occurred_at: datetime
    actor_id: str


class Fold(ABC):
    __slots__ = ()

    @abstractmethod
    def apply(self, event: Any) -> None:
        """Change the fold by one event (or :class:`Recorded` fact)."""

    def apply_all(self, events: Iterable[Any]) -> Self:
        for event in events:
            self.apply(event)
        return self


F = TypeVar("F", bound=Fold)


class FoldAggregate(ABC, Generic[F]):
    """``initial`` and ``evolve`` of an aggregate whose state is a :class:`Fold`; subclasses
    name the ``category`` and give ``initial`` and ``decide``."""

    category: str

    @abstractmethod
    def initial(self) -> F:
        """A fresh, empty fold (every load starts from one)."""

    def evolve(self, state: F, event: Any) -> F:
        state.apply(event)  # every load starts from a fresh ``initial()``, so mutating is safe
        return state
