"""The consent / opt-out re-check at pick-up: a seam to the trust_safety domain.

Between approval and pick-up a cameo owner may revoke consent or a rights holder may file an
opt-out; the generator asks again right before rendering. The answer comes from
``trust_safety.public.recheck_generation_at_pickup`` (domains meet only through ``public.py``):

    recheck_generation_at_pickup(services, *, generation_id, requester_id, prompt,
                                 cameo_ids, at) -> Mapping with keys
        "allowed": bool, "reason": "consent_revoked" | "opted_out" | None, "details": dict

When that function does not exist (a deployment without the consent ledger), a job that uses
cameos fails closed (``pickup_check_unavailable``) because consent cannot be confirmed; a job
without cameos proceeds on the request-time check, and ``GenerationStarted`` records that the
re-check did not run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from generator.jobs import GenerationJob

Recheck = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class PickupVerdict:
    allowed: bool
    status: Literal["passed", "refused", "unavailable"]
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            **({"details": self.details} if self.details else {}),
        }


def find_trust_safety_recheck() -> Recheck | None:
    try:
        public = importlib.import_module("trust_safety.public")
    except ModuleNotFoundError:
        return None
    fn = getattr(public, "recheck_generation_at_pickup", None)
    return fn if callable(fn) else None


class PickupCheck:
    def __init__(
        self, services: Any, recheck: Recheck | None = None, *, discover: bool = True
    ) -> None:
        self.services = services
        self._recheck = (
            recheck if recheck is not None else (find_trust_safety_recheck() if discover else None)
        )

    @property
    def available(self) -> bool:
        return self._recheck is not None

    def check(self, job: GenerationJob, at: datetime) -> PickupVerdict:
        if self._recheck is None:
            if job.cameo_ids:
                return PickupVerdict(
                    False,
                    "unavailable",
                    "pickup_check_unavailable",
                    {
                        "cameo_ids": list(job.cameo_ids),
                        "why": "no consent ledger to re-check against",
                    },
                )
            return PickupVerdict(
                True, "unavailable", None, {"why": "no trust_safety re-check installed"}
            )
        answer = self._recheck(
            self.services,
            generation_id=job.generation_id,
            requester_id=job.requester_id,
            prompt=job.prompt,
            cameo_ids=list(job.cameo_ids),
            at=at,
        )
        allowed = bool(answer.get("allowed"))
        reason = answer.get("reason")
        details = dict(answer.get("details") or {})
        if allowed:
            return PickupVerdict(True, "passed", None, details)
        return PickupVerdict(False, "refused", str(reason or "consent_revoked"), details)
