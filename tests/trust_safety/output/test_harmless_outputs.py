"""Regression: harmless generated outputs are never blocked as minors or likeness.

With the Haar cascades, 6 of 32 procedural outputs of harmless prompts (an ocean, a paper
boat, a cat) were blocked as "minors": the cascades fired on abstract textures, a face was
"seen", and an unevaluated minors category failed closed. Now minors and likeness are decided
from real faces: the dlib analyzer finds none in almost every such frame (minors and likeness
evaluated with 0, ``no_faces_detected``), and the rare face-like texture it does report has a
low detector score, so its (absurd) age estimate does not switch on the minors policy's strict
thresholds, and it matches no enrolled face.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.backends.procedural import render_clip
from tests.utils.harmless import HARMLESS_PROMPTS
from trust_safety.classifiers.faces import shared_face_analyzer
from trust_safety.likeness.index import FaceIndex
from trust_safety.output.classifiers import LIKENESS, MINORS
from trust_safety.output.moderation import DEFAULT_OUTPUT_POLICY, FaceIdentity, moderate_frames
from trust_safety.output.processor import build_classifiers
from trust_safety.output.settings import OutputModerationSettings

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
SEEDS = range(5)  # 8 prompts x 5 seeds: 40 outputs, 4 sampled frames each


@pytest.fixture(scope="module")
def classifiers() -> list[object]:
    # What output moderation runs by default: NudeNet and the dlib face analyzer.
    return list(build_classifiers(OutputModerationSettings()))


@pytest.fixture(scope="module")
def everyone() -> FaceIndex:
    """Every face of the test photos enrolled as a cameo nobody consented to."""
    index = FaceIndex()
    analyzer = shared_face_analyzer()
    for path in sorted(FACES.glob("*.[jp][pn]g")):
        image = Image.open(path).convert("RGB")
        image.thumbnail((600, 600))
        for k, face in enumerate(analyzer.analyze(np.asarray(image), estimate_age=False)):
            assert face.embedding is not None
            index.put(
                "cameo",
                f"{path.stem}-{k}",
                "someone",
                {analyzer.model_versions["embedding"]: face.embedding[None, :]},
            )
    assert len(index.subjects()) == 13
    return index


def test_harmless_procedural_outputs_are_never_blocked_as_minors_or_likeness(
    classifiers: list[object], everyone: FaceIndex
) -> None:
    assert [c.name for c in classifiers] == ["nudenet", "dlib-face"]  # type: ignore[attr-defined]

    def judge(embeddings: np.ndarray) -> list[list[FaceIdentity]]:
        return [
            [
                FaceIdentity(
                    m.kind, m.subject_id, m.distance, False, "not_named", m.subject_id, m.owner_id
                )
                for m in ms
            ]
            for ms in everyone.search(embeddings)
        ]

    checked = with_weak_detections = 0
    for prompt in HARMLESS_PROMPTS:
        for seed in SEEDS:
            clip = render_clip(prompt, seed, 320, 184, 2.0, fps=4)
            result = moderate_frames(clip, 4, classifiers, DEFAULT_OUTPUT_POLICY, judge)  # type: ignore[arg-type]
            assert len(result.frames) == 4
            assert not result.blocked, (prompt, seed, result.verdicts)
            assert not result.minor_mode
            minors, likeness = result.verdict(MINORS), result.verdict(LIKENESS)
            for verdict in (minors, likeness):
                assert verdict.status == "evaluated" and verdict.max_score == 0.0, verdict
            if result.faces:
                # A face-like texture: weak, matching nobody, and its age does not count.
                with_weak_detections += 1
                assert all(not f.confident and not f.identities for f in result.faces)
                assert minors.reason == "no_confident_faces"
                assert likeness.reason == "no_known_face"
            else:
                assert minors.reason == likeness.reason == "no_faces_detected"
            checked += 1
    assert checked == 40
    assert with_weak_detections <= 2  # the detector stays quiet on abstract frames


def test_a_face_like_texture_does_not_switch_on_the_minors_policy(
    classifiers: list[object], everyone: FaceIndex
) -> None:
    """The one harmless output above where the detector fires: a pentagon over a blurred
    background, "aged" 4 or 5, on a frame NudeNet gives a spurious exposed-anatomy score."""
    from dataclasses import replace

    from trust_safety.output.classifiers import SEXUAL

    clip = render_clip("a lighthouse at dawn", 3, 320, 184, 2.0, fps=4)

    def nobody(embeddings: np.ndarray) -> list[list[FaceIdentity]]:
        assert all(ms == [] for ms in everyone.search(embeddings))  # it matches no one
        return [[] for _ in embeddings]

    result = moderate_frames(clip, 4, classifiers, DEFAULT_OUTPUT_POLICY, nobody)  # type: ignore[arg-type]
    assert result.faces and all(f.face.age is not None and f.face.age < 18 for f in result.faces)
    assert all(f.face.box.score < DEFAULT_OUTPUT_POLICY.min_face_score for f in result.faces)
    sexual = result.verdict(SEXUAL)
    assert sexual.max_score is not None and 0.2 <= sexual.max_score < 0.5
    assert not result.blocked and not result.minor_mode
    # Were every detection believed, its age would make the content "sexual with a minor".
    credulous = replace(DEFAULT_OUTPUT_POLICY, min_face_score=0.0)
    fooled = moderate_frames(clip, 4, classifiers, credulous, nobody)  # type: ignore[arg-type]
    assert fooled.minor_mode and set(fooled.blocked_categories) == {SEXUAL, MINORS}
