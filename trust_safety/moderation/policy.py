"""The versioned policy: per-category thresholds over the stages' scores.

Scores from all stages are combined per category by taking the maximum (a blocklist hit is
1.0, a semantic score is a discounted cosine similarity). A category is refused when its score
reaches its threshold. When the prompt refers to a minor, the stricter ``minor_thresholds``
apply to sexual, violent and self-harm content, and sexual content at even the stricter
threshold is refused as ``minors`` — outright, whatever else the prompt says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trust_safety.moderation.categories import SEVERITY_ORDER, Category, parse_category
from trust_safety.moderation.data import shipped_json
from trust_safety.moderation.errors import InvalidPolicy
from trust_safety.moderation.stages import StageResult

MINOR_SIGNAL = "minor_reference"
# Set by the blocklist stage when a context-dependent word of a category appears.
WEAK_SIGNAL_PREFIX = "weak_term:"
# The stages whose scores are similarities a weak term may boost (English and multilingual).
SEMANTIC_STAGES = ("semantic", "semantic_multilingual", "gloss_en")
_MINOR_STRICT = (Category.SEXUAL, Category.VIOLENCE_GORE, Category.SELF_HARM)


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    refused: tuple[Category, ...]
    scores: Mapping[Category, float]
    minor_mode: bool
    thresholds_applied: Mapping[Category, float]

    @property
    def approved(self) -> bool:
        return not self.refused

    @property
    def primary(self) -> Category | None:
        return self.refused[0] if self.refused else None


@dataclass(frozen=True)
class Policy:
    version: str
    thresholds: Mapping[Category, float]
    minor_thresholds: Mapping[Category, float] = field(default_factory=dict)
    # Added to a category's *semantic* score when a weak term of that category is present:
    # a risky word plus a risky meaning is stronger evidence than either alone.
    weak_term_boost: float = 0.0
    # What a single weak term may add: one risky word must not decide a prompt on its own (a
    # theatre scene with "blood"), two distinct ones add the full boost. None: no cap.
    single_weak_term_boost: float | None = None
    # With a minor referred to, the minors score and the sexual score add up: sexual or
    # suggestive content next to a child is refused even when each score alone is low. The
    # sum is over the scores before weak-term boosts, so an innocent "bedroom" next to a
    # "teen" does not count as sexual content. None switches the rule off.
    minor_sexual_sum_threshold: float | None = None
    # An approved prompt with a score this close below its threshold is borderline: where an
    # LLM filter is configured it reads the prompt before the approval stands.
    referral_margin: float = 0.1
    # A stage whose scores sit on another scale than the English semantic stage's has its own
    # threshold per category (fitted, see bench/fit_thresholds.py): its score is shifted by
    # the difference before it joins the others, so a score at the stage's threshold counts
    # as one at the category's threshold. A list hit (1.0) stays a refusal.
    stage_thresholds: Mapping[str, Mapping[Category, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c.value for c in Category if c not in self.thresholds]
        if missing:
            raise InvalidPolicy(f"policy {self.version} has no threshold for {missing}")
        for category, value in (*self.thresholds.items(), *self.minor_thresholds.items()):
            if not 0.0 < value <= 1.0:
                raise InvalidPolicy(
                    f"threshold for {category.value} must be in (0, 1], got {value}"
                )
        if not 0.0 <= self.weak_term_boost < 0.5:
            raise InvalidPolicy(f"weak_term_boost must be in [0, 0.5), got {self.weak_term_boost}")
        if self.single_weak_term_boost is not None and not (
            0.0 <= self.single_weak_term_boost <= self.weak_term_boost
        ):
            raise InvalidPolicy(
                "single_weak_term_boost must be in [0, weak_term_boost], "
                f"got {self.single_weak_term_boost}"
            )
        if self.minor_sexual_sum_threshold is not None and not (
            0.0 < self.minor_sexual_sum_threshold <= 2.0
        ):
            raise InvalidPolicy(
                "minor_sexual_sum_threshold must be in (0, 2], "
                f"got {self.minor_sexual_sum_threshold}"
            )
        for stage, per_category in self.stage_thresholds.items():
            for category, value in per_category.items():
                if not 0.0 < value <= 1.0:
                    raise InvalidPolicy(
                        f"stage threshold {stage}/{category.value} must be in (0, 1], got {value}"
                    )
        if not 0.0 <= self.referral_margin < 0.5:
            raise InvalidPolicy(f"referral_margin must be in [0, 0.5), got {self.referral_margin}")
        for category, strict in self.minor_thresholds.items():
            if category not in _MINOR_STRICT:
                raise InvalidPolicy(
                    f"minor thresholds apply only to {[c.value for c in _MINOR_STRICT]}"
                )
            if strict > self.thresholds[category]:
                raise InvalidPolicy(
                    f"the minor threshold for {category.value} ({strict}) must not be looser "
                    f"than the general one ({self.thresholds[category]})"
                )

    def decide(self, results: Iterable[StageResult]) -> PolicyOutcome:
        scores: dict[Category, float] = {}
        minor_mode = False
        unboosted: dict[Category, float] = {}
        # Per category, the most distinct weak terms any one stage found.
        weak_terms: dict[Category, float] = {}
        results = list(results)
        for result in results:
            if result.signals.get(MINOR_SIGNAL, 0.0) > 0.0:
                minor_mode = True
            for signal, value in result.signals.items():
                if signal.startswith(WEAK_SIGNAL_PREFIX) and value > 0.0:
                    category = Category(signal.removeprefix(WEAK_SIGNAL_PREFIX))
                    weak_terms[category] = max(weak_terms.get(category, 0.0), float(value))
        boost = {c: self._boost(count) for c, count in weak_terms.items()}
        for result in results:
            own = self.stage_thresholds.get(result.stage, {})
            for category, score in result.scores.items():
                value = float(score)
                shift = self.thresholds[category] - own[category] if category in own else 0.0
                unboosted[category] = max(
                    unboosted.get(category, 0.0), min(1.0, max(0.0, value + shift))
                )
                if result.stage in SEMANTIC_STAGES and category in boost:
                    value = min(1.0, value + boost[category])
                value = min(1.0, max(0.0, value + shift))
                scores[category] = max(scores.get(category, 0.0), value)
        applied = dict(self.thresholds)
        if minor_mode:
            applied.update(self.minor_thresholds)
        refused = {c for c, s in scores.items() if s >= applied[c]}
        if minor_mode and Category.SEXUAL in refused:
            refused.add(Category.MINORS)
        if (
            minor_mode
            and self.minor_sexual_sum_threshold is not None
            and unboosted.get(Category.MINORS, 0.0) + unboosted.get(Category.SEXUAL, 0.0)
            >= self.minor_sexual_sum_threshold
        ):
            refused.add(Category.MINORS)
        ordered = tuple(c for c in SEVERITY_ORDER if c in refused)
        return PolicyOutcome(ordered, scores, minor_mode, applied)

    def _boost(self, weak_terms: float) -> float:
        if weak_terms >= 2 or self.single_weak_term_boost is None:
            return self.weak_term_boost
        return self.single_weak_term_boost

    def borderline(self, outcome: PolicyOutcome) -> bool:
        """An approved outcome with a score within ``referral_margin`` of its threshold."""
        return any(
            score >= outcome.thresholds_applied[category] - self.referral_margin
            for category, score in outcome.scores.items()
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "thresholds": {c.value: v for c, v in self.thresholds.items()},
            "minor_thresholds": {c.value: v for c, v in self.minor_thresholds.items()},
            "weak_term_boost": self.weak_term_boost,
            "single_weak_term_boost": self.single_weak_term_boost,
            "minor_sexual_sum_threshold": self.minor_sexual_sum_threshold,
            "referral_margin": self.referral_margin,
            "stage_thresholds": {
                stage: {c.value: v for c, v in per.items()}
                for stage, per in self.stage_thresholds.items()
            },
        }


def policy_from_json(data: Mapping[str, Any]) -> Policy:
    try:
        version = str(data["version"])
        thresholds = {parse_category(k): float(v) for k, v in data["thresholds"].items()}
        minor = {parse_category(k): float(v) for k, v in data.get("minor_thresholds", {}).items()}
        boost = float(data.get("weak_term_boost", 0.0))
        raw_single = data.get("single_weak_term_boost")
        single = None if raw_single is None else float(raw_single)
        raw_sum = data.get("minor_sexual_sum_threshold")
        minor_sum = None if raw_sum is None else float(raw_sum)
        margin = float(data.get("referral_margin", 0.1))
        stage_thresholds = {
            str(stage): {parse_category(k): float(v) for k, v in per.items()}
            for stage, per in data.get("stage_thresholds", {}).items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidPolicy(f"policy data is malformed: {exc}") from exc
    return Policy(
        version,
        thresholds,
        minor,
        boost,
        single,
        minor_sum,
        margin,
        stage_thresholds,
    )


def load_default_policy() -> Policy:
    return policy_from_json(shipped_json("policy.json"))
