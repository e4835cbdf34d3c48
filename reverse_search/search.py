"""Fingerprinting and searching: sampled frames -> descriptors -> index -> aligned matches."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.blas import numpy_blas_single_thread
from reverse_search.alignment import AlignedMatch, AlignmentConfig, align
from reverse_search.background import background_frames
from reverse_search.embedders.base import FrameEmbedder, reference_rows
from reverse_search.embedders.whitening import PCAWhitening
from reverse_search.errors import EmbedderMismatchError
from reverse_search.index import FingerprintIndex, IndexConfig, Neighbours
from reverse_search.sampling import SampledFrames, sample_media, sample_query


@dataclass(frozen=True)
class SearchConfig:
    reference_rate_fps: float = 2.0
    query_rate_fps: float = 2.0
    neighbours_per_view: int = 16
    # Longer queries are thinned to this many frames, evenly over their length, so no query
    # costs more than a 10 s one at 2 fps: 20 frames are far more evidence than alignment
    # needs (recall and µAP in bench/copy_detection.py did not move from 60 frames to 20,
    # while p99 latency at 100,000 videos fell by 40%).
    max_query_frames: int = 20
    # A view's floor is its similarity to its n-th nearest background frame (of 1,024): a
    # neighbour counts only where it is closer than all but the top 0.3% of unrelated frames.
    background_rank: int = 3
    # Similarities reach alignment already calibrated (see ScoreCalibration): no second floor.
    alignment: AlignmentConfig = field(
        default_factory=lambda: AlignmentConfig(background_similarity=0.0)
    )


@dataclass(frozen=True)
class GenerationMatch:
    asset_id: str
    score: float
    speed: float
    query_start_s: float
    query_end_s: float
    generation_start_s: float
    generation_end_s: float
    matched_frames: int


@dataclass(frozen=True)
class SearchOutcome:
    matches: list[GenerationMatch]
    query_frames: int
    query_duration_s: float


@dataclass(frozen=True)
class QueryViews:
    """A described query: views per frame (N, V, D), frame times, duration."""

    views: np.ndarray
    times: np.ndarray
    duration_s: float
    families: np.ndarray | None = None  # (V,) edit undone by each view, see FrameEmbedder


_BACKGROUNDS: dict[str, np.ndarray] = {}
_BACKGROUND_LOCK = threading.Lock()


def background_descriptors(embedder: FrameEmbedder) -> np.ndarray:
    """The fixed background (``reverse_search.background``) as this embedder describes it,
    computed once per process and embedder. Described as archived frames are (every row of
    ``embed_reference``): a floor taken from whole frames alone sat below what a 9:16 query
    meets among the archive's 9:16 windows, and lifted unrelated clips over the cutoff."""
    with _BACKGROUND_LOCK:
        if embedder.name not in _BACKGROUNDS:
            frames = background_frames()
            with numpy_blas_single_thread():
                rows, _ = embedder.embed_reference(frames)
            _BACKGROUNDS[embedder.name] = rows
        return _BACKGROUNDS[embedder.name]


def background_whitening(embedder: FrameEmbedder, config: IndexConfig) -> PCAWhitening | None:
    """The whitening an index uses while its archive is too small to fit one on (see
    ``FingerprintIndex.prior_whitening``): fitted on the fixed background."""
    if config.whitening_dim is None:
        return None
    return PCAWhitening.fit(
        background_descriptors(embedder), config.whitening_dim, shrinkage=config.whitening_shrinkage
    )


