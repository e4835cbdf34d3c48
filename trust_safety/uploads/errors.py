"""Typed upload errors (each maps to one HTTP status at the edge)."""

from __future__ import annotations

from core.errors import ClearframeError, PayloadTooLarge, ValidationFailed
from core.media import MediaLimitExceeded as _MediaLimitExceeded


class UploadTooLarge(PayloadTooLarge):
    code = "upload_too_large"


class UnsupportedMediaType(ClearframeError):
    code, status, title = "unsupported_media_type", 415, "Unsupported media type"


class CorruptMedia(ValidationFailed):
    code = "corrupt_media"


class MediaLimitExceeded(_MediaLimitExceeded):
    """Resolution, duration or frame-rate outside what the generator accepts as input."""

    title = ValidationFailed.title
