"""Procedural clip renderer: the built-in CPU "model".

This is NOT a learned text-to-video model. It turns ``(prompt, seed)`` into a deterministic
random scene description (a palette, a sequence of shots, each with a smooth colour-field
background, a geometric pattern layer, moving shapes and a camera path) and rasterises it
with OpenCV. It exists so the embedded default, the tests and the benchmarks produce real,
visually distinct videos with motion on a laptop without weights or a GPU.

Design choices that matter downstream:

* Content is rich at low and middle spatial frequencies (colour fields, shapes, stripes) so
  copy-detection descriptors can tell hundreds of clips apart after crops, flips and
  downscales, and so an invisible watermark has texture to hide in.
* Clips are cut into shots of 1.5-3.5 s with different layouts, so an excerpt of a clip can
  be localised in time.
* Pixel values stay inside the broadcast range [16, 235]: a watermark added on top and a
  later brightness change then rarely clip.
* An image-to-video request's image (``image=``) is not composited over a scene: the clip
  *is* the image, animated. Its first frame is the image fitted to the frame
  (:func:`fit_image`: the whole image, scaled to fit, over a blurred copy of itself that
  fills the rest), and the camera then moves into it (:func:`animate_image`): a zoom, a pan
  and a 2.5-D parallax in which the lower part of the picture (nearer, in most photos) moves
  more than the upper part. The prompt and seed choose the motion. A face in the image stays
  in every frame, as a person would in a learned model's clip; output moderation treats both
  the same way (docs/moderation.md, "Faces in outputs"). An extend is rendered as an
  image-to-video clip from the source's last frame (generator/worker.py).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from generator.errors import InvalidRenderRequest

MAX_SIDE = 4096
MAX_DURATION_S = 300.0
MAX_FPS = 120

# Image-to-video motion: how far the camera zooms in over the clip, how far the picture
# behind the fitted image is blurred, and the pseudo-depth of the top and the bottom rows.
IMAGE_ZOOM = (1.06, 1.18)
IMAGE_BACKDROP_BLUR = 0.03  # sigma, fraction of the frame's longer side
IMAGE_DEPTH = (0.35, 1.0)
IMAGE_BACKDROP_DEPTH = 0.2

_SHAPES = ("circle", "rect", "triangle", "star", "ellipse", "ring", "polygon")
_PATTERNS = ("stripes", "rings", "grid", "waves", "none")


@dataclass(frozen=True)
class _MovingShape:
    kind: str
    colour: tuple[float, float, float]
    outline: tuple[float, float, float]
    size: float  # fraction of the frame's shorter side
    start: tuple[float, float]  # fraction of width, height
    velocity: tuple[float, float]  # frame fractions per second
    wobble: tuple[float, float, float]  # amplitude (fraction), angular freq (rad/s), phase
    spin: float  # rad/s
    angle0: float
    vertices: int
    aspect: float


@dataclass(frozen=True)
class _Shot:
    start_frame: int
    end_frame: int  # exclusive
    background: NDArray[np.float32]  # canvas, float32 RGB in [0, 1]
    shapes: tuple[_MovingShape, ...]
    pan_from: tuple[float, float]  # canvas-centre offsets, fraction of the margin
    pan_to: tuple[float, float]
    zoom_from: float
    zoom_to: float
    roll: float  # radians over the shot


def _rng_for(
    prompt: str, seed: int, stream: bytes = b"clearframe.procedural.v1"
) -> np.random.Generator:
    digest = hashlib.sha256(
        stream + b"\x00" + prompt.encode("utf-8") + b"\x00" + str(seed).encode()
    ).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32).astype(np.uint64))


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[float, float, float]:
    i = int(h * 6.0) % 6
    f = h * 6.0 - math.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]


def _palette(rng: np.random.Generator, n: int) -> NDArray[np.float32]:
    base = rng.random()
    scheme = rng.integers(0, 4)
    offsets = {
        0: [0.0, 0.08, -0.08, 0.16, -0.16],  # analogous
        1: [0.0, 0.5, 0.04, 0.54, -0.04],  # complementary
        2: [0.0, 1 / 3, 2 / 3, 0.1, 0.43],  # triadic
        3: list(rng.random(5)),  # free
    }[int(scheme)]
    colours = []
    for k in range(n):
        h = (base + offsets[k % len(offsets)] + rng.normal(0, 0.02)) % 1.0
        s = float(np.clip(rng.uniform(0.35, 1.0), 0, 1))
        v = float(np.clip(rng.uniform(0.3, 1.0), 0, 1))
        colours.append(_hsv_to_rgb(h, s, v))
    return np.asarray(colours, dtype=np.float32)


def _background(
    rng: np.random.Generator, palette: NDArray[np.float32], cw: int, ch: int
) -> NDArray[np.float32]:
    k = palette.shape[0]
    # Smooth blend of palette colours: low-resolution logits upsampled, then a softmax whose
    # temperature sets how hard the region borders are.
    gw, gh = int(rng.integers(3, 9)), int(rng.integers(2, 7))
    logits = rng.normal(0, 1, (gh, gw, k)).astype(np.float32)
    logits = np.asarray(
        cv2.resize(logits, (cw, ch), interpolation=cv2.INTER_CUBIC), dtype=np.float32
    )
    if logits.ndim == 2:  # k == 1 collapses the channel axis
        logits = logits[:, :, None]
    sharpness = float(rng.uniform(1.5, 6.0))
    logits = logits * sharpness
    logits -= logits.max(axis=2, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=2, keepdims=True)
    canvas = weights.reshape(-1, k) @ palette
    canvas = canvas.reshape(ch, cw, 3)

    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    xx /= max(cw, ch)
    yy /= max(cw, ch)
    pattern = str(rng.choice(_PATTERNS))
    theta = rng.uniform(0, math.pi)
    period = float(rng.uniform(0.03, 0.15))
    if pattern == "stripes":
        layer = np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period)
    elif pattern == "rings":
        cx, cy = rng.uniform(0.2, 0.8, 2)
        layer = np.sin(2 * math.pi * np.hypot(xx - cx, yy - cy) / period)
    elif pattern == "grid":
        layer = np.sin(2 * math.pi * xx / period) * np.sin(2 * math.pi * yy / period)
    elif pattern == "waves":
        layer = np.sin(2 * math.pi * (xx + 0.05 * np.sin(2 * math.pi * yy / (period * 3))) / period)
    else:
        layer = np.zeros_like(xx)
    tint = palette[int(rng.integers(0, k))]
    alpha = float(rng.uniform(0.1, 0.3))
    canvas = canvas * (1 - alpha * 0.5) + alpha * 0.5 * (layer[:, :, None] * 0.5 + 0.5) * tint

    # Mid-frequency luminance texture (upsampled noise) gives every region some detail.
    tex = rng.normal(0, 1, (max(ch // 12, 2), max(cw // 12, 2))).astype(np.float32)
    tex = np.asarray(cv2.resize(tex, (cw, ch), interpolation=cv2.INTER_CUBIC), dtype=np.float32)
    canvas = canvas * (1.0 + float(rng.uniform(0.04, 0.12)) * tex[:, :, None])
    return np.clip(canvas, 0.0, 1.0).astype(np.float32)


def _shape(rng: np.random.Generator, palette: NDArray[np.float32]) -> _MovingShape:
    k = palette.shape[0]
    colour = palette[int(rng.integers(0, k))] * rng.uniform(0.6, 1.25)
    outline = palette[int(rng.integers(0, k))] * rng.uniform(0.2, 1.0)
    speed = rng.uniform(0.02, 0.25)
    heading = rng.uniform(0, 2 * math.pi)
    return _MovingShape(
        kind=str(rng.choice(_SHAPES)),
        colour=tuple(float(c) for c in np.clip(colour, 0, 1)),  # type: ignore[arg-type]
        outline=tuple(float(c) for c in np.clip(outline, 0, 1)),  # type: ignore[arg-type]
        size=float(rng.uniform(0.06, 0.3)),
        start=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))),
        velocity=(float(speed * math.cos(heading)), float(speed * math.sin(heading))),
        wobble=(
            float(rng.uniform(0.0, 0.08)),
            float(rng.uniform(0.5, 4.0)),
            float(rng.uniform(0, 2 * math.pi)),
        ),
        spin=float(rng.uniform(-2.0, 2.0)),
        angle0=float(rng.uniform(0, 2 * math.pi)),
        vertices=int(rng.integers(5, 9)),
        aspect=float(rng.uniform(0.4, 1.0)),
    )


def _plan(
    rng: np.random.Generator, width: int, height: int, n_frames: int, fps: int
) -> list[_Shot]:
    palette = _palette(rng, int(rng.integers(3, 6)))
    margin = 1.35
    cw, ch = int(math.ceil(width * margin)), int(math.ceil(height * margin))
    shots: list[_Shot] = []
    frame = 0
    while frame < n_frames:
        length = max(1, int(round(rng.uniform(1.5, 3.5) * fps)))
        end = min(n_frames, frame + length)
        # A remaining tail shorter than half a second is folded into this shot.
        if n_frames - end < fps // 2:
            end = n_frames
        # Each shot drifts the palette a little so shots differ yet belong to one clip.
        drift = np.clip(palette * rng.uniform(0.8, 1.2, palette.shape), 0, 1).astype(np.float32)
        shots.append(
            _Shot(
                start_frame=frame,
                end_frame=end,
                background=_background(rng, drift, cw, ch),
                shapes=tuple(_shape(rng, drift) for _ in range(int(rng.integers(3, 9)))),
                pan_from=(float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))),
                pan_to=(float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))),
                zoom_from=float(rng.uniform(1.0, 1.3)),
                zoom_to=float(rng.uniform(1.0, 1.3)),
                roll=float(rng.uniform(-0.15, 0.15)),
            )
        )
        frame = end
    return shots


def _shape_points(s: _MovingShape, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    if s.kind == "rect":
        base = np.array([[-1, -s.aspect], [1, -s.aspect], [1, s.aspect], [-1, s.aspect]])
    elif s.kind == "triangle":
        base = np.array([[0, -1], [0.87, 0.5], [-0.87, 0.5]])
    elif s.kind == "star":
        n = s.vertices
        ang = np.arange(2 * n) * math.pi / n
        rad = np.where(np.arange(2 * n) % 2 == 0, 1.0, 0.45)
        base = np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
    else:  # polygon
        ang = np.arange(s.vertices) * 2 * math.pi / s.vertices
        base = np.stack([np.cos(ang), s.aspect * np.sin(ang)], axis=1)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = base @ rot.T * r + np.array([cx, cy])
    return np.round(pts * 16).astype(np.int32)  # 4 fractional bits for cv2's shift argument


def _draw_shape(img: np.ndarray, s: _MovingShape, t: float, width: int, height: int) -> None:
    wx = s.wobble[0] * math.sin(s.wobble[1] * t + s.wobble[2])
    wy = s.wobble[0] * math.cos(s.wobble[1] * t + s.wobble[2])
    # Positions wrap around so fast shapes re-enter instead of leaving an empty frame.
    fx = (s.start[0] + s.velocity[0] * t + wx + 0.2) % 1.4 - 0.2
    fy = (s.start[1] + s.velocity[1] * t + wy + 0.2) % 1.4 - 0.2
    cx, cy = fx * width, fy * height
    r = s.size * min(width, height) * (1.0 + 0.15 * math.sin(1.3 * t + s.angle0))
    angle = s.angle0 + s.spin * t
    colour = tuple(c * 255.0 for c in s.colour)
    outline = tuple(c * 255.0 for c in s.outline)
    thick = max(1, int(r * 0.08))
    c16 = (int(cx * 16), int(cy * 16))
    if s.kind == "circle":
        cv2.circle(img, c16, int(r * 16), colour, -1, cv2.LINE_AA, 4)
        cv2.circle(img, c16, int(r * 16), outline, thick, cv2.LINE_AA, 4)
    elif s.kind == "ring":
        cv2.circle(img, c16, int(r * 16), colour, max(2, int(r * 0.3)), cv2.LINE_AA, 4)
    elif s.kind == "ellipse":
        axes = (int(r * 16), int(r * s.aspect * 16))
        deg = math.degrees(angle)
        cv2.ellipse(img, c16, axes, deg, 0, 360, colour, -1, cv2.LINE_AA, 4)
        cv2.ellipse(img, c16, axes, deg, 0, 360, outline, thick, cv2.LINE_AA, 4)
    else:
        pts = _shape_points(s, cx, cy, r, angle)
        cv2.fillPoly(img, [pts], colour, cv2.LINE_AA, 4)
        cv2.polylines(img, [pts], True, outline, thick, cv2.LINE_AA, 4)


def _validate(prompt: str, seed: int, width: int, height: int, duration_s: float, fps: int) -> None:
    if not isinstance(prompt, str):
        raise InvalidRenderRequest(f"prompt must be a string, got {type(prompt).__name__}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise InvalidRenderRequest(f"seed must be an integer, got {seed!r}")
    for name, side in (("width", width), ("height", height)):
        if not isinstance(side, int | np.integer) or not 16 <= side <= MAX_SIDE:
            raise InvalidRenderRequest(
                f"{name} must be an integer in [16, {MAX_SIDE}], got {side!r}"
            )
    if not isinstance(fps, int | np.integer) or not 1 <= fps <= MAX_FPS:
        raise InvalidRenderRequest(f"fps must be an integer in [1, {MAX_FPS}], got {fps!r}")
    if not math.isfinite(float(duration_s)) or not 0 < float(duration_s) <= MAX_DURATION_S:
        raise InvalidRenderRequest(
            f"duration_s must be in (0, {MAX_DURATION_S}] seconds, got {duration_s!r}"
        )


def check_image(image: object) -> NDArray[np.uint8]:
    """An image-to-video input: RGB uint8 ``(H, W, 3)``, at least 16 px a side."""
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise InvalidRenderRequest(
            f"the input image must be RGB uint8 shaped (H, W, 3), got {arr.dtype} {arr.shape}"
        )
    if min(arr.shape[:2]) < 16:
        raise InvalidRenderRequest(f"the input image of {arr.shape[1]}x{arr.shape[0]} is too small")
    return arr


def _broadcast(frame: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Clip into the broadcast range [16, 235] (see the module's notes). An image is clipped,
    not rescaled, so a frame already in range (an extend's source) comes back unchanged."""
    return np.clip(np.rint(frame), 16, 235).astype(np.uint8)


