"""Output moderation: sample frames at 2 fps, run the configured classifiers, apply the policy.

Per category the policy states a threshold (the category blocks when any sampled frame's
score from any classifier reaches it; ``None`` records without ever blocking) and what to do
when **no configured classifier evaluates it**: fail closed (block) or open (allow). Defaults
fail closed for ``sexual`` and ``minors``.

``minors`` has one derived evaluation: when no CLIP model scores it but person detectors ran
on every sampled frame and found nobody, there is no minor to depict, so it is evaluated with
score 0 (reason ``no_people_detected``). If someone is on screen and nothing can judge age,
it stays not evaluated and the policy's fail-closed default blocks the output. "Someone on
screen" means a person score of at least 0.3 in at least two sampled frames (one second of
video at 2 fps), which filters the face cascade's isolated false positives on texture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from trust_safety.output.classifiers import (
    HATE_SYMBOLS,
    MINORS,
    PEOPLE,
    SELF_HARM,
    SEXUAL,
    VIOLENCE_GORE,
    FrameClassifier,
)
from trust_safety.output.errors import InvalidFrames, InvalidOutputPolicy
from trust_safety.output.sampling import DEFAULT_RATE_HZ, sample_indices

Status = Literal["evaluated", "not_evaluated"]
PERSON_PRESENT = 0.3
PERSON_MIN_FRAMES = 2
Outcome = Literal["pass", "block", "record"]


@dataclass(frozen=True)
class CategoryRule:
    threshold: float | None  # None: record only, never blocks
    fail_closed: bool  # what "not evaluated" means

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 < self.threshold <= 1.0:
            raise InvalidOutputPolicy(f"threshold must be in (0, 1] or None, got {self.threshold}")


@dataclass(frozen=True)
class OutputPolicy:
    version: str
    rules: Mapping[str, CategoryRule]
    sample_rate_hz: float = DEFAULT_RATE_HZ

    def __post_init__(self) -> None:
        if not self.rules:
            raise InvalidOutputPolicy("an output policy needs at least one category rule")
        if not 0.1 <= self.sample_rate_hz <= 30:
            raise InvalidOutputPolicy(
                f"sample rate must be in [0.1, 30] Hz, got {self.sample_rate_hz}"
            )


DEFAULT_OUTPUT_POLICY = OutputPolicy(
    version="output-2026-11-1",
    rules={
        SEXUAL: CategoryRule(threshold=0.5, fail_closed=True),
        MINORS: CategoryRule(threshold=0.5, fail_closed=True),
        VIOLENCE_GORE: CategoryRule(threshold=0.6, fail_closed=False),
        SELF_HARM: CategoryRule(threshold=0.6, fail_closed=False),
        HATE_SYMBOLS: CategoryRule(threshold=0.6, fail_closed=False),
        # People on screen are recorded for cameo checks; they never block by themselves.
        PEOPLE: CategoryRule(threshold=None, fail_closed=False),
    },
)


@dataclass(frozen=True)
class CategoryVerdict:
    category: str
    status: Status
    outcome: Outcome
    max_score: float | None
    threshold: float | None
    evaluated_by: tuple[str, ...]
    reason: (
        str  # machine-readable: threshold_reached, below_threshold, not_evaluated_fail_closed, ...
    )
    worst_frame_s: float | None = None


@dataclass(frozen=True)
class SampledFrame:
    index: int
    time_s: float
    scores: Mapping[str, Mapping[str, float]]  # classifier -> category -> score
    detections: Mapping[str, tuple[dict[str, object], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputModerationResult:
    policy_version: str
    blocked: bool
    blocked_categories: tuple[str, ...]
    verdicts: tuple[CategoryVerdict, ...]
    frames: tuple[SampledFrame, ...]
    classifiers: tuple[str, ...]

    def verdict(self, category: str) -> CategoryVerdict:
        for v in self.verdicts:
            if v.category == category:
                return v
        raise KeyError(category)

    def to_payload(self) -> dict[str, object]:
        """JSON-safe form for the ``OutputModerated`` event (per-frame scores included)."""
        return {
            "policy_version": self.policy_version,
            "blocked": self.blocked,
            "blocked_categories": list(self.blocked_categories),
            "classifiers": list(self.classifiers),
            "verdicts": [
                {
                    "category": v.category,
                    "status": v.status,
                    "outcome": v.outcome,
                    "max_score": v.max_score,
                    "threshold": v.threshold,
                    "evaluated_by": list(v.evaluated_by),
                    "reason": v.reason,
                    "worst_frame_s": v.worst_frame_s,
                }
                for v in self.verdicts
            ],
            "frames": [
                {
                    "index": f.index,
                    "time_s": f.time_s,
                    "scores": {c: dict(s) for c, s in f.scores.items()},
                }
                for f in self.frames
            ],
        }


def moderate_frames(
    frames: np.ndarray,
    fps: float,
    classifiers: Sequence[FrameClassifier],
    policy: OutputPolicy = DEFAULT_OUTPUT_POLICY,
) -> OutputModerationResult:
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise InvalidFrames(
            f"frames must be uint8 shaped (T, H, W, 3), got {arr.dtype} {arr.shape}"
        )
    picks = sample_indices(arr.shape[0], fps, policy.sample_rate_hz)
    sampled = [arr[i] for i, _ in picks]
    per_classifier = {c.name: c.classify(sampled) for c in classifiers}
    frames_out = tuple(
        SampledFrame(
            index=idx,
            time_s=t,
            scores={name: dict(results[k].scores) for name, results in per_classifier.items()},
            detections={
                name: results[k].detections
                for name, results in per_classifier.items()
                if results[k].detections
            },
        )
        for k, (idx, t) in enumerate(picks)
    )
    verdicts: list[CategoryVerdict] = []
    for category, rule in policy.rules.items():
        evaluators = tuple(c.name for c in classifiers if category in c.categories)
        best: tuple[float, float] | None = None  # (score, time)
        for f in frames_out:
            for name in evaluators:
                score = f.scores[name].get(category)
                if score is not None and (best is None or score > best[0]):
                    best = (float(score), f.time_s)
        reason_if_scored = None
        if best is None and category == MINORS:
            best, evaluators, reason_if_scored = _minors_from_people(frames_out, classifiers)
        verdicts.append(_decide(category, rule, best, evaluators, reason_if_scored))
    blocked = tuple(v.category for v in verdicts if v.outcome == "block")
    return OutputModerationResult(
        policy_version=policy.version,
        blocked=bool(blocked),
        blocked_categories=blocked,
        verdicts=tuple(verdicts),
        frames=frames_out,
        classifiers=tuple(c.name for c in classifiers),
    )


def _minors_from_people(
    frames: Sequence[SampledFrame], classifiers: Sequence[FrameClassifier]
) -> tuple[tuple[float, float] | None, tuple[str, ...], str | None]:
    detectors = tuple(c.name for c in classifiers if PEOPLE in c.categories)
    if not detectors:
        return None, (), None
    # Someone is on screen when a detector sees a person in at least two sampled frames (one,
    # for a clip that short): single-frame hits are mostly cascade false positives on texture.
    hits = sum(
        any(f.scores[name].get(PEOPLE, 0.0) >= PERSON_PRESENT for name in detectors) for f in frames
    )
    if hits >= min(PERSON_MIN_FRAMES, len(frames)):
        return None, (), None
    return (0.0, frames[0].time_s), detectors, "no_people_detected"


def _decide(
    category: str,
    rule: CategoryRule,
    best: tuple[float, float] | None,
    evaluators: tuple[str, ...],
    reason_if_scored: str | None,
) -> CategoryVerdict:
    if best is None:
        return CategoryVerdict(
            category=category,
            status="not_evaluated",
            outcome="block" if rule.fail_closed else "pass",
            max_score=None,
            threshold=rule.threshold,
            evaluated_by=(),
            reason="not_evaluated_fail_closed" if rule.fail_closed else "not_evaluated_fail_open",
        )
    score, when = best
    if rule.threshold is None:
        outcome: Outcome = "record"
        reason = "recorded"
    elif score >= rule.threshold:
        outcome, reason = "block", "threshold_reached"
    else:
        outcome, reason = "pass", reason_if_scored or "below_threshold"
    return CategoryVerdict(
        category=category,
        status="evaluated",
        outcome=outcome,
        max_score=round(score, 6),
        threshold=rule.threshold,
        evaluated_by=evaluators,
        reason=reason,
        worst_frame_s=when,
    )


def moderate_file(
    path: Path, classifiers: Sequence[FrameClassifier], policy: OutputPolicy = DEFAULT_OUTPUT_POLICY
) -> OutputModerationResult:
    from core.video import decode_frames

    frames, fps = decode_frames(path)
    return moderate_frames(frames, fps, classifiers, policy)
