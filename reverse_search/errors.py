"""Typed errors of the reverse-search domain.

Each error carries a stable machine-readable ``code`` so the HTTP edge can map it to a
problem+json response once, and callers can branch on it without parsing messages.
"""

from __future__ import annotations

from core.errors import ClearframeError
from core.media import MediaLimitExceeded


class ReverseSearchError(ClearframeError):
    """Base class: every error raised on purpose by ``reverse_search``."""

    code = "reverse_search.error"
    status = 400
    title = "Reverse search failed"

    @property
    def message(self) -> str:
        return self.detail


class MediaDecodeError(ReverseSearchError):
    """The file is not a decodable video or image."""

    code = "reverse_search.media_undecodable"
    status = 415
    title = "Media not decodable"


class MediaTooLargeError(ReverseSearchError, MediaLimitExceeded):
    """The media declares or decodes to more pixels, frames or seconds than are decoded
    (a decompression bomb); the same code as every other route that reads media."""

    code = MediaLimitExceeded.code
    status = 422
    title = MediaLimitExceeded.title


class EmptyMediaError(ReverseSearchError):
    """The media decoded but yielded no frames."""

    code = "reverse_search.media_empty"
    status = 422
    title = "Media has no frames"


class InvalidFramesError(ReverseSearchError):
    """An array passed as frames does not have the shape or dtype of RGB video frames."""

    code = "reverse_search.frames_invalid"
    status = 422
    title = "Invalid frames"


class EmbedderConfigError(ReverseSearchError):
    """An embedder was configured with something it cannot load or use."""

    code = "reverse_search.embedder_config"
    status = 503
    title = "Embedder misconfigured"


class EmbedderMismatchError(ReverseSearchError):
    """Vectors or a persisted index were produced by a different embedder or dimension."""

    code = "reverse_search.embedder_mismatch"
    status = 409
    title = "Embedder mismatch"


class IndexStateError(ReverseSearchError):
    """An index operation is not allowed in the index's current state."""

    code = "reverse_search.index_state"
    status = 409
    title = "Index state conflict"


class IndexCorruptError(ReverseSearchError):
    """A persisted index is missing files or its files disagree with each other."""

    code = "reverse_search.index_corrupt"
    status = 503
    title = "Index unreadable"


class UnknownAssetError(ReverseSearchError):
    """The asset is not in the index."""

    code = "reverse_search.asset_unknown"
    status = 404
    title = "Unknown asset"


class DuplicateAssetError(ReverseSearchError):
    """The asset is already in the index."""

    code = "reverse_search.asset_duplicate"
    status = 409
    title = "Asset already indexed"
