"""numpy's BLAS held to one thread while latency-bound work runs.

Each check runs in a fresh interpreter, with every holder on a thread of its own, as the
service's searches and gate decisions are: OpenBLAS 0.3.31 ignores a thread count set from
any other thread once the main thread has set one (core/blas.py), and in this test process
other tests' benches and pipelines have already held the limit from the main thread.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from core.blas import _numpy_blas

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = """
import json, threading
from core.blas import _numpy_blas, numpy_blas_single_thread

def threads():
    return [info["num_threads"] for info in _numpy_blas().info()]

def on_a_thread(work):
    out = {}
    thread = threading.Thread(target=lambda: out.update(work()))
    thread.start()
    thread.join(10)
    print(json.dumps(out))
"""


def _run(body: str) -> dict[str, list[int] | list[list[int]]]:
    script = _PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[int] | list[list[int]]] = json.loads(
        done.stdout.strip().splitlines()[-1]
    )
    return result


def test_numpy_blas_is_single_threaded_while_held_and_restored_after() -> None:
    seen = _run(
        """
        def work():
            before = threads()
            with numpy_blas_single_thread():
                held = threads()
            return {"before": before, "held": held, "after": threads()}

        on_a_thread(work)
        """
    )
    assert seen["before"] and seen["held"] == [1] * len(seen["before"])
    assert seen["after"] == seen["before"]


def test_overlapping_holders_keep_the_limit_until_the_last_one_leaves() -> None:
    """A gate decision and a reverse search overlap on two threads: the first to leave must
    not lift the other's limit, and the last to leave restores the default (a holder that
    saved the already-lowered value would leave BLAS on one thread for good)."""
    seen = _run(
        """
        def work():
            before = threads()
            first_in, first_out = threading.Event(), threading.Event()

            def first():
                with numpy_blas_single_thread():
                    first_in.set()
                    first_out.wait(5)

            holder = threading.Thread(target=first)
            holder.start()
            first_in.wait(5)
            with numpy_blas_single_thread():
                first_out.set()
                holder.join(5)
                still_held = threads()  # the first holder has left; this one still holds
            return {"before": before, "still_held": still_held, "after": threads()}

        on_a_thread(work)
        """
    )
    assert seen["before"] and seen["still_held"] == [1] * len(seen["before"])
    assert seen["after"] == seen["before"]


def test_only_numpys_own_blas_is_limited() -> None:
    blas = _numpy_blas()
    assert blas is not None
    for info in blas.info():
        assert "numpy" in info["filepath"]
        assert "faiss" not in info["filepath"] and "opencv" not in info["filepath"]
