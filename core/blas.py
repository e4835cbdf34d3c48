"""Holding numpy's BLAS to one thread while latency-bound work runs beside other thread pools.

numpy's OpenBLAS starts its own worker threads for a matrix product and keeps them spinning
for a while after the product is done. Whatever runs next on the same cores with threads of
its own competes with them:

* a reverse search's FAISS OpenMP threads: on the 2-core development machine
  ``bench/blas_contention.py`` times a 180-vector search 1.12x slower on the 1.7 M-vector
  benchmark index, and 1.22x on a 400,000-vector synthetic one;
* the prompt gate's multilingual encoder (its own OpenMP runtime) right after a product
  like the exemplar similarities': ``bench/text_embedders.py`` times it 1.22x slower at the
  median and 1.35x at p99 than with numpy's BLAS held to one thread.

The products in those paths are tiny, so one thread loses nothing. OpenBLAS has no
per-thread setting, so the limit is process-wide while anyone holds it: the first holder
sets it and the last one to leave restores what it was, so overlapping holders on
different threads neither undo each other's limit early nor leave it on for good.

One quirk of numpy's OpenBLAS (0.3.31, measured): once the main thread has set a thread
count, a count set from any other thread is ignored, while counts set from other threads
take effect for everyone. The service's searches and gate decisions run on worker threads
and a bench's or a CLI command's on the main thread, so in each process the holders are of
one kind; a process that mixed them would only lose speed, never correctness.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController


@functools.cache
def _numpy_blas() -> ThreadpoolController | None:
    """numpy's own BLAS (bundled in its wheel); None when numpy uses a system library."""
    controller = ThreadpoolController()
    package = Path(np.__file__).resolve().parent
    # Wheels bundle it in site-packages/numpy.libs; FAISS's and OpenCV's copies live in
    # their own *.libs folders and are left alone.
    bundled = (str(package.parent / "numpy.libs"), str(package))
    paths = [
        info["filepath"]
        for info in controller.info()
        if info["user_api"] == "blas" and info["filepath"].startswith(bundled)
    ]
    return controller.select(filepath=paths) if paths else None


_lock = threading.Lock()
_holders = 0
_held: Any = None  # threadpoolctl's limiter while anyone holds the limit


@contextlib.contextmanager
def numpy_blas_single_thread() -> Iterator[None]:
    global _holders, _held
    blas = _numpy_blas()
    if blas is None:
        yield
        return
    with _lock:
        _holders += 1
        if _holders == 1:
            _held = blas.limit(limits=1)
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _held is not None:
                _held.restore_original_limits()
                _held = None
