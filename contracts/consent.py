"""What the consent ledger publishes for other domains (stream ``consent-<cameo_id>``)."""

from __future__ import annotations

from pydantic import Field

from core.events import EventPayload, event_type

CONSENT = "consent"


@event_type("CameoAppearanceRemoved", category=CONSENT)
class CameoAppearanceRemoved(EventPayload):
    """A cameo's owner took their likeness out of one generation: the assets domain places
    hold ``cameo:<cameo_id>`` on it."""

    cameo_id: str
    generation_id: str
    reason: str = Field(default="removed by the cameo owner", max_length=500)
