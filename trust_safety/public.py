"""What the trust_safety domain provides to others through ports (contracts/ports.py).

:class:`PickupRecheck` is the ``pickup_policy`` port, the generator's second look before
rendering: consent for every cameo the job uses (folded from the cameos' own streams, so a
revocation appended a moment ago is seen) and the IP opt-out registry as it is now (an
opt-out filed after approval still stops the job).
"""

from __future__ import annotations

from contracts.generation import GENERATION
from contracts.ports import PickupAnswer, PickupRequest
from core.events import stream_id
from core.services import Services
from trust_safety.consent.public import recheck_cameos_at_pickup
from trust_safety.moderation.normalise import normalise
from trust_safety.optout.public import prompt_matcher


def _request_territory(services: Services, generation_id: str) -> str | None:
    # the request is the gate's, on the generation stream before and after the split
    for event in services.store.read_stream(stream_id(GENERATION, generation_id)):
        if event.type == "GenerationRequested":
            territory = event.payload.get("territory")
            return str(territory) if territory else None
    return None


class PickupRecheck:
    """The ``pickup_policy`` port as trust_safety provides it."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def recheck(self, request: PickupRequest) -> PickupAnswer:
        services = self.services
        consent = recheck_cameos_at_pickup(
            services,
            # no requester: nobody holds a grant, so any cameo is refused
            principal_id=request.requester_id or "",
            cameo_ids=request.cameo_ids,
            at=request.at,
        )
        if not consent.allowed:
            return PickupAnswer(
                False,
                "consent_revoked",
                {
                    "cameo_ids": [d.decision.cameo_id for d in consent.denied],
                    "consent_reasons": [d.decision.reason.value for d in consent.denied],
                },
            )
        position, matcher = prompt_matcher(services)
        matches = matcher.match(
            normalise(request.prompt),
            territory=_request_territory(services, request.generation_id),
        )
        if matches.matches:
            return PickupAnswer(
                False,
                "opted_out",
                {"optout_ids": list(matches.optout_ids), "registry_position": position},
            )
        return PickupAnswer(
            True,
            None,
            {"cameo_ids": list(consent.cameo_ids), "registry_position": position},
        )
