"""Building a validated value where a pydantic failure must surface as a domain's own error."""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError

from core.errors import ValidationFailed

T = TypeVar("T")


def build(factory: type[T], error: type[ValidationFailed], **values: object) -> T:
    """``factory(**values)``; a validation failure becomes ``error`` naming the first bad field,
    so a command's caller sees the domain's stable code, not pydantic's report."""
    try:
        return factory(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "input"
        raise error(f"{where}: {first['msg']}") from exc
