"""Invisible video watermark carrying a 64-bit generation serial.

Why not ``invisible-watermark``'s dwtDct: it hides bits in the mid-frequency DCT coefficients
of 4x4 blocks of the DWT band at the frame's own pixel grid, so a 50 % downscale or any crop
that shifts the block grid loses the payload (``bench/provenance.py`` measures it).

Scheme used here (keyed, blind, no model):

* The frame is divided into a fixed grid of ``GRID_COLS x GRID_ROWS`` cells **in normalised
  frame coordinates**, so the grid scales with the frame. Each cell gets a sign: a third of
  the cells are *pilot* cells (a keyed pseudo-random sign pattern used only for
  synchronisation), the rest carry the codeword (64-bit serial + CRC-16, each bit repeated
  over 8 cells scattered across the frame, XOR-ed with a keyed pseudo-random sign).
* The sign grid is upsampled with cubic interpolation into a smooth low-frequency pattern
  and added, identically, to the luminance of every frame at a few grey levels. Low
  frequency survives H.264 quantisation and downscaling; the identical pattern in every frame
  lets the detector average the residual of all frames, which cancels the moving content.
* Detection: decode frames, take a high-passed luminance residual at a working resolution,
  average it over frames, then search crop/scale hypotheses (and a horizontal flip) by FFT
  cross-correlation with the pilot pattern. At the best alignment, soft-decode each bit from
  its cells, check the CRC and, if it fails, flip the least reliable bits (Chase decoding).
  A payload is reported only when the CRC matches, so a false detection needs both a pilot
  peak and a 16-bit CRC collision.
"""

from __future__ import annotations

import binascii
import hashlib
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.signal import fftconvolve

from provenance.errors import InvalidPayload

GRID_COLS = 40
GRID_ROWS = 24
PAYLOAD_BITS = 64
CRC_BITS = 16
CODE_BITS = PAYLOAD_BITS + CRC_BITS
REPEAT = 8
WORK_HEIGHT = 144
DEFAULT_STRENGTH = 4.0
_HIGHPASS_SIGMA = 3.0
# Crop fractions searched per axis (fraction of the original side that is missing).
_COARSE_CROPS = np.round(np.arange(0.0, 0.3001, 0.025), 4)
_CHASE_BITS = 5
# Normalised pilot correlation needed before bits are read. Unmarked clips peak around
# 0.07-0.11 over the whole search; marked clips after the benchmark's attacks score 0.3-0.45.
# Between the floor and the threshold only an exact CRC match (no Chase flips) is accepted,
# which keeps short or heavily re-encoded clips detectable without loosening the false
# positive rate (a chance CRC match is 1 in 65536 per decoded alignment).
PILOT_FLOOR = 0.13
PILOT_THRESHOLD = 0.18

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _crc16(serial: int) -> int:
    return binascii.crc_hqx(serial.to_bytes(8, "big"), 0xFFFF)


def _bits_of(value: int, n: int) -> NDArray[np.int8]:
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.int8)


def _int_of(bits: NDArray[np.int8]) -> int:
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


@dataclass(frozen=True)
class WatermarkDetection:
    """What the detector found in a suspect clip."""

    serial: int | None  # None when no payload with a valid CRC was found
    pilot_score: float  # normalised correlation with the pilot at the best alignment
    bit_confidence: float  # mean |soft bit| / its spread; higher is cleaner
    crop: tuple[float, float, float, float]  # (left, top, right, bottom) fractions estimated
    flipped: bool
    corrected_bits: int  # bits flipped by Chase decoding to satisfy the CRC
    frames_used: int
    raw_bits: str = ""  # hard decisions of the 64 payload bits at the best alignment

    @property
    def found(self) -> bool:
        return self.serial is not None


@dataclass(frozen=True)
class EmbedResult:
    frames: NDArray[np.uint8]
    strength: float  # grey levels actually used
    margin: float  # weakest bit's correct-sign soft value / mean |soft|, measured after embedding


