"""Finding pictures inside the picture: picture-in-picture, a clip over a blurred copy of
itself, a clip pasted into a mosaic, letterboxing with textured bars.

What all of these share is a rectangle whose sides are straight edges that stay where they
are while the content inside moves. Edges are measured per frame (normalised by the frame's
own mean gradient, so contrast does not matter), then reduced over time with a low
percentile, which keeps edges present in nearly every frame and drops moving content.
Candidate sides are the strongest rows and columns of that static edge map; a rectangle is
kept when every one of its sides that is not the frame border is a strong and continuous
line. Returned boxes are fractions of the frame, so they apply to any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import cv2
import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class LayoutConfig:
    work_width: int = 160
    min_side_fraction: float = 0.22
    candidates_per_axis: int = 6
    # A side counts as a line when its pixels are this many times the frame's mean gradient...
    line_strength: float = 1.0
    # ...along at least this fraction of its length.
    line_continuity: float = 0.6
    temporal_percentile: float = 30.0
    max_pictures: int = 2


Box = tuple[float, float, float, float]  # top, bottom, left, right as fractions


def _static_edges(frames: np.ndarray, cfg: LayoutConfig) -> tuple[np.ndarray, np.ndarray]:
    h, w = frames.shape[1:3]
    scale = min(1.0, cfg.work_width / w)
    size = (max(16, round(w * scale)), max(16, round(h * scale)))
    gxs, gys = [], []
    for frame in frames:
        luma = cv2.resize(frame.astype(np.float32) @ _LUMA, size, interpolation=cv2.INTER_AREA)
        luma = cv2.GaussianBlur(luma, (0, 0), 0.7)
        gx = np.abs(cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3))
        gy = np.abs(cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3))
        norm = float((gx + gy).mean()) / 2 + 1e-3
        gxs.append(gx / norm)
        gys.append(gy / norm)
    if len(frames) >= 3:
        return (
            _percentile_over_frames(np.stack(gxs), cfg.temporal_percentile),
            _percentile_over_frames(np.stack(gys), cfg.temporal_percentile),
        )
    return np.mean(gxs, axis=0), np.mean(gys, axis=0)


def _percentile_over_frames(stack: np.ndarray, q: float) -> np.ndarray:
    """``np.percentile(stack, q, axis=0)`` (linear interpolation) for a few frames: NumPy's
    partition along the outer, strided axis took about a sixth of a query's description."""
    n = stack.shape[0]
    ordered = np.sort(stack, axis=0)
    position = q / 100.0 * (n - 1)
    low = int(np.floor(position))
    high = min(low + 1, n - 1)
    frac = np.float32(position - low)
    return ordered[low] * (1 - frac) + ordered[high] * frac


def _peaks(profile: np.ndarray, count: int, margin: int) -> list[int]:
    values = profile.copy()
    values[:margin] = 0
    values[len(values) - margin :] = 0
    picked: list[int] = []
    for index in np.argsort(values)[::-1]:
        if values[index] <= 0 or len(picked) >= count:
            break
        if all(abs(int(index) - p) > 2 for p in picked):
            picked.append(int(index))
    return picked


class _Lines:
    """Prefix sums along candidate lines, so any side's continuity and strength is O(1)."""

    def __init__(
        self, edges: np.ndarray, positions: list[int], vertical: bool, cfg: LayoutConfig
    ) -> None:
        self.cfg = cfg
        self.sums: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        limit = edges.shape[1] if vertical else edges.shape[0]
        for at in positions:
            variants = []
            # The line and its neighbours: a boundary falls between pixels after resizing.
            for pos in (at - 1, at, at + 1):
                if 0 <= pos < limit:
                    line = edges[:, pos] if vertical else edges[pos, :]
                    strong = np.concatenate([[0.0], np.cumsum(line > cfg.line_strength)])
                    # Clipped so one very strong corner cannot carry a weak side.
                    value = np.concatenate(
                        [[0.0], np.cumsum(np.minimum(line, 4 * cfg.line_strength))]
                    )
                    variants.append((strong, value))
            self.sums[at] = variants

    def strength(self, at: int, start: int, stop: int) -> float:
        """Mean strength of the side, or 0 when it is not a continuous line."""
        length = stop - start
        best = 0.0
        for strong, value in self.sums[at]:
            if (strong[stop] - strong[start]) / length >= self.cfg.line_continuity:
                best = max(best, float(value[stop] - value[start]) / length)
        return best


def find_inner_pictures(frames: np.ndarray, config: LayoutConfig | None = None) -> list[Box]:
    """Rectangles (as frame fractions) that look like a picture placed inside the frame."""
    cfg = config or LayoutConfig()
    gx, gy = _static_edges(frames, cfg)
    h, w = gx.shape
    xs = [0, *_peaks(gx.mean(axis=0), cfg.candidates_per_axis, 2), w - 1]
    ys = [0, *_peaks(gy.mean(axis=1), cfg.candidates_per_axis, 2), h - 1]
    xs, ys = sorted(set(xs)), sorted(set(ys))
    columns, rows = _Lines(gx, xs, True, cfg), _Lines(gy, ys, False, cfg)
    scored: list[tuple[float, tuple[int, int, int, int]]] = []
    for x0, x1 in combinations(xs, 2):
        if x1 - x0 < cfg.min_side_fraction * w:
            continue
        for y0, y1 in combinations(ys, 2):
            if y1 - y0 < cfg.min_side_fraction * h:
                continue
            if x0 == 0 and y0 == 0 and x1 == w - 1 and y1 == h - 1:
                continue
            sides = []
            if x0 > 0:
                sides.append(columns.strength(x0, y0, y1 + 1))
            if x1 < w - 1:
                sides.append(columns.strength(x1, y0, y1 + 1))
            if y0 > 0:
                sides.append(rows.strength(y0, x0, x1 + 1))
            if y1 < h - 1:
                sides.append(rows.strength(y1, x0, x1 + 1))
            # Two real sides at least: a picture flush with two frame borders still has two.
            if len(sides) < 2 or min(sides) <= 0:
                continue
            area = (x1 - x0) * (y1 - y0) / (w * h)
            # Strong sides first; more real sides beat borders taken for granted; among
            # equals the larger picture (a mosaic's whole tile, not a shape inside it).
            scored.append((min(sides) * len(sides) * (0.5 + area), (y0, y1, x0, x1)))
    scored.sort(key=lambda item: -item[0])
    chosen: list[tuple[int, int, int, int]] = []
    for _, box in scored:
        if len(chosen) >= cfg.max_pictures:
            break
        if all(_iou(box, other) < 0.5 for other in chosen):
            chosen.append(box)
    return [(y0 / (h - 1), y1 / (h - 1), x0 / (w - 1), x1 / (w - 1)) for y0, y1, x0, x1 in chosen]


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    top, bottom = max(a[0], b[0]), min(a[1], b[1])
    left, right = max(a[2], b[2]), min(a[3], b[3])
    inter = max(0, bottom - top) * max(0, right - left)
    area = (a[1] - a[0]) * (a[3] - a[2]) + (b[1] - b[0]) * (b[3] - b[2]) - inter
    return inter / area if area else 0.0
