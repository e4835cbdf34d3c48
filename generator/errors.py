"""Typed errors of the generator package, each with a stable machine code."""

from __future__ import annotations


class GeneratorError(Exception):
    """Base of every error the generator raises on purpose."""

    code: str = "generator.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRenderRequest(GeneratorError, ValueError):
    """The size, duration, frame rate or prompt of a render cannot be honoured."""

    code = "generator.invalid_render_request"


class EncodingError(GeneratorError):
    """Frames could not be written as, or read back from, a video file."""

    code = "generator.encoding_failed"


class BackendUnavailable(GeneratorError):
    """A model backend cannot run: missing weights, missing package, no CUDA device."""

    code = "generator.backend_unavailable"


class BackendFailed(GeneratorError):
    """A model backend started and then failed; callers may retry (transient)."""

    code = "generator.backend_failed"


class BlobNotFound(GeneratorError, KeyError):
    """No blob is stored under the requested content address."""

    code = "generator.blob_not_found"

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return self.message
