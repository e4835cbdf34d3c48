"""Output moderation: sample frames at the configured rate, run the classifiers, apply the policy.

Per category the policy states a threshold (the category blocks when any sampled frame's
score from any classifier reaches it; ``None`` records without ever blocking) and what to do
when **no configured classifier evaluates it**: fail closed (block) or open (allow). Defaults
fail closed for ``sexual``, ``minors`` and ``likeness``.

Faces (a classifier with ``analyses_faces``, the dlib analyzer) decide two categories:

* ``likeness``: every face is matched against every enrolled cameo and public figure (the
  caller's :class:`LikenessJudge`, the FAISS index in ``trust_safety.likeness.index``). A
  frame scores 1.0 when it shows a face of someone the request had no consent for. No face
  on any sampled frame: evaluated with 0 (``no_faces_detected``). Faces but no judge: not
  evaluated, and the fail-closed default blocks.
* ``minors``: from the faces' estimated ages. A face the detector is confident of (HOG score
  at least ``min_face_score``; real faces score about 0.9-2.7, the rare face-like textures of
  abstract frames under 0.3) estimated under ``adult_age + minor_age_margin``, or whose age
  could not be estimated, is a *possible minor*: the
  policy switches ``sexual``, ``violence_gore`` and ``self_harm`` to its strict
  ``minor_thresholds``, and ``minors`` is scored with the clip's sexual score against the
  strict sexual threshold, so sexual content with a possible minor blocks as both, as the
  prompt gate's minor mode refuses it. The margin is there because the age model's error is
  several years and it overestimates teenagers (docs/likeness.md). Faces all estimated above
  the margin: 0 (``no_minor_faces``); only detections under ``min_face_score``: 0
  (``no_confident_faces``); no face on any sampled frame: 0 (``no_faces_detected``). Never
  "blocked because a face-like texture was seen". Likeness matches every detection, weak ones
  included: a texture does not match an enrolled face, and a faint real face still must.

``ip``: a rights holder's opted-out work, found by the opt-out classifier (the registry's
reference images and clips, matched by local features, so crops, rescales, re-encodes, colour
shifts, mirror images and a copy pasted into part of the frame are still found). A block
cites each opt-out as ``optout:<id>`` in the verdict's ``subjects`` and lists, per opt-out,
the matched frames (index, time, reference file hash, score) in its ``matches``. It fails
open when nothing evaluated it: output moderation always runs the opt-out classifier, so
"not evaluated" means a caller gave no classifier list with it (a unit test).

Without a face analyzer, ``minors`` falls back to person detectors (NudeNet): nobody on screen
in two sampled frames evaluates it with 0 (``no_people_detected``); someone on screen whom
nothing can judge leaves it not evaluated, and the fail-closed default blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from trust_safety.classifiers.faces import Face
from trust_safety.output.classifiers import (
    HATE_SYMBOLS,
    IP,
    LIKENESS,
    MINORS,
    PEOPLE,
    SELF_HARM,
    SEXUAL,
    VIOLENCE_GORE,
    FrameClassifier,
    FrameScores,
)
from trust_safety.output.errors import InvalidFrames, InvalidOutputPolicy
from trust_safety.output.sampling import DEFAULT_RATE_HZ, sample_indices

Status = Literal["evaluated", "not_evaluated"]
PERSON_PRESENT = 0.3
PERSON_MIN_FRAMES = 2
Outcome = Literal["pass", "block", "record"]
MINOR_STRICT = (SEXUAL, VIOLENCE_GORE, SELF_HARM)
LIKENESS_JUDGE = "likeness-index"


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
    # A face estimated under adult_age + minor_age_margin switches on minor_thresholds.
    adult_age: float = 18.0
    minor_age_margin: float = 7.0
    minor_thresholds: Mapping[str, float] = field(default_factory=dict)
    # The detector score a face needs to count for minors (see the module's notes).
    min_face_score: float = 0.5

    def __post_init__(self) -> None:
        if not self.rules:
            raise InvalidOutputPolicy("an output policy needs at least one category rule")
        if not 0.1 <= self.sample_rate_hz <= 30:
            raise InvalidOutputPolicy(
                f"sample rate must be in [0.1, 30] Hz, got {self.sample_rate_hz}"
            )
        if not 0 <= self.min_face_score <= 5:
            raise InvalidOutputPolicy(
                f"min_face_score must be in [0, 5], got {self.min_face_score}"
            )
        if not 0 < self.adult_age <= 120 or not 0 <= self.minor_age_margin <= 30:
            raise InvalidOutputPolicy(
                f"adult age must be in (0, 120] and its margin in [0, 30], got "
                f"{self.adult_age} and {self.minor_age_margin}"
            )
        for category, strict in self.minor_thresholds.items():
            if category not in MINOR_STRICT:
                raise InvalidOutputPolicy(
                    f"minor thresholds apply only to {list(MINOR_STRICT)}, not {category!r}"
                )
            rule = self.rules.get(category)
            normal = rule.threshold if rule is not None else None
            if not 0.0 < strict <= 1.0 or (normal is not None and strict > normal):
                raise InvalidOutputPolicy(
                    f"the minor threshold for {category} ({strict}) must be in (0, 1] and not "
                    f"looser than its threshold ({normal})"
                )

    @property
    def possible_minor_below(self) -> float:
        return self.adult_age + self.minor_age_margin

    def threshold(self, category: str, minor_mode: bool) -> float | None:
        rule = self.rules[category]
        if minor_mode and category in self.minor_thresholds:
            return self.minor_thresholds[category]
        return rule.threshold


DEFAULT_OUTPUT_POLICY = OutputPolicy(
    version="output-2026-12-2",
    rules={
        SEXUAL: CategoryRule(threshold=0.5, fail_closed=True),
        MINORS: CategoryRule(threshold=0.5, fail_closed=True),
        # A face of someone the request had no consent for (1.0) blocks.
        LIKENESS: CategoryRule(threshold=0.5, fail_closed=True),
        VIOLENCE_GORE: CategoryRule(threshold=0.6, fail_closed=False),
        SELF_HARM: CategoryRule(threshold=0.6, fail_closed=False),
        HATE_SYMBOLS: CategoryRule(threshold=0.6, fail_closed=False),
        # An output showing a rights holder's reference media (1.0) blocks.
        IP: CategoryRule(threshold=0.5, fail_closed=False),
        # People on screen are recorded; they never block by themselves.
        PEOPLE: CategoryRule(threshold=None, fail_closed=False),
    },
    minor_thresholds={SEXUAL: 0.2, VIOLENCE_GORE: 0.35, SELF_HARM: 0.35},
)


# -- likeness: who a face is, and whether this request may show them ---------------------------


@dataclass(frozen=True)
class FaceIdentity:
    """One enrolled subject a face matched, as the judge decided it for this request.

    ``cameo_id``: the cameo whose owner this likeness belongs to (the matched cameo, or the
    cameo linked to a matched public figure), None for a figure with no cameo."""

    kind: Literal["cameo", "public_figure"]
    subject_id: str
    distance: float
    consented: bool
    reason: str  # owner, named_and_allowed, not_named, consent_refused, public_figure, ...
    cameo_id: str | None = None
    owner_id: str | None = None

    def evidence(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject_id": self.subject_id,
            "distance": round(self.distance, 4),
            "consented": self.consented,
            "reason": self.reason,
            "cameo_id": self.cameo_id,
        }


class LikenessJudge(Protocol):
    """For each face embedding ``(n, 128)``: the subjects it matches, each with whether the
    request being moderated may show them."""

    def __call__(self, embeddings: npt.NDArray[np.float32]) -> list[list[FaceIdentity]]: ...


@dataclass(frozen=True)
class SampledFace:
    """A face found on a sampled frame: what the event records (never the embedding)."""

    frame_index: int
    time_s: float
    face: Face = field(repr=False)
    classifier: str
    identities: tuple[FaceIdentity, ...] = ()
    possible_minor: bool = False
    confident: bool = True  # the detector's score reached the policy's min_face_score

    def evidence(self) -> dict[str, Any]:
        return {
            **self.face.evidence(),
            "classifier": self.classifier,
            "confident": self.confident,
            "possible_minor": self.possible_minor,
            "matches": [i.evidence() for i in self.identities],
        }


# -- results -------------------------------------------------------------------------------------


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
    strict: bool = False  # the minor-mode threshold applied
    # likeness: "cameo:<id>" / "public_figure:<id>" not consented; ip: "optout:<id>"
    subjects: tuple[str, ...] = ()
    # ip: per opt-out, the sampled frames that show its reference media
    matches: tuple[Mapping[str, Any], ...] = ()

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "category": self.category,
            "status": self.status,
            "outcome": self.outcome,
            "max_score": self.max_score,
            "threshold": self.threshold,
            "evaluated_by": list(self.evaluated_by),
            "reason": self.reason,
            "worst_frame_s": self.worst_frame_s,
        }
        if self.strict:
            record["strict"] = True
        if self.subjects:
            record["subjects"] = list(self.subjects)
        if self.matches:
            record["matches"] = [dict(m) for m in self.matches]
        return record


@dataclass(frozen=True)
class SampledFrame:
    index: int
    time_s: float
    scores: Mapping[str, Mapping[str, float]]  # classifier -> category -> score
    detections: Mapping[str, tuple[dict[str, object], ...]] = field(default_factory=dict)
    faces: tuple[SampledFace, ...] = ()


@dataclass(frozen=True)
class OutputModerationResult:
    policy_version: str
    blocked: bool
    blocked_categories: tuple[str, ...]
    verdicts: tuple[CategoryVerdict, ...]
    frames: tuple[SampledFrame, ...]
    classifiers: tuple[str, ...]
    minor_mode: bool = False
    sample_rate_hz: float = DEFAULT_RATE_HZ
    duration_s: float = 0.0
    model_versions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def verdict(self, category: str) -> CategoryVerdict:
        for v in self.verdicts:
            if v.category == category:
                return v
        raise KeyError(category)

    @property
    def faces(self) -> tuple[SampledFace, ...]:
        return tuple(f for frame in self.frames for f in frame.faces)

    def to_payload(self) -> dict[str, object]:
        """JSON-safe form for the ``OutputModerated`` event: per-frame scores, and per frame
        the faces (boxes, ages, matches with distances and subject ids), never embeddings."""
        verdicts = []
        for v in self.verdicts:
            record = v.as_record()
            if v.category in (MINORS, LIKENESS) and self.model_versions:
                record["model_versions"] = {k: dict(m) for k, m in self.model_versions.items()}
            verdicts.append(record)
        return {
            "policy_version": self.policy_version,
            "blocked": self.blocked,
            "blocked_categories": list(self.blocked_categories),
            "classifiers": list(self.classifiers),
            "minor_mode": self.minor_mode,
            "verdicts": verdicts,
            "frames": [
                {
                    "index": f.index,
                    "time_s": f.time_s,
                    "scores": {c: dict(s) for c, s in f.scores.items()},
                    **({"faces": [face.evidence() for face in f.faces]} if f.faces else {}),
                }
                for f in self.frames
            ],
        }


# -- the decision --------------------------------------------------------------------------------


def _face_analyzers(classifiers: Sequence[FrameClassifier]) -> tuple[str, ...]:
    return tuple(c.name for c in classifiers if getattr(c, "analyses_faces", False))


def _sampled_faces(
    picks: Sequence[tuple[int, float]],
    per_classifier: Mapping[str, list[FrameScores]],
    analyzers: tuple[str, ...],
    policy: OutputPolicy,
    likeness: LikenessJudge | None,
) -> list[list[SampledFace]]:
    found: list[list[tuple[str, Face]]] = [
        [(name, face) for name in analyzers for face in per_classifier[name][k].faces]
        for k in range(len(picks))
    ]
    embedded = [
        face.embedding for faces in found for _, face in faces if face.embedding is not None
    ]
    identities: list[list[FaceIdentity]] = []
    if likeness is not None and embedded:
        identities = likeness(np.stack(embedded).astype(np.float32))
    out: list[list[SampledFace]] = []
    cursor = 0
    for k, faces in enumerate(found):
        idx, t = picks[k]
        row = []
        for name, face in faces:
            ids: tuple[FaceIdentity, ...] = ()
            if face.embedding is not None and identities:
                ids = tuple(identities[cursor])
            if face.embedding is not None:
                cursor += 1
            confident = face.box.score >= policy.min_face_score
            young = face.age is None or face.age < policy.possible_minor_below
            row.append(SampledFace(idx, t, face, name, ids, confident and young, confident))
        out.append(row)
    return out


def moderate_frames(
    frames: np.ndarray,
    fps: float,
    classifiers: Sequence[FrameClassifier],
    policy: OutputPolicy = DEFAULT_OUTPUT_POLICY,
    likeness: LikenessJudge | None = None,
) -> OutputModerationResult:
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise InvalidFrames(
            f"frames must be uint8 shaped (T, H, W, 3), got {arr.dtype} {arr.shape}"
        )
    picks = sample_indices(arr.shape[0], fps, policy.sample_rate_hz)
    sampled = [arr[i] for i, _ in picks]
    per_classifier = {c.name: c.classify(sampled) for c in classifiers}
    analyzers = _face_analyzers(classifiers)
    faces = _sampled_faces(picks, per_classifier, analyzers, policy, likeness)
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
            faces=tuple(faces[k]),
        )
        for k, (idx, t) in enumerate(picks)
    )
    all_faces = [f for row in faces for f in row]
    minor_mode = any(f.possible_minor for f in all_faces)
    verdicts: dict[str, CategoryVerdict] = {}
    # Minors reads the sexual verdict, so everything else is decided first.
    for category, rule in policy.rules.items():
        if category in (MINORS, LIKENESS):
            continue
        best, evaluators = _best(frames_out, classifiers, category)
        threshold = policy.threshold(category, minor_mode)
        strict = threshold != rule.threshold
        verdicts[category] = _decide(category, rule, threshold, best, evaluators, None, strict)
    if IP in verdicts:
        verdicts[IP] = _with_optout_matches(verdicts[IP], frames_out)
    if LIKENESS in policy.rules:
        verdicts[LIKENESS] = _likeness(
            policy.rules[LIKENESS], frames_out, analyzers, likeness is not None
        )
    if MINORS in policy.rules:
        verdicts[MINORS] = _minors(
            policy, frames_out, classifiers, analyzers, minor_mode, verdicts.get(SEXUAL)
        )
    ordered = tuple(verdicts[c] for c in policy.rules)
    blocked = tuple(v.category for v in ordered if v.outcome == "block")
    return OutputModerationResult(
        policy_version=policy.version,
        blocked=bool(blocked),
        blocked_categories=blocked,
        verdicts=ordered,
        frames=frames_out,
        classifiers=tuple(c.name for c in classifiers),
        minor_mode=minor_mode,
        sample_rate_hz=policy.sample_rate_hz,
        duration_s=round(arr.shape[0] / fps, 4),
        model_versions={
            c.name: dict(getattr(c, "model_versions", {}))
            for c in classifiers
            if getattr(c, "model_versions", None)
        },
    )


def _best(
    frames: Sequence[SampledFrame], classifiers: Sequence[FrameClassifier], category: str
) -> tuple[tuple[float, float] | None, tuple[str, ...]]:
    evaluators = tuple(c.name for c in classifiers if category in c.categories)
    best: tuple[float, float] | None = None  # (score, time)
    for f in frames:
        for name in evaluators:
            score = f.scores[name].get(category)
            if score is not None and (best is None or score > best[0]):
                best = (float(score), f.time_s)
    return best, evaluators


def _with_optout_matches(
    verdict: CategoryVerdict, frames: Sequence[SampledFrame]
) -> CategoryVerdict:
    """The ``ip`` verdict with the opt-outs it cites and the frames that show each."""
    by_ref: dict[str, list[dict[str, Any]]] = {}
    for frame in frames:
        for detections in frame.detections.values():
            for d in detections:
                if d.get("label") != "optout":
                    continue
                hit = {k: v for k, v in d.items() if k not in ("label", "ref")}
                by_ref.setdefault(str(d["ref"]), []).append(
                    {"index": frame.index, "time_s": frame.time_s, **hit}
                )
    if not by_ref:
        return verdict
    matches = tuple(
        {
            "ref": ref,
            "reference_sha256s": sorted({str(h["reference_sha256"]) for h in hits}),
            "frames": hits,
        }
        for ref, hits in sorted(by_ref.items())
    )
    return replace(verdict, subjects=tuple(sorted(by_ref)), matches=matches)


def _likeness(
    rule: CategoryRule,
    frames: Sequence[SampledFrame],
    analyzers: tuple[str, ...],
    judged: bool,
) -> CategoryVerdict:
    if not analyzers:
        return _decide(LIKENESS, rule, rule.threshold, None, (), None)
    faces = [f for frame in frames for f in frame.faces]
    if not faces:
        return _decide(
            LIKENESS, rule, rule.threshold, (0.0, frames[0].time_s), analyzers, "no_faces_detected"
        )
    if not judged or any(f.face.embedding is None for f in faces):
        # Faces, and nothing to tell whose they are: not evaluated (fails closed by default).
        return _decide(LIKENESS, rule, rule.threshold, None, (), None)
    evaluators = (*analyzers, LIKENESS_JUDGE)
    refused = [(f, i) for f in faces for i in f.identities if not i.consented]
    if not refused:
        matched = any(f.identities for f in faces)
        reason = "consented_likeness" if matched else "no_known_face"
        return _decide(LIKENESS, rule, rule.threshold, (0.0, faces[0].time_s), evaluators, reason)
    subjects = tuple(sorted({f"{i.kind}:{i.subject_id}" for _, i in refused}))
    first = min(f.time_s for f, _ in refused)
    verdict = _decide(LIKENESS, rule, rule.threshold, (1.0, first), evaluators, None)
    return replace(verdict, subjects=subjects)


def _minors(
    policy: OutputPolicy,
    frames: Sequence[SampledFrame],
    classifiers: Sequence[FrameClassifier],
    analyzers: tuple[str, ...],
    minor_mode: bool,
    sexual: CategoryVerdict | None,
) -> CategoryVerdict:
    rule = policy.rules[MINORS]
    # A zero-shot classifier may score minors directly; that keeps its own threshold.
    direct, direct_by = _best(frames, classifiers, MINORS)
    direct_verdict = (
        _decide(MINORS, rule, rule.threshold, direct, direct_by, None) if direct else None
    )
    if not analyzers:
        if direct_verdict is not None:
            return direct_verdict
        best, evaluators, reason = _minors_from_people(frames, classifiers)
        return _decide(MINORS, rule, rule.threshold, best, evaluators, reason)
    faces = [f for frame in frames for f in frame.faces]
    from_faces: CategoryVerdict
    if not faces:
        from_faces = _decide(
            MINORS, rule, rule.threshold, (0.0, frames[0].time_s), analyzers, "no_faces_detected"
        )
    elif not minor_mode:
        first = faces[0].time_s
        reason = "no_minor_faces" if any(f.confident for f in faces) else "no_confident_faces"
        from_faces = _decide(MINORS, rule, rule.threshold, (0.0, first), analyzers, reason)
    elif sexual is None or sexual.status != "evaluated" or sexual.max_score is None:
        # A possible minor on screen, and nothing judged whether the content is sexual.
        from_faces = _decide(MINORS, rule, rule.threshold, None, (), None)
    else:
        strict = policy.threshold(SEXUAL, True) or rule.threshold
        evaluators = tuple(dict.fromkeys((*analyzers, *sexual.evaluated_by)))
        best = (sexual.max_score, sexual.worst_frame_s or faces[0].time_s)
        from_faces = _decide(
            MINORS, rule, strict, best, evaluators, "possible_minor_no_sexual_content", True
        )
    if direct_verdict is not None and direct_verdict.outcome == "block":
        return direct_verdict
    return from_faces


def _minors_from_people(
    frames: Sequence[SampledFrame], classifiers: Sequence[FrameClassifier]
) -> tuple[tuple[float, float] | None, tuple[str, ...], str | None]:
    detectors = tuple(c.name for c in classifiers if PEOPLE in c.categories)
    if not detectors:
        return None, (), None
    # Someone is on screen when a detector sees a person in at least two sampled frames (one,
    # for a clip that short): single-frame hits are mostly false positives on texture.
    hits = sum(
        any(f.scores[name].get(PEOPLE, 0.0) >= PERSON_PRESENT for name in detectors) for f in frames
    )
    if hits >= min(PERSON_MIN_FRAMES, len(frames)):
        return None, (), None
    return (0.0, frames[0].time_s), detectors, "no_people_detected"


def _decide(
    category: str,
    rule: CategoryRule,
    threshold: float | None,
    best: tuple[float, float] | None,
    evaluators: tuple[str, ...],
    reason_if_passed: str | None,
    strict: bool = False,
) -> CategoryVerdict:
    if best is None:
        return CategoryVerdict(
            category=category,
            status="not_evaluated",
            outcome="block" if rule.fail_closed else "pass",
            max_score=None,
            threshold=threshold,
            evaluated_by=(),
            reason="not_evaluated_fail_closed" if rule.fail_closed else "not_evaluated_fail_open",
        )
    score, when = best
    if threshold is None:
        outcome: Outcome = "record"
        reason = "recorded"
    elif score >= threshold:
        outcome, reason = "block", "threshold_reached"
    else:
        outcome, reason = "pass", reason_if_passed or "below_threshold"
    return CategoryVerdict(
        category=category,
        status="evaluated",
        outcome=outcome,
        max_score=round(score, 6),
        threshold=threshold,
        evaluated_by=evaluators,
        reason=reason,
        worst_frame_s=when,
        strict=strict,
    )


def moderate_file(
    path: Path,
    classifiers: Sequence[FrameClassifier],
    policy: OutputPolicy = DEFAULT_OUTPUT_POLICY,
    likeness: LikenessJudge | None = None,
) -> OutputModerationResult:
    from core.video import decode_frames

    frames, fps = decode_frames(path)
    return moderate_frames(frames, fps, classifiers, policy, likeness)
