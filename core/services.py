"""What a running Clearframe needs, built once from settings and passed explicitly."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db import is_sqlite, make_engine, make_session_factory
from core.ports import Port, Resource, Wiring, WiringError
from core.privacy import Keyring, attach_keyring
from core.settings import Settings
from core.store import EventStore
from core.warmup import WarmUp

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: EventStore
    read_engine: Engine | None = None
    # Set on the scratch services of a replay-check: the live services it replays
    # (core/replay.py), whose inputs outside the event log are read, never written.
    replay_source: Services | None = None
    wiring: Wiring | None = None
    # the models' warm-up as ``serve`` runs it (core/warmup.py), read by /readyz
    warm_up: WarmUp = field(default_factory=WarmUp)
    # ports and resources built so far, keyed by their declaration
    _built: dict[object, Any] = field(default_factory=dict, repr=False)
    _build_locks: dict[object, threading.Lock] = field(default_factory=dict, repr=False)
    _locks_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Services:
        from core.modules import all_domain_settings
        from core.preflight import refuse_insecure_production

        settings = settings or Settings()
        refuse_insecure_production(settings)  # fail closed, whoever builds the services
        # every section read and validated now, not when a domain first asks for it
        settings.load_sections(all_domain_settings())
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.effective_database_url
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        # SQLite: pure reads (log tails, API queries) get deferred transactions so that they
        # never wait for, or hold, the database write lock.
        read_engine = make_engine(url, read_only=True) if is_sqlite(url) else engine
        read_sessions = make_session_factory(read_engine)
        # Every session can seal and open personal data (core/privacy.py).
        keyring = Keyring(settings.secret_key)
        attach_keyring(sessions, keyring)
        attach_keyring(read_sessions, keyring)
        store = EventStore(
            sessions, read_sessions=read_sessions, group_commit=settings.group_commit
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            store=store,
            read_engine=read_engine,
        )

    def wire(self, wiring: Wiring | None = None) -> Wiring:
        """Use ``wiring``, or check that the loaded modules fit together (every required port
        provided by exactly one of them): a WiringError otherwise.

        Every process wires before it starts work (the app factory, the worker runner, the
        commands that run domain code). Services built in code are wired on first use of a
        port, with the same check."""
        if wiring is None:
            from core.modules import check_wiring

            wiring = check_wiring()
        self.wiring = wiring
        return wiring

    def port(self, port: Port[T]) -> T:
        """The implementation of ``port`` for this process, built once by its provider."""
        if port in self._built:
            return cast(T, self._built[port])
        wiring = self.wiring or self.wire()
        provider = wiring.provider(port)
        if provider is None:
            raise WiringError(f"no loaded module provides port {port.name!r}")
        return self._once(port, lambda: provider.factory(self))

    def resource(self, resource: Resource[T]) -> T:
        """A domain's per-process object (a loaded model, a cache), built on first use.

        Built once even when several threads ask at once (``serve`` warms models in the
        background while the first requests may already need them): the others wait for it.
        """
        if resource in self._built:
            return cast(T, self._built[resource])
        return self._once(resource, lambda: resource.build(self))

    def override(self, key: Port[T] | Resource[T], value: T) -> None:
        """Use ``value`` for ``key`` in these services (tests; a lighter embedder)."""
        with self._locks_lock:
            self._built[key] = value

    def built(self, key: Port[Any] | Resource[Any]) -> Any | None:
        """What ``key`` holds if it was built already, without building it."""
        return self._built.get(key)

    def _once(self, key: object, build: Callable[[], T]) -> T:
        with self._locks_lock:
            lock = self._build_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._built:
                self._built[key] = build()
        return cast(T, self._built[key])

    @property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for queries that never write (on SQLite they don't take the write lock)."""
        return self.store.read_sessions

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None and self.read_engine is not self.engine:
            self.read_engine.dispose()
