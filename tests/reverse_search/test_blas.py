from __future__ import annotations

from reverse_search.blas import _numpy_blas, numpy_blas_single_thread


def test_numpy_blas_is_single_threaded_during_a_search_and_restored_after() -> None:
    blas = _numpy_blas()
    assert blas is not None, "numpy's bundled BLAS was not found"
    before = [info["num_threads"] for info in blas.info()]
    with numpy_blas_single_thread():
        assert [info["num_threads"] for info in blas.info()] == [1] * len(before)
    assert [info["num_threads"] for info in blas.info()] == before


def test_only_numpys_own_blas_is_limited() -> None:
    blas = _numpy_blas()
    assert blas is not None
    for info in blas.info():
        assert "numpy" in info["filepath"]
        assert "faiss" not in info["filepath"] and "opencv" not in info["filepath"]
