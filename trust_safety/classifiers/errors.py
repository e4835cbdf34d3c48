"""Typed classifier errors."""

from __future__ import annotations

from core.errors import ClearframeError, ValidationFailed


class ClassifierUnavailable(ClearframeError):
    """A model or its bundled weights cannot be loaded; a deployment fault, not user input."""

    code = "classifier_unavailable"
    status = 503
    title = "Classifier unavailable"


class InvalidClassifierInput(ValidationFailed):
    code = "invalid_classifier_input"
