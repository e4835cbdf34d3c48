"""Fingerprinting and searching: sampled frames -> descriptors -> index -> aligned matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reverse_search.alignment import AlignedMatch, AlignmentConfig, align
from reverse_search.blas import numpy_blas_single_thread
from reverse_search.embedders.base import FrameEmbedder
from reverse_search.errors import EmbedderMismatchError
from reverse_search.index import FingerprintIndex
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
    alignment: AlignmentConfig = field(default_factory=AlignmentConfig)


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

    def fingerprint_file(self, path: str | Path) -> tuple[np.ndarray, SampledFrames]:
        sampled = sample_media(path, self.config.reference_rate_fps)
        return self.embedder.embed(sampled.frames), sampled

    def ingest(self, asset_id: str, sampled: SampledFrames) -> int:
        vectors = self.embedder.embed(sampled.frames)
        return self.index.add(asset_id, vectors, sampled.times, sampled.duration_s)

    def ingest_file(self, asset_id: str, path: str | Path) -> int:
        vectors, sampled = self.fingerprint_file(path)
        return self.index.add(asset_id, vectors, sampled.times, sampled.duration_s)

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
        with numpy_blas_single_thread():
            neighbours = self.index.search(
                query.views.reshape(-1, query.views.shape[-1]), self.config.neighbours_per_view
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
