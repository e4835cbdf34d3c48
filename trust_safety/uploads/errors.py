"""Typed upload errors (each maps to one HTTP status at the edge)."""

from __future__ import annotations

from core.errors import PayloadTooLarge, UnsupportedMedia, ValidationFailed
from core.media import MediaLimitExceeded as _MediaLimitExceeded


class UploadTooLarge(PayloadTooLarge):
    code = "upload_too_large"


class UnsupportedMediaType(UnsupportedMedia):
    """The upload is none of the accepted image or video containers (sniffed, not declared)."""


class CorruptMedia(ValidationFailed):
    code = "corrupt_media"


class MediaLimitExceeded(_MediaLimitExceeded):
    """Resolution, duration or frame-rate outside what the generator accepts as input."""

    title = ValidationFailed.title
