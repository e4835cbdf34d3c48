"""The output-matching seam, exercised end to end with a real (weight-free) embedder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from trust_safety.optout.colour_histogram import ColourHistogramEmbedder
from trust_safety.optout.errors import EmbeddingMismatch, InvalidOptOut
from trust_safety.optout.facts import BlobRef, MediaKind
from trust_safety.optout.media_loader import LocalFileMediaLoader, sha256_of
from trust_safety.optout.output_matcher import FrameEmbedder, ReferenceMediaIndex
from trust_safety.optout.registry import (
    InMemoryOptOutRegistry,
    RecordedOptOutFact,
    amend_optout,
    file_optout,
    withdraw_optout,
)

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def yellow_mouse(size: int = 160) -> np.ndarray:
    frame = np.full((size, size, 3), (40, 90, 200), np.uint8)  # blue backdrop
    cv2.ellipse(
        frame, (size // 2, size // 2), (size // 3, size // 4), 0, 0, 360, (250, 220, 30), -1
    )
    cv2.circle(frame, (size // 3, size // 2), size // 14, (220, 30, 30), -1)
    cv2.circle(frame, (2 * size // 3, size // 2), size // 14, (220, 30, 30), -1)
    return frame


def green_ogre(size: int = 160) -> np.ndarray:
    frame = np.full((size, size, 3), (110, 80, 50), np.uint8)  # brown swamp
    cv2.circle(frame, (size // 2, size // 2), size // 3, (90, 170, 60), -1)
    return frame


def meadow(size: int = 160, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frame = np.zeros((size, size, 3), np.uint8)
    frame[: size // 2] = (150, 200, 240)  # pale sky
    frame[size // 2 :] = (60, 140, 40)  # grass
    noise = rng.integers(-12, 12, frame.shape)
    return np.clip(frame.astype(int) + noise, 0, 255).astype(np.uint8)


def variant(frame: np.ndarray, seed: int) -> np.ndarray:
    """What a generator might emit: rescaled, cropped, slightly brighter, noisy."""
    rng = np.random.default_rng(seed)
    h, w = frame.shape[:2]
    out = cv2.resize(frame, (int(w * 1.7), int(h * 1.7)), interpolation=cv2.INTER_LINEAR)
    crop = int(0.08 * out.shape[0])
    out = (
        out[crop:-crop, crop:-crop].astype(int)
        + 10
        + rng.integers(-8, 8, out[crop:-crop, crop:-crop].shape)
    )
    return np.clip(out, 0, 255).astype(np.uint8)


def write_image(path: Path, frame: np.ndarray) -> BlobRef:
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return BlobRef(
        uri=path.as_uri(), sha256=sha256_of(path), media_type="image/png", kind=MediaKind.IMAGE
    )


def write_clip(path: Path, frames: list[np.ndarray]) -> BlobRef:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return BlobRef(
        uri=path.as_uri(), sha256=sha256_of(path), media_type="video/mp4", kind=MediaKind.CLIP
    )


@pytest.fixture
def setup(tmp_path: Path):
    registry = InMemoryOptOutRegistry()
    mouse = write_image(tmp_path / "mouse.png", yellow_mouse())
    ogre_clip = write_clip(tmp_path / "ogre.mp4", [green_ogre() for _ in range(12)])
    for optout_id, holder, media, territories in [
        ("oo-mouse", "rh-a", [mouse], ["*"]),
        ("oo-ogre", "rh-b", [ogre_clip], ["US"]),
    ]:
        fact = file_optout(
            None,
            optout_id=optout_id,
            rights_holder_id=holder,
            rights_holder_name=holder,
            terms={"characters": [optout_id]},
            scopes=["prompts", "outputs"],
            territories=territories,
            reference_media=media,
        )
        registry.record(RecordedOptOutFact(fact, T0, holder))
    index = ReferenceMediaIndex(
        ColourHistogramEmbedder(),
        LocalFileMediaLoader(root=tmp_path),
        threshold=0.9,
        min_matching_frames=2,
    )
    index.sync(registry.all())
    return registry, index, tmp_path


def test_colour_histogram_embedder_is_a_frame_embedder():
    embedder = ColourHistogramEmbedder()
    assert isinstance(embedder, FrameEmbedder)
    vectors = embedder.embed([yellow_mouse(), meadow()])
    assert vectors.shape == (2, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    same = float(vectors[0] @ embedder.embed([variant(yellow_mouse(), 1)])[0])
    other = float(vectors[0] @ vectors[1])
    assert same > 0.9 > other


def test_output_resembling_a_reference_matches_with_evidence(setup):
    _, index, _ = setup
    assert index.reference_count == 2
    output = [variant(yellow_mouse(), s) for s in range(4)] + [meadow(seed=1)]
    matches = index.match(output)
    assert [m.optout_id for m in matches] == ["oo-mouse"]
    assert matches[0].matching_frames == 4 and matches[0].frames_checked == 5
    assert matches[0].best_similarity > 0.9


def test_one_similar_frame_is_not_enough(setup):
    _, index, _ = setup
    output = [variant(yellow_mouse(), 0)] + [meadow(seed=s) for s in range(5)]
    assert index.match(output) == []


def test_unrelated_output_and_territory(setup):
    _, index, _ = setup
    assert index.match([meadow(seed=s) for s in range(6)]) == []
    ogre = [variant(green_ogre(), s) for s in range(3)]
    assert [m.optout_id for m in index.match(ogre, territory="US")] == ["oo-ogre"]
    assert index.match(ogre, territory="FR") == []


def test_sync_follows_withdrawal_and_amendment(setup):
    registry, index, tmp_path = setup
    registry.record(
        RecordedOptOutFact(withdraw_optout(registry.require("oo-ogre"), "rh-b"), T0, "rh-b")
    )
    index.sync(registry.all())
    assert index.match([variant(green_ogre(), s) for s in range(3)]) == []
    # The mouse holder swaps their reference for the ogre picture.
    swapped = write_image(tmp_path / "ogre.png", green_ogre())
    registry.record(
        RecordedOptOutFact(
            amend_optout(registry.require("oo-mouse"), "rh-a", reference_media=[swapped]),
            T0,
            "rh-a",
        )
    )
    index.sync(registry.all())
    assert index.match([variant(yellow_mouse(), s) for s in range(3)]) == []
    assert [m.optout_id for m in index.match([variant(green_ogre(), 9)] * 2)] == ["oo-mouse"]


def test_loader_refuses_swapped_files_and_foreign_paths(tmp_path):
    ref = write_image(tmp_path / "a.png", yellow_mouse())
    (tmp_path / "a.png").write_bytes(b"not the same bytes")
    loader = LocalFileMediaLoader(root=tmp_path)
    with pytest.raises(InvalidOptOut, match="sha256"):
        loader.frames(ref)
    outside = BlobRef(
        uri="file:///etc/hostname", sha256="0" * 64, media_type="image/png", kind=MediaKind.IMAGE
    )
    with pytest.raises(InvalidOptOut, match="outside"):
        loader.frames(outside)
    remote = BlobRef(
        uri="s3://bucket/a.png", sha256="0" * 64, media_type="image/png", kind=MediaKind.IMAGE
    )
    with pytest.raises(InvalidOptOut, match="file://"):
        loader.frames(remote)


class UnnormalisedEmbedder:
    model_id = "broken"
    dim = 4

    def embed(self, frames):
        return np.ones((len(frames), 4), np.float32)


def test_bad_frames_and_bad_embedders_are_rejected(setup):
    _, index, tmp_path = setup
    with pytest.raises(InvalidOptOut):
        index.match([np.zeros((10, 10), np.uint8)])
    with pytest.raises(InvalidOptOut):
        index.match([np.zeros((10, 10, 3), np.float32)])
    broken = ReferenceMediaIndex(UnnormalisedEmbedder(), LocalFileMediaLoader(root=tmp_path))
    with pytest.raises(EmbeddingMismatch):
        broken.sync(setup[0].all())
    with pytest.raises(InvalidOptOut):
        ReferenceMediaIndex(ColourHistogramEmbedder(), LocalFileMediaLoader(), threshold=0)
