"""Ports: a module's required port must be provided by exactly one loaded module, or the
process does not start; ``services.port`` builds an implementation once per process."""

from __future__ import annotations

import threading
from typing import Protocol

import pytest

from core.modules import Module
from core.ports import Port, WiringError, wire
from core.services import Services
from core.settings import Settings


class Clock(Protocol):
    def now(self) -> int: ...


class FixedClock:
    def __init__(self, at: int = 7) -> None:
        self.at = at

    def now(self) -> int:
        return self.at


CLOCK = Port[Clock]("clock", "tells the time")


def bare_services() -> Services:
    return Services(settings=Settings(), engine=None, sessions=None, store=None)  # type: ignore[arg-type]


def test_a_required_port_nobody_provides_is_refused_with_its_name() -> None:
    with pytest.raises(WiringError) as refused:
        wire([Module("needs", requires=[CLOCK]), Module("other")])
    assert refused.value.code == "wiring_failed"
    assert "module 'needs' requires port 'clock' (tells the time)" in refused.value.detail


def test_a_port_provided_twice_is_refused() -> None:
    with pytest.raises(WiringError) as refused:
        wire(
            [
                Module("a", provides={CLOCK: lambda s: FixedClock()}),
                Module("b", provides={CLOCK: lambda s: FixedClock()}),
                Module("needs", requires=[CLOCK]),
            ]
        )
    assert "port 'clock' is provided by more than one module: a, b" in refused.value.detail


def test_every_problem_is_named_at_once() -> None:
    other = Port[Clock]("other_clock")
    with pytest.raises(WiringError) as refused:
        wire([Module("needs", requires=[CLOCK, other])])
    assert "2 problem(s)" in refused.value.detail


def test_ports_with_one_name_are_distinct_declarations() -> None:
    lookalike = Port[Clock]("clock")
    with pytest.raises(WiringError):
        wire(
            [
                Module("a", provides={lookalike: lambda s: FixedClock()}),
                Module("b", requires=[CLOCK]),
            ]
        )


def test_a_port_is_built_once_when_threads_ask_together() -> None:
    services = bare_services()
    builds: list[int] = []

    def build(_services: Services) -> Clock:
        builds.append(1)
        threading.Event().wait(0.2)
        return FixedClock()

    services.wire(wire([Module("clocks", provides={CLOCK: build})]))
    start = threading.Barrier(4)
    got: list[Clock] = []

    def ask() -> None:
        start.wait()
        got.append(services.port(CLOCK))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len({id(g) for g in got}) == 1
    assert services.port(CLOCK).now() == 7


def test_an_unprovided_port_is_an_error_not_none() -> None:
    services = bare_services()
    services.wire(wire([Module("nothing")]))
    with pytest.raises(WiringError, match="no loaded module provides port 'clock'"):
        services.port(CLOCK)


def test_an_override_replaces_the_provider() -> None:
    services = bare_services()
    services.wire(wire([Module("clocks", provides={CLOCK: lambda s: FixedClock(1)})]))
    services.override(CLOCK, FixedClock(2))
    assert services.port(CLOCK).now() == 2


def test_the_deployed_modules_fit_together(services: Services) -> None:
    """Every port a domain requires is provided by exactly one domain."""
    from contracts.featured import FEATURED_POLICY
    from contracts.ports import (
        BLOB_STORE,
        FINGERPRINT_SEARCH,
        FOLLOW_GRAPH,
        GENERATION_INPUTS,
        PICKUP_POLICY,
        WATERMARKER,
    )

    wiring = services.wire()
    assert {p.name: wiring.providers[p].module for p in wiring.providers} == {
        PICKUP_POLICY.name: "trust_safety",
        WATERMARKER.name: "provenance",
        FINGERPRINT_SEARCH.name: "reverse_search",
        BLOB_STORE.name: "generator",
        FOLLOW_GRAPH.name: "feed",
        GENERATION_INPUTS.name: "trust_safety",
        FEATURED_POLICY.name: "trust_safety",
    }
