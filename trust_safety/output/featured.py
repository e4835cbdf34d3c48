"""The Featured policy: stricter thresholds over output moderation's scores.

A requester may see and publish a video that passed the output policy; Featured puts a video
in front of everyone, so it must pass more: each category's highest score over the sampled
frames must stay under a threshold no looser than the output policy's, and the categories the
output policy fails closed on must have been evaluated at all. Versioned like the output
policy; the feed records the version each featuring was checked under.

The scores are read from the generation's ``OutputModerated`` (the output stream, or the
generation stream for a legacy history), the one record of what moderation found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts.featured import FailedCategory, FeaturedCheck
from contracts.generation import GENERATION, OUTPUT, OutputModerated
from core.events import stream_id
from core.services import Services
from trust_safety.output.classifiers import (
    HATE_SYMBOLS,
    LIKENESS,
    MINORS,
    SELF_HARM,
    SEXUAL,
    VIOLENCE_GORE,
)
from trust_safety.output.errors import InvalidOutputPolicy
from trust_safety.output.moderation import DEFAULT_OUTPUT_POLICY, OutputPolicy


@dataclass(frozen=True)
class FeaturedPolicy:
    version: str
    thresholds: Mapping[str, float]
    must_be_evaluated: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for category, threshold in self.thresholds.items():
            if not 0.0 < threshold <= 1.0:
                raise InvalidOutputPolicy(
                    f"featured threshold for {category} must be in (0, 1], got {threshold}"
                )
        unknown = self.must_be_evaluated - set(self.thresholds)
        if unknown:
            raise InvalidOutputPolicy(f"no featured threshold for {sorted(unknown)}")

    def check_against(self, base: OutputPolicy) -> None:
        """Refuse a Featured policy looser than the output policy in any category."""
        for category, threshold in self.thresholds.items():
            rule = base.rules.get(category)
            if rule is not None and rule.threshold is not None and threshold > rule.threshold:
                raise InvalidOutputPolicy(
                    f"featured threshold for {category} ({threshold}) is looser than the output "
                    f"policy's ({rule.threshold})"
                )

    def judge(self, moderated: OutputModerated | None) -> FeaturedCheck:
        if moderated is None:
            missing = FailedCategory("output_moderation", None, None, "not_moderated")
            return FeaturedCheck(self.version, (missing,))
        verdicts = {str(v.get("category")): v for v in moderated.verdicts}
        failed = []
        for category, threshold in self.thresholds.items():
            score = verdicts.get(category, {}).get("max_score")
            if score is None:
                if category in self.must_be_evaluated:
                    failed.append(FailedCategory(category, None, threshold, "not_evaluated"))
            elif float(score) >= threshold:
                failed.append(FailedCategory(category, float(score), threshold, "above_threshold"))
        return FeaturedCheck(self.version, tuple(failed), moderated.policy_version)


DEFAULT_FEATURED_POLICY = FeaturedPolicy(
    version="featured-2026-12-1",
    thresholds={
        SEXUAL: 0.2,
        MINORS: 0.2,
        # a face of someone who did not consent scores 1.0, a consented one 0: never featured
        LIKENESS: 0.5,
        VIOLENCE_GORE: 0.3,
        SELF_HARM: 0.3,
        HATE_SYMBOLS: 0.3,
    },
    # what the output policy fails closed on must have been looked at, not just let through
    must_be_evaluated=frozenset({SEXUAL, MINORS, LIKENESS}),
)
DEFAULT_FEATURED_POLICY.check_against(DEFAULT_OUTPUT_POLICY)


class ModeratedOutputs:
    """The ``featured_policy`` port: the Featured policy over the stored moderation record."""

    def __init__(self, services: Services, policy: FeaturedPolicy = DEFAULT_FEATURED_POLICY):
        self.services = services
        self.policy = policy

    def check(self, generation_id: str) -> FeaturedCheck:
        store = self.services.store
        events = [
            *store.read_stream(stream_id(GENERATION, generation_id)),
            *store.read_stream(stream_id(OUTPUT, generation_id)),
        ]
        moderated = [e for e in events if e.type == OutputModerated.event_type_name]
        return self.policy.judge(moderated[-1].payload_as(OutputModerated) if moderated else None)