def _fit_layers(
    image: NDArray[np.uint8], width: int, height: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(fitted frame, foreground mask): the whole image scaled to fit the frame, centred, over
    a blurred copy of it scaled to cover the frame."""
    ih, iw = image.shape[:2]
    src = image.astype(np.float32)
    cover = max(width / iw, height / ih)
    cw, ch = max(width, round(iw * cover)), max(height, round(ih * cover))
    cover_size = cv2.resize(
        src, (cw, ch), interpolation=cv2.INTER_AREA if cover < 1 else cv2.INTER_CUBIC
    )
    x0, y0 = (cw - width) // 2, (ch - height) // 2
    back = np.ascontiguousarray(cover_size[y0 : y0 + height, x0 : x0 + width], dtype=np.float32)
    sigma = IMAGE_BACKDROP_BLUR * max(width, height)
    back = np.asarray(cv2.GaussianBlur(back, (0, 0), sigma), dtype=np.float32)
    contain = min(width / iw, height / ih)
    fw, fh = min(width, max(1, round(iw * contain))), min(height, max(1, round(ih * contain)))
    fore = cv2.resize(
        src, (fw, fh), interpolation=cv2.INTER_AREA if contain < 1 else cv2.INTER_CUBIC
    )
    fx, fy = (width - fw) // 2, (height - fh) // 2
    frame = back.copy()
    frame[fy : fy + fh, fx : fx + fw] = fore
    mask = np.zeros((height, width), np.float32)
    mask[fy : fy + fh, fx : fx + fw] = 1.0
    return frame, mask


def fit_image(image: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """The frame an image-to-video clip starts from: ``image`` fitted to ``width x height``
    (whole, centred, over a blurred copy of itself that fills the rest), in broadcast range."""
    frame, _ = _fit_layers(check_image(image), int(width), int(height))
    return _broadcast(frame)


def animate_image(
    image: NDArray[np.uint8],
    prompt: str,
    seed: int,
    width: int,
    height: int,
    duration_s: float,
    fps: int = 24,
) -> NDArray[np.uint8]:
    """An image-to-video clip: frame 0 is :func:`fit_image`, then the camera zooms and pans
    into the picture with parallax (module notes). Deterministic in its arguments."""
    _validate(prompt, seed, width, height, duration_s, fps)
    width, height, fps = int(width), int(height), int(fps)
    n_frames = max(1, int(round(float(duration_s) * fps)))
    frame0, mask = _fit_layers(check_image(image), width, height)
    rng = _rng_for(prompt, int(seed), b"clearframe.procedural.image.v2")
    zoom_to = float(rng.uniform(*IMAGE_ZOOM))
    heading = float(rng.uniform(0, 2 * math.pi))
    # The pan stays within what the zoom leaves outside the frame, so no border shows.
    reach = 0.9 * (zoom_to - 1.0) / 2
    pan = (reach * width * math.cos(heading), reach * height * math.sin(heading))
    # Pseudo-depth: a vertical ramp over the image, the backdrop far behind, blurred so the
    # displacement has no tears at the image's edge.
    ramp = np.linspace(IMAGE_DEPTH[0], IMAGE_DEPTH[1], height, dtype=np.float32)[:, None]
    depth = mask * ramp + (1.0 - mask) * IMAGE_BACKDROP_DEPTH
    depth = np.asarray(cv2.GaussianBlur(depth, (0, 0), 0.02 * max(width, height)), dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    out = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    out[0] = _broadcast(frame0)
    for f in range(1, n_frames):
        u = f / max(1, n_frames - 1)
        ease = 0.5 - 0.5 * math.cos(math.pi * u)
        # Nearer pixels zoom and pan more: that difference is the parallax.
        scale = 1.0 + (zoom_to - 1.0) * ease * depth
        map_x = cx + (xx - cx - pan[0] * ease * depth) / scale
        map_y = cy + (yy - cy - pan[1] * ease * depth) / scale
        moved = cv2.remap(
            frame0, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        out[f] = _broadcast(np.asarray(moved, dtype=np.float32))
    return out


def render_clip(
    prompt: str,
    seed: int,
    width: int,
    height: int,
    duration_s: float,
    fps: int = 24,
    *,
    image: NDArray[np.uint8] | None = None,
) -> np.ndarray:
    """Render ``round(duration_s * fps)`` (at least 1) RGB frames, uint8, shaped (T, H, W, 3).

    ``image``: an image-to-video input; the clip is then that image animated
    (:func:`animate_image`), not a scene. The same arguments always give identical bytes.
    """
    if image is not None:
        return animate_image(image, prompt, seed, width, height, duration_s, fps)
    _validate(prompt, seed, width, height, duration_s, fps)
    width, height, fps = int(width), int(height), int(fps)
    n_frames = max(1, int(round(float(duration_s) * fps)))
    rng = _rng_for(prompt, int(seed))
    shots = _plan(rng, width, height, n_frames, fps)
    out = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    for shot in shots:
        ch, cw = shot.background.shape[:2]
        bg8 = (shot.background * 255.0).astype(np.float32)
        span = max(1, shot.end_frame - shot.start_frame - 1)
        for f in range(shot.start_frame, shot.end_frame):
            u = (f - shot.start_frame) / span
            ease = 0.5 - 0.5 * math.cos(math.pi * u)  # camera eases in and out
            zoom = shot.zoom_from + (shot.zoom_to - shot.zoom_from) * ease
            px = shot.pan_from[0] + (shot.pan_to[0] - shot.pan_from[0]) * ease
            py = shot.pan_from[1] + (shot.pan_to[1] - shot.pan_from[1]) * ease
            # The visible window (width/zoom x height/zoom) must stay inside the canvas.
            max_dx = max(0.0, (cw - width / zoom) / 2)
            max_dy = max(0.0, (ch - height / zoom) / 2)
            centre = (cw / 2 + px * max_dx * 0.9, ch / 2 + py * max_dy * 0.9)
            m = cv2.getRotationMatrix2D(centre, math.degrees(shot.roll * (u - 0.5)), zoom)
            m[0, 2] += width / 2 - centre[0]
            m[1, 2] += height / 2 - centre[1]
            frame = cv2.warpAffine(
                bg8, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
            t = f / fps
            for s in shot.shapes:
                _draw_shape(frame, s, t, width, height)
            # Map to the broadcast range [16, 235].
            np.clip(frame, 0, 255, out=frame)
            out[f] = (frame * (219.0 / 255.0) + 16.5).astype(np.uint8)
    return out
