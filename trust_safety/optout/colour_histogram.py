"""A real, weight-free frame embedder: a joint HSV colour histogram.

It is the baseline that exercises the output-matching seam end to end until the
reverse-search embedder is plugged in. Hue and saturation carry most of the signal for
flat-coloured cartoon characters; value gets the fewest bins so lighting changes move a frame
least.
Counts are square-rooted before L2 normalisation, which makes the dot product the
Bhattacharyya coefficient of the two histograms: robust to resizing, small crops and noise,
blind to shape (two different yellow characters look alike to it; that is why it is a
baseline and not the production embedder).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from trust_safety.optout.output_matcher import Frame, Vectors, validate_frames


class ColourHistogramEmbedder:
    def __init__(
        self, hue_bins: int = 8, saturation_bins: int = 3, value_bins: int = 2, blur: int = 5
    ) -> None:
        if min(hue_bins, saturation_bins, value_bins) < 1:
            raise ValueError("every histogram axis needs at least one bin")
        if blur < 0 or (blur and blur % 2 == 0):
            raise ValueError("blur is an odd kernel size, or 0 for none")
        self._bins = (hue_bins, saturation_bins, value_bins)
        self._blur = blur

    @property
    def model_id(self) -> str:
        return "hsv-histogram-{}x{}x{}-blur{}".format(*self._bins, self._blur)

    @property
    def dim(self) -> int:
        h, s, v = self._bins
        return h * s * v

    def embed(self, frames: Sequence[Frame]) -> Vectors:
        checked = validate_frames(frames)
        out = np.zeros((len(checked), self.dim), dtype=np.float32)
        for index, frame in enumerate(checked):
            # Coarse bins plus a blur: encoder noise and a small brightness shift must not
            # push pixels across bin edges (measured in tests: variants stay above 0.95).
            smoothed = cv2.GaussianBlur(frame, (self._blur, self._blur), 0) if self._blur else frame
            hsv = cv2.cvtColor(smoothed, cv2.COLOR_RGB2HSV)
            # OpenCV's 8-bit hue runs 0..179.
            hist = cv2.calcHist([hsv], [0, 1, 2], None, list(self._bins), [0, 180, 0, 256, 0, 256])
            vector = np.sqrt(hist.flatten().astype(np.float32))
            norm = float(np.linalg.norm(vector))
            out[index] = vector / norm if norm else vector
        return out
