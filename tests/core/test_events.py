"""Envelope, wire format and upcasting."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import UnknownEventType, ValidationFailed
from core.events import REGISTRY, Actor, RecordedEvent, derived_event_id, stream_category, stream_id
from tests.core.fixtures import CounterAdded


def envelope(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event_id": str(uuid.uuid4()),
        "type": "TestCounterAdded",
        "schema_version": 2,
        "stream_id": "tcounter-abc",
        "stream_version": 3,
        "position": 17,
        "occurred_at": "2026-11-22T03:00:00.000001Z",
        "actor": {"id": "u1", "role": "user"},
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "payload": {"amount": 4, "note": "n"},
    }
    base.update(overrides)
    return base


def test_wire_format_is_canonical_json() -> None:
    event = RecordedEvent.from_wire(envelope())
    raw = event.to_json()
    assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    assert json.loads(raw)["occurred_at"] == "2026-11-22T03:00:00.000001Z"
    assert RecordedEvent.from_json(raw) == event


def test_old_schema_is_upcast_on_read() -> None:
    event = RecordedEvent.from_wire(envelope(schema_version=1, payload={"n": 9}))
    assert event.schema_version == 2 and event.decode() == CounterAdded(amount=9, note="")


def test_future_schema_and_broken_chains_are_errors() -> None:
    with pytest.raises(UnknownEventType):
        RecordedEvent.from_wire(envelope(schema_version=3))
    assert REGISTRY.check_upcaster_chains() == []


def test_unknown_types_pass_through_but_cannot_be_decoded() -> None:
    event = RecordedEvent.from_wire(envelope(type="SomethingFromTheFuture", schema_version=7))
    with pytest.raises(UnknownEventType):
        event.decode()


@given(
    amount=st.integers(-(2**31), 2**31),
    occurred=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_property_upcast_then_serialise_round_trips(amount: int, occurred: datetime) -> None:
    old = RecordedEvent.from_wire(
        envelope(schema_version=1, payload={"n": amount}, occurred_at=occurred.isoformat())
    )
    again = RecordedEvent.from_json(old.to_json())
    assert again == old and again.decode().amount == amount  # type: ignore[attr-defined]
    assert again.occurred_at == occurred


def test_stream_ids_and_derived_ids() -> None:
    assert stream_category(stream_id("generation", "g1")) == "generation"
    for bad in ["Generation-x", "generation", "generation-", "gen eration-x", "-x", "a-b c"]:
        with pytest.raises(ValidationFailed):
            stream_category(bad)
    cause = uuid.uuid4()
    assert derived_event_id(cause, "p") == derived_event_id(cause, "p")
    assert derived_event_id(cause, "p", 0) != derived_event_id(cause, "p", 1)
    assert Actor(id="a", role="user") == Actor(id="a", role="user")
