"""A frame descriptor for copy detection that needs no downloaded weights.

Each frame is reduced to its content box (uniform bars of letterboxing or pillarboxing are
trimmed, whatever their colour), resized to a small square, and described by three blocks:

- low-frequency DCT coefficients of luminance (the layout of light and shade), without the
  DC term so that a brightness shift does not move the vector;
- a 4x4 grid of gradient-orientation histograms (edges and texture, robust to re-encoding
  and to contrast changes once normalised);
- a 4x4 grid of opponent-colour means (what the luminance blocks cannot see).

Blocks are normalised separately, weighted, concatenated and L2-normalised; the index
PCA-whitens them with statistics fitted on the archive. Edits the archive never contains
are handled on the query side: a horizontally flipped view, and sub-region views that find
a clip shown as picture-in-picture inside another video.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from reverse_search.embedders.base import check_frames, l2_normalize

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class DescriptorConfig:
    size: int = 64
    dct_size: int = 32
    dct_max_order: int = 7
    grid: int = 4
    orientations: int = 8
    weight_dct: float = 1.0
    weight_gradients: float = 1.0
    weight_colour: float = 0.5
    # A row or column is a bar when its luminance varies less than this (0..1 scale) and
    # matches the outermost line; compression noise on a flat bar stays well below it.
    bar_std: float = 0.035
    bar_mean_delta: float = 0.06
    max_trim_fraction: float = 0.42
    query_flip: bool = True
    # Sub-regions (relative size, positions per axis) searched for picture-in-picture.
    pip_regions: tuple[tuple[float, int], ...] = field(default=((0.5, 3),))

    def fingerprint(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:12]


def _bar_run(lines_mean: np.ndarray, lines_std: np.ndarray, cfg: DescriptorConfig) -> int:
    """Number of leading lines that look like a uniform bar of the outermost line's colour."""
    edge = lines_mean[0]
    is_bar = (lines_std < cfg.bar_std) & (np.abs(lines_mean - edge) < cfg.bar_mean_delta)
    if not is_bar[0]:
        return 0
    stops = np.flatnonzero(~is_bar)
    return int(stops[0]) if len(stops) else len(is_bar)


