"""The fingerprint index contract, run against both FAISS structures it can choose."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from reverse_search.errors import (
    DuplicateAssetError,
    EmbedderMismatchError,
    IndexCorruptError,
    InvalidFramesError,
    UnknownAssetError,
)
from reverse_search.index import FingerprintIndex, IndexConfig, quantise_rows

DIM = 24
FRAMES = 12


def _asset_vectors(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(FRAMES, DIM)).astype(np.float32)


def _times() -> np.ndarray:
    return np.arange(FRAMES, dtype=np.float32) * 0.5


class IndexContract:
    """What any index structure must do; subclasses say which structure they get."""

    config: IndexConfig

    def make(self, n_assets: int = 40) -> FingerprintIndex:
        index = FingerprintIndex("test-embedder", DIM, self.config)
        for i in range(n_assets):
            index.add(f"asset-{i}", _asset_vectors(i), _times(), 6.0)
        index.rebuild()
        return index

    def top_asset(self, index: FingerprintIndex, seed: int, frame: int = 3) -> str | None:
        hits = index.search(_asset_vectors(seed)[frame : frame + 1], 5)
        slot = int(hits.slots[0, 0])
        return None if slot < 0 else index.asset_id_of(slot)

    def test_finds_each_asset_and_its_time(self) -> None:
        index = self.make()
        for seed in (0, 17, 39):
            hits = index.search(_asset_vectors(seed)[5:6], 3)
            assert index.asset_id_of(int(hits.slots[0, 0])) == f"asset-{seed}"
            assert hits.times[0, 0] == pytest.approx(2.5)
            assert hits.similarities[0, 0] > 0.9

    def test_removed_asset_stops_matching_at_once_and_comes_back(self) -> None:
        index = self.make()
        before = index.vector_count
        assert index.remove("asset-5")
        assert self.top_asset(index, 5) != "asset-5"
        assert index.vector_count == before  # filtered, not yet physically gone
        assert not index.remove("asset-5")
        assert index.restore("asset-5")
        assert self.top_asset(index, 5) == "asset-5"

    def test_rebuild_drops_removed_vectors_and_restore_re_adds_them(self) -> None:
        index = self.make()
        index.remove("asset-7")
        index.rebuild()
        assert index.vector_count == 39 * FRAMES
        assert self.top_asset(index, 7) != "asset-7"
        index.restore("asset-7")
        assert index.vector_count == 40 * FRAMES
        assert self.top_asset(index, 7) == "asset-7"

    def test_incremental_add_after_rebuild(self) -> None:
        index = self.make()
        index.add("late", _asset_vectors(1000), _times(), 6.0)
        assert self.top_asset(index, 1000) == "late"

    def test_save_and_load_round_trip(self, tmp_path: Path) -> None:
        index = self.make()
        index.remove("asset-3")
        index.save(tmp_path, checkpoint={"position": 42})
        loaded, checkpoint = FingerprintIndex.load(tmp_path, expected_embedder="test-embedder")
        assert checkpoint == {"position": 42}
        assert loaded.structure == index.structure and loaded.vector_count == index.vector_count
        query = _asset_vectors(11)[:4]
        a, b = index.search(query, 5), loaded.search(query, 5)
        assert np.array_equal(a.slots, b.slots)
        assert np.allclose(a.similarities, b.similarities, atol=1e-5)
        assert self.top_asset(loaded, 3) != "asset-3"
        loaded.restore("asset-3")
        assert self.top_asset(loaded, 3) == "asset-3"

    def test_a_snapshot_holds_the_raw_store_in_int8_and_an_exact_structure_not_at_all(
        self, tmp_path: Path
    ) -> None:
        index = self.make()
        snap = index.save(tmp_path)
        with np.load(snap / "vectors.npz") as arrays:
            assert set(arrays.files) == {"time", "codes", "scales"}
            assert arrays["codes"].dtype == np.int8 and arrays["codes"].shape[1] == DIM
        # No FAISS structure is written whole: an IVF one keeps its training and list numbers.
        assert not (snap / "index.faiss").exists()
        assert (snap / "ivf.npz").exists() == (index.structure == "ivf")
        if index.structure == "ivf":
            with np.load(snap / "ivf.npz") as arrays:
                assert arrays["lists"].dtype == np.int32
                assert arrays["lists"].shape == (index.vector_count,)
        loaded, _ = FingerprintIndex.load(tmp_path)
        raw, times, _ = loaded.vectors_of("asset-9")
        original = _asset_vectors(9)
        cosine = (
            (raw * original).sum(1) / np.linalg.norm(raw, axis=1) / np.linalg.norm(original, axis=1)
        )
        assert cosine.min() > 0.9999 and np.array_equal(times, _times())

    def test_reads_a_version_1_snapshot(self, tmp_path: Path) -> None:
        # Version 1: float16 raw vectors, slots, and index.faiss whatever the structure.
        index = self.make()
        snap = index.save(tmp_path)
        meta = json.loads((snap / "meta.json").read_text())
        meta["format_version"] = 1
        (snap / "meta.json").write_text(json.dumps(meta))
        raw = np.concatenate([index.vectors_of(f"asset-{i}")[0] for i in range(40)])
        np.savez(
            snap / "vectors.npz",
            slot=np.repeat(np.arange(40, dtype=np.int32), FRAMES),
            time=np.tile(_times(), 40),
            raw=raw.astype(np.float16),
        )
        faiss.write_index(index._faiss, str(snap / "index.faiss"))
        loaded, _ = FingerprintIndex.load(tmp_path)
        assert loaded.vector_count == index.vector_count
        assert self.top_asset(loaded, 21) == "asset-21"
        assert np.allclose(
            loaded.vectors_of("asset-21")[0], raw[21 * FRAMES : 22 * FRAMES], atol=3e-3
        )

    def test_reads_a_version_2_snapshot_and_saves_it_as_version_3(self, tmp_path: Path) -> None:
        # Version 2: the raw store in int8, and an IVF structure whole in an IndexIDMap2.
        index = self.make()
        index.remove("asset-5")
        snap = index.save(tmp_path / "v2")
        meta = json.loads((snap / "meta.json").read_text())
        meta["format_version"] = 2
        (snap / "meta.json").write_text(json.dumps(meta))
        if index.structure == "ivf":
            (snap / "ivf.npz").unlink()
            trained = faiss.clone_index(faiss.extract_index_ivf(index._faiss))
            trained.reset()
            legacy = faiss.IndexIDMap2(trained)
            ids = np.concatenate([index.entry(f"asset-{i}").vector_ids for i in range(40)])
            legacy.add_with_ids(index.transform_queries(index._raw.rows(ids)), ids)
            faiss.write_index(legacy, str(snap / "index.faiss"))
        loaded, _ = FingerprintIndex.load(tmp_path / "v2")
        again, _ = FingerprintIndex.load(loaded.save(tmp_path / "v3").parent)
        query = np.concatenate([_asset_vectors(i)[:2] for i in (5, 7, 30)])
        for other in (loaded, again):
            assert other.structure == index.structure
            a, b = index.search(query, 5), other.search(query, 5)
            assert np.array_equal(a.slots, b.slots)
            assert np.allclose(a.similarities, b.similarities, atol=1e-5)
        assert self.top_asset(again, 5) != "asset-5" and self.top_asset(again, 7) == "asset-7"


def test_raw_rows_quantise_to_the_same_codes_again() -> None:
    rows = np.random.default_rng(5).normal(size=(200, DIM)).astype(np.float32)
    rows[0] = 0.0  # a row of zeros has a scale too
    codes, scales = quantise_rows(rows)
    restored = codes.astype(np.float32) * scales.astype(np.float32)[:, None]
    again, again_scales = quantise_rows(restored)
    assert np.array_equal(codes, again) and np.array_equal(scales, again_scales)
    assert np.abs(restored - rows).max() <= np.abs(rows).max(axis=1).max() / 127


class TestFlatIndex(IndexContract):
    config = IndexConfig(flat_max_vectors=100_000, whitening_min_vectors=10**9)

    def test_structure(self) -> None:
        assert self.make().structure == "flat"


class TestWhitenedIvfIndex(IndexContract):
    config = IndexConfig(
        flat_max_vectors=100, ivf_nprobe=64, whitening_dim=16, whitening_min_vectors=100
    )

    def test_structure(self) -> None:
        index = self.make()
        assert index.structure == "ivf" and index.whitening is not None and index.dim == 16

    def test_an_ivf_snapshot_whose_lists_disagree_is_refused(self, tmp_path: Path) -> None:
        index = self.make()
        snap = index.save(tmp_path)
        assert index.structure == "ivf"
        with np.load(snap / "ivf.npz") as arrays:
            state = {k: arrays[k] for k in arrays.files}
        state["lists"][3] = -1  # a vector of a searchable asset in no list
        np.savez(snap / "ivf.npz", **state)
        with pytest.raises(IndexCorruptError, match="lists"):
            FingerprintIndex.load(tmp_path)


def test_needs_rebuild_when_the_archive_outgrows_flat() -> None:
    index = FingerprintIndex("e", DIM, IndexConfig(flat_max_vectors=50, whitening_dim=None))
    index.add("a", _asset_vectors(0), _times(), 6.0)
    assert not index.needs_rebuild()
    for i in range(1, 6):
        index.add(f"a{i}", _asset_vectors(i), _times(), 6.0)
    assert index.needs_rebuild()
    index.rebuild()
    assert index.structure == "ivf" and not index.needs_rebuild()


def test_bad_input_raises_typed_errors() -> None:
    index = FingerprintIndex("e", DIM)
    index.add("a", _asset_vectors(0), _times(), 6.0)
    with pytest.raises(DuplicateAssetError):
        index.add("a", _asset_vectors(1), _times(), 6.0)
    with pytest.raises(EmbedderMismatchError):
        index.add("b", np.zeros((3, DIM + 1), np.float32), np.zeros(3), 1.0)
    with pytest.raises(InvalidFramesError):
        index.add("b", np.full((2, DIM), np.nan, np.float32), np.zeros(2), 1.0)
    with pytest.raises(UnknownAssetError):
        index.remove("nope")
    with pytest.raises(EmbedderMismatchError):
        index.search(np.zeros((1, DIM + 2), np.float32), 3)


def test_load_refuses_other_embedders_and_broken_snapshots(tmp_path: Path) -> None:
    index = FingerprintIndex("e", DIM)
    index.add("a", _asset_vectors(0), _times(), 6.0)
    index.save(tmp_path)
    with pytest.raises(EmbedderMismatchError):
        FingerprintIndex.load(tmp_path, expected_embedder="other")
    with pytest.raises(IndexCorruptError):
        FingerprintIndex.load(tmp_path / "empty")
    (tmp_path / "CURRENT").write_text("snap-99999999")
    with pytest.raises(IndexCorruptError):
        FingerprintIndex.load(tmp_path)


def test_interrupted_save_leaves_the_previous_snapshot_active(tmp_path: Path) -> None:
    index = FingerprintIndex("e", DIM)
    index.add("a", _asset_vectors(0), _times(), 6.0)
    first = index.save(tmp_path)
    # A crash mid-save leaves a temporary folder behind and CURRENT untouched.
    (tmp_path / ".snap-00000002.tmp").mkdir()
    (tmp_path / ".snap-00000002.tmp" / "meta.json").write_text("{truncated")
    loaded, _ = FingerprintIndex.load(tmp_path)
    assert loaded.asset_count == 1
    index.add("b", _asset_vectors(1), _times(), 6.0)
    second = index.save(tmp_path)
    assert second.name == "snap-00000002" and first.exists()
    assert FingerprintIndex.load(tmp_path)[0].asset_count == 2
    index.save(tmp_path)
    assert not first.exists()  # only the active and the previous snapshot are kept


def test_an_asset_added_as_removed_stays_out_of_faiss_until_restored() -> None:
    index = FingerprintIndex("e", DIM, IndexConfig(whitening_dim=None))
    index.add("a", _asset_vectors(0), _times(), 6.0)
    index.add("b", _asset_vectors(1), _times(), 6.0, removed=True)
    assert index.vector_count == FRAMES
    hits = index.search(_asset_vectors(1)[:1], 3)
    assert index.asset_id_of(int(hits.slots[0, 0])) == "a"
    index.restore("b")
    assert index.vector_count == 2 * FRAMES
    hits = index.search(_asset_vectors(1)[:1], 3)
    assert index.asset_id_of(int(hits.slots[0, 0])) == "b"
