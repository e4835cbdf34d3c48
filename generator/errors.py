"""Typed errors of the generator package, each with a stable machine code."""

from __future__ import annotations

from core.errors import ClearframeError


class GeneratorError(ClearframeError):
    """Base of every error the generator raises on purpose."""

    code = "generator.error"
    status, title = 500, "Generation failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        return self.detail


class InvalidRenderRequest(GeneratorError, ValueError):
    """The size, duration, frame rate or prompt of a render cannot be honoured."""

    code = "generator.invalid_render_request"
    status, title = 422, "Render request cannot be honoured"


class BackendUnavailable(GeneratorError):
    """A model backend cannot run: missing weights, missing package, no CUDA device."""

    code = "generator.backend_unavailable"
    status, title = 503, "Generation backend unavailable"


class BackendFailed(GeneratorError):
    """A model backend started and then failed; callers may retry (transient)."""

    code = "generator.backend_failed"
    status, title = 503, "Generation backend failed"
