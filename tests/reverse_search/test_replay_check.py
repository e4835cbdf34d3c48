"""replay-check of the reverse-search indexer: the scratch replay reads the live blob store
(read-only) and keeps its FAISS index in the scratch directory; FAISS membership, removals,
searchable vectors and fingerprints are compared, and an unreadable blob is a difference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.replay import DIFFERENT, IDENTICAL, ReplayReport, replay_check
from core.services import Services
from core.video import encode_mp4
from reverse_search.engine import engine_for
from reverse_search.indexer import make_indexer
from reverse_search.settings import ReverseSearchSettings
from tests.reverse_search.events import sign_generation
from tests.reverse_search.helpers import FPS, clip
from tests.utils import drain

INDEXER = "reverse-search-indexer"
GENERATIONS = 4


def check(services: Services) -> ReplayReport:
    return replay_check(
        services, {INDEXER: make_indexer}, progress=False, out=lambda _: None, wait_s=5
    )


def found(report: ReplayReport) -> list[tuple[str, int, int, int, int]]:
    return sorted((d.table, d.only_live, d.only_rebuilt, d.changed, d.unreadable) for d in report)


def listing(directory: Path) -> list[tuple[str, int]]:
    return sorted(
        (str(p.relative_to(directory)), p.stat().st_mtime_ns) for p in directory.rglob("*")
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def archive(
    request: pytest.FixtureRequest,
    make_services: Callable[..., Services],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Services:
    monkeypatch.setenv("CLEARFRAME_RS_SNAPSHOT_INTERVAL_S", "0")
    services = make_services(request.param)
    for i in range(GENERATIONS):
        video = encode_mp4(clip(40 + i, 3.0), FPS, tmp_path / f"gen-{i}.mp4")
        sign_generation(services, f"g{i}", video, account=f"user-{i}", prompt=f"prompt {i}")
    drain(services, [INDEXER])
    assert engine_for(services).index.asset_count == GENERATIONS
    return services


def live_index_dir(services: Services) -> Path:
    return ReverseSearchSettings().resolved_index_dir(Path(services.settings.data_dir))


def test_in_sync_is_identical_reading_the_live_blobs_and_writing_only_scratch(
    archive: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = live_index_dir(archive)
    before = listing(index_dir)
    # even when the index directory is configured as an absolute path, the scratch engine keeps
    # its index in the scratch directory
    monkeypatch.setenv("CLEARFRAME_RS_INDEX_DIR", str(index_dir.resolve()))
    lines: list[str] = []
    report = replay_check(
        archive, {INDEXER: make_indexer}, progress=False, out=lines.append, wait_s=5
    )
    assert report == [] and report.state == IDENTICAL, [d.summary() for d in report]
    assert listing(index_dir) == before
    assert lines == [
        f"{INDEXER}: {report.checks[INDEXER].replayed} event(s) replayed at "
        f"position {report.position}, identical"
    ]


def test_faiss_divergences_are_counted(archive: Services) -> None:
    engine = engine_for(archive)
    index = engine.index
    with engine.lock:
        assert index.remove("asset-g0")  # no longer matches, though the read model says it may
        vector = int(index.entry("asset-g1").vector_ids[0])
        index._faiss.remove_ids(np.array([vector], dtype=np.int64))  # one frame lost from FAISS
        stored = int(index.entry("asset-g2").vector_ids[1])
        codes = index._raw.codes.view
        codes[stored] = -codes[stored]  # a corrupted stored fingerprint
    report = check(archive)
    assert found(report) == [("faiss-index", 0, 0, 3, 0)]
    assert report.state == DIFFERENT
    text = "\n".join(report[0].examples)
    assert "live side: the index this process holds" in text
    assert "changed asset-g0: removed: live True, rebuilt False" in text
    assert "changed asset-g1: searchable vectors: live" in text
    assert "changed asset-g2: fingerprint differs" in text


def test_an_unreadable_blob_is_a_difference(archive: Services) -> None:
    blobs = ReverseSearchSettings().resolved_blob_root(Path(archive.settings.data_dir))
    files = sorted(p for p in blobs.rglob("*") if p.is_file())
    assert len(files) == GENERATIONS
    files[0].unlink()
    report = check(archive)
    # the replay cannot fingerprint it, so the live index holds an asset the rebuilt one lacks
    assert found(report) == [("blobs", 0, 0, 0, 1), ("faiss-index", 1, 0, 0, 0)]
    assert any("cannot fingerprint" in e and "is not in" in e for d in report for e in d.examples)


def test_a_process_without_the_indexer_compares_the_saved_snapshot(archive: Services) -> None:
    engine = engine_for(archive)
    engine.save(force=True)
    other = Services.from_settings(archive.settings)  # like `clearframe replay-check`
    try:
        assert check(other) == []
        with engine.lock:
            engine.index.remove("asset-g3")
            engine._dirty = True
        engine.save(force=True)
        report = check(other)
        assert found(report) == [("faiss-index", 0, 0, 1, 0)]
        assert report[0].examples[0].startswith("live side: snapshot snap-")
    finally:
        other.close()
