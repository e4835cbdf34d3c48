"""The Featured policy itself: stricter than the output policy, and refused when looser."""

from __future__ import annotations

import pytest

from contracts.generation import OutputModerated
from tests.utils import contract_events as ce
from trust_safety.output.errors import InvalidOutputPolicy
from trust_safety.output.featured import DEFAULT_FEATURED_POLICY, FeaturedPolicy
from trust_safety.output.moderation import DEFAULT_OUTPUT_POLICY


def test_every_featured_threshold_is_at_least_as_strict_as_the_output_policy() -> None:
    for category, threshold in DEFAULT_FEATURED_POLICY.thresholds.items():
        rule = DEFAULT_OUTPUT_POLICY.rules[category]
        assert rule.threshold is not None and threshold <= rule.threshold, category
    looser = FeaturedPolicy("featured-test", {"sexual": 0.9})
    with pytest.raises(InvalidOutputPolicy, match="looser"):
        looser.check_against(DEFAULT_OUTPUT_POLICY)
    with pytest.raises(InvalidOutputPolicy):
        FeaturedPolicy("featured-test", {"sexual": 0.2}, frozenset({"minors"}))


def test_a_score_at_the_threshold_fails_and_below_it_passes() -> None:
    policy = FeaturedPolicy("featured-test", {"sexual": 0.2})

    def scored(score: float) -> OutputModerated:
        return ce.output_moderated(
            "g", verdicts=[{"category": "sexual", "max_score": score, "threshold": 0.5}]
        )

    assert not policy.judge(scored(0.2)).passed
    assert policy.judge(scored(0.19)).passed
    assert policy.judge(scored(0.19)).moderation_policy_version == "test"
