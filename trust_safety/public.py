"""The trust_safety domain's public face for other domains (the generator imports this).

``recheck_generation_at_pickup`` is the generator's second look before rendering: consent for
every cameo the job uses (folded from the cameos' own streams, so a revocation appended a
moment ago is seen) and the IP opt-out registry as it is now (an opt-out filed after approval
still stops the job).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.events import stream_id
from core.services import Services
from trust_safety.consent.public import recheck_cameos_at_pickup
from trust_safety.moderation.normalise import normalise
from trust_safety.optout.public import prompt_matcher


def _request_territory(services: Services, generation_id: str) -> str | None:
    for event in services.store.read_stream(stream_id("generation", generation_id)):
        if event.type == "GenerationRequested":
            territory = event.payload.get("territory")
            return str(territory) if territory else None
    return None


def recheck_generation_at_pickup(
    services: Services,
    *,
    generation_id: str,
    requester_id: str,
    prompt: str,
    cameo_ids: Sequence[str],
    at: datetime,
) -> dict[str, Any]:
    consent = recheck_cameos_at_pickup(
        services, principal_id=requester_id, cameo_ids=cameo_ids, at=at
    )
    if not consent.allowed:
        return {
            "allowed": False,
            "reason": "consent_revoked",
            "details": {
                "cameo_ids": [d.decision.cameo_id for d in consent.denied],
                "consent_reasons": [d.decision.reason.value for d in consent.denied],
            },
        }
    position, matcher = prompt_matcher(services)
    matches = matcher.match(
        normalise(prompt), territory=_request_territory(services, generation_id)
    )
    if matches.matches:
        return {
            "allowed": False,
            "reason": "opted_out",
            "details": {"optout_ids": list(matches.optout_ids), "registry_position": position},
        }
    return {
        "allowed": True,
        "reason": None,
        "details": {"cameo_ids": list(consent.cameo_ids), "registry_position": position},
    }
