"""Workers: the outbox relay and one runner per projection or processor.

``clearframe serve`` runs them in threads next to the API (embedded default); ``clearframe
worker NAME`` runs one as its own process, a consumer-group member that scales out with Kafka.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import NotFound
from core.modules import all_processors, all_projections
from core.services import Services

log = logging.getLogger(__name__)
RELAY = "relay"


def worker_names(services: Services) -> list[str]:
    names = sorted(all_projections()) + sorted(all_processors())
    return ([RELAY] if services.settings.uses_kafka else []) + names


def resolve(services: Services, spec: str) -> list[str]:
    """``all``, ``none`` or a comma-separated list of worker names."""
    known = worker_names(services)
    if spec.strip() in ("", "none"):
        return []
    if spec.strip() == "all":
        return known
    wanted = [w.strip() for w in spec.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise NotFound(f"unknown worker(s) {unknown}; known: {known}")
    return wanted


def make_worker(services: Services, name: str) -> Callable[[threading.Event], None]:
    if name == RELAY:
        if not services.settings.uses_kafka:
            raise NotFound("the relay only runs with Kafka (set CLEARFRAME_KAFKA_BOOTSTRAP)")
        from core.outbox import OutboxRelay

        relay = OutboxRelay(services.settings, services.sessions)

        def run_relay(stop: threading.Event) -> None:
            # Retries with backoff, builds a new producer after a failed publish, and ends
            # within about a second of ``stop`` being set (what was not acknowledged stays
            # unpublished in the outbox).
            relay.run(stop)

        return run_relay
    factories = {**all_projections(), **all_processors()}
    if name not in factories:
        raise NotFound(f"unknown worker {name!r}; known: {worker_names(services)}")
    from core.projections import make_runner

    runner = make_runner(factories[name](services), services)
    return runner.run_forever


@dataclass
class WorkerPool:
    services: Services
    names: list[str]

    def __post_init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.services.wiring is None:
            # before any worker runs: a required port that no module provides stops the
            # process (fail closed) instead of a worker running without it
            self.services.wire()
        for name in self.names:
            target = make_worker(self.services, name)
            thread = threading.Thread(
                target=target, args=(self.stop,), name=f"worker-{name}", daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def close(self, timeout: float = 8.0) -> None:
        # One deadline for all threads, not one each: a process running several workers must
        # still stop within ``timeout`` of SIGTERM.
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
