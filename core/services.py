"""What a running Clearframe needs, built once from settings and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory
from core.settings import Settings
from core.store import EventStore


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: EventStore
    # per-domain singletons (loaded models, blob stores) keyed by name, built lazily by domains
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Services:
        settings = settings or Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.effective_database_url)
        sessions = make_session_factory(engine)
        return cls(settings=settings, engine=engine, sessions=sessions, store=EventStore(sessions))

    def extra(self, key: str, build: Any) -> Any:
        """A lazily built, per-process singleton (e.g. a loaded model) owned by a domain."""
        if key not in self.extras:
            self.extras[key] = build()
        return self.extras[key]

    def close(self) -> None:
        self.engine.dispose()
