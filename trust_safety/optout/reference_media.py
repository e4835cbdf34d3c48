"""What reading a rights holder's reference media and matching frames against it share: the
frame type, the loader seam (``media_loader.py`` reads ``file://`` references), and the
check every frame passes before it is described (``keypoints.py``, ``output_index.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from trust_safety.optout.errors import InvalidOptOut
from trust_safety.optout.facts import BlobRef

Frame = npt.NDArray[np.uint8]  # H x W x 3, RGB


class ReferenceMediaLoader(Protocol):
    def frames(self, ref: BlobRef) -> Sequence[Frame]: ...


def validate_frames(frames: Sequence[Frame]) -> list[Frame]:
    out = list(frames)
    for index, frame in enumerate(out):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            raise InvalidOptOut(f"frame {index} must be a uint8 numpy array")
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 2 or frame.shape[1] < 2:
            raise InvalidOptOut(f"frame {index} must be H x W x 3 RGB, got {frame.shape}")
    return out
