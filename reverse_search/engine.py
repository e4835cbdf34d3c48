"""The per-process search engine: embedder, fingerprint index and its persistence.

One engine exists per process and data directory (``engine_for``). In the process that runs
the indexer projection it is the writer: it applies changes and saves snapshots. In an API
process without the indexer it is a reader: before each search it reloads the index when
another process has saved a newer snapshot. Either way, which assets may match is decided
by the ``rs_assets`` table at search time (see ``reverse_search.models``): the index holds
every signed asset the read model knows, removed ones too, because investigators find them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.blobs import InvalidBlobAddress, parse_address
from core.ports import Resource
from core.replay import replay_source
from core.services import Services
from reverse_search.alignment import AlignmentConfig
from reverse_search.embedders.base import FrameEmbedder, reference_rows
from reverse_search.embedders.descriptor import VisualDescriptor
from reverse_search.errors import (
    EmbedderMismatchError,
    IndexCorruptError,
    MediaDecodeError,
    ReverseSearchError,
)
from reverse_search.index import FingerprintIndex, IndexConfig
from reverse_search.sampling import sample_media
from reverse_search.search import ReverseSearcher, SearchConfig, background_whitening
from reverse_search.settings import EmbedderKind, ReverseSearchSettings

log = logging.getLogger(__name__)


def build_embedder(settings: ReverseSearchSettings) -> FrameEmbedder:
    if settings.embedder is EmbedderKind.clip:
        from reverse_search.embedders.clip import ClipConfig, ClipEmbedder

        assert settings.clip_checkpoint is not None  # checked by the settings validator
        return ClipEmbedder(ClipConfig(settings.clip_model, settings.clip_checkpoint))
    return VisualDescriptor()


def index_config_for(embedder: FrameEmbedder) -> IndexConfig:
    # CLIP vectors must stay in the space the text tower shares with them: no whitening.
    if isinstance(embedder, VisualDescriptor):
        return IndexConfig()
    return IndexConfig(whitening_dim=None)


def new_index(embedder: FrameEmbedder) -> FingerprintIndex:
    config = index_config_for(embedder)
    return FingerprintIndex(
        embedder.name, embedder.dim, config, prior_whitening=background_whitening(embedder, config)
    )


class BlobLocator:
    """Finds signed assets in the content-addressed blob store (``root/ab/abcdef...``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def locate(self, address: str) -> Path:
        try:
            digest = parse_address(address)
        except InvalidBlobAddress:
            raise MediaDecodeError(f"not a blob address: {address!r}") from None
        path = self.root / digest[:2] / digest
        if not path.is_file():
            raise MediaDecodeError(f"blob {address} is not in {self.root}")
        return path


@dataclass(frozen=True)
class AssetState:
    asset_id: str
    blob_address: str | None


class SearchEngine:
    def __init__(self, settings: ReverseSearchSettings, data_dir: Path) -> None:
        self.settings = settings
        self.embedder = build_embedder(settings)
        self.index_dir = settings.resolved_index_dir(data_dir)
        self.blobs = BlobLocator(settings.resolved_blob_root(data_dir))
        self.lock = threading.RLock()
        self.search_config = SearchConfig(
            reference_rate_fps=settings.reference_rate_fps,
            query_rate_fps=settings.query_rate_fps,
            alignment=AlignmentConfig(
                max_results=settings.max_results,
                min_score=settings.min_score,
                background_similarity=0.0,  # ReverseSearcher calibrates similarities
            ),
        )
        self.is_writer = False
        # asset id -> why it could not be fingerprinted (retried at the next reconcile)
        self.failed: dict[str, str] = {}
        self._last_save = 0.0
        self._dirty = False
        self._loaded_snapshot: str | None = None
        self.index = self._load_or_new()
        self.searcher = ReverseSearcher(self.embedder, self.index, self.search_config)

    # ------------------------------------------------------------------ persistence
    def _current_snapshot(self) -> str | None:
        pointer = self.index_dir / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def _load_or_new(self) -> FingerprintIndex:
        self._loaded_snapshot = self._current_snapshot()
        if self._loaded_snapshot is None:
            return self._new_index()
        try:
            index, _ = FingerprintIndex.load(self.index_dir, expected_embedder=self.embedder.name)
            if index.whitening is None and index.config.whitening_dim is not None:
                # Saved before small archives were whitened with the background's whitening.
                index.prior_whitening = background_whitening(self.embedder, index.config)
                index.rebuild()
            return index
        except (EmbedderMismatchError, IndexCorruptError) as exc:
            # The database is the truth; an unusable snapshot is rebuilt by reconciling.
            log.warning("reverse search: ignoring the saved index (%s); it will be rebuilt", exc)
            return self._new_index()

    def _new_index(self) -> FingerprintIndex:
        return new_index(self.embedder)

    def refresh(self) -> None:
        """Reader processes: pick up a snapshot another process saved."""
        if self.is_writer:
            return
        with self.lock:
            if self._current_snapshot() != self._loaded_snapshot:
                self.index = self._load_or_new()
                self.searcher = ReverseSearcher(self.embedder, self.index, self.search_config)

    def save(self, *, force: bool = False) -> bool:
        with self.lock:
            due = time.monotonic() - self._last_save >= self.settings.snapshot_interval_s
            if not self._dirty or not (force or due):
                return False
            path = self.index.save(self.index_dir)
            self._loaded_snapshot = path.name
            self._last_save = time.monotonic()
            self._dirty = False
            return True

    # ------------------------------------------------------------------ writing
    def reset(self) -> None:
        with self.lock:
            self.index = self._new_index()
            self.searcher = ReverseSearcher(self.embedder, self.index, self.search_config)
            self.failed.clear()
            self._dirty = True

    def fingerprint(self, path: Path) -> tuple[np.ndarray, np.ndarray, float]:
        sampled = sample_media(path, self.settings.reference_rate_fps)
        rows, times = reference_rows(self.embedder, sampled.frames, sampled.times)
        return rows, times, sampled.duration_s

    def sync(
        self,
        states: Iterable[AssetState],
        progress: Callable[[int], None] | None = None,
        reuse: FingerprintIndex | None = None,
    ) -> int:
        """Make the index agree with ``states``; returns how many assets were fingerprinted.

        ``reuse`` is an older index whose raw vectors may be copied instead of decoding the
        video again (a rebuild of an archive whose blobs did not change).
        """
        added = 0
        for state in states:
            with self.lock:
                if state.asset_id in self.index:
                    # Known to the read model again after forget_except dropped it.
                    self._dirty |= self.index.restore(state.asset_id)
                elif state.blob_address is not None:
                    added += self._add(state, reuse)
            if progress is not None:
                progress(1)
        with self.lock:
            if self.index.needs_rebuild():
                self.index.rebuild()
                self._dirty = True
        return added

    def forget(self, asset_ids: set[str]) -> None:
        """Exclude indexed assets the read model no longer holds."""
        with self.lock:
            for asset_id in asset_ids:
                if asset_id in self.index:
                    self._dirty |= self.index.remove(asset_id)

    def forget_except(self, known: set[str]) -> None:
        """Exclude indexed assets the read model does not know (it was rebuilt elsewhere)."""
        with self.lock:
            for asset_id in self.index.active_asset_ids():
                if asset_id not in known:
                    self._dirty |= self.index.remove(asset_id)

    def _add(self, state: AssetState, reuse: FingerprintIndex | None) -> int:
        assert state.blob_address is not None
        try:
            if reuse is not None and state.asset_id in reuse:
                raw, times, duration = reuse.vectors_of(state.asset_id)
            else:
                raw, times, duration = self.fingerprint(self.blobs.locate(state.blob_address))
            self.index.add(state.asset_id, raw, times, duration)
        except ReverseSearchError as exc:
            self.failed[state.asset_id] = exc.detail
            log.warning("reverse search: cannot fingerprint %s: %s", state.asset_id, exc.detail)
            return 0
        self.failed.pop(state.asset_id, None)
        self._dirty = True
        return 1

    def status(self) -> dict[str, Any]:
        with self.lock:
            return {
                "embedder": self.embedder.name,
                "structure": self.index.structure,
                "assets": self.index.asset_count,
                "vectors": self.index.vector_count,
                "whitened": self.index.whitening is not None,
                "failed": dict(self.failed),
                "snapshot": self._loaded_snapshot,
            }


def _build_engine(services: Services) -> SearchEngine:
    """The scratch services of a replay-check (``core.replay.replay_source``) get an engine
    that reads the signed videos of the live deployment's blob store, read-only, and keeps its
    index in the scratch data directory, whatever ``CLEARFRAME_RS_INDEX_DIR`` says."""
    settings = services.settings.section(ReverseSearchSettings)
    data_dir = Path(services.settings.data_dir)
    live = replay_source(services)
    if live is not None:
        live_blobs = settings.resolved_blob_root(Path(live.settings.data_dir)).resolve()
        settings = settings.model_copy(
            update={
                "blob_root": live_blobs,
                "index_dir": data_dir / "reverse_search" / "index",
            }
        )
    return SearchEngine(settings, data_dir)


ENGINE = Resource[SearchEngine]("reverse_search.engine", _build_engine)


def engine_for(services: Services) -> SearchEngine:
    """The process-wide engine of these services (built on first use)."""
    return services.resource(ENGINE)


@contextmanager
def live_index(live: Services, like: SearchEngine) -> Iterator[tuple[FingerprintIndex, str]]:
    """The index the live deployment searches, read-only, and where it came from: the engine
    this process holds for ``live`` (under its lock), else the snapshot last saved in the live
    index directory (what API processes load), else an empty index if none was saved."""
    held = live.built(ENGINE)
    if isinstance(held, SearchEngine):
        held.refresh()
        with held.lock:
            yield held.index, "the index this process holds"
        return
    index_dir = live.settings.section(ReverseSearchSettings).resolved_index_dir(
        Path(live.settings.data_dir)
    )
    if not (index_dir / "CURRENT").exists():
        empty = new_index(like.embedder)
        yield empty, f"no snapshot saved in {index_dir}"
        return
    index, _ = FingerprintIndex.load(index_dir, expected_embedder=like.embedder.name)
    name = (index_dir / "CURRENT").read_text().strip()
    yield index, f"snapshot {name} in {index_dir} (saved at most every snapshot_interval_s)"
