"""How far the models' warm-up has got, for ``/readyz`` and the ``serve`` banner.

``serve`` loads every domain's models in a background thread (each module's ``warm`` hooks)
so that the first decision does not pay for a model load. Until that thread is done the
service answers, but a load balancer should not send it traffic yet: ``/readyz`` says 503
with ``checks.models = "warming"``. A process that never starts warming (a test client, a
one-off CLI command) builds models on first use, and its ``/readyz`` has no ``models`` check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

WARMING = "warming"
READY = "ready"


@dataclass
class WarmUp:
    _states: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self, names: list[str]) -> None:
        with self._lock:
            self._states = dict.fromkeys(names, WARMING)

    def finished(self, name: str, error: BaseException | None = None) -> None:
        # Only the exception's type is kept: a message may hold a server path.
        state = READY if error is None else f"failed: {type(error).__name__}"
        with self._lock:
            self._states[name] = state

    def modules(self) -> dict[str, str]:
        with self._lock:
            return dict(self._states)

    def check(self) -> str | None:
        """``ok``, ``warming`` or ``failed: <modules>``; None when warming never started."""
        states = self.modules()
        if not states:
            return None
        failed = sorted(n for n, s in states.items() if s.startswith("failed"))
        if failed:
            return f"failed: {', '.join(failed)}"
        if any(s == WARMING for s in states.values()):
            return WARMING
        return "ok"
