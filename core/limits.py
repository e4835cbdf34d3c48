"""Request body limits, enforced as the bytes arrive: 413 problem+json, promptly, chunked or not.

The limit belongs to the route, not to the media type the client declares: a route that
takes an upload (a multipart form with a file, or a raw media body such as
``/v1/c2pa/matches/byContent``) gets the upload limit, every other route the JSON body limit
whatever its ``Content-Type`` says, so 50 MB of JSON labelled ``video/mp4`` is cut off at the
JSON limit like any other JSON.

Bodies under the JSON limit are read here in full before the route runs, so a chunked body
that crosses it is answered with 413 as soon as the limit is crossed instead of after the
route's parser gives up. Upload bodies are streamed to the route and counted; the byte that
crosses the limit gets the 413 sent at once, and whatever the route does after that is
dropped. Either way the server stops reading, and the connection is closed after the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.params import Form
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import PayloadTooLarge

_UPLOAD_MARK = "__clearframe_accepts_upload__"
F = TypeVar("F", bound=Callable[..., Any])


def accepts_upload(endpoint: F) -> F:
    """Mark a route that reads a raw media body itself (no form field declares it)."""
    setattr(endpoint, _UPLOAD_MARK, True)
    return endpoint


def takes_upload(route: Any) -> bool:
    """Whether a route gets the upload limit: marked, or it has form (file) parameters."""
    if getattr(getattr(route, "endpoint", None), _UPLOAD_MARK, False):
        return True
    if not isinstance(route, APIRoute):
        return False
    return any(isinstance(f.field_info, Form) for f in route.dependant.body_params)


def upload_routes(app: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """(path pattern, methods) of every route of ``app`` that takes an upload."""
    from core.openapi import api_routes

    found = []
    for route in api_routes(app):
        if takes_upload(getattr(route, "original_route", route)):
            found.append((compile_path(route.path)[0], frozenset(route.methods)))
    return found


class _BodyTooLarge(PayloadTooLarge):
    """Raised into the route from ``receive`` once the 413 has been sent."""


class BodySizeLimit:
    """413 for bodies over the route's limit, before they are read into memory."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload
        self._uploads: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def _limit_for(self, scope: Scope) -> int:
        if self._uploads is None:
            self._uploads = upload_routes(scope.get("app"))
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for pattern, methods in self._uploads:
            if scope["method"] in methods and pattern.match(path):
                return self.max_upload
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = True
            if too_big:
                await _send_problem(scope, receive, send, limit)
                return
        if limit <= self.max_body:
            await self._buffered(scope, receive, send, limit)
        else:
            await self._streamed(scope, receive, send, limit)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body was complete: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_problem(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        pending: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        seen = 0
        started = answered = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 went out; the route's own answer to the error is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def limited_receive() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if not started and not answered:
                        answered = True
                        await _send_problem(scope, receive, send, limit)
                    raise _BodyTooLarge(f"request body exceeds {limit} bytes")
            return message

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not answered:
                raise


async def _send_problem(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse(
        PayloadTooLarge(f"request body exceeds {limit} bytes").to_problem(),
        status_code=413,
        media_type="application/problem+json",
        # the rest of the body is not read: the connection cannot carry another request
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)
