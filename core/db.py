"""Engine and session factory for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# PostgreSQL's DETAIL line quotes values: "Key (token_hash)=(...) already exists", "Failing row
# contains (...)". The line goes before the error is logged or shown; ``orig.diag`` keeps it.
_DETAIL = re.compile(r"\n\s*DETAIL:[^\n]*")


def utc(moment: datetime) -> datetime:
    """An instant read back from the database, in UTC. SQLite hands timezone-aware columns
    back naive, and every instant we store is UTC, so a naive value here is UTC. Not for
    input from callers, where a missing zone is a mistake (``core.events.require_utc``)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """``utc`` of a nullable column."""
    return None if moment is None else utc(moment)


class Base(DeclarativeBase):
    """Declarative base of every table, core and domain alike (one metadata for Alembic)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def make_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``. On SQLite, ``read_only`` engines open plain deferred transactions
    (readers never take the write lock in WAL mode); the others open IMMEDIATE ones.

    Bound parameters never appear in logs or in error messages: they hold token hashes,
    prompts, report texts and personal data."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine, immediate=not read_only)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "handle_error", _drop_row_values)
    return engine


def _drop_row_values(context: Any) -> None:
    for exc in (context.original_exception, context.sqlalchemy_exception):
        if exc is not None and exc.args and isinstance(exc.args[0], str):
            exc.args = (_DETAIL.sub("", exc.args[0]), *exc.args[1:])


def _configure_sqlite(engine: Engine, immediate: bool) -> None:
    # pysqlite opens DEFERRED transactions, and a deferred transaction that reads and then
    # writes fails at once with SQLITE_BUSY when another writer committed in between (the busy
    # timeout is not consulted on a lock upgrade). Projections and command handlers read, then
    # write, so every transaction takes the write lock up front and simply waits its turn.
    # WAL keeps readers of the file (other processes) unblocked meanwhile.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class _Session(Session):
    """A session whose close survives its connection having died (pg_terminate_backend).

    Closing rolls back, and a rollback on a dead connection raises. A read session is often
    closed by a FastAPI dependency after the response has started, where that error can only
    drop the HTTP connection; the work is over, so the dead connection is discarded instead.
    """

    def close(self) -> None:
        try:
            super().close()
        except DBAPIError as exc:
            from core.transient import is_transient

            if not is_transient(exc):
                raise
            self.invalidate()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, class_=_Session)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
