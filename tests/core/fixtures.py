"""Event types and a projection used only by the core's own tests.

The projection's table lives in its own MetaData so it never appears in the migrations check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.orm import Session

from core.events import EventPayload, PersonalData, RecordedEvent, event_type, upcaster
from core.projections import Append, Processor, Projection, handles

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
    # the versions applied, in the order they were applied: shows a reordering or a double
    Column("trail", String(2000), nullable=False, default=""),
)


class CounterProjection(Projection):
    name = "test-counters"
    categories = ("tcounter",)
    tables = (counters,)

    @handles("TestCounterOpened")
    def _opened(self, session: Session, event: RecordedEvent) -> None:
        session.execute(
            counters.insert().values(
                stream_id=event.stream_id,
                label=event.payload["label"],
                total=0,
                events=1,
                trail=str(event.stream_version),
            )
        )

    @handles("TestCounterAdded")
    def _added(self, session: Session, event: RecordedEvent) -> None:
        session.execute(
            update(counters)
            .where(counters.c.stream_id == event.stream_id)
            .values(
                total=counters.c.total + event.payload["amount"],
                events=counters.c.events + 1,
                trail=counters.c.trail + f",{event.stream_version}",
            )
        )


def counter_state(session: Session) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in session.execute(select(counters)))


@event_type("TestCounterEchoed", category="techo")
class CounterEchoed(EventPayload):
    source_version: int
    amount: int


class CounterEchoProcessor(Processor):
    """Echoes each addition to a stream of its own, expecting the echo stream's version, so
    a reaction out of stream order conflicts and a repeated one appends nothing new."""

    name = "test-counter-echo"
    categories = ("tcounter",)

    def __init__(self) -> None:
        self.handled = 0

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        self.handled += 1
        if event.type != "TestCounterAdded":
            return ()
        return [
            Append(
                "techo-" + event.stream_id.removeprefix("tcounter-"),
                [CounterEchoed(source_version=event.stream_version, amount=event.payload["amount"])],
                expected_version=event.stream_version - 2,
            )
        ]


@event_type("TestNoteTaken", category="tnote")
class NoteTaken(EventPayload):
    """An event with personal data: ``text`` and ``place.name`` are the author's."""

    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="author_id", fields=("text", "place.name", "mentions[]")
    )

    author_id: str | None
    text: str
    place: dict[str, Any] = {}
    mentions: list[str] = []
    stars: int = 0
