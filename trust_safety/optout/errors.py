"""Typed errors of the IP opt-out registry, each with a stable machine code."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class InvalidOptOut(ValidationFailed):
    code = "optout.invalid_input"


class OptOutNotFound(NotFound):
    code = "optout.not_found"


class OptOutAlreadyFiled(Conflict):
    code = "optout.already_filed"


class OptOutAlreadyWithdrawn(Conflict):
    code = "optout.withdrawn"


class NotOptOutHolder(Forbidden):
    """Only the rights holder who filed an opt-out may amend or withdraw it."""

    code = "optout.not_holder"


class EmbeddingMismatch(ValidationFailed):
    """An embedder returned vectors of the wrong shape for the matcher it feeds."""

    code = "optout.embedding_mismatch"
