"""The shape of a recorded event as the pure folds of this package read it, and UTC instants.

The folds (queue, standing, appeals, inbox, transparency) need only an event's type name, when it
happened and its payload, so they accept anything with those three attributes: the core event
envelope, or :class:`RecordedFact` in tests and benchmarks. Keeping them pure lets every read
model be recomputed from the log for any past date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.events import require_utc


class Fact(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def occurred_at(self) -> datetime: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class RecordedFact:
    type: str
    occurred_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


def parse_instant(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return require_utc(value)
    return require_utc(datetime.fromisoformat(value))
