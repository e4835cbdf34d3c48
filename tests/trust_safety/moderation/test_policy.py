from __future__ import annotations

import pytest

from trust_safety.moderation.categories import Category
from trust_safety.moderation.errors import InvalidPolicy
from trust_safety.moderation.policy import Policy, load_default_policy, policy_from_json
from trust_safety.moderation.stages import StageResult


def policy(**overrides: float) -> Policy:
    thresholds = {c: 0.8 for c in Category}
    return Policy(
        "test",
        thresholds,
        {Category.SEXUAL: 0.4, Category.VIOLENCE_GORE: 0.5, Category.SELF_HARM: 0.5},
        overrides.get("boost", 0.1),
    )


def semantic(**scores: float) -> StageResult:
    return StageResult("semantic", "1", scores={Category(k): v for k, v in scores.items()})


MINOR = StageResult("minors", "1", signals={"minor_reference": 1.0})


def test_below_threshold_is_approved_and_max_over_stages_is_used() -> None:
    outcome = policy().decide(
        [semantic(sexual=0.79), StageResult("other", "1", scores={Category.SEXUAL: 0.3})]
    )
    assert outcome.approved and outcome.primary is None
    outcome = policy().decide(
        [semantic(sexual=0.79), StageResult("other", "1", scores={Category.SEXUAL: 0.8})]
    )
    assert outcome.refused == (Category.SEXUAL,)


def test_minor_reference_applies_stricter_thresholds_and_refuses_sexual_as_minors() -> None:
    assert policy().decide([semantic(violence_gore=0.6)]).approved
    outcome = policy().decide([semantic(violence_gore=0.6), MINOR])
    assert outcome.minor_mode and outcome.refused == (Category.VIOLENCE_GORE,)
    outcome = policy().decide([semantic(sexual=0.45), MINOR])
    assert outcome.refused == (Category.MINORS, Category.SEXUAL)
    assert outcome.primary is Category.MINORS


def test_weak_term_signal_boosts_only_the_semantic_score_of_its_category() -> None:
    weak = StageResult("blocklist", "1", signals={"weak_term:violence_gore": 1.0})
    assert policy().decide([semantic(violence_gore=0.75)]).approved
    assert policy().decide([semantic(violence_gore=0.75), weak]).refused == (
        Category.VIOLENCE_GORE,
    )
    assert policy().decide([semantic(sexual=0.75), weak]).approved
    other_stage = StageResult("figures", "1", scores={Category.VIOLENCE_GORE: 0.75})
    assert policy().decide([other_stage, weak]).approved


def test_severity_orders_the_refused_categories() -> None:
    outcome = policy().decide([semantic(ip=0.9, hate_symbols=0.9, self_harm=0.9)])
    assert outcome.refused == (Category.SELF_HARM, Category.HATE_SYMBOLS, Category.IP)


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(InvalidPolicy):
        Policy("x", {Category.SEXUAL: 0.5})
    thresholds = {c: 0.5 for c in Category}
    with pytest.raises(InvalidPolicy):
        Policy("x", thresholds, {Category.SEXUAL: 0.7})  # looser for minors
    with pytest.raises(InvalidPolicy):
        Policy("x", thresholds, {Category.IP: 0.1})
    with pytest.raises(InvalidPolicy):
        Policy("x", {**thresholds, Category.IP: 0.0})
    with pytest.raises(InvalidPolicy):
        policy_from_json({"version": "x", "thresholds": "nope"})


def test_shipped_policy_round_trips() -> None:
    shipped = load_default_policy()
    assert policy_from_json(shipped.to_json()) == shipped


def test_sexual_content_with_a_minor_is_refused_on_the_sum_of_low_scores() -> None:
    """Minors 0.73 and sexual 0.21 each sit under their threshold; together they do not."""
    strict = Policy(
        "test",
        {c: 0.75 for c in Category},
        {Category.SEXUAL: 0.5},
        0.2,
        minor_sexual_sum_threshold=0.85,
    )
    outcome = strict.decide([semantic(minors=0.73, sexual=0.21), MINOR])
    assert outcome.refused == (Category.MINORS,)
    # the rule needs a minor referred to, and both scores
    assert strict.decide([semantic(minors=0.73, sexual=0.21)]).approved
    assert strict.decide([semantic(minors=0.62, sexual=0.05), MINOR]).approved
    # a weak term's boost does not count towards the sum ("a teen in his bedroom")
    bedroom = StageResult("blocklist", "1", signals={"weak_term:sexual": 1.0})
    assert strict.decide([semantic(minors=0.6, sexual=0.1), MINOR, bedroom]).approved


def test_the_minor_sum_threshold_is_validated_and_round_trips() -> None:
    data = load_default_policy().to_json()
    assert data["minor_sexual_sum_threshold"] is not None
    assert policy_from_json(data) == load_default_policy()
    with pytest.raises(InvalidPolicy, match="minor_sexual_sum_threshold"):
        policy_from_json({**data, "minor_sexual_sum_threshold": 3.0})
    with pytest.raises(InvalidPolicy, match="malformed"):
        policy_from_json({**data, "minor_sexual_sum_threshold": "high"})


def test_a_stage_with_its_own_threshold_is_judged_on_its_own_scale() -> None:
    policy = Policy(
        "t",
        {c: 0.75 for c in Category},
        stage_thresholds={"semantic_multilingual": {Category.SELF_HARM: 0.6}},
    )
    at_own = StageResult("semantic_multilingual", "1", scores={Category.SELF_HARM: 0.62})
    assert policy.decide([at_own]).refused == (Category.SELF_HARM,)
    elsewhere = StageResult("semantic", "1", scores={Category.SELF_HARM: 0.62})
    assert policy.decide([elsewhere]).approved
    # A list hit stays a refusal whatever the stage's own threshold.
    strict = Policy(
        "t", {c: 0.75 for c in Category}, stage_thresholds={"gloss_en": {Category.SEXUAL: 0.95}}
    )
    hit = StageResult("gloss_en", "1", scores={Category.SEXUAL: 1.0})
    assert strict.decide([hit]).refused == (Category.SEXUAL,)
    assert strict.decide([StageResult("gloss_en", "1", scores={Category.SEXUAL: 0.9})]).approved


def test_one_weak_term_adds_at_most_the_capped_boost() -> None:
    capped = Policy(
        "t", {c: 0.75 for c in Category}, weak_term_boost=0.2, single_weak_term_boost=0.05
    )
    one = StageResult("blocklist", "1", signals={"weak_term:violence_gore": 1.0})
    two = StageResult("blocklist", "1", signals={"weak_term:violence_gore": 2.0})
    theatre = semantic(violence_gore=0.6)
    # A theatre scene near the threshold is not pushed over it by one risky word...
    assert capped.decide([theatre, one]).approved
    assert capped.decide([theatre, one]).scores[Category.VIOLENCE_GORE] == pytest.approx(0.65)
    # ...two distinct ones add the full boost.
    assert capped.decide([theatre, two]).refused == (Category.VIOLENCE_GORE,)
    with pytest.raises(InvalidPolicy, match="single_weak_term_boost"):
        Policy("t", {c: 0.75 for c in Category}, weak_term_boost=0.1, single_weak_term_boost=0.2)
