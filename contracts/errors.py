"""Errors a published contract raises when a value breaks its rules."""

from __future__ import annotations

from core.errors import Conflict, ValidationFailed


class InvalidStatement(ValidationFailed):
    """A statement of reasons breaks a Transparency Database rule."""

    code = "invalid_statement_of_reasons"


class DuplicatePuid(Conflict):
    """Two different statements claim the same platform unique identifier."""

    code = "duplicate_puid"
