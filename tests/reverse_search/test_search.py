"""End to end on real H.264 files: ingest an archive, search edited copies and strangers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.video import encode_mp4
from generator.backends.procedural import render_clip
from reverse_search.embedders import VisualDescriptor
from reverse_search.embedders.descriptor import DescriptorConfig
from reverse_search.errors import EmbedderMismatchError
from reverse_search.index import FingerprintIndex, IndexConfig
from reverse_search.sampling import sample_array
from reverse_search.search import ReverseSearcher
from tests.reverse_search.helpers import FPS, HEIGHT, WIDTH, clip

ARCHIVE = 16


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> ReverseSearcher:
    root = tmp_path_factory.mktemp("archive")
    embedder = VisualDescriptor()
    index = FingerprintIndex(embedder.name, embedder.dim, IndexConfig(whitening_min_vectors=100))
    searcher = ReverseSearcher(embedder, index)
    for i in range(ARCHIVE):
        searcher.ingest_file(f"gen-{i}", encode_mp4(clip(i), FPS, root / f"gen-{i}.mp4"))
    index.rebuild()
    assert index.whitening is not None
    return searcher


def _query(tmp_path: Path, frames: np.ndarray, name: str, **kwargs) -> Path:
    return encode_mp4(np.ascontiguousarray(frames), FPS, tmp_path / f"{name}.mp4", **kwargs)


def test_excerpt_of_a_flipped_low_bitrate_copy_is_found_and_localised(
    searcher: ReverseSearcher, tmp_path: Path
) -> None:
    frames = clip(5)[48:144, :, ::-1]  # seconds 2..6, mirrored
    outcome = searcher.search_file(_query(tmp_path, frames, "q", bitrate=60_000))
    best = outcome.matches[0]
    assert best.asset_id == "gen-5"
    assert best.generation_start_s == pytest.approx(2.0, abs=0.6)
    assert best.generation_end_s == pytest.approx(6.0, abs=0.6)
    assert best.query_start_s == pytest.approx(0.0, abs=0.3)


@pytest.mark.parametrize(
    "edit",
    [lambda f: f[:, ::-1], lambda f: np.rot90(f, 1, axes=(1, 2)), lambda f: 255 - f],
    ids=["vertical_flip", "rotated_90", "negative"],
)
def test_flipped_rotated_or_inverted_copy_is_found(
    searcher: ReverseSearcher, tmp_path: Path, edit
) -> None:
    outcome = searcher.search_file(_query(tmp_path, edit(clip(11)[:120]), "edited"))
    assert outcome.matches[0].asset_id == "gen-11"
    assert outcome.matches[0].generation_end_s == pytest.approx(5.0, abs=0.6)


def test_double_speed_copy_reports_its_speed(searcher: ReverseSearcher, tmp_path: Path) -> None:
    outcome = searcher.search_file(_query(tmp_path, clip(9)[::2], "fast"))
    assert outcome.matches[0].asset_id == "gen-9"
    assert outcome.matches[0].speed == 2.0


def test_still_image_finds_its_generation(searcher: ReverseSearcher, tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "still.jpg"
    Image.fromarray(clip(12)[72]).save(path, quality=70)
    best = searcher.search_file(path).matches[0]
    assert best.asset_id == "gen-12"
    assert best.generation_start_s == pytest.approx(3.0, abs=0.6)


def test_a_stranger_scores_far_below_a_copy(searcher: ReverseSearcher, tmp_path: Path) -> None:
    stranger = render_clip("never generated here", 4242, WIDTH, HEIGHT, 5.0, FPS)
    copy = clip(3)[24:144]
    stranger_top = searcher.search_file(_query(tmp_path, stranger, "stranger")).matches
    copy_top = searcher.search_file(_query(tmp_path, copy, "copy")).matches[0]
    assert copy_top.asset_id == "gen-3"
    assert (stranger_top[0].score if stranger_top else 0.0) < 0.5 * copy_top.score


def test_removed_generation_is_not_returned_until_restored(
    searcher: ReverseSearcher, tmp_path: Path
) -> None:
    path = _query(tmp_path, clip(7)[:96], "removed")
    searcher.index.remove("gen-7")
    try:
        assert all(m.asset_id != "gen-7" for m in searcher.search_file(path).matches)
    finally:
        searcher.index.restore("gen-7")
    assert searcher.search_file(path).matches[0].asset_id == "gen-7"


def test_refuses_an_index_of_another_embedder() -> None:
    index = FingerprintIndex("something-else", 10)
    with pytest.raises(EmbedderMismatchError):
        ReverseSearcher(VisualDescriptor(), index)


def test_a_vertical_reframe_is_found_above_the_cutoff_and_not_without_its_windows(
    searcher: ReverseSearcher, tmp_path: Path
) -> None:
    # A 9:16 window (a third of the width) a little off centre, as a vertical feed crops it.
    width = int(HEIGHT * 9 / 16) // 2 * 2
    x0 = (WIDTH - width) // 2 + 8
    path = _query(tmp_path, clip(6)[:, :, x0 : x0 + width], "reframe")
    best = searcher.search_file(path).matches[0]
    assert best.asset_id == "gen-6" and best.score > 0.3
    # The same archive indexed by whole frames only does not find it: the windows do.
    whole_only = VisualDescriptor(DescriptorConfig(reframe_positions=()))
    index = FingerprintIndex(
        whole_only.name, whole_only.dim, IndexConfig(whitening_min_vectors=100)
    )
    plain = ReverseSearcher(whole_only, index)
    for i in range(ARCHIVE):
        plain.ingest(f"gen-{i}", sample_array(clip(i), FPS))
    index.rebuild()
    found = plain.search_file(path).matches
    assert not found or found[0].asset_id != "gen-6" or found[0].score < 0.5 * best.score


def test_a_side_by_side_stack_with_unrelated_footage_is_found(
    searcher: ReverseSearcher, tmp_path: Path
) -> None:
    other = render_clip("unrelated footage beside it", 9191, WIDTH, HEIGHT, 6.0, FPS)
    frames = np.concatenate([other, clip(13)], axis=2)  # no border between the two
    best = searcher.search_file(_query(tmp_path, frames, "side_by_side")).matches[0]
    assert best.asset_id == "gen-13" and best.score > 0.5


@pytest.mark.parametrize("space", ["unwhitened", "background_whitened"])
def test_a_pairs_score_does_not_depend_on_the_archive_size_and_strangers_stay_below_the_cutoff(
    space: str,
) -> None:
    from reverse_search.sampling import SampledFrames
    from reverse_search.search import background_whitening

    embedder = VisualDescriptor()
    config = (
        IndexConfig(whitening_dim=None)
        if space == "unwhitened"
        else IndexConfig(whitening_min_vectors=10**9)  # never fitted: the background's
    )

    def sampled(frames: np.ndarray) -> SampledFrames:
        every = frames[:: FPS // 2]
        return SampledFrames(
            np.ascontiguousarray(every), np.arange(len(every)) * 0.5, len(every) / 2
        )

    copy = sampled(np.clip(clip(3)[24:120, 8:-8, ::-1].astype(int) + 20, 0, 255).astype(np.uint8))
    strangers = [sampled(clip(700 + j)) for j in range(4)]
    scores: dict[int, tuple[float, float]] = {}
    for size in (6, 30):
        index = FingerprintIndex(
            embedder.name, embedder.dim, config, background_whitening(embedder, config)
        )
        searcher = ReverseSearcher(embedder, index)
        for i in range(size):
            searcher.ingest(f"gen-{i}", sampled(clip(i)))
        index.rebuild()
        assert (index.whitening is None) == (space == "unwhitened")
        best = searcher.search(copy).matches[0]
        assert best.asset_id == "gen-3"
        top_stranger = max(
            (m.score for s in strangers for m in searcher.search(s).matches), default=0.0
        )
        scores[size] = (best.score, top_stranger)
    # The same pair scores the same against 6 videos and 30: floors come from the fixed
    # background, never from the archive.
    assert scores[6][0] == pytest.approx(scores[30][0], abs=1e-6)
    assert min(s for s, _ in scores.values()) > 0.5
    assert max(t for _, t in scores.values()) < 0.15
