"""Finding pictures inside the picture: picture-in-picture, a clip over a blurred copy of
itself, a clip pasted into a mosaic, letterboxing with textured bars.

What all of these share is a rectangle whose sides are straight edges that stay where they
are while the content inside moves. Edges are measured per frame (normalised by the frame's
own mean gradient, so contrast does not matter), then reduced over time with a low
percentile, which keeps edges present in nearly every frame and drops moving content.
Candidate sides are the strongest rows and columns of that static edge map; a rectangle is
kept when every one of its sides that is not the frame border is a strong and continuous
line. Returned boxes are fractions of the frame, so they apply to any resolution.

A side-by-side (or stacked) pair of moving clips has no such line: where the two pictures
meet the edge comes and goes with their content. What gives the seam away is time: inside
one picture, neighbouring columns change together from frame to frame (the same motion,
the same cuts), while the two columns either side of a seam change independently. The seam
is a column where that disagreement peaks sharply above its neighbourhood
(``find_moving_seams``).
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
    # Moving seams: temporal change is compared between adjacent columns (rows) averaged
    # over bands of this many pixels, which keeps it from following single-pixel texture.
    seam_band: int = 6
    # A seam's disagreement (0: the two sides change alike, about 0.7: independently) must
    # exceed the median of the columns around it by this much. On the benchmark's clips a
    # true seam stood 0.5 to 0.75 above its surroundings and no column of a single clip
    # more than 0.18.
    seam_contrast: float = 0.3
    seam_window: int = 15
    max_seams_per_axis: int = 2


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
        if all(box_iou(box, other) < 0.5 for other in chosen):
            chosen.append(box)
    return [(y0 / (h - 1), y1 / (h - 1), x0 / (w - 1), x1 / (w - 1)) for y0, y1, x0, x1 in chosen]


def find_moving_seams(frames: np.ndarray, config: LayoutConfig | None = None) -> list[Box]:
    """The pictures of a side-by-side or stacked layout of moving clips (frame fractions):
    the pieces between seams found by temporal change, each at least ``min_side_fraction``
    of the frame across. Empty when no seam stands out or there are fewer than 3 frames."""
    cfg = config or LayoutConfig()
    if len(frames) < 3:
        return []
    h, w = frames.shape[1:3]
    scale = min(1.0, cfg.work_width / max(h, w))
    size = (max(16, round(w * scale)), max(16, round(h * scale)))
    luma = np.stack(
        [
            cv2.resize(f.astype(np.float32) @ _LUMA, size, interpolation=cv2.INTER_AREA)
            for f in frames
        ]
    )
    change = np.diff(luma, axis=0)  # (T-1, h, w)
    boxes: list[Box] = []
    for vertical in (True, False):
        per_line = change if vertical else change.transpose(0, 2, 1)
        cuts = _seams(per_line, cfg)
        edges = [0.0, *cuts, 1.0]
        pieces = [
            (a, b) for a, b in zip(edges, edges[1:], strict=False) if b - a >= cfg.min_side_fraction
        ]
        if len(pieces) < 2:
            continue
        for a, b in pieces:
            boxes.append((0.0, 1.0, a, b) if vertical else (a, b, 0.0, 1.0))
    return boxes


def _seams(change: np.ndarray, cfg: LayoutConfig) -> list[float]:
    """Seams between columns of ``change`` (T-1, H, W), as fractions of the width."""
    steps, height, width = change.shape
    bands = max(1, height // cfg.seam_band)
    banded = change[:, : bands * cfg.seam_band].reshape(steps, bands, -1, width).mean(axis=2)
    left, right = banded[:, :, :-1], banded[:, :, 1:]
    # 0 when the columns change alike, 1 when one changes and the other does not, about
    # 0.7 when they change independently.
    disagreement = np.abs(left - right).sum(axis=(0, 1)) / (
        (np.abs(left) + np.abs(right)).sum(axis=(0, 1)) + 1e-3
    )
    if len(disagreement) < cfg.seam_window:
        return []
    half = cfg.seam_window // 2
    padded = np.pad(disagreement, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, cfg.seam_window)
    contrast = disagreement - np.median(windows, axis=1)
    margin = max(2, int(cfg.min_side_fraction * width) - 1)
    contrast[:margin] = 0
    contrast[len(contrast) - margin :] = 0
    picked: list[int] = []
    for index in np.argsort(contrast)[::-1]:
        if contrast[index] < cfg.seam_contrast or len(picked) >= cfg.max_seams_per_axis:
            break
        if all(abs(int(index) - p) > half for p in picked):
            picked.append(int(index))
    # Column pair (i, i + 1) meets at i + 1 pixels from the left edge.
    return sorted((p + 1) / width for p in picked)


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (top, bottom, left, right) boxes."""
    top, bottom = max(a[0], b[0]), min(a[1], b[1])
    left, right = max(a[2], b[2]), min(a[3], b[3])
    inter = max(0, bottom - top) * max(0, right - left)
    area = (a[1] - a[0]) * (a[3] - a[2]) + (b[1] - b[0]) * (b[3] - b[2]) - inter
    return inter / area if area else 0.0
