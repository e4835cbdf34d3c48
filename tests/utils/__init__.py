"""Small factories shared by the suites (principals, tokens, draining workers)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from core.auth import assure_age, create_principal, issue_token
from core.events import Actor
from core.identity import AgeAssuranceSource
from core.modules import all_processors, all_projections
from core.projections import Runner, make_runner
from core.services import Services

TEST_OPERATOR = Actor(id="cli:test-operator", role="operator")


def make_principal(
    services: Services, *roles: str, name: str = "Test person", age_assured: bool = True
) -> tuple[str, dict[str, str]]:
    """A principal with ``roles`` and the Authorization header of a fresh token for it.

    ``age_assured``: whether an operator has assured the account's age (``AgeAssured``), as
    generating and uploading need; False makes an account that has to be assured first."""
    pid = create_principal(services.sessions, name, list(roles or ("user",)))
    if age_assured:
        assure_age(
            services.sessions,
            pid,
            AgeAssuranceSource.OPERATOR,
            actor=TEST_OPERATOR,
            reference="test fixture",
        )
    _, token = issue_token(services.sessions, services.settings, pid, "test")
    return pid, {"Authorization": f"Bearer {token}"}


def runners(services: Services, names: Iterable[str] | None = None) -> list[Runner]:
    factories = {**all_projections(), **all_processors()}
    chosen = sorted(factories) if names is None else list(names)
    return [make_runner(factories[n](services), services) for n in chosen]


def drain(
    services: Services,
    names: Iterable[str] | None = None,
    *,
    max_s: float = 120.0,
    built: list[Runner] | None = None,
) -> list[Runner]:
    """Run the named consumers (default: every projection and processor), and the outbox
    relay when Kafka is configured, until every consumer has applied every event: the
    workers of ``clearframe serve``, stepped synchronously."""
    from core.outbox import OutboxRelay
    from core.projections import lag

    rs = built if built is not None else runners(services, names)
    relay = (
        OutboxRelay(services.settings, services.sessions) if services.settings.uses_kafka else None
    )
    poll_s = 0.5 if relay else 0.0
    deadline = time.monotonic() + max_s
    try:
        while time.monotonic() < deadline:
            moved = relay.relay_once() if relay else 0
            moved += sum(r.run_once(poll_s) for r in rs)
            if (
                moved == 0
                and (relay is None or relay.pending() == 0)
                and all(lag(services, r.consumer) == 0 for r in rs)
            ):
                return rs
        raise TimeoutError("consumers did not catch up")
    finally:
        if relay is not None:
            relay.close()
