"""Typed errors of the reverse-search domain.

Each error carries a stable machine-readable ``code`` so the HTTP edge can map it to a
problem+json response once, and callers can branch on it without parsing messages.
"""

from __future__ import annotations

from core.errors import (
    ClearframeError,
    Conflict,
    NotFound,
    ServiceUnavailable,
    UnsupportedMedia,
    ValidationFailed,
)
from core.media import MediaLimitExceeded


class ReverseSearchError(ClearframeError):
    """Base class: every error raised on purpose by ``reverse_search``."""

    code = "reverse_search.error"
    title = "Reverse search failed"


class MediaDecodeError(UnsupportedMedia, ReverseSearchError):
    """The file is not a decodable video or image."""

    code = "reverse_search.media_undecodable"


class MediaTooLargeError(MediaLimitExceeded, ReverseSearchError):
    """The media declares or decodes to more pixels, frames or seconds than are decoded
    (a decompression bomb); the same code as every other route that reads media."""


class EmptyMediaError(ValidationFailed, ReverseSearchError):
    """The media decoded but yielded no frames."""

    code = "reverse_search.media_empty"


class InvalidFramesError(ValidationFailed, ReverseSearchError):
    """An array passed as frames does not have the shape or dtype of RGB video frames."""

    code = "reverse_search.frames_invalid"


class EmbedderConfigError(ServiceUnavailable, ReverseSearchError):
    """An embedder was configured with something it cannot load or use."""

    code = "reverse_search.embedder_config"
    title = "Embedder misconfigured"


class EmbedderMismatchError(Conflict, ReverseSearchError):
    """Vectors or a persisted index were produced by a different embedder or dimension."""

    code = "reverse_search.embedder_mismatch"


class IndexStateError(Conflict, ReverseSearchError):
    """An index operation is not allowed in the index's current state."""

    code = "reverse_search.index_state"


class IndexCorruptError(ServiceUnavailable, ReverseSearchError):
    """A persisted index is missing files or its files disagree with each other."""

    code = "reverse_search.index_corrupt"
    title = "Index unreadable"


class UnknownAssetError(NotFound, ReverseSearchError):
    """The asset is not in the index."""

    code = "reverse_search.asset_unknown"


class DuplicateAssetError(Conflict, ReverseSearchError):
    """The asset is already in the index."""

    code = "reverse_search.asset_duplicate"
