"""Typed errors of the generator package, each with a stable machine code."""

from __future__ import annotations

from core.errors import InternalError, ServiceUnavailable, ValidationFailed


class GeneratorError(InternalError):
    """Base of every error the generator raises on purpose."""

    code = "generator.error"
    title = "Generation failed"


class InvalidRenderRequest(ValidationFailed, GeneratorError, ValueError):
    """The size, duration, frame rate or prompt of a render cannot be honoured."""

    code = "generator.invalid_render_request"


class BackendUnavailable(ServiceUnavailable, GeneratorError):
    """A model backend cannot run: missing weights, missing package, no CUDA device."""

    code = "generator.backend_unavailable"
    title = "Generation backend unavailable"


class BackendFailed(ServiceUnavailable, GeneratorError):
    """A model backend started and then failed; callers may retry (transient)."""

    code = "generator.backend_failed"
    title = "Generation backend failed"
