"""Typed errors of the cameo consent domain, each with a stable machine code."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class InvalidCameoInput(ValidationFailed):
    code = "consent.invalid_input"


class CameoNotFound(NotFound):
    code = "consent.cameo_not_found"


class CameoAlreadyRegistered(Conflict):
    code = "consent.cameo_already_registered"


class CameoHandleTaken(Conflict):
    code = "consent.handle_taken"


class NotCameoOwner(Forbidden):
    """Only the person in the cameo may change who can use it."""

    code = "consent.not_cameo_owner"


class CameoAlreadyRetired(Conflict):
    code = "consent.cameo_retired"


class AppearanceNotFound(NotFound):
    code = "consent.appearance_not_found"