def content_box(luma: np.ndarray, cfg: DescriptorConfig) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the frame without uniform bars on any side."""
    h, w = luma.shape
    row_mean, row_std = luma.mean(axis=1), luma.std(axis=1)
    col_mean, col_std = luma.mean(axis=0), luma.std(axis=0)
    max_h, max_w = int(h * cfg.max_trim_fraction), int(w * cfg.max_trim_fraction)
    top = min(_bar_run(row_mean, row_std, cfg), max_h)
    bottom = min(_bar_run(row_mean[::-1], row_std[::-1], cfg), max_h)
    left = min(_bar_run(col_mean, col_std, cfg), max_w)
    right = min(_bar_run(col_mean[::-1], col_std[::-1], cfg), max_w)
    # A frame that is uniform throughout (a fade to black) keeps its full extent: there is
    # no content to find inside it, and trimming it to nothing would divide by zero later.
    if top + bottom >= h - 4 or left + right >= w - 4:
        return 0, h, 0, w
    return top, h - bottom, left, w - right


class VisualDescriptor:
    """Weight-free copy-detection descriptor (see the module docstring)."""

    def __init__(self, config: DescriptorConfig | None = None) -> None:
        self.config = config or DescriptorConfig()
        cfg = self.config
        u, v = np.meshgrid(np.arange(cfg.dct_size), np.arange(cfg.dct_size), indexing="ij")
        order = u + v
        self._dct_mask = (order > 0) & (order <= cfg.dct_max_order)
        self._dim = (
            int(self._dct_mask.sum())
            + cfg.grid * cfg.grid * cfg.orientations
            + cfg.grid * cfg.grid * 2
        )

    @property
    def name(self) -> str:
        return f"visual-descriptor-v1-{self.config.fingerprint()}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, frames: np.ndarray) -> np.ndarray:
        frames = check_frames(frames)
        return np.stack([self._describe(self._content(frame)) for frame in frames])

    def embed_query(self, frames: np.ndarray) -> np.ndarray:
        frames = check_frames(frames)
        return np.stack([self._query_views(frame) for frame in frames])

    @property
    def query_view_count(self) -> int:
        cfg = self.config
        return 1 + int(cfg.query_flip) + sum(n * n for _, n in cfg.pip_regions)

    def _query_views(self, frame: np.ndarray) -> np.ndarray:
        cfg = self.config
        content = self._content(frame)
        views = [self._describe(content)]
        if cfg.query_flip:
            views.append(self._describe(content[:, ::-1]))
        h, w = content.shape[:2]
        for scale, per_axis in cfg.pip_regions:
            rh, rw = max(8, int(round(h * scale))), max(8, int(round(w * scale)))
            ys = np.linspace(0, h - rh, per_axis).round().astype(int)
            xs = np.linspace(0, w - rw, per_axis).round().astype(int)
            for y in ys:
                for x in xs:
                    views.append(self._describe(self._trim(content[y : y + rh, x : x + rw])))
        return np.stack(views)

    def _content(self, frame: np.ndarray) -> np.ndarray:
        return self._trim(frame.astype(np.float32) * (1.0 / 255.0))

    def _trim(self, rgb: np.ndarray) -> np.ndarray:
        top, bottom, left, right = content_box(rgb @ _LUMA, self.config)
        return rgb[top:bottom, left:right]

    def _describe(self, rgb: np.ndarray) -> np.ndarray:
        cfg = self.config
        square = cv2.resize(
            np.ascontiguousarray(rgb), (cfg.size, cfg.size), interpolation=cv2.INTER_AREA
        )
        luma = square @ _LUMA

        small = cv2.resize(luma, (cfg.dct_size, cfg.dct_size), interpolation=cv2.INTER_AREA)
        dct = cv2.dct(small)[self._dct_mask]

        blurred = cv2.GaussianBlur(luma, (0, 0), 1.0)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
        magnitude, angle = cv2.cartToPolar(gx, gy)
        # Unsigned orientation: an edge seen after a brightness inversion or a flip of the
        # gradient sign still falls in the same bin.
        position = (angle % np.pi) * (cfg.orientations / np.pi)
        low = np.floor(position).astype(np.int32) % cfg.orientations
        high = (low + 1) % cfg.orientations
        frac = position - np.floor(position)
        cell = cfg.size // cfg.grid
        cell_index = (np.arange(cfg.size) // cell)[:, None] * cfg.grid + (
            np.arange(cfg.size) // cell
        )[None, :]
        base = (cell_index * cfg.orientations).ravel()
        bins = cfg.grid * cfg.grid * cfg.orientations
        weight_high = (magnitude * frac).ravel()
        hist = np.bincount(base + low.ravel(), magnitude.ravel() - weight_high, bins)
        hist += np.bincount(base + high.ravel(), weight_high, bins)
        gradients = np.sqrt(np.maximum(hist, 0.0)).astype(np.float32)

        opponent_1 = (square[..., 0] - square[..., 1]) * 0.7071
        opponent_2 = (square[..., 0] + square[..., 1] - 2.0 * square[..., 2]) * 0.4082
        colour = np.concatenate(
            [
                cv2.resize(opponent_1, (cfg.grid, cfg.grid), interpolation=cv2.INTER_AREA).ravel(),
                cv2.resize(opponent_2, (cfg.grid, cfg.grid), interpolation=cv2.INTER_AREA).ravel(),
            ]
        )
        return l2_normalize(
            np.concatenate(
                [
                    cfg.weight_dct * _unit(dct, floor=1e-3),
                    cfg.weight_gradients * _unit(gradients, floor=1e-3),
                    # Grey frames have near-zero chroma; the floor keeps their noise small
                    # instead of normalising it up to full weight.
                    cfg.weight_colour * _unit(colour, floor=0.05),
                ]
            )
        )


def _unit(x: np.ndarray, floor: float) -> np.ndarray:
    return (x / max(float(np.linalg.norm(x)), floor)).astype(np.float32)
