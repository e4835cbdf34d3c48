"""The fingerprint index: per-frame vectors of archived assets in FAISS, with an id map.

Structure
---------
FAISS ids are our vector ids (never reused). The structure is chosen by size at each
build: exact ``IndexFlatIP`` (in a ``faiss.IndexIDMap2``, as a flat index keeps no ids) while
the archive is small, ``IndexIVFScalarQuantizer`` (8-bit, inner product, holding our ids in
its inverted lists itself) once it is larger than ``flat_max_vectors``. HNSW is not used
because it cannot delete.

Besides FAISS the index keeps, per vector, its asset slot, its time in the asset and its raw
(un-whitened) descriptor, quantised to int8 with one float16 scale per vector (``RawStore``:
182 bytes for the descriptor's 180 dimensions, where float16 took 360; cosine to the
original above 0.9999). The raw store is what makes a rebuild cheap: whitening is refitted
on it, the FAISS structure rebuilt from it, and a restored asset is re-added from it
without decoding its video again.

Removal and restore
-------------------
``remove`` takes effect at once: the asset's vector ids join a FAISS ``IDSelector`` that
excludes them during search. They leave the FAISS structure physically at the next
``rebuild``. ``restore`` lifts the exclusion, re-adding the vectors from the raw store if a
rebuild already dropped them.

On-disk format (``save`` / ``load``; see docs/reverse_search.md)
----------------------------------------------------------------
A directory holding ``CURRENT`` (the name of the active snapshot) and snapshot folders
``snap-NNNNNNNN/`` with ``meta.json``, ``vectors.npz`` (times, raw codes and scales; the
slots follow from the assets' vector ranges), ``ivf.npz`` for an IVF structure and, once
fitted, ``whitening.npz``. No FAISS structure is written whole: its vectors are the raw
store again, whitened and encoded. A flat one (every whitened vector in float32, nearly
three times the raw store) is rebuilt from the raw store on load, in well under a second
at its largest (150,000 vectors). Of an IVF one, ``ivf.npz`` keeps what training fitted
(the centroids, the scalar quantiser's ranges) and each vector's list number (4 bytes, -1
for a vector not in FAISS); loading re-encodes the raw store into those lists without
assigning anything again, so it gives back the same lists and the same answers, for about
4 bytes a vector instead of the ~150 the saved lists took. A snapshot is written to a temporary folder, every file fsynced, the
folder renamed into place, and only then ``CURRENT`` is replaced by an fsynced temporary
file renamed over it: a crash at any point leaves the previous snapshot active and whole.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from reverse_search.embedders.base import l2_normalize
from reverse_search.embedders.whitening import PCAWhitening
from reverse_search.errors import (
    DuplicateAssetError,
    EmbedderMismatchError,
    IndexCorruptError,
    InvalidFramesError,
    UnknownAssetError,
)

FORMAT_VERSION = 3
# Version 1 kept raw descriptors in float16 and the slots and the flat structure on disk;
# version 2 kept an IVF structure whole (index.faiss, an IndexIDMap2). Both are still read
# (version 1's raw vectors quantised as they load), and saved again as version 3.
_READABLE_FORMATS = (1, 2, 3)
_LOAD_CHUNK = 65_536
_CURRENT = "CURRENT"

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexConfig:
    flat_max_vectors: int = 150_000
    ivf_nprobe: int = 24
    # nlist = lists_per_sqrt * sqrt(N), the usual balance between list scans and
    # centroid comparisons.
    ivf_lists_per_sqrt: float = 4.0
    # k-means cost grows with sample x lists; 64k points train 1,600 lists in seconds on CPU.
    ivf_train_sample: int = 65_536
    whitening_dim: int | None = 128
    whitening_min_vectors: int = 512
    whitening_shrinkage: float = 0.1
    whitening_fit_sample: int = 300_000

    def __post_init__(self) -> None:
        if self.flat_max_vectors < 1 or self.ivf_nprobe < 1 or self.ivf_lists_per_sqrt <= 0:
            raise ValueError("index sizes must be positive")


@dataclass
class AssetEntry:
    asset_id: str
    slot: int
    duration_s: float
    removed: bool = False
    # False once a rebuild has physically dropped a removed asset's vectors from FAISS.
    in_faiss: bool = True
    vector_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass(frozen=True)
class Neighbours:
    """k nearest archived frames per query vector; slot -1 marks an empty result."""

    similarities: np.ndarray  # (M, k) float32
    slots: np.ndarray  # (M, k) int32
    times: np.ndarray  # (M, k) float32


class _GrowingArray:
    """Append-mostly column with amortised O(1) growth, indexable by position."""

    def __init__(self, dtype: Any, width: int | None = None) -> None:
        shape = (1024,) if width is None else (1024, width)
        self._data = np.zeros(shape, dtype=dtype)
        self._size = 0

    def extend(self, values: np.ndarray) -> None:
        need = self._size + len(values)
        if need > len(self._data):
            new_len = max(need, 2 * len(self._data))
            grown = np.zeros((new_len, *self._data.shape[1:]), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : need] = values
        self._size = need

    @property
    def view(self) -> np.ndarray:
        return self._data[: self._size]

    @classmethod
    def of(cls, values: np.ndarray) -> _GrowingArray:
        column = cls(values.dtype, values.shape[1] if values.ndim == 2 else None)
        column.extend(values)
        return column


class RawStore:
    """Raw descriptors as int8 codes with one float16 scale per row (its largest magnitude
    maps to 127). Quantising a row that came out of the store gives the same codes back,
    so copying vectors from one index to another changes nothing."""

    def __init__(self, dim: int) -> None:
        self.codes = _GrowingArray(np.int8, dim)
        self.scales = _GrowingArray(np.float16)

    def __len__(self) -> int:
        return len(self.scales.view)

    def extend(self, raw: np.ndarray) -> None:
        codes, scales = quantise_rows(raw)
        self.codes.extend(codes)
        self.scales.extend(scales)

    def rows(self, ids: np.ndarray | slice) -> np.ndarray:
        """Dequantised float32 rows."""
        return (
            self.codes.view[ids].astype(np.float32)
            * self.scales.view[ids].astype(np.float32)[:, None]
        )

    @classmethod
    def of(cls, codes: np.ndarray, scales: np.ndarray) -> RawStore:
        store = cls(codes.shape[1])
        store.codes = _GrowingArray.of(codes.astype(np.int8))
        store.scales = _GrowingArray.of(scales.astype(np.float16))
        return store


def quantise_rows(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 codes, float16 scales) of float rows: ``codes * scale`` approximates a row."""
    raw = np.asarray(raw, dtype=np.float32)
    peak = np.abs(raw).max(axis=1) if raw.size else np.zeros(len(raw), np.float32)
    # The scale is rounded to float16 first, so that the codes are computed against the
    # scale that is stored (and a dequantised row quantises to the same codes).
    scales = np.maximum(peak / 127.0, np.finfo(np.float16).tiny).astype(np.float16)
    codes = np.clip(np.rint(raw / scales.astype(np.float32)[:, None]), -127, 127)
    return codes.astype(np.int8), scales