@dataclass(frozen=True)
class _Layout:
    pilot_mask: NDArray[np.bool_]  # (rows, cols)
    pilot_signs: NDArray[np.float32]  # (rows, cols), +-1 on pilot cells, 0 elsewhere
    chip_signs: NDArray[np.float32]  # (rows, cols), +-1 keyed scrambling on payload cells
    bit_of_cell: NDArray[np.int32]  # (rows, cols), codeword bit index, -1 on pilot cells


def _layout(key: bytes) -> _Layout:
    seed = np.frombuffer(hashlib.sha256(b"clearframe.wm.v1\x00" + key).digest(), dtype=np.uint32)
    rng = np.random.default_rng(seed.astype(np.uint64))
    n = GRID_ROWS * GRID_COLS
    order = rng.permutation(n)
    n_payload = CODE_BITS * REPEAT
    payload_cells = order[:n_payload]
    bit_of_cell = np.full(n, -1, dtype=np.int32)
    # Cell k of the permutation carries bit k % CODE_BITS: every bit lands on REPEAT cells
    # spread over the whole frame, so a crop removes only some of each bit's copies.
    bit_of_cell[payload_cells] = np.arange(n_payload) % CODE_BITS
    pilot_mask = bit_of_cell < 0
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n)
    pilot_signs = np.where(pilot_mask, signs, 0.0).astype(np.float32)
    chip_signs = np.where(pilot_mask, 0.0, signs).astype(np.float32)
    shape = (GRID_ROWS, GRID_COLS)
    return _Layout(
        pilot_mask=pilot_mask.reshape(shape),
        pilot_signs=pilot_signs.reshape(shape),
        chip_signs=chip_signs.reshape(shape),
        bit_of_cell=bit_of_cell.reshape(shape),
    )


