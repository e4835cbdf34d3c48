from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from core.video import encode_mp4
from reverse_search.errors import EmptyMediaError, InvalidFramesError, MediaDecodeError
from reverse_search.sampling import sample_array, sample_media, sample_query, sample_video
from tests.reverse_search.helpers import FPS, clip


@pytest.mark.parametrize("fps", [24, 10, 30])
def test_samples_follow_the_time_grid_whatever_the_frame_rate(tmp_path: Path, fps: int) -> None:
    source = clip(0, 4.0)
    idx = np.minimum((np.arange(int(4.0 * fps)) * FPS / fps).astype(int), len(source) - 1)
    path = encode_mp4(source[idx], fps, tmp_path / f"c{fps}.mp4")
    sampled = sample_video(path, rate_fps=2.0)
    assert len(sampled.times) == 8
    # Each sample is the first frame at or after its grid point, so within one frame of it.
    assert np.all(sampled.times - np.arange(8) * 0.5 >= -1e-3)
    assert np.all(sampled.times - np.arange(8) * 0.5 < 1.0 / fps + 1e-3)
    assert sampled.duration_s == pytest.approx(4.0, abs=1.0 / fps + 1e-3)


def test_frames_are_downscaled_to_max_side(tmp_path: Path) -> None:
    path = encode_mp4(clip(1, 2.0), FPS, tmp_path / "c.mp4")
    sampled = sample_video(path, 1.0, max_side=80)
    assert sampled.frames.shape[1:] == (48, 80, 3)
    full = sample_video(path, 1.0, max_side=None)
    assert full.frames.shape[1:] == (96, 160, 3)


def test_rate_below_frame_rate_of_a_sparse_video(tmp_path: Path) -> None:
    # 2 fps video sampled at 5 fps: every frame is kept once, none twice.
    path = encode_mp4(clip(2, 3.0)[::12], 2, tmp_path / "sparse.mp4")
    sampled = sample_video(path, 5.0)
    assert len(sampled.times) == 6
    assert np.all(np.diff(sampled.times) > 0)


def test_image_is_one_frame_at_time_zero(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    Image.fromarray(clip(3, 1.0)[0]).save(path)
    sampled = sample_media(path)
    assert sampled.is_still_image and sampled.frames.shape[0] == 1


def test_image_without_suffix_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    Image.fromarray(clip(3, 1.0)[0]).save(path, format="PNG")
    assert sample_media(path).is_still_image


def test_garbage_and_missing_files_raise_typed_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video at all" * 50)
    with pytest.raises(MediaDecodeError):
        sample_media(garbage)
    with pytest.raises(MediaDecodeError):
        sample_media(tmp_path / "missing.mp4")
    with pytest.raises(ValueError):
        sample_media(garbage, rate_fps=0)


def test_sample_array_matches_grid_and_validates() -> None:
    frames = clip(4, 3.0)
    sampled = sample_array(frames, FPS, 2.0)
    assert np.allclose(sampled.times, np.arange(6) * 0.5)
    assert np.array_equal(sampled.frames[1], frames[12])
    with pytest.raises(InvalidFramesError):
        sample_array(frames.astype(np.float32), FPS)
    with pytest.raises(EmptyMediaError):
        sample_array(frames[:0], FPS)


def test_query_sampling_skips_non_reference_frames_but_keeps_the_grid(tmp_path: Path) -> None:
    path = encode_mp4(clip(3, 4.0), FPS, tmp_path / "q.mp4")
    exact = sample_video(path, 2.0)
    fast = sample_video(path, 2.0, skip_nonreference=True)
    assert len(fast.times) == len(exact.times) == 8
    # A skipped frame moves a sample to the next decoded one: a few frame intervals late.
    assert np.all(fast.times - np.arange(8) * 0.5 >= -1e-3)
    assert np.all(fast.times - np.arange(8) * 0.5 < 4.0 / FPS + 1e-3)
    assert fast.duration_s == pytest.approx(exact.duration_s, abs=4.0 / FPS)


def test_query_sampling_decodes_everything_when_skipping_leaves_too_little(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reverse_search.sampling as sampling

    path = encode_mp4(clip(4, 4.0), FPS, tmp_path / "q.mp4")
    real = sampling._decode_samples
    calls = []

    def decoder_that_skips_nearly_everything(
        path, rate, max_side, *, skip_nonreference, budget_px=None
    ):
        calls.append(skip_nonreference)
        sampled, spent = real(
            path, rate, max_side, skip_nonreference=skip_nonreference, budget_px=budget_px
        )
        if skip_nonreference:  # as a codec that marks almost every frame non-reference
            return sampling.SampledFrames(sampled.frames[:1], sampled.times[:1], 4.0), spent
        return sampled, spent

    monkeypatch.setattr(sampling, "_decode_samples", decoder_that_skips_nearly_everything)
    sampled = sampling.sample_query(path)
    assert calls == [True, False]
    assert len(sampled.times) == 8


def test_a_query_past_its_decoding_budget_is_sampled_at_keyframes(tmp_path: Path) -> None:
    # 8 s with a keyframe at least every second: a budget of 30 frames decodes the first
    # 1.25 s in full, then keyframes only, and the clip keeps its length.
    source = clip(2, 8.0)
    path = encode_mp4(source, FPS, tmp_path / "hd.mp4", keyframe_interval=FPS)
    with av.open(str(path)) as container:
        keyframes = [f.time for f in container.decode(video=0) if f.key_frame]
    height, width = source.shape[1:3]
    sampled = sample_query(path, 2.0, decode_budget_px=30 * width * height)
    assert np.allclose(sampled.times[:3], [0.0, 0.5, 1.0], atol=0.1)
    # The decoder's threads may have started a frame or two past the budget; after them,
    # only keyframes were decoded.
    late = sampled.times[sampled.times >= 2.0]
    assert len(late) >= 6
    assert all(np.min(np.abs(np.asarray(keyframes) - t)) < 1e-3 for t in late)
    assert sampled.duration_s == pytest.approx(8.0, abs=0.1)
    unbounded = sample_query(path, 2.0, decode_budget_px=None)
    assert len(unbounded.times) == 16 > len(sampled.times)


def test_a_frame_wider_than_16_9_keeps_the_height_of_one(tmp_path: Path) -> None:
    # Side by side, each clip gets the pixels it would have on its own.
    pair = np.concatenate([clip(1, 1.0), clip(2, 1.0)], axis=2)
    sampled = sample_video(encode_mp4(pair, FPS, tmp_path / "pair.mp4"), 2.0, max_side=160)
    # 320x96: the height a 16:9 frame has at max_side 160 (90), the width in proportion.
    assert sampled.frames.shape[1:3] == (90, 300)
