"""Typed errors of output moderation, each with a stable machine code."""

from __future__ import annotations


class OutputModerationError(Exception):
    code: str = "output_moderation.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClassifierUnavailable(OutputModerationError):
    """A configured classifier cannot be loaded (missing checkpoint, bad config)."""

    code = "output_moderation.classifier_unavailable"


class InvalidOutputPolicy(OutputModerationError, ValueError):
    code = "output_moderation.invalid_policy"


class InvalidFrames(OutputModerationError, ValueError):
    code = "output_moderation.invalid_frames"