def _upsample(grid: NDArray[np.float32], width: int, height: int) -> NDArray[np.float32]:
    up = cv2.resize(grid.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.asarray(up, dtype=np.float32)


def _residual(frame: NDArray[np.uint8], work_w: int) -> NDArray[np.float32]:
    luma = frame.astype(np.float32) @ _LUMA
    small = cv2.resize(luma, (work_w, WORK_HEIGHT), interpolation=cv2.INTER_AREA)
    # The pattern's cells are ~6 px at the working size; a blur of that order keeps them and
    # removes the smooth part of the content.
    res = small - cv2.GaussianBlur(small, (0, 0), _HIGHPASS_SIGMA)
    # Object edges give large residuals that the watermark does not; clipping keeps them from
    # dominating the average.
    return np.clip(res, -3.0, 3.0)


def _work_width(width: int, height: int) -> int:
    return max(8, int(round(WORK_HEIGHT * width / height)))


def _average(residuals: list[NDArray[np.float32]]) -> NDArray[np.float32]:
    acc = np.zeros_like(residuals[0])
    for r in residuals:
        acc += r
    acc /= len(residuals)
    # The residual is the high-passed pattern; high-passing it once more is the matched
    # filter for it (the filter is symmetric), and it measurably cuts the bit errors that
    # neighbouring cells cause through the first high-pass.
    acc -= cv2.GaussianBlur(acc, (0, 0), _HIGHPASS_SIGMA)
    return acc


def _file_residual(path: Path, max_frames: int) -> tuple[NDArray[np.float32], int]:
    """The mean residual of the frames of ``path`` that ``detect`` would use: up to
    ``max_frames``, spread evenly (``core.media.decode_evenly``)."""
    import av

    from core.media import decode_evenly, video_open_options

    def picks(count: int) -> list[int]:
        return np.unique(np.linspace(0, count - 1, min(max_frames, count)).astype(int)).tolist()

    work_w: list[int] = []  # the first frame's, as in ``detect``

    def residual(frame: Any) -> NDArray[np.float32]:
        rgb = frame.to_ndarray(format="rgb24")
        work_w[:] = work_w or [_work_width(rgb.shape[1], rgb.shape[0])]
        return _residual(rgb, work_w[0])

    try:
        with av.open(str(path), options=video_open_options()) as container:
            if not container.streams.video:
                raise InvalidPayload(f"{path.name} has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            kept = decode_evenly(container, stream, picks, residual)
    except av.FFmpegError as exc:
        raise InvalidPayload(f"cannot decode {path.name}: {exc}") from exc
    if not kept:
        raise InvalidPayload(f"{path.name} contains no decodable video frames")
    return _average(kept), len(kept)


class InvisibleWatermark:
    """Keyed embedder/detector for a 64-bit serial. The key must stay secret per deployment."""

    def __init__(self, key: bytes, strength: float = DEFAULT_STRENGTH) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < 16:
            raise InvalidPayload("watermark key must be at least 16 bytes")
        if not 0.5 <= strength <= 12.0:
            raise InvalidPayload(
                f"watermark strength must be in [0.5, 12] grey levels, got {strength}"
            )
        self._layout = _layout(bytes(key))
        self.strength = float(strength)

    # -- embedding -------------------------------------------------------------------------

    def _codeword(self, serial: int) -> NDArray[np.int8]:
        if not isinstance(serial, int) or not 0 <= serial < 2**PAYLOAD_BITS:
            raise InvalidPayload(f"serial must be an integer in [0, 2**64), got {serial!r}")
        return np.concatenate([_bits_of(serial, PAYLOAD_BITS), _bits_of(_crc16(serial), CRC_BITS)])

    def sign_grid(self, serial: int) -> NDArray[np.float32]:
        """The +-1 cell grid for ``serial`` (pilot and payload cells together)."""
        code = self._codeword(serial)
        lay = self._layout
        bit_signs = np.where(code == 1, 1.0, -1.0).astype(np.float32)
        payload = np.where(lay.bit_of_cell >= 0, bit_signs[np.maximum(lay.bit_of_cell, 0)], 0.0)
        return (lay.pilot_signs + payload * lay.chip_signs).astype(np.float32)

    def embed(self, frames: NDArray[np.uint8], serial: int) -> NDArray[np.uint8]:
        """Return a copy of RGB uint8 ``frames`` (T, H, W, 3) carrying ``serial``."""
        return self._embed_at(frames, serial, self.strength)

    def _embed_at(
        self, frames: NDArray[np.uint8], serial: int, strength: float
    ) -> NDArray[np.uint8]:
        arr = np.asarray(frames)
        if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
            raise InvalidPayload(
                f"frames must be uint8 shaped (T, H, W, 3), got {arr.dtype} {arr.shape}"
            )
        _, h, w, _ = arr.shape
        if h < GRID_ROWS * 2 or w < GRID_COLS * 2:
            raise InvalidPayload(f"frames of {w}x{h} are too small to carry the watermark")
        pattern = _upsample(self.sign_grid(serial), w, h) * strength
        delta = pattern[None, :, :, None]
        out = np.empty_like(arr)
        # Chunked so a long clip does not need a float copy of every frame at once.
        for start in range(0, arr.shape[0], 16):
            chunk = arr[start : start + 16].astype(np.float32) + delta
            out[start : start + 16] = np.clip(np.rint(chunk), 0, 255).astype(np.uint8)
        return out

    def embed_verified(
        self,
        frames: NDArray[np.uint8],
        serial: int,
        *,
        min_margin: float = 0.2,
        max_boost: float = 2.0,
    ) -> EmbedResult:
        """Embed, read the payload back from the marked frames, and raise the strength (up to
        ``max_boost`` times, capped at 12 grey levels) while the weakest bit's margin is below
        ``min_margin``.

        Some content (a fine texture near the cell size that barely moves) interferes with
        a few bits; the embedder knows the payload, so it can measure that and compensate
        where it is needed instead of marking every clip harder (informed embedding).
        """
        truth = np.where(self._codeword(serial) == 1, 1.0, -1.0)
        base = self.strength
        tried: EmbedResult | None = None
        for factor in (1.0, 1.5, max_boost):
            strength = min(12.0, base * factor)
            marked = self._embed_at(frames, serial, strength)
            acc, _ = self._mean_residual(marked)
            soft = self._soft_bits(acc, 0, 0, acc.shape[1], acc.shape[0])
            margin = float(np.min(soft * truth) / (np.mean(np.abs(soft)) or 1.0))
            tried = EmbedResult(marked, strength, round(margin, 4))
            if margin >= min_margin:
                break
        assert tried is not None
        return tried

    # -- detection -------------------------------------------------------------------------

    def detect(self, frames: NDArray[np.uint8], max_frames: int = 48) -> WatermarkDetection:
        """Look for a payload in RGB uint8 frames (T, H, W, 3) of a suspect clip."""
        acc, frames_used = self._mean_residual(frames, max_frames)
        return self._detect_in(acc, frames_used)

    def _detect_in(self, acc: NDArray[np.float32], frames_used: int) -> WatermarkDetection:
        best = self._search(acc, flipped=False)
        if best.serial is None:
            mirrored = self._search(acc[:, ::-1].copy(), flipped=True)
            if mirrored.serial is not None or mirrored.pilot_score > best.pilot_score:
                best = mirrored
        return WatermarkDetection(
            serial=best.serial,
            pilot_score=best.pilot_score,
            bit_confidence=best.bit_confidence,
            crop=best.crop,
            flipped=best.flipped,
            corrected_bits=best.corrected_bits,
            frames_used=frames_used,
            raw_bits=best.raw_bits,
        )

    def _mean_residual(
        self, frames: NDArray[np.uint8], max_frames: int = 48
    ) -> tuple[NDArray[np.float32], int]:
        arr = np.asarray(frames)
        if arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] == 0:
            raise InvalidPayload(f"frames must be shaped (T, H, W, 3), got {arr.shape}")
        idx = np.unique(np.linspace(0, arr.shape[0] - 1, min(max_frames, arr.shape[0])).astype(int))
        h, w = arr.shape[1:3]
        work_w = _work_width(w, h)
        return _average([_residual(arr[i], work_w) for i in idx]), len(idx)

    def detect_file(self, path: str | Path, max_frames: int = 48) -> WatermarkDetection:
        """As :meth:`detect` on the file's frames, decoded one at a time and only the ones used
        converted: memory stays that of one frame whatever the clip's length. A file over the
        media limits (``core.media``) raises ``MediaLimitExceeded`` before it is decoded."""
        acc, frames_used = _file_residual(Path(path), max_frames)
        return self._detect_in(acc, frames_used)

    def _correlate(
        self, residual: NDArray[np.float32], cx: float, cy: float
    ) -> tuple[float, int, int, int, int]:
        """Best pilot correlation when a fraction cx (cy) of the width (height) is missing."""
        h, w = residual.shape
        pw = max(w, int(round(w / (1.0 - cx))))
        ph = max(h, int(round(h / (1.0 - cy))))
        template = _upsample(self._layout.pilot_signs, pw, ph)
        corr = fftconvolve(template, residual[::-1, ::-1], mode="valid")
        oy, ox = np.unravel_index(int(np.argmax(corr)), corr.shape)
        window = template[oy : oy + h, ox : ox + w]
        denom = float(np.linalg.norm(window) * np.linalg.norm(residual)) or 1.0
        return float(corr[oy, ox]) / denom, int(ox), int(oy), pw, ph

    def _search(self, residual: NDArray[np.float32], flipped: bool) -> WatermarkDetection:
        # Most suspect files are re-encoded or rescaled but not cropped: try that first.
        score, ox, oy, pw, ph = self._correlate(residual, 0.0, 0.0)
        found = self._decode(residual, ox, oy, pw, ph, score, flipped)
        if found.serial is not None:
            return found
        best = (score, 0.0, 0.0)
        for cx, cy in itertools.product(_COARSE_CROPS, _COARSE_CROPS):
            s = self._correlate(residual, float(cx), float(cy))[0]
            if s > best[0]:
                best = (s, float(cx), float(cy))
        _, bcx, bcy = best
        step = float(_COARSE_CROPS[1] - _COARSE_CROPS[0]) / 2
        candidates = []
        for dx, dy in itertools.product((-step, 0.0, step), repeat=2):
            cx, cy = min(max(bcx + dx, 0.0), 0.45), min(max(bcy + dy, 0.0), 0.45)
            candidates.append((self._correlate(residual, cx, cy), cx, cy))
        candidates.sort(key=lambda c: -c[0][0])
        result = found
        for (s, ox, oy, pw, ph), _, _ in candidates[:3]:
            attempt = self._decode(residual, ox, oy, pw, ph, s, flipped)
            if attempt.serial is not None:
                return attempt
            if attempt.pilot_score > result.pilot_score:
                result = attempt
        return result

    def _soft_bits(
        self, residual: NDArray[np.float32], ox: int, oy: int, pw: int, ph: int
    ) -> NDArray[np.float64]:
        """Soft value of each codeword bit when ``residual`` sits at (ox, oy) in a pw x ph frame."""
        h, w = residual.shape
        # Place the residual back into the original frame's coordinates, then average it per
        # cell, counting only the part of each cell that survived the crop.
        canvas = np.zeros((ph, pw), dtype=np.float32)
        cover = np.zeros((ph, pw), dtype=np.float32)
        canvas[oy : oy + h, ox : ox + w] = residual
        cover[oy : oy + h, ox : ox + w] = 1.0
        cells = cv2.resize(canvas, (GRID_COLS, GRID_ROWS), interpolation=cv2.INTER_AREA)
        covered = cv2.resize(cover, (GRID_COLS, GRID_ROWS), interpolation=cv2.INTER_AREA)
        values = np.where(covered > 0.25, cells / np.maximum(covered, 1e-6), 0.0)
        lay = self._layout
        soft = np.zeros(CODE_BITS, dtype=np.float64)
        payload = lay.bit_of_cell >= 0
        np.add.at(soft, lay.bit_of_cell[payload], (values * lay.chip_signs)[payload])
        return soft

    def _decode(
        self,
        residual: NDArray[np.float32],
        ox: int,
        oy: int,
        pw: int,
        ph: int,
        score: float,
        flipped: bool,
    ) -> WatermarkDetection:
        h, w = residual.shape
        crop = (ox / pw, oy / ph, (pw - ox - w) / pw, (ph - oy - h) / ph)
        soft = self._soft_bits(residual, ox, oy, pw, ph)
        spread = float(np.std(soft)) or 1.0
        confidence = float(np.mean(np.abs(soft)) / spread)
        hard = (soft > 0).astype(np.int8)
        raw = "".join(str(int(b)) for b in hard[:PAYLOAD_BITS])
        empty = WatermarkDetection(None, score, confidence, crop, flipped, 0, 0, raw)
        if score < PILOT_FLOOR:
            return empty
        weakest = np.argsort(np.abs(soft))[:_CHASE_BITS]
        # Try flip patterns in order of how many bits they change, so the closest codeword wins.
        patterns = sorted(itertools.product((0, 1), repeat=_CHASE_BITS), key=sum)
        if score < PILOT_THRESHOLD:
            patterns = patterns[:1]
        for pattern in patterns:
            trial = hard.copy()
            for bit, flip in zip(weakest, pattern, strict=True):
                if flip:
                    trial[bit] ^= 1
            serial = _int_of(trial[:PAYLOAD_BITS])
            if _int_of(trial[PAYLOAD_BITS:]) == _crc16(serial):
                return WatermarkDetection(
                    serial, score, confidence, crop, flipped, sum(pattern), 0, raw
                )
        return empty
