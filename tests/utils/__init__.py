"""Small factories shared by the suites (principals, tokens, draining workers)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from core.auth import create_principal, issue_token
from core.modules import all_processors, all_projections
from core.projections import Runner, make_runner
from core.services import Services


def make_principal(services: Services, *roles: str, name: str = "Test person") -> tuple[str, dict[str, str]]:
    """A principal with ``roles`` and the Authorization header of a fresh token for it."""
    pid = create_principal(services.sessions, name, list(roles or ("user",)))
    _, token = issue_token(services.sessions, services.settings, pid, "test")
    return pid, {"Authorization": f"Bearer {token}"}


def runners(services: Services, names: Iterable[str] | None = None) -> list[Runner]:
    factories = {**all_projections(), **all_processors()}
    chosen = sorted(factories) if names is None else list(names)
    return [make_runner(factories[n](services), services) for n in chosen]


def drain(services: Services, names: Iterable[str] | None = None, *, max_s: float = 120.0,
          built: list[Runner] | None = None) -> list[Runner]:
    """Run the named consumers (default: every projection and processor) until none of them
    finds anything new: the embedded default's workers, stepped synchronously."""
    rs = built if built is not None else runners(services, names)
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        if sum(r.run_once(0.0 if not services.settings.uses_kafka else 1.0) for r in rs) == 0:
            break
    else:
        raise TimeoutError("consumers did not go idle")
    return rs


def consumer_stats(rs: list[Runner]) -> dict[str, Any]:
    return {r.consumer.name: r.stats for r in rs}
