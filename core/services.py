"""What a running Clearframe needs, built once from settings and passed explicitly."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db import is_sqlite, make_engine, make_session_factory
from core.privacy import Keyring, attach_keyring
from core.settings import Settings
from core.store import EventStore


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: EventStore
    read_engine: Engine | None = None
    # per-domain singletons (loaded models, blob stores) keyed by name, built lazily by domains
    extras: dict[str, Any] = field(default_factory=dict)
    _extra_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _locks_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Services:
        from core.preflight import refuse_insecure_production

        settings = settings or Settings()
        refuse_insecure_production(settings)  # fail closed, whoever builds the services
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

    def extra(self, key: str, build: Any) -> Any:
        """A lazily built, per-process singleton (e.g. a loaded model) owned by a domain.

        Built once even when several threads ask at once (``serve`` warms models in the
        background while the first requests may already need them): the others wait for it.
        """
        if key in self.extras:
            return self.extras[key]
        with self._locks_lock:
            lock = self._extra_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self.extras:
                self.extras[key] = build()
        return self.extras[key]

    @property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for queries that never write (on SQLite they don't take the write lock)."""
        return self.store.read_sessions

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None and self.read_engine is not self.engine:
            self.read_engine.dispose()
