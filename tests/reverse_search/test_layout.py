from __future__ import annotations

import cv2
import numpy as np
import pytest

from generator.backends.procedural import render_clip
from reverse_search.embedders import VisualDescriptor
from reverse_search.embedders.layout import find_inner_pictures, find_moving_seams
from tests.reverse_search.helpers import FPS, HEIGHT, WIDTH, clip


def _frames(index: int) -> np.ndarray:
    return np.ascontiguousarray(clip(index)[::12])  # 2 fps, 12 frames


def _pip(source: int, background: int, box: tuple[int, int, int, int]) -> np.ndarray:
    top, left, h, w = box
    canvas = _frames(background).copy()
    small = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in _frames(source)])
    canvas[:, top : top + h, left : left + w] = small
    return canvas


@pytest.mark.parametrize("box", [(10, 20, 46, 76), (40, 70, 50, 84), (0, 0, 40, 70)])
def test_finds_a_picture_in_picture(box: tuple[int, int, int, int]) -> None:
    top, left, h, w = box
    found = find_inner_pictures(_pip(1, 2, box))
    assert found, "no picture found"
    truth = np.array([top / HEIGHT, (top + h) / HEIGHT, left / WIDTH, (left + w) / WIDTH])
    assert np.abs(np.array(found[0]) - truth).max() < 0.04


def test_finds_a_clip_over_a_blurred_copy_of_itself() -> None:
    frames = _frames(3)
    tall = 2 * HEIGHT
    canvas = np.stack([cv2.GaussianBlur(cv2.resize(f, (WIDTH, tall)), (0, 0), 8) for f in frames])
    canvas[:, HEIGHT // 2 : HEIGHT // 2 + HEIGHT] = frames
    found = find_inner_pictures(canvas)
    assert found
    top, bottom, left, right = found[0]
    assert top == pytest.approx(0.25, abs=0.03) and bottom == pytest.approx(0.75, abs=0.03)


@pytest.mark.parametrize("seed", range(6))
def test_an_ordinary_clip_has_no_inner_picture(seed: int) -> None:
    frames = render_clip(f"ordinary {seed}", 700 + seed, WIDTH, HEIGHT, 6.0, FPS)[::12]
    assert find_inner_pictures(np.ascontiguousarray(frames)) == []


def test_the_detected_picture_becomes_a_query_view_that_matches_the_source() -> None:
    descriptor = VisualDescriptor()
    query = _pip(4, 5, (30, 60, 44, 78))
    pictures = find_inner_pictures(query)
    views = descriptor.embed_query(query)
    # Each picture adds itself and its mirror image after the whole frame and its flip.
    assert views.shape[1] == descriptor.query_view_count + 2 * len(pictures)
    source = descriptor.embed(_frames(4))
    whole = float(np.mean(np.sum(views[:, 0] * source, axis=1)))
    picture = float(np.mean(np.sum(views[:, 2] * source, axis=1)))
    assert picture > 0.85 and picture > whole + 0.3


def test_percentile_over_frames_matches_numpy() -> None:
    from reverse_search.embedders.layout import _percentile_over_frames

    stack = np.random.default_rng(3).random((7, 5, 9), dtype=np.float32)
    for q in (0.0, 30.0, 50.0, 100.0):
        assert np.allclose(_percentile_over_frames(stack, q), np.percentile(stack, q, axis=0))


@pytest.mark.parametrize("left_is_source", [True, False])
def test_finds_the_seam_between_two_moving_clips_side_by_side(left_is_source: bool) -> None:
    pair = [_frames(4), _frames(9)] if left_is_source else [_frames(9), _frames(4)]
    found = find_moving_seams(np.concatenate(pair, axis=2))
    assert len(found) == 2
    for box, (left, right) in zip(found, [(0.0, 0.5), (0.5, 1.0)], strict=True):
        assert box[:2] == (0.0, 1.0)
        assert abs(box[2] - left) < 0.03 and abs(box[3] - right) < 0.03


def test_finds_the_seam_of_clips_stacked_one_above_the_other() -> None:
    found = find_moving_seams(np.concatenate([_frames(5), _frames(8)], axis=1))
    assert len(found) == 2 and abs(found[0][1] - 0.5) < 0.03 and found[0][2:] == (0.0, 1.0)


@pytest.mark.parametrize("index", range(6))
def test_a_single_clip_has_no_moving_seam(index: int) -> None:
    assert find_moving_seams(_frames(index)) == []
