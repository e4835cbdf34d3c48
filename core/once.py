"""A value built at most once per process, however many threads ask for it first."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def once(load: Callable[[], T]) -> Callable[[], T]:
    """``load``'s result, built on the first call and shared by every later one.

    For what costs seconds or memory to load (a model, a vocabulary): the lock makes racing
    first callers wait for one load instead of each loading a copy. A load that raises is not
    remembered, so the next call tries again.
    """
    lock = threading.Lock()
    loaded: list[T] = []

    @functools.wraps(load)
    def shared() -> T:
        with lock:
            if not loaded:
                loaded.append(load())
            return loaded[0]

    return shared
