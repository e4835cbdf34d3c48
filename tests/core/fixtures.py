"""Event types and a projection used only by the core's own tests.

The projection's table lives in its own MetaData so it never appears in the migrations check.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.orm import Session

from core.events import EventPayload, RecordedEvent, event_type, upcaster
from core.projections import Projection, handles

test_metadata = MetaData()


@event_type("TestCounterOpened", category="tcounter")
class CounterOpened(EventPayload):
    label: str


@event_type("TestCounterAdded", category="tcounter", version=2)
class CounterAdded(EventPayload):
    amount: int
    note: str = ""


@upcaster("TestCounterAdded", from_version=1)
def _added_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 called the amount "n" and had no note
    return {"amount": payload.pop("n"), "note": ""}


counters = Table(
    "test_counters",
    test_metadata,
    Column("stream_id", String(264), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("total", Integer, nullable=False),
    Column("events", Integer, nullable=False),
)


class CounterProjection(Projection):
    name = "test-counters"
    categories = ("tcounter",)
    tables = (counters,)

    @handles("TestCounterOpened")
    def _opened(self, session: Session, event: RecordedEvent) -> None:
        session.execute(
            counters.insert().values(
                stream_id=event.stream_id, label=event.payload["label"], total=0, events=1
            )
        )

    @handles("TestCounterAdded")
    def _added(self, session: Session, event: RecordedEvent) -> None:
        session.execute(
            update(counters)
            .where(counters.c.stream_id == event.stream_id)
            .values(total=counters.c.total + event.payload["amount"], events=counters.c.events + 1)
        )


def counter_state(session: Session) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in session.execute(select(counters)))