class FingerprintIndex:
    def __init__(
        self,
        embedder_name: str,
        raw_dim: int,
        config: IndexConfig | None = None,
        prior_whitening: PCAWhitening | None = None,
    ) -> None:
        if raw_dim < 1:
            raise ValueError("raw_dim must be positive")
        self.embedder_name = embedder_name
        self.raw_dim = raw_dim
        self.config = config or IndexConfig()
        # Used while the archive is too small to fit a whitening on (whitening_min_vectors):
        # one fitted on a fixed background, so a small archive is searched in a whitened
        # space too, never in the raw one where every frame is close to every other.
        self.prior_whitening = prior_whitening if self.config.whitening_dim is not None else None
        self.whitening: PCAWhitening | None = self.prior_whitening
        self._assets: dict[str, AssetEntry] = {}
        self._slot_assets: list[str] = []
        # Per vector id (ids are positions in these columns).
        self._slot_of = _GrowingArray(np.int32)
        self._time_of = _GrowingArray(np.float32)
        self._raw = RawStore(raw_dim)
        self._durations = _GrowingArray(np.float64)  # per slot
        self._faiss = self._new_structure(0)
        self._excluded: set[int] = set()
        self._selector: faiss.IDSelector | None = None
        self._selector_dirty = False

    # ----------------------------------------------------------------- properties
    @property
    def dim(self) -> int:
        return self.whitening.out_dim if self.whitening is not None else self.raw_dim

    @property
    def structure(self) -> str:
        return "ivf" if _ivf_of(self._faiss) is not None else "flat"

    @property
    def vector_count(self) -> int:
        return int(self._faiss.ntotal)

    @property
    def asset_count(self) -> int:
        return len(self._assets)

    def active_asset_ids(self) -> list[str]:
        return [a.asset_id for a in self._assets.values() if not a.removed]

    def __contains__(self, asset_id: object) -> bool:
        return asset_id in self._assets

    def entry(self, asset_id: str) -> AssetEntry:
        try:
            return self._assets[asset_id]
        except KeyError:
            raise UnknownAssetError(f"asset {asset_id!r} is not in the index") from None

    def asset_id_of(self, slot: int) -> str:
        return self._slot_assets[slot]

    def duration_of(self, slot: int) -> float:
        return float(self._durations.view[slot])

    @property
    def durations_by_slot(self) -> np.ndarray:
        return self._durations.view

    def vectors_of(self, asset_id: str) -> tuple[np.ndarray, np.ndarray, float]:
        """An asset's raw vectors, times and duration (kept even after physical removal)."""
        entry = self.entry(asset_id)
        ids = entry.vector_ids
        return (
            self._raw.rows(ids),
            self._time_of.view[ids].copy(),
            entry.duration_s,
        )

    def is_removed_slot(self, slot: int) -> bool:
        return self._assets[self._slot_assets[slot]].removed

    def asset_ids(self) -> list[str]:
        """Every indexed asset, removed ones included (their vectors wait for a restore)."""
        return list(self._assets)

    def searchable_counts(self) -> dict[str, int]:
        """Per asset, how many of its vectors a search can find now: in the FAISS structure
        and not excluded by a removal."""
        ids = np.concatenate([ids for _, ids in self._faiss_ids()] or [np.zeros(0, np.int64)])
        ids = ids[(ids >= 0) & (ids < len(self._slot_of.view))]
        if self._excluded:
            ids = ids[~np.isin(ids, np.fromiter(self._excluded, np.int64))]
        counts = np.bincount(self._slot_of.view[ids], minlength=len(self._slot_assets))
        return {asset_id: int(counts[slot]) for slot, asset_id in enumerate(self._slot_assets)}

    # ----------------------------------------------------------------- mutation
    def add(
        self,
        asset_id: str,
        raw_vectors: np.ndarray,
        times: np.ndarray,
        duration_s: float,
        *,
        removed: bool = False,
    ) -> int:
        """Index one asset's frame descriptors; returns the number of vectors added.

        ``removed`` records an asset that is already removed: its vectors are kept for a
        later restore but never enter the FAISS structure.
        """
        if not asset_id:
            raise ValueError("asset_id must be a non-empty string")
        if asset_id in self._assets:
            raise DuplicateAssetError(f"asset {asset_id!r} is already indexed")
        raw_vectors = np.asarray(raw_vectors)
        times = np.asarray(times, dtype=np.float32)
        if raw_vectors.ndim != 2 or raw_vectors.shape[1] != self.raw_dim:
            raise EmbedderMismatchError(
                f"expected vectors of shape (N, {self.raw_dim}), got {raw_vectors.shape}"
            )
        if len(raw_vectors) == 0 or len(times) != len(raw_vectors):
            raise InvalidFramesError("an asset needs at least one vector and one time per vector")
        if not np.all(np.isfinite(raw_vectors)):
            raise InvalidFramesError("vectors contain NaN or infinity")
        slot = len(self._slot_assets)
        first_id = len(self._slot_of.view)
        ids = np.arange(first_id, first_id + len(raw_vectors), dtype=np.int64)
        self._slot_of.extend(np.full(len(ids), slot, np.int32))
        self._time_of.extend(times)
        self._raw.extend(raw_vectors)
        self._slot_assets.append(asset_id)
        self._durations.extend(np.array([float(duration_s)]))
        self._assets[asset_id] = AssetEntry(
            asset_id, slot, float(duration_s), removed=removed, in_faiss=not removed, vector_ids=ids
        )
        if not removed:
            self._faiss.add_with_ids(self._transform(self._raw.rows(ids)), ids)
        return len(ids)

    def remove(self, asset_id: str) -> bool:
        """Stop matching the asset now; returns False if it was already removed."""
        entry = self.entry(asset_id)
        if entry.removed:
            return False
        entry.removed = True
        if entry.in_faiss:
            self._excluded.update(entry.vector_ids.tolist())
            self._selector_dirty = True
        return True

    def restore(self, asset_id: str) -> bool:
        """Match the asset again; returns False if it was not removed."""
        entry = self.entry(asset_id)
        if not entry.removed:
            return False
        entry.removed = False
        if entry.in_faiss:
            self._excluded.difference_update(entry.vector_ids.tolist())
            self._selector_dirty = True
        else:
            ids = entry.vector_ids
            self._faiss.add_with_ids(self._transform(self._raw.rows(ids)), ids)
            entry.in_faiss = True
        return True

    def rebuild(self, progress: ProgressCallback | None = None) -> None:
        """Refit whitening, choose the structure by size, drop removed vectors physically."""
        live = [a for a in self._assets.values() if not a.removed]
        for entry in self._assets.values():
            entry.in_faiss = not entry.removed
        ids = np.concatenate([a.vector_ids for a in live]) if live else np.zeros(0, np.int64)
        self._fit_whitening(ids)
        self._faiss = self._new_structure(len(ids))
        self._train(ids)
        total = len(ids)
        chunk = 65_536
        for start in range(0, total, chunk):
            part = ids[start : start + chunk]
            self._faiss.add_with_ids(self._transform(self._raw.rows(part)), part)
            if progress is not None:
                progress(min(start + chunk, total), total)
        if progress is not None and total == 0:
            progress(0, 0)
        self._excluded.clear()
        self._selector = None
        self._selector_dirty = False

    def needs_rebuild(self) -> bool:
        """True when the structure or whitening no longer fits the archive's size."""
        cfg = self.config
        live = sum(len(a.vector_ids) for a in self._assets.values() if not a.removed)
        if self.structure == "flat" and live > cfg.flat_max_vectors:
            return True
        return (
            cfg.whitening_dim is not None
            and (self.whitening is None or self.whitening is self.prior_whitening)
            and live >= cfg.whitening_min_vectors
        )

    # ----------------------------------------------------------------- search
    def transform_queries(self, raw: np.ndarray) -> np.ndarray:
        if raw.shape[-1] != self.raw_dim:
            raise EmbedderMismatchError(f"expected query dim {self.raw_dim}, got {raw.shape[-1]}")
        return self._transform(raw.reshape(-1, self.raw_dim)).reshape(*raw.shape[:-1], self.dim)

    def search(self, raw_queries: np.ndarray, k: int) -> Neighbours:
        """k nearest non-removed archived frames for each raw (un-whitened) query vector."""
        if k < 1:
            raise ValueError("k must be at least 1")
        queries = self.transform_queries(np.asarray(raw_queries, dtype=np.float32))
        queries = queries.reshape(-1, self.dim)
        m = len(queries)
        if self._faiss.ntotal == 0 or m == 0:
            return Neighbours(
                np.zeros((m, k), np.float32),
                np.full((m, k), -1, np.int32),
                np.zeros((m, k), np.float32),
            )
        params = self._search_params()
        sims, ids = self._faiss.search(queries, k, params=params)
        valid = ids >= 0
        safe = np.where(valid, ids, 0)
        slots = np.where(valid, self._slot_of.view[safe], -1).astype(np.int32)
        times = np.where(valid, self._time_of.view[safe], 0.0).astype(np.float32)
        sims = np.where(valid, sims, 0.0).astype(np.float32)
        return Neighbours(sims, slots, times)

    def _search_params(self) -> faiss.SearchParameters | None:
        if self._selector_dirty:
            excluded = np.fromiter(self._excluded, dtype=np.int64, count=len(self._excluded))
            if len(excluded):
                # IDSelectorNot holds a raw pointer: the batch must live as long as it does.
                self._selector_batch = faiss.IDSelectorBatch(excluded)
                self._selector = faiss.IDSelectorNot(self._selector_batch)
            else:
                self._selector = None
            self._selector_dirty = False
        if self.structure == "ivf":
            if self._selector is not None:
                return faiss.SearchParametersIVF(  # type: ignore[call-arg]
                    sel=self._selector, nprobe=self.config.ivf_nprobe
                )
            return faiss.SearchParametersIVF(nprobe=self.config.ivf_nprobe)  # type: ignore[call-arg]
        if self._selector is not None:
            return faiss.SearchParameters(sel=self._selector)  # type: ignore[call-arg]
        return None

    # ----------------------------------------------------------------- internals
    def _transform(self, raw: np.ndarray) -> np.ndarray:
        raw = raw.astype(np.float32)
        if self.whitening is None:
            return l2_normalize(raw)
        return self.whitening.transform(raw)

    def _fit_whitening(self, ids: np.ndarray) -> None:
        cfg = self.config
        if cfg.whitening_dim is None or len(ids) < cfg.whitening_min_vectors:
            self.whitening = self.prior_whitening
            return
        sample = ids
        if len(ids) > cfg.whitening_fit_sample:
            # Deterministic sample: a rebuild of the same archive gives the same index.
            sample = np.random.default_rng(0).choice(ids, cfg.whitening_fit_sample, replace=False)
        self.whitening = PCAWhitening.fit(
            self._raw.rows(np.sort(sample)),
            cfg.whitening_dim,
            shrinkage=cfg.whitening_shrinkage,
        )

    def _new_structure(self, expected_vectors: int) -> faiss.Index:
        dim = self.dim
        if expected_vectors <= self.config.flat_max_vectors:
            return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        return self._new_ivf(self._ivf_list_count(expected_vectors))

    def _ivf_list_count(self, expected_vectors: int) -> int:
        # FAISS wants about 39 training points per centroid for stable k-means.
        return max(
            1,
            min(
                int(self.config.ivf_lists_per_sqrt * np.sqrt(expected_vectors)),
                min(expected_vectors, self.config.ivf_train_sample) // 39,
            ),
        )

    def _new_ivf(self, nlist: int) -> faiss.IndexIVFScalarQuantizer:
        # faiss's Python wrappers keep a reference to the quantizer.
        return faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(self.dim),
            self.dim,
            nlist,
            faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )

    def _faiss_ids(self) -> Iterator[tuple[int, np.ndarray]]:
        """Our vector ids in the FAISS structure, as (IVF list number, ids); -1 for flat."""
        mapped = faiss.downcast_index(self._faiss)
        # The flat structure, and a version-2 snapshot's IVF, sit in an IndexIDMap2 whose
        # id_map turns FAISS's positions into our ids.
        external = (
            faiss.vector_to_array(mapped.id_map).astype(np.int64)
            if isinstance(mapped, faiss.IndexIDMap2)
            else None
        )
        ivf = _ivf_of(self._faiss)
        if ivf is None:
            yield -1, external if external is not None else np.zeros(0, np.int64)
            return
        inverted = ivf.invlists
        if inverted is None:
            raise IndexCorruptError("the IVF structure has no inverted lists")
        for number in range(ivf.nlist):
            size = inverted.list_size(number)
            if size:
                ids = faiss.rev_swig_ptr(inverted.get_ids(number), size).astype(np.int64)
                yield number, ids if external is None else external[ids]

    def _ivf_state(self, ivf: faiss.IndexIVFScalarQuantizer) -> dict[str, np.ndarray]:
        """What ``ivf.npz`` keeps: the trained parts and each vector id's list (-1: none)."""
        lists = np.full(len(self._slot_of.view), -1, dtype=np.int32)
        for number, ids in self._faiss_ids():
            lists[ids] = number
        return {
            "centroids": ivf.quantizer.reconstruct_n(0, ivf.nlist),
            "quantiser": faiss.vector_to_array(ivf.sq.trained),
            "lists": lists,
        }

    def _ivf_from(self, state: dict[str, np.ndarray], snap: Path) -> faiss.IndexIVFScalarQuantizer:
        """The IVF structure a version-3 snapshot describes, its lists refilled from the raw
        store (each vector into the list it was in, so nothing is assigned again)."""
        centroids, lists = state["centroids"], state["lists"]
        if centroids.ndim != 2 or centroids.shape[1] != self.dim or len(centroids) < 1:
            raise IndexCorruptError(f"{snap}: ivf.npz's centroids do not fit the index")
        if lists.shape != (len(self._slot_of.view),) or lists.max(initial=-1) >= len(centroids):
            raise IndexCorruptError(f"{snap}: ivf.npz's lists disagree with the vectors")
        ivf = self._new_ivf(len(centroids))
        ivf.quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
        faiss.copy_array_to_vector(state["quantiser"].astype(np.float32), ivf.sq.trained)
        ivf.is_trained = True
        ids = np.flatnonzero(lists >= 0).astype(np.int64)
        for start in range(0, len(ids), _LOAD_CHUNK):
            part = np.ascontiguousarray(ids[start : start + _LOAD_CHUNK])
            vectors = np.ascontiguousarray(self._transform(self._raw.rows(part)), np.float32)
            assigned = np.ascontiguousarray(lists[part], dtype=np.int64)
            ivf.add_core(
                len(part), faiss.swig_ptr(vectors), faiss.swig_ptr(part), faiss.swig_ptr(assigned)
            )
        return ivf

    def _train(self, ids: np.ndarray) -> None:
        if self._faiss.is_trained:
            return
        sample = ids
        if len(ids) > self.config.ivf_train_sample:
            sample = np.random.default_rng(1).choice(
                ids, self.config.ivf_train_sample, replace=False
            )
        self._faiss.train(self._transform(self._raw.rows(np.sort(sample))))

    # ----------------------------------------------------------------- persistence
    def save(self, directory: str | Path, checkpoint: dict[str, Any] | None = None) -> Path:
        """Write an atomic snapshot; ``checkpoint`` (e.g. an event position) is stored with it."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        previous = _read_current(root)
        number = int(previous.split("-")[1]) + 1 if previous else 1
        name = f"snap-{number:08d}"
        tmp = root / f".{name}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        n_vectors = len(self._slot_of.view)
        np.savez(
            tmp / "vectors.npz",
            time=self._time_of.view,
            codes=self._raw.codes.view,
            scales=self._raw.scales.view,
        )
        ivf = _ivf_of(self._faiss)
        if ivf is not None:
            state = self._ivf_state(ivf)
            np.savez(
                tmp / "ivf.npz",
                centroids=state["centroids"],
                quantiser=state["quantiser"],
                lists=state["lists"],
            )
        if self.whitening is not None:
            (tmp / "whitening.npz").write_bytes(self.whitening.to_bytes())
        meta = {
            "format_version": FORMAT_VERSION,
            "embedder": self.embedder_name,
            "raw_dim": self.raw_dim,
            "dim": self.dim,
            "structure": self.structure,
            "whitening_is_prior": self.whitening is not None
            and self.whitening is self.prior_whitening,
            "vector_ids_allocated": n_vectors,
            "faiss_vectors": self.vector_count,
            "config": {k: v for k, v in self.config.__dict__.items()},
            "checkpoint": checkpoint,
            "assets": [
                {
                    "asset_id": a.asset_id,
                    "slot": a.slot,
                    "duration_s": a.duration_s,
                    "removed": a.removed,
                    "in_faiss": a.in_faiss,
                    "first_vector_id": int(a.vector_ids[0]),
                    "vector_count": len(a.vector_ids),
                }
                for a in sorted(self._assets.values(), key=lambda a: a.slot)
            ],
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        for child in tmp.iterdir():
            _fsync_file(child)
        _fsync_dir(tmp)
        os.replace(tmp, root / name)
        _fsync_dir(root)
        pointer_tmp = root / f".{_CURRENT}.tmp"
        pointer_tmp.write_text(name)
        _fsync_file(pointer_tmp)
        os.replace(pointer_tmp, root / _CURRENT)
        _fsync_dir(root)
        # Keep the previous snapshot: a reader that resolved CURRENT a moment ago may still
        # be opening its files.
        for old in root.glob("snap-*"):
            if old.name not in {name, previous}:
                shutil.rmtree(old, ignore_errors=True)
        return root / name

    @classmethod
    def load(
        cls, directory: str | Path, expected_embedder: str | None = None
    ) -> tuple[FingerprintIndex, dict[str, Any] | None]:
        """Open the active snapshot; returns the index and the checkpoint saved with it."""
        root = Path(directory)
        name = _read_current(root)
        if name is None:
            raise IndexCorruptError(f"{root}: no {_CURRENT} file; nothing was saved here")
        snap = root / name
        try:
            meta = json.loads((snap / "meta.json").read_text())
            version = meta.get("format_version")
            if version not in _READABLE_FORMATS:
                raise IndexCorruptError(f"{snap}: unsupported format {version}")
            with np.load(snap / "vectors.npz") as arrays:
                time_of = arrays["time"]
                if version == 1:
                    raw = RawStore(arrays["raw"].shape[1])
                    raw.extend(arrays["raw"])
                else:
                    raw = RawStore.of(arrays["codes"], arrays["scales"])
            stored = (
                faiss.read_index(str(snap / "index.faiss"))
                if version == 1 or (version == 2 and meta["structure"] == "ivf")
                else None
            )
            ivf_state: dict[str, np.ndarray] | None = None
            if version == 3 and meta["structure"] == "ivf":
                with np.load(snap / "ivf.npz") as arrays:
                    ivf_state = {k: arrays[k] for k in ("centroids", "quantiser", "lists")}
            whitening_path = snap / "whitening.npz"
            whitening = (
                PCAWhitening.from_bytes(whitening_path.read_bytes())
                if whitening_path.exists()
                else None
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexCorruptError(f"{snap}: unreadable snapshot ({exc})") from exc
        if expected_embedder is not None and meta["embedder"] != expected_embedder:
            raise EmbedderMismatchError(
                f"{snap} was built by {meta['embedder']!r}, not {expected_embedder!r}; rebuild it"
            )
        config = IndexConfig(**meta["config"])
        index = cls(meta["embedder"], int(meta["raw_dim"]), config)
        index.whitening = whitening
        if meta.get("whitening_is_prior"):
            index.prior_whitening = whitening
        allocated = int(meta["vector_ids_allocated"])
        if (
            len(time_of) != allocated
            or len(raw) != allocated
            or raw.codes.view.shape[1:] != (index.raw_dim,)
        ):
            raise IndexCorruptError(f"{snap}: vectors.npz disagrees with meta.json")
        if stored is not None and (stored.ntotal != meta["faiss_vectors"] or stored.d != index.dim):
            raise IndexCorruptError(f"{snap}: index.faiss disagrees with meta.json")
        if stored is not None and not isinstance(stored, faiss.IndexIDMap2 | faiss.IndexIVF):
            raise IndexCorruptError(f"{snap}: index.faiss is not an IndexIDMap2 or an IVF index")
        index._slot_of = _GrowingArray.of(_slots_from(meta["assets"], allocated, snap))
        index._time_of = _GrowingArray.of(time_of.astype(np.float32))
        index._raw = raw
        for record in meta["assets"]:
            first = int(record["first_vector_id"])
            ids = np.arange(first, first + int(record["vector_count"]), dtype=np.int64)
            entry = AssetEntry(
                record["asset_id"],
                int(record["slot"]),
                float(record["duration_s"]),
                removed=bool(record["removed"]),
                in_faiss=bool(record["in_faiss"]),
                vector_ids=ids,
            )
            index._assets[entry.asset_id] = entry
            if entry.removed and entry.in_faiss:
                index._excluded.update(ids.tolist())
        ordered = sorted(meta["assets"], key=lambda r: int(r["slot"]))
        index._slot_assets = [r["asset_id"] for r in ordered]
        index._durations = _GrowingArray.of(
            np.array([float(r["duration_s"]) for r in ordered], dtype=np.float64)
        )
        if [index._assets[a].slot for a in index._slot_assets] != list(
            range(len(index._slot_assets))
        ):
            raise IndexCorruptError(f"{snap}: asset slots are not contiguous")
        held = [a.vector_ids for a in index._assets.values() if a.in_faiss]
        held_ids = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
        if stored is not None:
            index._faiss = stored
        elif ivf_state is not None:
            if not np.array_equal(np.flatnonzero(ivf_state["lists"] >= 0), held_ids):
                raise IndexCorruptError(f"{snap}: ivf.npz's lists disagree with the assets")
            index._faiss = index._ivf_from(ivf_state, snap)
        else:
            # The exact structure is rebuilt from the raw store (see the module docstring).
            index._faiss = index._new_structure(0)
            for start in range(0, len(held_ids), _LOAD_CHUNK):
                part = held_ids[start : start + _LOAD_CHUNK]
                index._faiss.add_with_ids(index._transform(index._raw.rows(part)), part)
        if index._faiss.ntotal != meta["faiss_vectors"]:
            raise IndexCorruptError(f"{snap}: the assets disagree with meta.json's count")
        index._selector_dirty = bool(index._excluded)
        return index, meta.get("checkpoint")

    def extend_from(self, entries: Iterable[tuple[str, np.ndarray, np.ndarray, float]]) -> int:
        """Add many assets; returns the number of vectors added."""
        return sum(self.add(*entry) for entry in entries)


def _ivf_of(index: faiss.Index) -> faiss.IndexIVFScalarQuantizer | None:
    """The IVF structure of ``index`` (bare, or in a version-2 snapshot's IndexIDMap2)."""
    try:
        found = faiss.downcast_index(faiss.extract_index_ivf(index))
    except RuntimeError:
        return None
    return found if isinstance(found, faiss.IndexIVFScalarQuantizer) else None


def _slots_from(assets: list[dict[str, Any]], allocated: int, snap: Path) -> np.ndarray:
    """Each vector id's slot, from the assets' contiguous vector ranges (which must cover
    every allocated id exactly once)."""
    slots = np.full(allocated, -1, dtype=np.int32)
    for record in assets:
        first, count = int(record["first_vector_id"]), int(record["vector_count"])
        if first < 0 or first + count > allocated or np.any(slots[first : first + count] >= 0):
            raise IndexCorruptError(f"{snap}: asset vector ranges overlap or overrun")
        slots[first : first + count] = int(record["slot"])
    if np.any(slots < 0):
        raise IndexCorruptError(f"{snap}: vectors belong to no asset")
    return slots


def _read_current(root: Path) -> str | None:
    pointer = root / _CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text().strip()
    if not name.startswith("snap-") or not (root / name).is_dir():
        raise IndexCorruptError(f"{pointer} names a missing snapshot {name!r}")
    return name


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
