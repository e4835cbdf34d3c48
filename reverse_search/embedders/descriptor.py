"""A frame descriptor for copy detection that needs no downloaded weights.

Each frame is reduced to its content box (uniform bars of letterboxing or pillarboxing are
trimmed, whatever their colour), resized to a small square, its luminance histogram
equalised (a rank transform: brightness, contrast and gamma changes move it little, and a
caption's saturated white cannot dominate it), and described by three blocks:

- low-frequency DCT coefficients of luminance (the layout of light and shade), without the
  DC term;
- a 4x4 grid of gradient-orientation histograms (edges and texture, robust to re-encoding),
  clipped SIFT-style so one strong local edge cannot dominate;
- a 4x4 grid of opponent-colour means (what the luminance blocks cannot see).

Blocks are normalised separately, weighted, concatenated and L2-normalised; the index
PCA-whitens them with statistics fitted on the archive. Edits the archive never contains
are handled on the query side: a horizontally flipped view, each picture detected inside
the frame (``layout.py``: picture-in-picture, blurred fill, mosaic tiles, the halves of a
side-by-side pair) and a grid of half-size regions as a fallback. The one edit a query
cannot undo, a 9:16 reframe that keeps a third of a wide frame, is met on the archive side:
wide archived frames are also indexed by a 9:16 window (``embed_reference``).

Every setting was chosen with ``bench/copy_detection.py`` and a frame-level proxy of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from reverse_search.embedders.base import check_frames, l2_normalize
from reverse_search.embedders.layout import (
    Box,
    box_iou,
    find_inner_pictures,
    find_moving_seams,
)

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Crops described per vectorised pass. Past about a dozen crops the pass's temporaries
# (megabytes) miss the cache and fault in fresh pages: describing a query took 1.9x as long
# in passes of 16 to 48 crops as in passes of 6 to 12 (paired runs on the benchmark's queries).
_CHUNK = 8


@dataclass(frozen=True)
class DescriptorConfig:
    size: int = 64
    dct_size: int = 32
    dct_max_order: int = 5
    grid: int = 4
    orientations: int = 8
    weight_dct: float = 1.0
    weight_gradients: float = 1.0
    weight_colour: float = 1.0
    # SIFT-style clipping of the normalised gradient block: one very strong local edge (a
    # caption, a logo) cannot dominate it. None disables.
    gradient_clip: float | None = 0.2
    # Equalise the luminance histogram of each view first (crushed or clipped contrast).
    equalize: bool = True
    # A row or column is a bar when its luminance varies less than this (0..1 scale) and
    # matches the outermost line; compression noise on a flat bar stays well below it.
    bar_std: float = 0.035
    bar_mean_delta: float = 0.06
    max_trim_fraction: float = 0.42
    query_flip: bool = True
    # Further views of the whole query frame, each derived from its descriptor by a signed
    # permutation (no second description): a vertical flip, rotations by 180 and 90 degrees
    # either way, and a colour negative (see ``symmetry``).
    query_symmetries: tuple[str, ...] = ("vflip", "rot180", "rot90", "rot270", "negative")
    # Sub-regions (relative size, positions per axis) searched for picture-in-picture.
    pip_regions: tuple[tuple[float, int], ...] = field(default=((0.5, 3),))
    # Pictures found inside the query (PiP, blurred fill, mosaic tiles) become extra views.
    detect_pictures: bool = True
    # Below this many frames nothing tells static picture borders from content edges.
    detect_min_frames: int = 3
    # Archived frames wider than this (width / height of their content) are also indexed
    # by a 9:16 window: a vertical reframe keeps only a third of a 16:9 frame, which no view
    # of the query can turn back into the whole frame. Positions run from 0 (left edge) to 1
    # (right edge); with ``reframe_cycle`` each frame gets one window and consecutive frames
    # take the positions in turn, so the index grows by one row per frame, not three.
    # Empty positions: whole frames only.
    reframe_min_aspect: float = 1.4
    reframe_aspect: float = 9 / 16
    reframe_positions: tuple[float, ...] = (0.5, 0.3, 0.7)
    reframe_cycle: bool = True
    # Windows for every n-th archived frame only.
    reframe_every: int = 1

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
    squared = luma * luma
    row_mean, col_mean = luma.mean(axis=1), luma.mean(axis=0)
    row_std = np.sqrt(np.maximum(squared.mean(axis=1) - row_mean * row_mean, 0.0))
    col_std = np.sqrt(np.maximum(squared.mean(axis=0) - col_mean * col_mean, 0.0))
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
        if cfg.size % cfg.dct_size or cfg.size % cfg.grid:
            raise ValueError("size must be a multiple of dct_size and of grid")
        freq = np.arange(cfg.dct_size)
        scale = np.full(cfg.dct_size, np.sqrt(2.0 / cfg.dct_size))
        scale[0] = np.sqrt(1.0 / cfg.dct_size)
        self._dct_matrix = (
            scale[:, None]
            * np.cos(np.pi * (2 * freq[None, :] + 1) * freq[:, None] / (2 * cfg.dct_size))
        ).astype(np.float32)
        cell = cfg.size // cfg.grid
        cells = np.arange(cfg.size) // cell
        # int64: np.bincount takes int32 indices with float32 weights on a path ~6x slower.
        self._cell_base = ((cells[:, None] * cfg.grid + cells[None, :]) * cfg.orientations)[
            None
        ].astype(np.int64)
        self._dim = (
            int(self._dct_mask.sum())
            + cfg.grid * cfg.grid * cfg.orientations
            + cfg.grid * cfg.grid * 2
        )
        self._dct_frequencies = (u[self._dct_mask], v[self._dct_mask])
        if cfg.reframe_every < 1 or not all(0.0 <= p <= 1.0 for p in cfg.reframe_positions):
            raise ValueError("reframe_every must be at least 1 and positions within [0, 1]")
        for name in self.config.query_symmetries:
            if name not in SYMMETRIES:
                raise ValueError(f"unknown query symmetry {name!r}; known: {sorted(SYMMETRIES)}")
        self._symmetries = {name: self._symmetry_map(name) for name in SYMMETRIES}

    def _elementary_map(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(index, sign) with ``descriptor(g(crop)) == descriptor(crop)[index] * sign`` for
        g a horizontal flip ("h"), a vertical flip ("v"), a transpose ("t") or a negative
        ("n").

        Every step of the description commutes with these up to OpenCV's area resampling
        (not exactly symmetric for uneven scale factors: cosine above 0.99 in the tests):
        the crop becomes the same square either way, so a DCT coefficient (u, v) changes
        sign with odd v under "h" and odd u under "v" and moves to (v, u) under "t"; grid
        cells move with the pixels; an unsigned orientation angle t becomes 180 - t under
        a flip (bin o -> -o mod bins) and 90 - t under a transpose (o -> bins/2 - o). A
        negative reverses the equalised luminance (DCT signs flip; orientation is unsigned
        and unchanged) and negates both opponent colours (R - G and R + G - 2B).
        """
        cfg = self.config
        grid, bins = cfg.grid, cfg.orientations
        fu, fv = self._dct_frequencies
        n_dct = len(fu)
        position = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(fu, fv, strict=True))}
        row, col = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
        ori = np.arange(bins)
        dct_index = np.arange(n_dct)
        dct_sign = np.ones(n_dct, dtype=np.float32)
        colour_sign = 1.0
        ori_from = ori
        src_row, src_col = row, col
        if name == "h":
            dct_sign = np.where(fv % 2 == 1, -1.0, 1.0).astype(np.float32)
            src_col, ori_from = grid - 1 - col, -ori % bins
        elif name == "v":
            dct_sign = np.where(fu % 2 == 1, -1.0, 1.0).astype(np.float32)
            src_row, ori_from = grid - 1 - row, -ori % bins
        elif name == "t":
            dct_index = np.array([position[(int(b), int(a))] for a, b in zip(fu, fv, strict=True)])
            src_row, src_col, ori_from = col, row, (bins // 2 - ori) % bins
        elif name == "n":
            dct_sign = -dct_sign
            colour_sign = -1.0
        else:
            raise ValueError(f"unknown elementary symmetry {name!r}")
        cell = (src_row * grid + src_col).ravel()
        gradient = (cell[:, None] * bins + ori_from[None, :]).ravel()
        index = np.concatenate(
            [
                dct_index,
                n_dct + gradient,
                n_dct + grid * grid * bins + np.concatenate([cell, grid * grid + cell]),
            ]
        )
        sign = np.concatenate(
            [dct_sign, np.ones(len(gradient), np.float32), np.full(2 * len(cell), colour_sign)]
        ).astype(np.float32)
        return index, sign

    def _symmetry_map(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        index, sign = np.arange(self._dim), np.ones(self._dim, dtype=np.float32)
        for step in SYMMETRIES[name]:
            step_index, step_sign = self._elementary_map(step)
            # Applying a then b: d[a][b] = d[a_index[b_index]] * a_sign[b_index] * b_sign.
            index, sign = index[step_index], sign[step_index] * step_sign
        return index, sign

    def symmetry(self, name: str, descriptors: np.ndarray) -> np.ndarray:
        """Descriptors of the crops with the edit ``name`` undone (see SYMMETRIES), derived
        from the descriptors themselves."""
        index, sign = self._symmetries[name]
        return descriptors[..., index] * sign

    def mirror(self, descriptors: np.ndarray) -> np.ndarray:
        """Descriptors of the horizontally mirrored crops, from the descriptors themselves."""
        return self.symmetry("hflip", descriptors)

    @property
    def name(self) -> str:
        return f"visual-descriptor-v2-{self.config.fingerprint()}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, frames: np.ndarray) -> np.ndarray:
        frames = check_frames(frames)
        return self._describe_batch([self._content(frame) for frame in frames])

    def embed_reference(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows to index for archived frames and the frame each describes: every whole
        frame, then, for frames whose content is wide, its 9:16 windows."""
        frames = check_frames(frames)
        cfg = self.config
        crops, frame_of = [], []
        for i, frame in enumerate(frames):
            content = self._content(frame)
            crops.append(content)
            frame_of.append(i)
            h, w = content.shape[:2]
            window = max(8, int(round(h * cfg.reframe_aspect)))
            if (
                not cfg.reframe_positions
                or w < cfg.reframe_min_aspect * h
                or window >= w
                or i % cfg.reframe_every
            ):
                continue
            positions = cfg.reframe_positions
            if cfg.reframe_cycle:
                turn = (i // cfg.reframe_every) % len(positions)
                positions = positions[turn : turn + 1]
            for position in positions:
                x0 = int(round(position * (w - window)))
                crops.append(content[:, x0 : x0 + window])
                frame_of.append(i)
        return self._describe_batch(crops), np.asarray(frame_of, dtype=np.int64)

    def embed_query(self, frames: np.ndarray) -> np.ndarray:
        """Views per frame: whole, flipped, each detected inner picture (and flipped), and
        the fixed grid of sub-regions. Pictures are detected once for the whole query, so
        every frame has the same views."""
        frames = check_frames(frames)
        cfg = self.config
        detect = cfg.detect_pictures and len(frames) >= cfg.detect_min_frames
        pictures = _pictures(frames) if detect else []
        crops = [self._query_crops(frame, pictures) for frame in frames]
        # Crops of all frames go through one call (described in chunks of _CHUNK), not one
        # call per frame: the mirrored views are derived afterwards in one gather.
        described = self._describe_batch([c for per_frame in crops for c in per_frame])
        described = described.reshape(len(frames), len(crops[0]), self.dim)
        whole_and_pictures = described[:, : 1 + len(pictures)]
        regions = described[:, 1 + len(pictures) :]
        whole = described[:, :1]
        symmetric = [self.symmetry(name, whole) for name in cfg.query_symmetries]
        if cfg.query_flip:
            # Each of the whole frame and the pictures is followed by its mirror image.
            paired = np.stack([whole_and_pictures, self.mirror(whole_and_pictures)], axis=2)
            whole_and_pictures = paired.reshape(len(frames), -1, self.dim)
        return np.concatenate([whole_and_pictures, *symmetric, regions], axis=1)

    def view_families(self, view_count: int) -> np.ndarray:
        """Family per view in ``embed_query``'s order: the whole frame, the pictures and the
        regions are family 0; mirrored views family 1; each further symmetry its own."""
        cfg = self.config
        flip = int(cfg.query_flip)
        pictures, left = divmod(view_count - self.query_view_count, 1 + flip)
        if left or pictures < 0:
            raise ValueError(f"{view_count} views do not fit this descriptor's layout")
        whole_and_pictures = np.tile(np.arange(1 + flip), 1 + pictures)
        symmetric = 1 + flip + np.arange(len(cfg.query_symmetries))
        regions = np.zeros(sum(n * n for _, n in cfg.pip_regions), dtype=np.int64)
        return np.concatenate([whole_and_pictures, symmetric, regions]).astype(np.int64)

    @property
    def query_view_count(self) -> int:
        """Views per frame of a query in which no inner picture was detected."""
        cfg = self.config
        return (
            1
            + int(cfg.query_flip)
            + len(cfg.query_symmetries)
            + sum(n * n for _, n in cfg.pip_regions)
        )

    def _query_crops(self, frame: np.ndarray, pictures: list[Box]) -> list[np.ndarray]:
        """The un-mirrored crops of a query frame: whole, each inner picture, the regions."""
        cfg = self.config
        rgb = frame.astype(np.float32) * (1.0 / 255.0)
        content = self._trim(rgb)
        crops = [content]
        fh, fw = rgb.shape[:2]
        for top, bottom, left, right in pictures:
            inner = rgb[
                int(round(top * fh)) : max(int(round(bottom * fh)), int(round(top * fh)) + 8),
                int(round(left * fw)) : max(int(round(right * fw)), int(round(left * fw)) + 8),
            ]
            crops.append(self._trim(inner))
        h, w = content.shape[:2]
        for scale, per_axis in cfg.pip_regions:
            rh, rw = max(8, int(round(h * scale))), max(8, int(round(w * scale)))
            ys = np.linspace(0, h - rh, per_axis).round().astype(int)
            xs = np.linspace(0, w - rw, per_axis).round().astype(int)
            for y in ys:
                for x in xs:
                    # Regions of the already trimmed content: no bars left to find.
                    crops.append(content[y : y + rh, x : x + rw])
        return crops

    def _content(self, frame: np.ndarray) -> np.ndarray:
        return self._trim(frame.astype(np.float32) * (1.0 / 255.0))

    def _trim(self, rgb: np.ndarray) -> np.ndarray:
        top, bottom, left, right = content_box(rgb @ _LUMA, self.config)
        return rgb[top:bottom, left:right]

    def _describe_batch(self, crops: list[np.ndarray]) -> np.ndarray:
        """Descriptors of RGB float crops (V, dim), vectorised over chunks of crops."""
        if len(crops) <= _CHUNK:
            return self._describe_chunk(crops)
        return np.concatenate(
            [self._describe_chunk(crops[i : i + _CHUNK]) for i in range(0, len(crops), _CHUNK)]
        )

    def _describe_chunk(self, crops: list[np.ndarray]) -> np.ndarray:
        cfg = self.config
        size, grid = cfg.size, cfg.grid
        squares = np.stack(
            [
                cv2.resize(np.ascontiguousarray(c), (size, size), interpolation=cv2.INTER_AREA)
                for c in crops
            ]
        )
        n = len(squares)
        luma = squares @ _LUMA  # (V, S, S)
        if cfg.equalize:
            luma = np.stack(
                [
                    cv2.equalizeHist(np.clip(view * 255.0, 0, 255).astype(np.uint8)).astype(
                        np.float32
                    )
                    / 255.0
                    for view in luma
                ]
            )

        # A box average to the DCT size (INTER_AREA for an integer factor), then the
        # orthonormal 2-D DCT-II as two matrix products for all views at once. NumPy's mean
        # over reshaped, strided axes was the slowest step of a whole description.
        dct_size = (cfg.dct_size, cfg.dct_size)
        small = np.stack([cv2.resize(v, dct_size, interpolation=cv2.INTER_AREA) for v in luma])
        dct = (self._dct_matrix @ small @ self._dct_matrix.T)[:, self._dct_mask]

        gx = np.empty_like(luma)
        gy = np.empty_like(luma)
        for i in range(n):
            blurred = cv2.GaussianBlur(luma[i], (0, 0), 1.0)
            gx[i] = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
            gy[i] = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
        # OpenCV's polar conversion is several times faster than hypot + arctan2 in numpy.
        magnitude, degrees = cv2.cartToPolar(
            gx.reshape(-1, size), gy.reshape(-1, size), angleInDegrees=True
        )
        magnitude = magnitude.reshape(n, size, size)
        # Unsigned orientation: an edge seen after a brightness inversion or a flip of the
        # gradient sign still falls in the same bin. Degrees [0, 360) map to [0, 2 * bins);
        # folding the integer part onto [0, bins) is the same as taking the angle mod 180.
        orientations = cfg.orientations
        position = degrees.reshape(n, size, size) * np.float32(orientations / 180.0)
        low = np.minimum(position.astype(np.int32), 2 * orientations - 1)
        frac = position - low.astype(np.float32)
        low[low >= orientations] -= orientations
        high = low + 1
        high[high == orientations] = 0
        bins = grid * grid * orientations
        offsets = (np.arange(n, dtype=np.int64) * bins)[:, None, None] + self._cell_base
        weight_high = magnitude * frac
        # Soft assignment to the two nearest orientation bins of the pixel's cell, as two
        # bincounts: one over both halves concatenated spent most of its time copying.
        hist = np.bincount((offsets + low).ravel(), (magnitude - weight_high).ravel(), n * bins)
        hist += np.bincount((offsets + high).ravel(), weight_high.ravel(), n * bins)
        gradients = np.sqrt(np.maximum(hist, 0.0)).reshape(n, bins).astype(np.float32)
        if cfg.gradient_clip is not None:
            gradients = np.minimum(_unit_rows(gradients, floor=1e-3), cfg.gradient_clip)

        # Opponent colours are linear, so the cell means of the opponents are the opponents
        # of the cells' mean colour (a box average by OpenCV, as above).
        cells = np.stack(
            [cv2.resize(sq, (grid, grid), interpolation=cv2.INTER_AREA) for sq in squares]
        )
        opponent_1 = (cells[..., 0] - cells[..., 1]) * 0.7071
        opponent_2 = (cells[..., 0] + cells[..., 1] - 2.0 * cells[..., 2]) * 0.4082
        colour = np.concatenate([opponent_1.reshape(n, -1), opponent_2.reshape(n, -1)], axis=1)
        return l2_normalize(
            np.concatenate(
                [
                    cfg.weight_dct * _unit_rows(dct, floor=1e-3),
                    cfg.weight_gradients * _unit_rows(gradients, floor=1e-3),
                    # Grey frames have near-zero chroma; the floor keeps their noise small
                    # instead of normalising it up to full weight.
                    cfg.weight_colour * _unit_rows(colour, floor=0.05),
                ],
                axis=1,
            )
        )


def _pictures(frames: np.ndarray) -> list[Box]:
    """Pictures inside the query: the pieces of a side-by-side or stacked layout of moving
    clips, then rectangles with static borders that overlap none of them much."""
    found = find_moving_seams(frames)
    for box in find_inner_pictures(frames):
        if all(box_iou(box, other) < 0.5 for other in found):
            found.append(box)
    return found


# Query views named after the edit they undo, as sequences of elementary symmetries ("h"
# horizontal flip, "v" vertical flip, "t" transpose, "n" negative) applied in order: the
# "rot90" view of a query that was turned 90 degrees counter-clockwise (np.rot90) is the
# original's descriptor. np.rot90 is a transpose followed by a vertical flip, so undoing it
# is a transpose followed by a horizontal flip.
SYMMETRIES: dict[str, tuple[str, ...]] = {
    "hflip": ("h",),
    "vflip": ("v",),
    "rot180": ("h", "v"),
    "rot90": ("t", "h"),
    "rot270": ("t", "v"),
    "negative": ("n",),
}


def _unit_rows(x: np.ndarray, floor: float) -> np.ndarray:
    norms = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), floor)
    return (x / norms).astype(np.float32)
