"""Visible animated watermark for free-tier downloads.

A translucent badge (logo disc + label) glides between the four corner regions, changing
corner every couple of seconds, so a single static crop or blur box cannot remove it from the
whole clip. It is drawn after the invisible watermark and before encoding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from provenance.errors import InvalidPayload


@dataclass(frozen=True)
class VisibleWatermarkStyle:
    label: str = "AI-generated - Clearframe"
    opacity: float = 0.55
    dwell_s: float = 2.0  # time spent in one corner
    glide_s: float = 0.6  # time to move to the next corner
    height_fraction: float = 0.075  # badge height relative to the frame height


def _badge(label: str, height: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """White badge on transparent background: (rgb, alpha), both float32 in [0, 1]."""
    # cv2's Hershey fonts are ASCII only.
    text = label.encode("ascii", "replace").decode("ascii").replace("?", "-")
    scale = height / 30.0
    thickness = max(1, int(round(height / 14)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(2, height // 5)
    width = height + pad + tw + pad
    alpha = np.zeros((height, width), dtype=np.uint8)
    r = height // 2 - 1
    cv2.circle(alpha, (height // 2, height // 2), r, 255, max(1, height // 10), cv2.LINE_AA)
    # A play-triangle inside the disc reads as "video" at small sizes.
    tri = np.array(
        [[height * 0.4, height * 0.3], [height * 0.72, height * 0.5], [height * 0.4, height * 0.7]],
        dtype=np.int32,
    )
    cv2.fillPoly(alpha, [tri], 255, cv2.LINE_AA)
    org = (height + pad, (height + th) // 2)
    cv2.putText(alpha, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
    a = alpha.astype(np.float32) / 255.0
    # A soft dark halo keeps the white mark legible on bright content.
    halo = cv2.GaussianBlur(a, (0, 0), max(1.0, height / 12))
    rgb = np.repeat(a[:, :, None], 3, axis=2)
    alpha_out = np.clip(np.maximum(a, halo * 0.6), 0, 1)
    return rgb, alpha_out


def _position(
    t: float, style: VisibleWatermarkStyle, slots: list[tuple[int, int]]
) -> tuple[int, int]:
    period = style.dwell_s + style.glide_s
    k = int(t // period)
    u = (t - k * period - style.dwell_s) / style.glide_s
    a, b = slots[k % len(slots)], slots[(k + 1) % len(slots)]
    if u <= 0:
        return a
    ease = 0.5 - 0.5 * math.cos(math.pi * min(u, 1.0))
    return (int(round(a[0] + (b[0] - a[0]) * ease)), int(round(a[1] + (b[1] - a[1]) * ease)))


def apply_visible_watermark(
    frames: NDArray[np.uint8], fps: float, style: VisibleWatermarkStyle | None = None
) -> NDArray[np.uint8]:
    """Return a copy of RGB uint8 frames (T, H, W, 3) with the animated badge blended in."""
    style = style or VisibleWatermarkStyle()
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise InvalidPayload(
            f"frames must be uint8 shaped (T, H, W, 3), got {arr.dtype} {arr.shape}"
        )
    if fps <= 0:
        raise InvalidPayload(f"fps must be positive, got {fps}")
    _, h, w, _ = arr.shape
    badge_h = max(12, int(round(h * style.height_fraction)))
    rgb, alpha = _badge(style.label, badge_h)
    bh, bw = alpha.shape
    if bw > w - 4:
        # Narrow frames: shrink the badge to fit instead of failing.
        scale = (w - 4) / bw
        rgb = np.asarray(
            cv2.resize(rgb, (w - 4, max(4, int(bh * scale))), interpolation=cv2.INTER_AREA),
            dtype=np.float32,
        )
        alpha = np.asarray(
            cv2.resize(alpha, (w - 4, max(4, int(bh * scale))), interpolation=cv2.INTER_AREA),
            dtype=np.float32,
        )
        bh, bw = alpha.shape
    margin_x, margin_y = max(2, w // 40), max(2, h // 25)
    slots = [
        (margin_x, margin_y),
        (w - bw - margin_x, h - bh - margin_y),
        (w - bw - margin_x, margin_y),
        (margin_x, h - bh - margin_y),
    ]
    slots = [(min(max(0, x), w - bw), min(max(0, y), h - bh)) for x, y in slots]
    out = arr.copy()
    a3 = (alpha * style.opacity)[:, :, None]
    ink = rgb * 255.0
    for i in range(arr.shape[0]):
        x, y = _position(i / fps, style, slots)
        region = out[i, y : y + bh, x : x + bw].astype(np.float32)
        # Dark halo where the badge alpha exceeds its white ink.
        blended = region * (1.0 - a3) + ink * a3
        out[i, y : y + bh, x : x + bw] = np.clip(blended, 0, 255).astype(np.uint8)
    return out
