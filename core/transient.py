"""Transient database failures: telling them apart, retrying what may be retried, 503 for the rest.

A connection the server dropped (``pg_terminate_backend``, a failover, a restart), a
serialization failure or a deadlock says nothing about the request: the same work a moment
later succeeds. Work that is safe to repeat is retried here with tenacity: reads, and appends
whose event ids are fixed before the first try (the store then recognises a repeat of an
append that did commit and returns what it recorded, so a retry never writes twice). What
still fails, and any other command, gets 503 with ``Retry-After`` at the edge: never a 500,
and never half a command, because a command is one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from core.errors import ServiceUnavailable

T = TypeVar("T")

# serialization_failure, deadlock_detected, and the shutdown / cannot-connect class 57P0x;
# class 08 (connection exceptions) is matched by prefix.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
RETRY_AFTER_S = 1
_MARK = b"x-clearframe-transient"


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    title = "Database unavailable"


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a database failure that the same work, retried, may not meet."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if _lost_connection_beneath(orig):
        return True
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate:
        return sqlstate in _RETRYABLE_SQLSTATES or str(sqlstate).startswith("08")
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    message = str(orig).lower()
    if type(orig).__module__.startswith("sqlite3"):
        # "no such table" is an OperationalError too, and nothing a retry would mend
        return "locked" in message or "busy" in message
    # psycopg: a connection lost mid-statement carries no SQLSTATE
    return True


def _lost_connection_beneath(orig: BaseException | None) -> bool:
    """Whether the driver error was raised while handling a lost connection.

    The pool's pre-ping on a connection the server has killed fails with psycopg's
    OperationalError; SQLAlchemy's psycopg dialect then restores autocommit on the dead
    connection, and psycopg refuses ("can't change 'autocommit' now: connection in
    transaction status ACTIVE"). What reaches us is that ProgrammingError, with the lost
    connection as its context: the request met a dead connection, not a bad statement.
    """
    try:
        from psycopg import OperationalError as DriverOperationalError
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    seen: set[int] = set()
    inner = (orig.__cause__ or orig.__context__) if orig is not None else None
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        if isinstance(inner, DriverOperationalError):
            state = getattr(inner, "sqlstate", None)
            return state is None or state in _RETRYABLE_SQLSTATES or str(state).startswith("08")
        inner = inner.__cause__ or inner.__context__
    return False


def retrying(attempts: int = 3) -> Retrying:
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.05, max=0.5),
        reraise=True,
    )


def retry_transient(fn: Callable[[], T], attempts: int = 3) -> T:
    """``fn()``, tried again on a transient database failure. Only for work that is safe to
    repeat: a read, or an append whose event ids were fixed before the first try."""
    result: T = retrying(attempts)(fn)
    return result


def unavailable_problem(exc: BaseException) -> dict[str, Any]:
    return DatabaseUnavailable(
        "the database is briefly unavailable; nothing was changed by this request unless a "
        "retry of it reports so. Try again shortly.",
        reason=type(exc).__name__,
    ).to_problem()


def unavailable_headers() -> dict[str, str]:
    # The marker lets RetryReads repeat a read; it never leaves the server.
    return {"Retry-After": str(RETRY_AFTER_S), _MARK.decode(): "1"}


class RetryReads:
    """Re-run GET and HEAD requests that met a transient database failure.

    A read changes nothing, so running its route again is safe; the 503 is only sent when
    the last attempt fails too. Other methods are left to their command's own retries.
    """

    def __init__(self, app: ASGIApp, attempts: int = 3) -> None:
        self.app, self.attempts = app, attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        first: list[Message] = []

        def replaying() -> Receive:
            # Each attempt gets the request message once (read from the client the first time,
            # replayed after that), then the real receive(): a streaming response waits on it
            # for the client's disconnect, so it must not be answered with the request again.
            replayed = False

            async def receive_once() -> Message:
                nonlocal replayed
                if first and not replayed:
                    replayed = True
                    return first[0]
                message = await receive()
                if not replayed and message["type"] == "http.request":
                    replayed = True
                    if not message.get("more_body", False):
                        first.append(message)
                return message

            return receive_once

        for attempt in range(1, self.attempts + 1):
            if not await self._run(scope, replaying(), send, last=attempt == self.attempts):
                return
            await asyncio.sleep(0.05 * 2**attempt)

    async def _run(self, scope: Scope, receive: Receive, send: Send, *, last: bool) -> bool:
        """One run of the route; True when it met a transient failure and may run again."""
        retry = False

        async def forward(message: Message) -> None:
            nonlocal retry
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(k.lower() == _MARK for k, _ in headers):
                    retry = not last
                    kept = [h for h in headers if h[0].lower() != _MARK]
                    message = {**message, "headers": kept}
            if not retry:
                await send(message)

        await self.app(scope, receive, forward)
        return retry
