from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.video import EncodingError, decode_frames, encode_mp4, probe_fps
from generator.backends.procedural import render_clip
from generator.errors import InvalidRenderRequest


def test_render_is_deterministic_and_shaped() -> None:
    a = render_clip("a red fox in snow", 7, 96, 64, 1.0, fps=12)
    b = render_clip("a red fox in snow", 7, 96, 64, 1.0, fps=12)
    assert a.shape == (12, 64, 96, 3)
    assert a.dtype == np.uint8
    assert np.array_equal(a, b)
    # Broadcast range keeps head-room for watermarks and brightness edits.
    assert a.min() >= 16 and a.max() <= 235


def test_render_differs_across_prompts_and_seeds() -> None:
    base = render_clip("a red fox in snow", 7, 96, 64, 1.0, fps=12).astype(np.int16)
    other_seed = render_clip("a red fox in snow", 8, 96, 64, 1.0, fps=12).astype(np.int16)
    other_prompt = render_clip("a red fox in sand", 7, 96, 64, 1.0, fps=12).astype(np.int16)
    assert np.abs(base - other_seed).mean() > 15
    assert np.abs(base - other_prompt).mean() > 15


def test_render_has_motion_between_frames() -> None:
    clip = render_clip("waves", 1, 128, 72, 2.0, fps=12).astype(np.int16)
    diffs = np.abs(np.diff(clip, axis=0)).mean(axis=(1, 2, 3))
    assert (diffs > 0.5).all(), diffs


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 8},
        {"height": 5000},
        {"duration_s": 0.0},
        {"duration_s": float("nan")},
        {"fps": 0},
        {"seed": 1.5},
    ],
)
def test_render_rejects_bad_requests(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "prompt": "x",
        "seed": 1,
        "width": 64,
        "height": 64,
        "duration_s": 1.0,
        "fps": 12,
    }
    args.update(kwargs)
    with pytest.raises(InvalidRenderRequest):
        render_clip(**args)  # type: ignore[arg-type]


def test_encode_decode_round_trip(tmp_path: Path) -> None:
    clip = render_clip("city at night", 3, 160, 96, 2.0, fps=24)
    path = encode_mp4(clip, 24, tmp_path / "clip.mp4")
    assert path.read_bytes()[4:8] == b"ftyp"
    frames, fps = decode_frames(path)
    assert fps == pytest.approx(24.0)
    assert frames.shape == clip.shape
    assert np.abs(frames.astype(np.int16) - clip).mean() < 6
    assert probe_fps(path) == pytest.approx(24.0)


def test_mp4_is_not_fragmented(tmp_path: Path) -> None:
    path = encode_mp4(render_clip("x", 1, 64, 64, 0.5, fps=12), 12, tmp_path / "a.mp4")
    data = path.read_bytes()
    assert b"moof" not in data and b"mvex" not in data


def test_decode_resamples_by_time(tmp_path: Path) -> None:
    clip = render_clip("bells", 2, 64, 48, 3.0, fps=24)
    path = encode_mp4(clip, 24, tmp_path / "a.mp4")
    frames, fps = decode_frames(path, fps=2)
    assert fps == 2.0
    assert frames.shape[0] == 6
    full, _ = decode_frames(path)
    assert np.array_equal(frames[1], full[12])


def test_bitrate_mode_makes_smaller_files(tmp_path: Path) -> None:
    clip = render_clip("forest", 5, 192, 108, 2.0, fps=24)
    hi = encode_mp4(clip, 24, tmp_path / "hi.mp4", crf=10)
    lo = encode_mp4(clip, 24, tmp_path / "lo.mp4", bitrate=100_000)
    assert lo.stat().st_size < hi.stat().st_size


def test_encode_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(EncodingError, match="even"):
        encode_mp4(np.zeros((2, 63, 64, 3), np.uint8), 24, tmp_path / "a.mp4")
    with pytest.raises(EncodingError, match="uint8"):
        encode_mp4(np.zeros((2, 64, 64, 3), np.float32), 24, tmp_path / "a.mp4")
    with pytest.raises(EncodingError, match="either"):
        encode_mp4(
            np.zeros((2, 64, 64, 3), np.uint8), 24, tmp_path / "a.mp4", crf=20, bitrate=10**6
        )
    with pytest.raises(EncodingError):
        encode_mp4(np.zeros((0, 64, 64, 3), np.uint8), 24, tmp_path / "a.mp4")


def test_decode_rejects_non_video(tmp_path: Path) -> None:
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"not a video at all")
    with pytest.raises(EncodingError):
        decode_frames(bogus)
