from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.video import encode_mp4
from generator.public import render_clip
from trust_safety.output.classifiers import (
    MINORS,
    PEOPLE,
    SEXUAL,
    VIOLENCE_GORE,
    ClipConfig,
    ClipZeroShotClassifier,
    FrameScores,
    HaarFaceClassifier,
    NudeNetClassifier,
)
from trust_safety.output.errors import ClassifierUnavailable, InvalidFrames, InvalidOutputPolicy
from trust_safety.output.moderation import (
    DEFAULT_OUTPUT_POLICY,
    CategoryRule,
    OutputPolicy,
    moderate_file,
    moderate_frames,
)
from trust_safety.output.sampling import sample_indices


@pytest.fixture(scope="module")
def detectors() -> list[object]:
    return [NudeNetClassifier(), HaarFaceClassifier()]


def synthetic_face(size: int) -> np.ndarray:
    """A drawn frontal face: enough structure for Haar and NudeNet face detectors."""
    img = np.full((size, size, 3), 90, np.uint8)
    c = size // 2
    cv2.ellipse(img, (c, c), (int(size * 0.32), int(size * 0.42)), 0, 0, 360, (200, 170, 150), -1)
    for dx in (-1, 1):
        eye = (c + dx * int(size * 0.13), int(c - size * 0.08))
        cv2.ellipse(img, eye, (int(size * 0.07), int(size * 0.035)), 0, 0, 360, (235, 235, 230), -1)
        cv2.circle(img, eye, int(size * 0.03), (40, 30, 30), -1)
        cv2.ellipse(
            img,
            eye,
            (int(size * 0.07), int(size * 0.035)),
            0,
            0,
            360,
            (90, 60, 50),
            max(1, size // 100),
        )
        brow_y = int(c - size * 0.17)
        cv2.line(
            img,
            (c + dx * int(size * 0.06), brow_y),
            (c + dx * int(size * 0.22), brow_y),
            (60, 40, 30),
            max(2, size // 40),
        )
    cv2.line(
        img,
        (c, int(c - size * 0.05)),
        (c, int(c + size * 0.1)),
        (150, 120, 110),
        max(2, size // 50),
    )
    cv2.ellipse(
        img,
        (c, int(c + size * 0.2)),
        (int(size * 0.11), int(size * 0.03)),
        0,
        0,
        360,
        (120, 60, 60),
        -1,
    )
    return cv2.GaussianBlur(img, (0, 0), size / 150)


class Scripted:
    """Feeds fixed scores to the policy, to pin down its decisions exactly."""

    def __init__(self, name: str, scores: dict[str, float]) -> None:
        self.name = name
        self.categories = tuple(scores)
        self._scores = scores

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        return [FrameScores(scores=dict(self._scores)) for _ in frames]


def test_sampling_is_two_per_second() -> None:
    picks = sample_indices(96, 24)
    assert [i for i, _ in picks] == [0, 12, 24, 36, 48, 60, 72, 84]
    assert sample_indices(5, 24) == [(0, 0.0)]
    assert [t for _, t in sample_indices(30, 10)] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    with pytest.raises(InvalidFrames):
        sample_indices(0, 24)


def test_procedural_output_passes_with_default_detectors(detectors: list[object]) -> None:
    clip = render_clip("colourful shapes", 2, 256, 144, 2.0, fps=12)
    result = moderate_frames(clip, 12, detectors)  # type: ignore[arg-type]
    assert not result.blocked
    assert len(result.frames) == 4
    assert result.verdict(SEXUAL).status == "evaluated"
    assert result.verdict(SEXUAL).max_score is not None and result.verdict(SEXUAL).max_score < 0.5
    minors = result.verdict(MINORS)
    assert minors.status == "evaluated" and minors.reason == "no_people_detected"
    # Nothing here judges gore: recorded as not evaluated, and the default lets it through.
    gore = result.verdict(VIOLENCE_GORE)
    assert gore.status == "not_evaluated" and gore.outcome == "pass"
    payload = result.to_payload()
    assert payload["frames"][0]["scores"]["nudenet"][SEXUAL] >= 0.0  # type: ignore[index]


def test_people_on_screen_without_an_age_classifier_fail_closed(detectors: list[object]) -> None:
    face = synthetic_face(200)
    frames = np.stack([face] * 6)
    result = moderate_frames(frames, 6, detectors)  # type: ignore[arg-type]
    people = result.verdict(PEOPLE)
    assert people.outcome == "record" and people.max_score == 1.0
    assert any("opencv-haar-face" in f.detections for f in result.frames)
    minors = result.verdict(MINORS)
    assert minors.status == "not_evaluated"
    assert result.blocked and result.blocked_categories == (MINORS,)


def test_no_classifiers_blocks_by_default_and_policy_can_open() -> None:
    clip = render_clip("x", 1, 64, 64, 1.0, fps=4)
    closed = moderate_frames(clip, 4, [])
    assert set(closed.blocked_categories) == {SEXUAL, MINORS}
    permissive = OutputPolicy(
        version="test-open",
        rules={
            SEXUAL: CategoryRule(0.5, fail_closed=False),
            MINORS: CategoryRule(0.5, fail_closed=False),
        },
    )
    assert not moderate_frames(clip, 4, [], permissive).blocked


def test_thresholds_decide_per_category() -> None:
    clip = render_clip("x", 1, 64, 64, 1.0, fps=4)
    result = moderate_frames(
        clip, 4, [Scripted("s", {SEXUAL: 0.2, MINORS: 0.1, VIOLENCE_GORE: 0.9})]
    )
    assert result.blocked_categories == (VIOLENCE_GORE,)
    assert result.verdict(VIOLENCE_GORE).reason == "threshold_reached"
    assert result.verdict(SEXUAL).outcome == "pass"
    exact = moderate_frames(clip, 4, [Scripted("s", {SEXUAL: 0.5, MINORS: 0.0})])
    assert exact.blocked_categories == (SEXUAL,)


def test_policy_and_input_validation() -> None:
    with pytest.raises(InvalidOutputPolicy):
        CategoryRule(threshold=1.5, fail_closed=True)
    with pytest.raises(InvalidOutputPolicy):
        OutputPolicy(version="x", rules={})
    with pytest.raises(InvalidFrames):
        moderate_frames(np.zeros((2, 8, 8), np.uint8), 24, [])
    assert DEFAULT_OUTPUT_POLICY.rules[SEXUAL].fail_closed
    assert DEFAULT_OUTPUT_POLICY.rules[MINORS].fail_closed


def test_moderate_file_decodes_the_mp4(detectors: list[object], tmp_path: Path) -> None:
    path = encode_mp4(render_clip("sea", 3, 128, 72, 1.0, fps=12), 12, tmp_path / "a.mp4")
    result = moderate_file(path, detectors)  # type: ignore[arg-type]
    assert len(result.frames) == 2 and not result.blocked


TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def test_clip_zero_shot_with_a_tiny_random_model(tmp_path: Path) -> None:
    import json

    open_clip = importlib.import_module("open_clip")
    torch = importlib.import_module("torch")
    config_path = tmp_path / "cf-output-tiny-clip.json"
    config_path.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(config_path)
    torch.manual_seed(0)
    model = open_clip.create_model("cf-output-tiny-clip")
    checkpoint = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)

    classifier = ClipZeroShotClassifier(ClipConfig("cf-output-tiny-clip", checkpoint))
    assert set(classifier.categories) >= {SEXUAL, MINORS, VIOLENCE_GORE}
    frames = list(render_clip("x", 4, 64, 64, 0.5, fps=4))
    out = classifier.classify(frames)
    assert len(out) == 2
    for scores in out:
        total = sum(scores.scores.values())
        assert 0.0 < total < 1.0  # the neutral prompts take the rest of the probability
    result = moderate_frames(np.stack(frames), 4, [classifier])
    assert result.verdict(MINORS).evaluated_by == ("open-clip-zero-shot",)
    assert result.verdict(VIOLENCE_GORE).status == "evaluated"

    with pytest.raises(ClassifierUnavailable):
        ClipZeroShotClassifier(ClipConfig("cf-output-tiny-clip", tmp_path / "missing.pt"))
    with pytest.raises(ClassifierUnavailable):
        ClipZeroShotClassifier(ClipConfig("no-such-model-config", checkpoint))


class PeopleAt:
    """A person detector that fires on the given sampled frames only."""

    name = "people-at"
    categories = (PEOPLE,)

    def __init__(self, frames_with_people: set[int]) -> None:
        self.hits = frames_with_people

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        return [FrameScores({PEOPLE: 1.0 if i in self.hits else 0.0}) for i in range(len(frames))]


def test_a_single_frame_person_hit_does_not_make_someone_on_screen() -> None:
    clip = render_clip("x", 1, 64, 64, 2.0, fps=4)  # 4 sampled frames
    once = moderate_frames(clip, 4, [PeopleAt({2})])
    assert once.verdict(MINORS).reason == "no_people_detected"
    assert once.blocked_categories == (SEXUAL,)  # nothing here evaluates sexual content
    twice = moderate_frames(clip, 4, [PeopleAt({1, 3})])
    assert twice.verdict(MINORS).status == "not_evaluated" and twice.blocked_categories == (
        SEXUAL,
        MINORS,
    )
    short = moderate_frames(clip[:1], 4, [PeopleAt({0})])
    assert short.verdict(MINORS).status == "not_evaluated"
