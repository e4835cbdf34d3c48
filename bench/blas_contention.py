"""How much numpy's spinning BLAS threads slow a FAISS search, and what the limit wins back.

A reverse search does a small numpy matrix product (whitening) and then a FAISS IVF search,
both inside ``FingerprintIndex.search``, which this times on a synthetic archive.
OpenBLAS keeps its worker threads spinning for a while after a product; FAISS's OpenMP
threads then compete with them for the cores. This times the same search right after a
small product, with numpy's BLAS at its default thread count and held to one thread
(``core.blas.numpy_blas_single_thread``), alternating the two, and prints the
ratio. The last line printed is one JSON object.

    python bench/blas_contention.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.blas import numpy_blas_single_thread  # noqa: E402
from reverse_search.index import FingerprintIndex, IndexConfig  # noqa: E402


def synthetic_index(
    vectors: int, n_queries: int, rng: np.random.Generator
) -> tuple[FingerprintIndex, np.ndarray]:
    """Clustered vectors (frames of one video resemble each other), like a real archive."""
    raw_dim, per_asset = 180, 17
    centres = rng.standard_normal((vectors // per_asset, raw_dim)).astype(np.float32)
    index = FingerprintIndex("bench", raw_dim, IndexConfig(flat_max_vectors=10_000))
    times = np.arange(per_asset, dtype=np.float32) * 0.5
    for i, centre in enumerate(centres):
        frames = centre + 0.3 * rng.standard_normal((per_asset, raw_dim)).astype(np.float32)
        index.add(f"a{i}", frames, times, per_asset * 0.5)
    index.rebuild()
    noise = 0.3 * rng.standard_normal((n_queries, raw_dim)).astype(np.float32)
    return index, centres[rng.integers(0, len(centres), n_queries)] + noise


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vectors", type=int, default=400_000)
    parser.add_argument("--queries", type=int, default=180, help="query vectors per search")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="a saved index (e.g. bench/out/work500/index after copy_detection --scale)",
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    if args.index is not None:
        index, _ = FingerprintIndex.load(args.index)
        picked = rng.integers(0, len(index._raw), args.queries)
        queries = index._raw.rows(picked)
    else:
        index, queries = synthetic_index(args.vectors, args.queries, rng)

    def one_search() -> float:
        start = time.perf_counter()
        index.search(queries, 16)  # whitening product in numpy, then FAISS
        return (time.perf_counter() - start) * 1000

    default_ms, limited_ms = [], []
    for _ in range(args.rounds):
        default_ms.append(one_search())
        with numpy_blas_single_thread():
            limited_ms.append(one_search())
    report = {
        "bench": "blas_contention",
        "vectors": index.vector_count,
        "structure": index.structure,
        "query_vectors": args.queries,
        "faiss_threads": faiss.omp_get_max_threads(),
        "median_ms_numpy_blas_default": round(float(np.median(default_ms)), 1),
        "median_ms_numpy_blas_one_thread": round(float(np.median(limited_ms)), 1),
        "slowdown_ratio": round(float(np.median(default_ms) / np.median(limited_ms)), 2),
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
