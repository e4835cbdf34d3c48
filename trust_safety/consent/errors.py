"""Typed errors of the cameo consent domain.

Each error carries a stable machine ``code`` so the HTTP edge can map it to a problem+json
response once, and a ``status`` hint for that mapping.
"""

from __future__ import annotations


class ConsentError(Exception):
    """Base class: a command about a cameo was rejected."""

    code: str = "consent.error"
    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCameoInput(ConsentError):
    code = "consent.invalid_input"
    status = 422


class CameoNotFound(ConsentError):
    code = "consent.cameo_not_found"
    status = 404


class CameoAlreadyRegistered(ConsentError):
    code = "consent.cameo_already_registered"
    status = 409


class CameoHandleTaken(ConsentError):
    code = "consent.handle_taken"
    status = 409


class NotCameoOwner(ConsentError):
    """Only the person in the cameo may change who can use it."""

    code = "consent.not_cameo_owner"
    status = 403


class CameoRetired(ConsentError):
    code = "consent.cameo_retired"
    status = 409


class AppearanceNotFound(ConsentError):
    code = "consent.appearance_not_found"
    status = 404
