"""Errors are types with a stable machine code; the API maps them to problem+json once."""

from __future__ import annotations

import os
import re
from typing import Any

# Absolute paths of two or more parts (with an optional quote or parenthesis before them).
_PATH = re.compile(r"(?<![\w.:/-])/([\w.@+~-]+)(?:/[\w.@+~-]+)+/?")


def _top_level_dirs() -> frozenset[str]:
    try:
        return frozenset(e.name for e in os.scandir("/") if e.is_dir())
    except OSError:
        return frozenset()


_SERVER_ROOTS = _top_level_dirs()


def redact_paths(text: str) -> str:
    """``text`` with every path on this server replaced by ``<file>``.

    A path counts when its first part is a top-level directory here (``/tmp/...``,
    ``/home/...``): error details must not tell clients where files live, while API paths
    such as ``/v1/generations/...`` stay readable."""
    return _PATH.sub(lambda m: "<file>" if m.group(1) in _SERVER_ROOTS else m.group(0), text)


class ClearframeError(Exception):
    """Base of every expected failure. ``code`` is stable and machine-readable.

    A domain's own base (``GeneratorError``) gives the domain one ``except``; each of its
    errors lists the status class below first (``class X(ValidationFailed, GeneratorError)``)
    so that its status and title win over the domain base's."""

    code: str = "error"
    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def message(self) -> str:
        return self.detail

    def to_problem(self) -> dict[str, Any]:
        extra = {k: redact_paths(v) if isinstance(v, str) else v for k, v in self.extra.items()}
        return {
            "type": f"https://clearframe.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": redact_paths(self.detail),
            **extra,
        }


class ValidationFailed(ClearframeError):
    code, status, title = "validation_failed", 422, "Invalid input"


class NotFound(ClearframeError):
    code, status, title = "not_found", 404, "Not found"


class Unauthenticated(ClearframeError):
    code, status, title = "unauthenticated", 401, "Authentication required"


class Forbidden(ClearframeError):
    code, status, title = "forbidden", 403, "Forbidden"


class Conflict(ClearframeError):
    code, status, title = "conflict", 409, "Conflict"


class ConcurrencyConflict(Conflict):
    """The stream moved on since the caller read it (optimistic concurrency)."""

    code = "concurrency_conflict"


class PayloadTooLarge(ClearframeError):
    code, status, title = "payload_too_large", 413, "Payload too large"


class UnsupportedMedia(ClearframeError):
    code, status, title = "unsupported_media_type", 415, "Unsupported media type"


class ServiceUnavailable(ClearframeError):
    code, status, title = "unavailable", 503, "Service unavailable"


class InternalError(ClearframeError):
    """A fault on the server's side (bad data or a failing dependency), not in the request;
    the same code and title the API gives an unexpected exception."""

    code, status, title = "internal_error", 500, "Internal error"


class UnknownEventType(ClearframeError):
    code, status, title = "unknown_event_type", 422, "Unknown event type"
