"""Typed errors of output moderation, each with a stable machine code."""

from __future__ import annotations

from core.errors import ClearframeError


class OutputModerationError(ClearframeError):
    code = "output_moderation.error"
    status, title = 500, "Output moderation failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        return self.detail


class ClassifierUnavailable(OutputModerationError):
    """A configured classifier cannot be loaded (missing checkpoint, bad config)."""

    code = "output_moderation.classifier_unavailable"
    status, title = 503, "Classifier unavailable"


class InvalidOutputPolicy(OutputModerationError, ValueError):
    code = "output_moderation.invalid_policy"
    status, title = 422, "Invalid output policy"


class InvalidFrames(OutputModerationError, ValueError):
    code = "output_moderation.invalid_frames"
    status, title = 422, "Invalid frames"
