from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.video import decode_frames, encode_mp4
from generator.backends.procedural import render_clip
from provenance.errors import InvalidPayload
from provenance.watermark import InvisibleWatermark

KEY = b"test-watermark-key-0123456789abcdef"
SERIAL = 0xC1EA_F00D_1234_5678


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray, Path]:
    clip = render_clip("a lighthouse in a storm", 11, 320, 180, 2.0, fps=24)
    wm = InvisibleWatermark(KEY)
    out = wm.embed(clip, SERIAL)
    path = encode_mp4(out, 24, tmp_path_factory.mktemp("wm") / "marked.mp4")
    return clip, out, path


def test_embedding_is_subtle(marked: tuple[np.ndarray, np.ndarray, Path]) -> None:
    clip, out, _ = marked
    mse = np.mean((out.astype(np.float64) - clip) ** 2)
    assert 10 * np.log10(255**2 / mse) > 35


def test_payload_survives_encode_and_low_bitrate_downscale(
    marked: tuple[np.ndarray, np.ndarray, Path], tmp_path: Path
) -> None:
    _, _, path = marked
    wm = InvisibleWatermark(KEY)
    assert wm.detect_file(path).serial == SERIAL
    frames, _ = decode_frames(path)
    half = np.stack([cv2.resize(f, (160, 90), interpolation=cv2.INTER_AREA) for f in frames])
    attacked = encode_mp4(half, 24, tmp_path / "half.mp4", bitrate=120_000)
    assert wm.detect_file(attacked).serial == SERIAL


def test_payload_survives_crop_flip_and_brightness(
    marked: tuple[np.ndarray, np.ndarray, Path],
) -> None:
    _, _, path = marked
    frames, _ = decode_frames(path)
    wm = InvisibleWatermark(KEY)
    cropped = frames[:, 12:174, 20:310]  # about 10 % off, asymmetric
    found = wm.detect(cropped)
    assert found.serial == SERIAL
    assert found.crop[0] == pytest.approx(20 / 320, abs=0.03)
    assert wm.detect(frames[:, :, ::-1]).flipped
    assert wm.detect(frames[:, :, ::-1]).serial == SERIAL
    brighter = np.clip(frames.astype(np.int16) * 1.2 + 15, 0, 255).astype(np.uint8)
    assert wm.detect(brighter).serial == SERIAL


def test_unmarked_and_wrong_key_find_nothing(
    marked: tuple[np.ndarray, np.ndarray, Path],
) -> None:
    clip, out, _ = marked
    wm = InvisibleWatermark(KEY)
    assert wm.detect(clip).serial is None
    assert InvisibleWatermark(b"another-key-with-enough-bytes!!").detect(out).serial is None


def test_distinct_serials_decode_distinctly() -> None:
    clip = render_clip("market", 3, 256, 144, 1.0, fps=12)
    wm = InvisibleWatermark(KEY)
    for serial in (0, 1, 2**64 - 1, 0x0123456789ABCDEF):
        assert wm.detect(wm.embed(clip, serial)).serial == serial


def test_bad_input_is_rejected() -> None:
    wm = InvisibleWatermark(KEY)
    clip = np.zeros((2, 64, 96, 3), np.uint8)
    with pytest.raises(InvalidPayload):
        wm.embed(clip, -1)
    with pytest.raises(InvalidPayload):
        wm.embed(clip, 2**64)
    with pytest.raises(InvalidPayload, match="too small"):
        wm.embed(np.zeros((2, 20, 20, 3), np.uint8), 5)
    with pytest.raises(InvalidPayload):
        InvisibleWatermark(b"short")


def test_informed_embedding_raises_strength_only_when_needed() -> None:
    clip = render_clip("dunes", 6, 256, 144, 1.0, fps=12)
    wm = InvisibleWatermark(KEY)
    easy = wm.embed_verified(clip, SERIAL, min_margin=-10.0)
    assert easy.strength == wm.strength
    assert np.array_equal(easy.frames, wm.embed(clip, SERIAL))
    hard = wm.embed_verified(clip, SERIAL, min_margin=10.0)  # never satisfied: full boost
    assert hard.strength == pytest.approx(2 * wm.strength)
    assert wm.detect(hard.frames).serial == SERIAL
    assert -1.0 <= easy.margin <= 1.0
