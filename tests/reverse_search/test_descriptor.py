from __future__ import annotations

import cv2
import numpy as np
import pytest

from reverse_search.embedders import FrameEmbedder, VisualDescriptor
from reverse_search.embedders.descriptor import DescriptorConfig, content_box
from reverse_search.errors import InvalidFramesError
from tests.reverse_search.helpers import HEIGHT, WIDTH, clip


@pytest.fixture(scope="module")
def descriptor() -> VisualDescriptor:
    return VisualDescriptor()


def _frame(i: int, t: int = 30) -> np.ndarray:
    return np.ascontiguousarray(clip(i)[t])


def _sim(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_implements_the_embedder_interface(descriptor: VisualDescriptor) -> None:
    assert isinstance(descriptor, FrameEmbedder)
    vectors = descriptor.embed(clip(0)[:5])
    assert vectors.shape == (5, descriptor.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    views = descriptor.embed_query(clip(0)[:2])
    assert views.shape == (2, descriptor.query_view_count, descriptor.dim)


def test_name_changes_with_configuration() -> None:
    assert VisualDescriptor().name != VisualDescriptor(DescriptorConfig(weight_colour=0.9)).name


@pytest.mark.parametrize(
    "edit",
    [
        lambda f: cv2.resize(f, (WIDTH // 2, HEIGHT // 2), interpolation=cv2.INTER_AREA),
        lambda f: np.clip(f.astype(np.float32) * 1.3 - 20, 0, 255).astype(np.uint8),
        lambda f: np.ascontiguousarray(f[8:-8, 12:-12]),
    ],
    ids=["downscale", "brightness_contrast", "crop"],
)
def test_edited_copy_is_closer_than_any_other_clip(descriptor: VisualDescriptor, edit) -> None:
    original = descriptor.embed(_frame(0))[0]
    edited = descriptor.embed(edit(_frame(0)))[0]
    others = descriptor.embed(np.stack([_frame(i) for i in range(1, 9)]))
    assert _sim(original, edited) > float((others @ original).max()) + 0.05


def test_flipped_copy_is_found_through_the_flip_view(descriptor: VisualDescriptor) -> None:
    original = descriptor.embed(_frame(1))[0]
    flipped = np.ascontiguousarray(_frame(1)[:, ::-1])
    direct, flip_view = descriptor.embed_query(flipped)[0][:2]
    assert _sim(original, flip_view) > 0.99
    assert _sim(original, flip_view) > _sim(original, direct)


def test_letterbox_bars_of_any_colour_are_trimmed(descriptor: VisualDescriptor) -> None:
    frame = _frame(2)
    canvas = np.full((HEIGHT + 40, WIDTH + 30, 3), (30, 60, 20), np.uint8)
    canvas[20 : 20 + HEIGHT, 15 : 15 + WIDTH] = frame
    luma = canvas.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255
    top, bottom, left, right = content_box(luma, descriptor.config)
    assert abs(top - 20) <= 1 and abs(bottom - (20 + HEIGHT)) <= 1
    assert abs(left - 15) <= 1 and abs(right - (15 + WIDTH)) <= 1
    assert _sim(descriptor.embed(frame)[0], descriptor.embed(canvas)[0]) > 0.97


def test_uniform_frame_is_not_trimmed_to_nothing(descriptor: VisualDescriptor) -> None:
    black = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    vector = descriptor.embed(black)[0]
    assert np.all(np.isfinite(vector))


def test_picture_in_picture_is_found_by_a_region_view(descriptor: VisualDescriptor) -> None:
    inner = cv2.resize(_frame(3), (WIDTH // 2, HEIGHT // 2), interpolation=cv2.INTER_AREA)
    canvas = _frame(7).copy()
    canvas[: HEIGHT // 2, WIDTH // 2 :] = inner
    views = descriptor.embed_query(canvas)[0]
    target = descriptor.embed(_frame(3))[0]
    best_view = int(np.argmax(views @ target))
    # A region view: past the whole frame, its mirror and the symmetric views.
    assert best_view >= 2 + len(descriptor.config.query_symmetries)
    assert float(views[best_view] @ target) > 0.75
    assert float(views[best_view] @ target) > float(views[0] @ target) + 0.3


def test_rejects_frames_that_are_not_uint8_rgb(descriptor: VisualDescriptor) -> None:
    with pytest.raises(InvalidFramesError):
        descriptor.embed(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(InvalidFramesError):
        descriptor.embed(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(InvalidFramesError):
        descriptor.embed(np.zeros((1, 4, 4, 3), np.uint8))


@pytest.mark.parametrize("crop", [(0, None, 0, None), (5, -9, 7, -30), (13, 70, 3, 101)])
def test_mirror_equals_describing_the_mirrored_crop(
    descriptor: VisualDescriptor, crop: tuple
) -> None:
    top, bottom, left, right = crop
    frames = np.stack([_frame(i)[top:bottom, left:right] for i in range(4)])
    direct = descriptor.embed(np.ascontiguousarray(frames[:, :, ::-1]))
    derived = descriptor.mirror(descriptor.embed(frames))
    # Equal up to OpenCV's area resampling, which is not exactly mirror-symmetric when the
    # crop does not divide evenly onto the descriptor's grid.
    assert float(np.min(np.sum(direct * derived, axis=1))) > 0.998
    # And the mirror is not the identity: a frame and its mirror image differ.
    assert float(np.max(np.sum(derived * descriptor.embed(frames), axis=1))) < 0.99


def test_description_does_not_depend_on_how_frames_are_batched(
    descriptor: VisualDescriptor,
) -> None:
    frames = clip(4)[::3]  # more frames than one vectorised pass takes
    together = descriptor.embed(frames)
    alone = np.concatenate([descriptor.embed(frame[None]) for frame in frames])
    assert len(frames) > 8
    assert np.abs(together - alone).max() < 1e-5


_EDITS = {
    "hflip": lambda f: f[:, ::-1],
    "vflip": lambda f: f[::-1],
    "rot180": lambda f: f[::-1, ::-1],
    "rot90": lambda f: np.rot90(f, 1),
    "rot270": lambda f: np.rot90(f, 3),
    "negative": lambda f: 255 - f,
}


@pytest.mark.parametrize("name", list(_EDITS))
def test_each_symmetry_view_undoes_its_edit(descriptor: VisualDescriptor, name: str) -> None:
    frame = _frame(4)
    original = descriptor.embed(frame)[0]
    edited = descriptor.embed(np.ascontiguousarray(_EDITS[name](frame)))[0]
    undone = descriptor.symmetry(name, edited)
    assert _sim(original, undone) > 0.99
    assert _sim(original, edited) < 0.8
    others = descriptor.embed(np.stack([_frame(i) for i in range(5, 11)]))
    assert _sim(original, undone) > float((others @ undone).max()) + 0.2


@pytest.mark.parametrize("name", ["vflip", "rot90", "rot270", "negative"])
def test_query_views_include_the_symmetries(descriptor: VisualDescriptor, name: str) -> None:
    original = descriptor.embed(_frame(6))[0]
    edited = np.ascontiguousarray(_EDITS[name](_frame(6)))
    views = descriptor.embed_query(edited)[0]
    families = descriptor.view_families(len(views))
    best = int(np.argmax(views @ original))
    assert _sim(original, views[best]) > 0.99
    # The view that found it is the family of that edit alone.
    assert families[best] == 2 + descriptor.config.query_symmetries.index(name)
    assert (families == families[best]).sum() == 1


def test_view_families_follow_the_view_layout(descriptor: VisualDescriptor) -> None:
    n_sym = len(descriptor.config.query_symmetries)
    n_regions = descriptor.query_view_count - 2 - n_sym
    plain = descriptor.view_families(descriptor.query_view_count)
    assert plain.tolist() == [0, 1, *range(2, 2 + n_sym), *[0] * n_regions]
    # Two detected pictures: each followed by its mirror, like the whole frame.
    two = descriptor.view_families(descriptor.query_view_count + 4)
    assert two[:6].tolist() == [0, 1, 0, 1, 0, 1]
    with pytest.raises(ValueError):
        descriptor.view_families(descriptor.query_view_count + 1)


def test_unknown_symmetry_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown query symmetry"):
        VisualDescriptor(DescriptorConfig(query_symmetries=("rot45",)))


def test_wide_archived_frames_are_also_indexed_by_a_9_16_window(
    descriptor: VisualDescriptor,
) -> None:
    frames = np.ascontiguousarray(clip(4)[:48:12])  # 4 frames, 160x96 (wider than 1.4:1)
    rows, frame_of = descriptor.embed_reference(frames)
    # Every frame whole, then one window, its position (centre, left of it, right of it)
    # taking turns from frame to frame.
    assert frame_of.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert np.allclose(rows[::2], descriptor.embed(frames), atol=1e-6)
    width = round(HEIGHT * 9 / 16)
    turns = [(0, 0.5), (1, 0.3), (2, 0.7), (3, 0.5)]
    for row, (frame, position) in zip(rows[1::2], turns, strict=True):
        x0 = round(position * (WIDTH - width))
        window = np.ascontiguousarray(frames[frame][:, x0 : x0 + width])
        # (described again, the crop is trimmed of its own uniform edges: not bit-identical)
        assert _sim(row, descriptor.embed(window)[0]) > 0.98
    # A frame that is not wide has no window: a 9:16 reframe of it would be itself.
    narrow = np.ascontiguousarray(frames[:, :, :100])
    assert descriptor.embed_reference(narrow)[1].tolist() == [0, 1, 2, 3]