class ScoreCalibration:
    """Similarities made to mean the same in every index: whitened or not, 50 videos or
    100,000.

    Each query view's floor is its similarity to its ``rank``-th nearest frame of a fixed
    background of unrelated frames, in the space the index searches (the index's whitening,
    if any, applied to the background too). A neighbour at similarity ``s`` counts
    ``(s - floor) / (1 - floor)``: 0 at the floor, 1 for an identical frame, whatever the
    spread of the space. Alignment then sums, per hypothesis, each query frame's best count
    and divides by the number of query frames.

    Why this is size-independent: the score of one (query, video) pair depends only on the
    similarities between the query's frames and that video's frames, measured against a
    floor taken from the background, never from the archive. So the distribution of a
    non-matching pair's score is the same in every archive; a larger archive can only push
    some of a video's frames out of the query's nearest neighbours, which lowers a pair's
    score, never raises it. Floors drawn from the archive instead (its mean similarity, its
    nearest neighbours, whitening fitted at some size) change meaning as it grows: that is
    what let unrelated clips score 0.6 in a small unwhitened archive. The chance that *some*
    video of N crosses the cutoff still grows with N (at most N times the per-pair chance), so
    the cutoff sits where a non-matching pair needs most of its frames above the top 0.3% of
    unrelated frames, at consistent times, which no distractor of bench/copy_detection.py
    did at 50 videos or at 100,000.
    """

    def __init__(self, background: np.ndarray, rank: int) -> None:
        if not 1 <= rank <= len(background):
            raise ValueError(f"background_rank must be in 1..{len(background)}")
        self.background = background
        self.rank = rank
        self._space: tuple[object, np.ndarray] | None = None

    def _in_space_of(self, index: FingerprintIndex) -> np.ndarray:
        # Redone only when the index's whitening changes (a rebuild refits it). Held, the
        # whitening object cannot be collected and its id reused.
        if self._space is None or self._space[0] is not index.whitening:
            self._space = (index.whitening, index.transform_queries(self.background))
        return self._space[1]

    def floors(self, index: FingerprintIndex, raw_queries: np.ndarray) -> np.ndarray:
        """(M,) the floor of each raw query vector."""
        queries = index.transform_queries(raw_queries)
        sims = queries @ self._in_space_of(index).T
        return np.partition(sims, -self.rank, axis=1)[:, -self.rank].astype(np.float32)

    def calibrate(self, neighbours: Neighbours, floors: np.ndarray) -> Neighbours:
        floor = floors[:, None]
        scale = np.maximum(1.0 - floor, 1e-6)
        calibrated = np.where(
            neighbours.slots >= 0, np.clip((neighbours.similarities - floor) / scale, -1, 1), 0
        )
        return Neighbours(calibrated.astype(np.float32), neighbours.slots, neighbours.times)


class ReverseSearcher:
    def __init__(
        self,
        embedder: FrameEmbedder,
        index: FingerprintIndex,
        config: SearchConfig | None = None,
    ) -> None:
        if index.embedder_name != embedder.name or index.raw_dim != embedder.dim:
            raise EmbedderMismatchError(
                f"index was built for {index.embedder_name!r} (dim {index.raw_dim}), "
                f"embedder is {embedder.name!r} (dim {embedder.dim})"
            )
        self.embedder = embedder
        self.index = index
        self.config = config or SearchConfig()
        if self.config.alignment.background_similarity != 0:
            raise ValueError(
                "similarities reach alignment calibrated: its background_similarity must be 0"
            )
        self.calibration = ScoreCalibration(
            background_descriptors(embedder), self.config.background_rank
        )

    def ingest(self, asset_id: str, sampled: SampledFrames) -> int:
        rows, times = reference_rows(self.embedder, sampled.frames, sampled.times)
        return self.index.add(asset_id, rows, times, sampled.duration_s)

    def ingest_file(self, asset_id: str, path: str | Path) -> int:
        return self.ingest(asset_id, sample_media(path, self.config.reference_rate_fps))

    def search_file(self, path: str | Path) -> SearchOutcome:
        return self.search(sample_query(path, self.config.query_rate_fps))

    def search(self, sampled: SampledFrames) -> SearchOutcome:
        return self.match(self.describe(sampled))

    def describe(self, sampled: SampledFrames) -> QueryViews:
        """The query's views, ready to match. Reads nothing of the index, so a service can
        describe one query while another holds the index for matching."""
        frames, times = sampled.frames, sampled.times
        if len(frames) > self.config.max_query_frames:
            keep = np.linspace(0, len(frames) - 1, self.config.max_query_frames).round().astype(int)
            frames, times = frames[keep], times[keep]
        with numpy_blas_single_thread():
            views = self.embedder.embed_query(frames)  # (N, V, D)
        return QueryViews(
            views, times, sampled.duration_s, self.embedder.view_families(views.shape[1])
        )

    def match(self, query: QueryViews) -> SearchOutcome:
        """Nearest archived frames of every view, aligned in time into ranked matches."""
        raw = query.views.reshape(-1, query.views.shape[-1])
        with numpy_blas_single_thread():
            neighbours = self.calibration.calibrate(
                self.index.search(raw, self.config.neighbours_per_view),
                self.calibration.floors(self.index, raw),
            )
            aligned = align(
                query.times,
                neighbours,
                durations=self.index.durations_by_slot,
                query_duration_s=query.duration_s if query.duration_s > 0 else None,
                config=self.config.alignment,
                view_families=query.families,
            )
        return SearchOutcome(
            [self._to_match(m) for m in aligned if not self.index.is_removed_slot(m.slot)],
            query_frames=len(query.times),
            query_duration_s=query.duration_s,
        )

    def _to_match(self, m: AlignedMatch) -> GenerationMatch:
        return GenerationMatch(
            asset_id=self.index.asset_id_of(m.slot),
            score=round(m.score, 6),
            speed=m.speed,
            query_start_s=round(m.query_start_s, 3),
            query_end_s=round(m.query_end_s, 3),
            generation_start_s=round(m.reference_start_s, 3),
            generation_end_s=round(m.reference_end_s, 3),
            matched_frames=m.matched_frames,
        )
