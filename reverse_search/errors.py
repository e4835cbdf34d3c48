"""Typed errors of the reverse-search domain.

Each error carries a stable machine-readable ``code`` so the HTTP edge can map it to a
problem+json response once, and callers can branch on it without parsing messages.
"""

from __future__ import annotations


class ReverseSearchError(Exception):
    """Base class: every error raised on purpose by ``reverse_search``."""

    code: str = "reverse_search.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MediaDecodeError(ReverseSearchError):
    """The file is not a decodable video or image."""

    code = "reverse_search.media_undecodable"


class EmptyMediaError(ReverseSearchError):
    """The media decoded but yielded no frames."""

    code = "reverse_search.media_empty"


class InvalidFramesError(ReverseSearchError):
    """An array passed as frames does not have the shape or dtype of RGB video frames."""

    code = "reverse_search.frames_invalid"


class EmbedderConfigError(ReverseSearchError):
    """An embedder was configured with something it cannot load or use."""

    code = "reverse_search.embedder_config"


class EmbedderMismatchError(ReverseSearchError):
    """Vectors or a persisted index were produced by a different embedder or dimension."""

    code = "reverse_search.embedder_mismatch"


class IndexStateError(ReverseSearchError):
    """An index operation is not allowed in the index's current state."""

    code = "reverse_search.index_state"


class IndexCorruptError(ReverseSearchError):
    """A persisted index is missing files or its files disagree with each other."""

    code = "reverse_search.index_corrupt"


class UnknownAssetError(ReverseSearchError):
    """The asset is not in the index."""

    code = "reverse_search.asset_unknown"


class DuplicateAssetError(ReverseSearchError):
    """The asset is already in the index."""

    code = "reverse_search.asset_duplicate"
