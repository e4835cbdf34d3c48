"""Frame classifiers for output moderation.

Each classifier scores a batch of RGB uint8 frames and returns, per frame, a score in [0, 1]
for every category it *evaluates*. A category a classifier does not list is not evaluated by
it: the policy then decides whether that fails closed or open.

* :class:`NudeNetClassifier` — NudeNet's ONNX detector (weights ship in the wheel), through
  the shared wrapper in ``trust_safety.classifiers``: ``sexual`` from exposed-anatomy
  detections, ``people`` from any body or face detection.
* :class:`DlibFaceClassifier` — the shared dlib face analyzer (HOG detector, landmarks,
  ResNet embedding, age estimate; ``trust_safety.classifiers.faces``): ``people`` from faces,
  and the faces themselves (:attr:`FrameScores.faces`), which output moderation matches
  against enrolled cameos and public figures (``likeness``) and reads ages from (``minors``).
* :class:`OptOutMediaClassifier` — the IP opt-out registry's reference media, found in the
  frames by local features (``trust_safety.optout.output_index``): ``ip`` is 1.0 on every
  frame of an opt-out the output shows (enough of its sampled frames do), 0.0 elsewhere;
  each such frame's detection cites ``optout:<id>``, the reference file's hash and the
  score. Output moderation always runs it (:func:`optout_classifier`), whatever else is
  configured: every output is matched against the registry.
* :class:`ClipZeroShotClassifier` — open_clip with an operator-configured local checkpoint;
  every category is a set of text prompts, scored by softmax against neutral prompts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from trust_safety.classifiers.faces import Face
from trust_safety.output.errors import ClassifierUnavailable, InvalidFrames

SEXUAL = "sexual"
MINORS = "minors"
VIOLENCE_GORE = "violence_gore"
SELF_HARM = "self_harm"
HATE_SYMBOLS = "hate_symbols"
PEOPLE = "people"
LIKENESS = "likeness"
IP = "ip"  # a rights holder's opted-out work (the prompt gate's category of the same name)


@dataclass(frozen=True)
class FrameScores:
    """One classifier's verdict on one frame.

    ``faces``: the faces a face analyzer found, with their embeddings. They are biometric
    data: matched in memory, never written anywhere (``detections`` and the event payload
    carry each face's :meth:`~trust_safety.classifiers.faces.Face.evidence` instead)."""

    scores: Mapping[str, float]
    detections: tuple[dict[str, Any], ...] = ()
    faces: tuple[Face, ...] = field(default=(), repr=False)


class FaceAnalysis(Protocol):
    """What :class:`DlibFaceClassifier` needs of a face analyzer (``FaceAnalyzer`` is one)."""

    model_versions: dict[str, str]

    def analyze(self, frame: Any) -> list[Face]: ...


@runtime_checkable
class FrameClassifier(Protocol):
    name: str
    categories: tuple[str, ...]

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]: ...


def _check(frames: Sequence[np.ndarray]) -> None:
    for f in frames:
        if f.ndim != 3 or f.shape[2] != 3 or f.dtype != np.uint8:
            raise InvalidFrames(f"frames must be RGB uint8 (H, W, 3), got {f.dtype} {f.shape}")


class NudeNetClassifier:
    """Output-frame adapter over the shared NudeNet wrapper in ``trust_safety.classifiers``
    (one ONNX session per process, also used by upload moderation)."""

    name = "nudenet"
    categories: tuple[str, ...] = (SEXUAL, PEOPLE)

    def __init__(self) -> None:
        from trust_safety.classifiers.nsfw import shared_nudenet

        try:
            self._nudenet = shared_nudenet()
        except Exception as exc:  # the shared wrapper raises its own unavailability type
            raise ClassifierUnavailable(f"NudeNet cannot be loaded: {exc}") from exc

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        _check(frames)
        out = []
        for frame in frames:
            # The wrapper takes BGR, as NudeNet's own file-path route (cv2.imread) does.
            result = self._nudenet.classify(np.ascontiguousarray(frame[:, :, ::-1]))
            people = max((d.score for d in result.detections), default=0.0)
            out.append(
                FrameScores(
                    scores={SEXUAL: float(result.score), PEOPLE: float(people)},
                    detections=tuple(
                        {"label": d.label, "score": round(d.score, 4), "box": list(d.box)}
                        for d in result.detections
                    ),
                )
            )
        return out


class DlibFaceClassifier:
    """Faces as faces, from the shared dlib analyzer: every face found is landmarked, embedded
    and given an age estimate.

    It evaluates ``people`` (1.0 on a frame with a face, 0.0 without). Unlike the Haar
    cascades it replaced, dlib's HOG detector does not fire on the textures of abstract
    frames, and a face it finds carries an identity and an age, so ``likeness`` and
    ``minors`` are decided from the faces themselves. ``analyses_faces`` tells the policy that
    this classifier looked for faces on every frame it was given.
    """

    name = "dlib-face"
    categories: tuple[str, ...] = (PEOPLE,)
    analyses_faces = True

    def __init__(self, analyzer: FaceAnalysis | None = None) -> None:
        from trust_safety.classifiers.errors import ClassifierUnavailable as SharedUnavailable
        from trust_safety.classifiers.faces import shared_face_analyzer

        try:
            self._analyzer = analyzer or shared_face_analyzer()
        except SharedUnavailable as exc:
            raise ClassifierUnavailable(f"the dlib face analyzer cannot be loaded: {exc}") from exc
        self.model_versions: dict[str, str] = dict(self._analyzer.model_versions)

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        _check(frames)
        out = []
        for frame in frames:
            faces = tuple(self._analyzer.analyze(frame))
            out.append(
                FrameScores(
                    scores={PEOPLE: 1.0 if faces else 0.0},
                    detections=tuple({"label": "face", **f.evidence()} for f in faces),
                    faces=faces,
                )
            )
        return out


