"""Dead letters: an event a consumer gave up on is itself an event, and an operator can retry it.

When a projection cannot apply an event, or a processor fails it ``max_attempts`` times, the
runner records a ``dead_letters`` row (with the full error, for operators only) and appends
:class:`EventDeadLettered` to ``deadletter-<consumer>`` in the same transaction, so the fact
reaches whoever follows the log (alerting, the Kafka topic) and is never only a log line. The
event names the error's type, not its text: messages can quote the payload (a validation
error repeats the value it refused), and the log is read more widely than the table.

``clearframe dead-letters`` lists them; ``clearframe dead-letters retry ID`` (core/cli.py) runs the consumer
on that event again (after a fix was deployed, say) and appends :class:`DeadLetterRetried`
with the outcome. A processor's retried reaction is appended with event ids derived from the
dead letter, so retrying twice cannot append it twice.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import transaction
from core.errors import Conflict, NotFound
from core.events import (
    SYSTEM_ACTOR,
    Actor,
    EventPayload,
    NewEvent,
    RecordedEvent,
    derived_event_id,
    event_type,
    stream_id,
    utcnow,
)
from core.store import EventStore

DEAD_LETTER = "deadletter"


@event_type("EventDeadLettered", category=DEAD_LETTER)
class EventDeadLettered(EventPayload):
    dead_letter_id: int
    consumer: str
    event_id: str
    event_type: str
    event_stream_id: str
    position: int
    error_type: str = Field(max_length=200)


@event_type("DeadLetterRetried", category=DEAD_LETTER)
class DeadLetterRetried(EventPayload):
    dead_letter_id: int
    consumer: str
    event_id: str
    outcome: Literal["applied", "failed"]
    error_type: str | None = None
    retried_by: str


def record_dead_letter(
    session: Session, store: EventStore, consumer: str, event: RecordedEvent, error: BaseException
) -> None:
    """The row and its event, in the caller's transaction (the one that tracks ``event``)."""
    from core.projections import DeadLetter

    row = DeadLetter(
        consumer=consumer,
        event_id=event.event_id,
        position=event.position,
        event_type=event.type,
        error="".join(traceback.format_exception_only(type(error), error)).strip()[:4000],
        failed_at=utcnow(),
    )
    session.add(row)
    session.flush()  # the row's id names it in the event
    fact = EventDeadLettered(
        dead_letter_id=int(row.id),
        consumer=consumer,
        event_id=str(event.event_id),
        event_type=event.type,
        event_stream_id=event.stream_id,
        position=event.position,
        error_type=type(error).__name__[:200],
    )
    store.append(
        stream_id(DEAD_LETTER, consumer),
        [NewEvent(fact, derived_event_id(event.event_id, f"dead-letter/{consumer}"))],
        expected_version=None,  # one writer per stream: the consumer's own runner
        actor=SYSTEM_ACTOR,
        causation=event,
        session=session,
    )


@dataclass(frozen=True)
class RetryOutcome:
    dead_letter_id: int
    consumer: str
    outcome: Literal["applied", "failed"]
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dead_letter": self.dead_letter_id,
            "consumer": self.consumer,
            "outcome": self.outcome,
            **({"error": self.error} if self.error else {}),
        }


class DeadLetterAlreadyRetried(Conflict):
    code = "dead_letter_already_retried"


def list_dead_letters(services: Any, consumer: str | None = None) -> list[dict[str, Any]]:
    from core.projections import DeadLetter

    with services.read_sessions() as s:
        stmt = select(DeadLetter).order_by(DeadLetter.id)
        if consumer:
            stmt = stmt.where(DeadLetter.consumer == consumer)
        return [
            {
                "id": row.id,
                "consumer": row.consumer,
                "event_id": str(row.event_id),
                "event_type": row.event_type,
                "position": row.position,
                "failed_at": row.failed_at.isoformat(),
                "error": row.error,
                "retried_at": row.retried_at.isoformat() if row.retried_at else None,
            }
            for row in s.scalars(stmt)
        ]


def retry_dead_letter(
    services: Any, dead_letter_id: int, actor: Actor, consumer: Any = None
) -> RetryOutcome:
    """Run the dead letter's consumer on its event again; the outcome is an event either way.

    ``consumer`` is the consumer instance to run (default: the one the loaded modules declare
    under the dead letter's consumer name)."""
    from core.modules import all_processors, all_projections
    from core.projections import Append, DeadLetter, Processor, Projection

    with services.read_sessions() as s:
        row = s.get(DeadLetter, dead_letter_id)
        if row is None:
            raise NotFound(f"no dead letter {dead_letter_id}")
        if row.retried_at is not None:
            raise DeadLetterAlreadyRetried(
                f"dead letter {dead_letter_id} was retried at {row.retried_at.isoformat()}"
            )
        consumer_name, position = row.consumer, row.position
    if consumer is None:
        factories = {**all_projections(), **all_processors()}
        if consumer_name not in factories:
            raise NotFound(f"dead letter {dead_letter_id} names {consumer_name!r}, not loaded")
        consumer = factories[consumer_name](services)
    elif consumer.name != consumer_name:
        raise NotFound(
            f"dead letter {dead_letter_id} is {consumer_name!r}'s, not {consumer.name!r}'s"
        )
    [event] = services.store.read_all(after_position=position - 1, limit=1)
    appends: list[Append] = []
    failure: BaseException | None = None
    try:
        if isinstance(consumer, Processor):
            appends = list(consumer.handle(event))
    except Exception as exc:
        failure = exc
    store: EventStore = services.store
    with transaction(services.sessions) as s:
        row = s.get(DeadLetter, dead_letter_id, with_for_update=True)
        if row is None or row.retried_at is not None:
            raise DeadLetterAlreadyRetried(f"dead letter {dead_letter_id} was retried meanwhile")
        if failure is None:
            try:
                with s.begin_nested():
                    if isinstance(consumer, Projection):
                        consumer.apply(s, event)
                    for n, append in enumerate(appends):
                        events = [
                            e
                            if isinstance(e, NewEvent)
                            else NewEvent(
                                e,
                                derived_event_id(
                                    event.event_id,
                                    f"retry/{dead_letter_id}/{n}/{append.stream_id}",
                                    i,
                                ),
                            )
                            for i, e in enumerate(append.events)
                        ]
                        store.append(
                            append.stream_id,
                            events,
                            expected_version=append.expected_version,
                            actor=append.actor,
                            causation=event,
                            session=s,
                        )
            except Exception as exc:
                failure = exc
        outcome: Literal["applied", "failed"] = "applied" if failure is None else "failed"
        if failure is None:
            row.retried_at = utcnow()
        store.append(
            stream_id(DEAD_LETTER, consumer_name),
            [
                DeadLetterRetried(
                    dead_letter_id=dead_letter_id,
                    consumer=consumer_name,
                    event_id=str(event.event_id),
                    outcome=outcome,
                    error_type=type(failure).__name__ if failure is not None else None,
                    retried_by=actor.id,
                )
            ],
            expected_version=None,
            actor=actor,
            causation=event,
            session=s,
        )
    error = None
    if failure is not None:
        error = "".join(traceback.format_exception_only(type(failure), failure)).strip()[:1000]
    return RetryOutcome(dead_letter_id, consumer_name, outcome, error)
