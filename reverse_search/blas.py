"""Keeping numpy's BLAS threads out of FAISS's way during a search.

numpy's OpenBLAS starts its own worker threads for a matrix product and keeps them spinning
for a while after the product is done. FAISS then runs its OpenMP threads on the same cores
and competes with them: on the 2-core development machine ``bench/blas_contention.py`` times
a 180-vector search 1.12x slower on the 1.7 M-vector benchmark index, and 1.22x on a
400,000-vector synthetic one, than with numpy's BLAS held to one thread. The products in a
search are tiny (a whitening projection, descriptor DCTs), so one thread loses nothing.

The limit is process-wide while it is held (OpenBLAS has no per-thread setting); a
concurrent search that leaves first restores the default for the others early, which costs
them speed, never correctness.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

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


@contextlib.contextmanager
def numpy_blas_single_thread() -> Iterator[None]:
    blas = _numpy_blas()
    if blas is None:
        yield
        return
    with blas.limit(limits=1):
        yield
