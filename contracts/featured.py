"""The Featured standard, as the feed asks it of the domain that moderates outputs.

Featured is held to a stricter standard than what a requester may see of their own videos:
a video is featured only when its output-moderation scores pass the Featured policy, a
versioned set of thresholds stricter than the output policy's. The feed curates but does not
judge content, so it asks through this port (provided by trust_safety, required by feed) and
records the policy version it was answered under.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.ports import Port


@dataclass(frozen=True)
class FailedCategory:
    category: str
    score: float | None  # None: no classifier evaluated it, and the policy needs it evaluated
    threshold: float | None
    reason: str  # above_threshold, not_evaluated, not_moderated


@dataclass(frozen=True)
class FeaturedCheck:
    policy_version: str
    failed: tuple[FailedCategory, ...]
    moderation_policy_version: str | None = None  # the output policy the scores came from

    @property
    def passed(self) -> bool:
        return not self.failed


class FeaturedPolicy(Protocol):
    """Whether generation ``generation_id``'s output may be featured, with what failed."""

    def check(self, generation_id: str) -> FeaturedCheck: ...


FEATURED_POLICY = Port[FeaturedPolicy](
    "featured_policy",
    "the stricter standard a featured video's output-moderation scores must pass",
)
