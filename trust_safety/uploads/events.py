"""Upload events (stream category ``upload``, one stream per upload)."""

from __future__ import annotations

from typing import Any

from core.events import EventPayload, event_type

UPLOAD = "upload"


@event_type("UploadModerated", category=UPLOAD)
class UploadModerated(EventPayload):
    """An upload was received and judged; ``decision`` is the full evidence record.

    ``blob`` names the stored bytes under the uploads directory; refused uploads keep only
    their hash, never their bytes.
    """

    upload_id: str
    owner_id: str
    approved: bool
    reason_category: str | None
    decision: dict[str, Any]
    blob: str | None
