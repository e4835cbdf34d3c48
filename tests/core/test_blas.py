"""numpy's BLAS held to one thread while latency-bound work runs.

Every holder here runs on a thread of its own, as the service's searches and gate decisions
do: OpenBLAS 0.3.31 ignores a thread count set from any other thread once the main thread
has set one (see core/blas.py), so a holder on the main thread would make the others'
limits invisible to these checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.blas import _numpy_blas, numpy_blas_single_thread


def _threads() -> list[int]:
    blas = _numpy_blas()
    assert blas is not None, "numpy's bundled BLAS was not found"
    return [info["num_threads"] for info in blas.info()]


def _on_a_thread(work: Callable[[], None]) -> None:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised on the test's thread below
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    if failures:
        raise failures[0]


def test_numpy_blas_is_single_threaded_while_held_and_restored_after() -> None:
    def work() -> None:
        before = _threads()
        with numpy_blas_single_thread():
            assert _threads() == [1] * len(before)
        assert _threads() == before

    _on_a_thread(work)


def test_overlapping_holders_keep_the_limit_until_the_last_one_leaves() -> None:
    """A gate decision and a reverse search overlap on two threads: the first to leave must
    not lift the other's limit, and the last to leave restores the default (a holder that
    saved the already-lowered value would leave BLAS on one thread for good)."""

    def work() -> None:
        before = _threads()
        first_in = threading.Event()
        first_out = threading.Event()
        seen: list[list[int]] = []

        def first() -> None:
            with numpy_blas_single_thread():
                first_in.set()
                first_out.wait(5)

        holder = threading.Thread(target=first)
        holder.start()
        assert first_in.wait(5)
        with numpy_blas_single_thread():
            first_out.set()
            holder.join(5)
            seen.append(_threads())  # the first holder has left; this one still holds
        assert seen == [[1] * len(before)]
        assert _threads() == before

    _on_a_thread(work)


def test_only_numpys_own_blas_is_limited() -> None:
    blas = _numpy_blas()
    assert blas is not None
    for info in blas.info():
        assert "numpy" in info["filepath"]
        assert "faiss" not in info["filepath"] and "opencv" not in info["filepath"]
