"""Typed classifier errors."""

from __future__ import annotations

from core.errors import ServiceUnavailable, ValidationFailed


class ClassifierUnavailable(ServiceUnavailable):
    """A model or its bundled weights cannot be loaded; a deployment fault, not user input."""

    code = "classifier_unavailable"
    title = "Classifier unavailable"


class InvalidClassifierInput(ValidationFailed):
    code = "invalid_classifier_input"
