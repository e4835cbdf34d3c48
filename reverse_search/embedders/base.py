"""The interface every frame embedder implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from reverse_search.errors import InvalidFramesError


@runtime_checkable
class FrameEmbedder(Protocol):
    """Turns RGB frames into L2-normalised vectors compared by inner product.

    ``embed`` describes whole frames. ``embed_reference`` gives the rows an archived frame
    is indexed by: its whole view, and views of the edits no query view can undo (a 9:16
    window of a wide frame: the query lacks the rest of the picture). ``embed_query`` may
    return several views per query frame (flipped, sub-regions for picture-in-picture): the
    query side absorbs every edit it can, so the index stays small.
    """

    @property
    def name(self) -> str:
        """Identifies the embedder and its settings; vectors of different names never mix."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) -> float32 (N, dim), rows L2-normalised."""
        ...

    def embed_reference(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (N, H, W, 3) -> (rows float32 (M, dim), frame of each row int (M,)), every
        frame first described whole; M >= N."""
        ...

    def embed_query(self, frames: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) -> float32 (N, V, dim): V views per frame, rows L2-normalised."""
        ...

    def view_families(self, view_count: int) -> np.ndarray:
        """int (V,): for each view of ``embed_query``'s output, the edit it undoes (0: none,
        1: a horizontal flip, ...). A copy is edited the same way in all its frames, so
        alignment never adds up votes of different families in one hypothesis: an unrelated
        clip cannot collect a good match per frame from whichever view happens to fit."""
        ...


def reference_rows(
    embedder: FrameEmbedder, frames: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows an archived clip is indexed by and the time of each (see ``embed_reference``)."""
    rows, frame_of = embedder.embed_reference(frames)
    return rows, np.asarray(times, dtype=np.float64)[frame_of]


def l2_normalize(x: np.ndarray, axis: int = -1, eps: float = 1e-8) -> np.ndarray:
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return (x / np.maximum(norm, eps)).astype(np.float32, copy=False)


def check_frames(frames: np.ndarray) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        raise InvalidFramesError(
            f"frames must be a uint8 numpy array, got {getattr(frames, 'dtype', type(frames))}"
        )
    if frames.ndim == 3 and frames.shape[-1] == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise InvalidFramesError(f"frames must have shape (N, H, W, 3), got {frames.shape}")
    if frames.shape[0] == 0 or frames.shape[1] < 8 or frames.shape[2] < 8:
        raise InvalidFramesError(f"frames must be non-empty and at least 8x8, got {frames.shape}")
    return frames
