"""A dead letter is an event operators see, and a retry after a fix applies it exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import pytest

from core.deadletters import DeadLetterAlreadyRetried, list_dead_letters, retry_dead_letter
from core.events import Actor, RecordedEvent
from core.log import Cursor, Delivery, SqlTailConsumer
from core.projections import Append, Runner, consumer_status
from core.services import Services
from tests.core.fixtures import CounterAdded, CounterEchoed, CounterEchoProcessor, CounterOpened

OPERATOR = Actor(id="cli:ops", role="operator")
SECRET_NOTE = "the prompt a person typed"


class Flaky(CounterEchoProcessor):
    """Fails on additions until ``fixed``; its error message quotes the payload."""

    max_attempts = 1

    def __init__(self) -> None:
        super().__init__()
        self.fixed = False

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        if not self.fixed and event.type == "TestCounterAdded":
            raise ValueError(f"cannot echo {event.payload['note']!r}")
        key = event.stream_id.removeprefix("tcounter-")
        if event.type != "TestCounterAdded":
            return ()
        return [
            Append(
                f"techo-{key}", [CounterEchoed(source_version=2, amount=1)], expected_version=None
            )
        ]


@pytest.fixture(params=["sqlite", "postgres"])
def svc(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    return make_services(request.param)


def test_a_dead_letter_is_published_without_its_error_text_and_retried_once(svc: Services) -> None:
    key = uuid.uuid4().hex
    events = svc.store.append(
        f"tcounter-{key}",
        [CounterOpened(label="x"), CounterAdded(amount=1, note=SECRET_NOTE)],
        expected_version=0,
        actor=OPERATOR,
    )
    processor = Flaky()
    runner = Runner(processor, lambda: SqlTailConsumer(svc.store, ["tcounter"]), svc.store)
    runner.process([Delivery(e, Cursor("sql", 0, e.position)) for e in events])
    assert runner.stats.dead_lettered == 1
    [letter] = list_dead_letters(svc, processor.name)
    assert letter["event_type"] == "TestCounterAdded" and SECRET_NOTE in letter["error"]
    assert consumer_status(svc, processor)["dead_letters"] == 1

    published = svc.store.read_stream(f"deadletter-{processor.name}")
    assert [e.type for e in published] == ["EventDeadLettered"]
    assert published[0].payload["dead_letter_id"] == letter["id"]
    assert published[0].payload["error_type"] == "ValueError"
    assert SECRET_NOTE not in str(published[0].payload)  # the log is read more widely

    # still broken: the retry fails, says so, and the letter stays open
    failed = retry_dead_letter(svc, letter["id"], OPERATOR, consumer=processor)
    assert failed.outcome == "failed" and failed.error and "ValueError" in failed.error
    assert svc.store.read_stream(f"techo-{key}") == []

    processor.fixed = True
    done = retry_dead_letter(svc, letter["id"], OPERATOR, consumer=processor)
    assert done.outcome == "applied"
    assert [e.type for e in svc.store.read_stream(f"techo-{key}")] == ["TestCounterEchoed"]
    assert consumer_status(svc, processor)["dead_letters"] == 0
    with pytest.raises(DeadLetterAlreadyRetried):
        retry_dead_letter(svc, letter["id"], OPERATOR, consumer=processor)
    assert len(svc.store.read_stream(f"techo-{key}")) == 1
    outcomes = [
        (e.type, e.payload.get("outcome"), e.actor.id)
        for e in svc.store.read_stream(f"deadletter-{processor.name}")
    ]
    assert outcomes == [
        ("EventDeadLettered", None, "system"),
        ("DeadLetterRetried", "failed", OPERATOR.id),
        ("DeadLetterRetried", "applied", OPERATOR.id),
    ]