class OptOutMatches(Protocol):
    """The opt-outs a batch of sampled frames shows (``trust_safety.optout.public``)."""

    def __call__(self, frames: Sequence[np.ndarray]) -> Sequence[Any]: ...


class OptOutMediaClassifier:
    """Output frames against the rights holders' reference media (see the module's notes).

    ``matches(frames)`` returns :class:`~trust_safety.optout.output_index.OptOutOutputMatch`
    values; only the frames of an opt-out the whole batch matched score 1.0, so a single
    frame that happens to share a few features with a reference never blocks."""

    name = "optout-reference-media"
    categories: tuple[str, ...] = (IP,)

    def __init__(self, matches: OptOutMatches, model_id: str = "") -> None:
        self._matches = matches
        self.model_versions: dict[str, str] = {"optout_matcher": model_id} if model_id else {}

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        _check(frames)
        found: list[list[dict[str, Any]]] = [[] for _ in frames]
        for match in self._matches(frames):
            for hit in match.frames:
                found[hit.frame].append({"label": "optout", "ref": match.ref, **hit.evidence()})
        return [
            FrameScores(scores={IP: 1.0 if hits else 0.0}, detections=tuple(hits)) for hits in found
        ]


def optout_classifier(services: Any) -> OptOutMediaClassifier:
    """The opt-out classifier bound to this process's registry index."""
    from trust_safety.optout.public import OUTPUT_INDEX

    index = services.resource(OUTPUT_INDEX)
    return OptOutMediaClassifier(index.match, index.model_id)


def with_optouts(services: Any, classifiers: list[FrameClassifier]) -> list[FrameClassifier]:
    """``classifiers`` and the opt-out classifier (once): what output moderation runs."""
    if any(c.name == OptOutMediaClassifier.name for c in classifiers):
        return list(classifiers)
    return [*classifiers, optout_classifier(services)]


DEFAULT_CLIP_PROMPTS: dict[str, tuple[str, ...]] = {
    SEXUAL: ("a sexually explicit image", "a photo of a naked person", "pornography"),
    MINORS: ("a photo of a child", "a photo of a young kid", "a baby"),
    VIOLENCE_GORE: ("a gory image with blood and wounds", "a violent killing", "a mutilated body"),
    SELF_HARM: ("a person cutting themselves", "a suicide scene"),
    HATE_SYMBOLS: ("a swastika", "a hate symbol", "a burning cross"),
}
DEFAULT_NEUTRAL_PROMPTS: tuple[str, ...] = (
    "a landscape",
    "an abstract colourful pattern",
    "a city street",
    "an animal",
    "an everyday scene",
    "an adult person",
    "a cartoon",
    "geometric shapes",
)


@dataclass(frozen=True)
class ClipConfig:
    model_name: str
    checkpoint: Path
    prompts: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_CLIP_PROMPTS)
    )
    neutral_prompts: tuple[str, ...] = DEFAULT_NEUTRAL_PROMPTS
    device: str = "cpu"


class ClipZeroShotClassifier:
    """Zero-shot frame classification with open_clip from a local checkpoint."""

    name = "open-clip-zero-shot"

    def __init__(self, config: ClipConfig) -> None:
        if not config.checkpoint.is_file():
            raise ClassifierUnavailable(f"CLIP checkpoint {config.checkpoint} does not exist")
        if not config.prompts:
            raise ClassifierUnavailable("CLIP zero-shot needs at least one category prompt set")
        try:
            import open_clip
            import torch
        except ImportError as exc:
            raise ClassifierUnavailable("open_clip_torch is not installed") from exc
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                config.model_name, pretrained=str(config.checkpoint), device=config.device
            )
            tokenizer = open_clip.get_tokenizer(config.model_name)
        except (RuntimeError, ValueError, OSError, KeyError) as exc:
            raise ClassifierUnavailable(
                f"cannot load open_clip model {config.model_name!r} from {config.checkpoint}: {exc}"
            ) from exc
        model.eval()
        self._torch = torch
        self._model = model
        self._preprocess = preprocess
        self._device = config.device
        self.categories = tuple(config.prompts)
        texts: list[str] = []
        self._owner: list[str | None] = []
        for category, prompts in config.prompts.items():
            for p in prompts:
                texts.append(p)
                self._owner.append(category)
        for p in config.neutral_prompts:
            texts.append(p)
            self._owner.append(None)
        with torch.no_grad():
            text = model.encode_text(tokenizer(texts).to(config.device))
            self._text = text / text.norm(dim=-1, keepdim=True)
        self._scale = (
            float(model.logit_scale.exp().item()) if hasattr(model, "logit_scale") else 100.0
        )

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        _check(frames)
        if not frames:
            return []
        from PIL import Image

        torch = self._torch
        batch = torch.stack([self._preprocess(Image.fromarray(f)) for f in frames]).to(self._device)
        with torch.no_grad():
            image = self._model.encode_image(batch)
            image = image / image.norm(dim=-1, keepdim=True)
            probs = (self._scale * image @ self._text.T).softmax(dim=-1).cpu().numpy()
        out = []
        for row in probs:
            scores: dict[str, float] = dict.fromkeys(self.categories, 0.0)
            for p, owner in zip(row, self._owner, strict=True):
                if owner is not None:
                    scores[owner] += float(p)
            out.append(FrameScores(scores={k: round(v, 6) for k, v in scores.items()}))
        return out
