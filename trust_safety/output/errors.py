"""Typed errors of output moderation, each with a stable machine code."""

from __future__ import annotations

from core.errors import InternalError, ServiceUnavailable, ValidationFailed


class OutputModerationError(InternalError):
    code = "output_moderation.error"
    title = "Output moderation failed"


class ClassifierUnavailable(ServiceUnavailable, OutputModerationError):
    """A configured classifier cannot be loaded (missing checkpoint, bad config)."""

    code = "output_moderation.classifier_unavailable"
    title = "Classifier unavailable"


class InvalidOutputPolicy(ValidationFailed, OutputModerationError, ValueError):
    code = "output_moderation.invalid_policy"


class InvalidFrames(ValidationFailed, OutputModerationError, ValueError):
    code = "output_moderation.invalid_frames"
