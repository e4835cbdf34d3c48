"""The consent / opt-out re-check at pick-up, asked of the ``pickup_policy`` port.

Between approval and pick-up a cameo owner may revoke consent or a rights holder may file an
opt-out; the generator asks again right before rendering. The generator requires the port
(``generator/module.py``): a deployment without a module that provides it does not start, so
no job ever renders without the re-check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from contracts.ports import PickupPolicy, PickupRequest
from generator.jobs import GenerationJob


@dataclass(frozen=True)
class PickupVerdict:
    allowed: bool
    status: Literal["passed", "refused"]
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            **({"details": self.details} if self.details else {}),
        }


class PickupCheck:
    def __init__(self, policy: PickupPolicy) -> None:
        self.policy = policy

    def check(self, job: GenerationJob, at: datetime) -> PickupVerdict:
        answer = self.policy.recheck(
            PickupRequest(
                generation_id=job.generation_id,
                requester_id=job.requester_id,
                prompt=job.prompt,
                cameo_ids=tuple(job.cameo_ids),
                at=at,
            )
        )
        details = dict(answer.details)
        if answer.allowed:
            return PickupVerdict(True, "passed", None, details)
        return PickupVerdict(False, "refused", answer.reason or "consent_revoked", details)
