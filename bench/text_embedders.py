"""The prompt gate's text encoders, timed per prompt in one process.

* MiniLM on its two backends, one prompt at a time over the labelled prompts, alternating:
  the ONNX graph the gate runs against sentence-transformers on torch (the baseline), with
  the largest difference between their rows.
* The multilingual encoder (multilingual-e5-small, OpenMP inside its wheel) right after the
  kind of small numpy product the gate's other stages do (a prompt against 4,000 exemplar
  rows), with numpy's BLAS at its default thread count and held to one thread
  (``core.blas.numpy_blas_single_thread``, which the pipeline holds while it reads a
  prompt), alternating.

Embedding caches are off, so every call encodes. The last line printed is one JSON object.

    .venv/bin/python bench/text_embedders.py [--prompts 400]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.blas import numpy_blas_single_thread  # noqa: E402
from trust_safety.classifiers.text_embedding import (  # noqa: E402
    MiniLMEmbedder,
    MultilingualE5Embedder,
    default_cache_dir,
)

DATA = ROOT / "tests" / "data"


def _prompts(limit: int) -> list[str]:
    texts: list[str] = []
    for name in ("prompts_dev.jsonl", "prompts_i18n_dev.jsonl"):
        with (DATA / name).open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    # English and translated prompts interleaved, so both halves see both kinds.
    english, other = texts[: len(texts) // 3], texts[len(texts) // 3 :]
    mixed = [t for pair in zip(english, other, strict=False) for t in pair]
    return mixed[:limit]


def _ms(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(float(np.median(samples)), 2),
        "p99_ms": round(float(np.percentile(samples, 99)), 2),
    }


def _timed(call: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call(*args)
    return (time.perf_counter() - start) * 1000.0, result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=400)
    args = parser.parse_args(argv)
    if args.prompts < 10:
        parser.error("--prompts must be at least 10")
    texts = _prompts(args.prompts)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        # A fresh cache directory: this also times the graph's export from the wheel.
        onnx = MiniLMEmbedder(cache_size=0, cache_dir=Path(scratch))
        export_s = time.perf_counter() - started
        if onnx.backend != "onnx":
            print("the ONNX backend could not be had; nothing to compare", file=sys.stderr)
            raise SystemExit(1)
        baseline = MiniLMEmbedder(cache_size=0, backend="torch")
        for text in texts[:10]:  # warm both
            onnx.embed([text])
            baseline.embed([text])
        onnx_ms: list[float] = []
        torch_ms: list[float] = []
        drift = 0.0
        for text in texts:
            onnx_took, onnx_row = _timed(onnx.embed, [text])
            torch_took, torch_row = _timed(baseline.embed, [text])
            onnx_ms.append(onnx_took)
            torch_ms.append(torch_took)
            drift = max(drift, float(np.abs(onnx_row - torch_row).max()))

    e5 = MultilingualE5Embedder(cache_size=0)
    rng = np.random.default_rng(0)
    exemplars = rng.standard_normal((4000, 384)).astype(np.float32)
    probe = rng.standard_normal((2, 384)).astype(np.float32)

    def after_a_product(text: str) -> None:
        _ = probe @ exemplars.T
        e5.embed([text])

    for text in texts[:10]:
        after_a_product(text)
    default_ms: list[float] = []
    limited_ms: list[float] = []
    for text in texts:
        default_ms.append(_timed(after_a_product, text)[0])
        with numpy_blas_single_thread():
            limited_ms.append(_timed(after_a_product, text)[0])

    report = {
        "bench": "text_embedders",
        "prompts": len(texts),
        "minilm_graph_export_s": round(export_s, 1),
        "minilm_onnx": _ms(onnx_ms),
        "minilm_torch": _ms(torch_ms),
        "minilm_torch_over_onnx_median": round(float(np.median(torch_ms) / np.median(onnx_ms)), 2),
        "minilm_max_row_difference": float(f"{drift:.1e}"),
        "e5_after_product_blas_default": _ms(default_ms),
        "e5_after_product_blas_one_thread": _ms(limited_ms),
        "e5_blas_default_over_one_thread_median": round(
            float(np.median(default_ms) / np.median(limited_ms)), 2
        ),
        "e5_blas_default_over_one_thread_p99": round(
            float(np.percentile(default_ms, 99) / np.percentile(limited_ms, 99)), 2
        ),
        "model_cache": str(default_cache_dir()),
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
