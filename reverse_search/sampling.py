"""Frame sampling from video files, images and in-memory frame arrays.

Frames are picked by presentation timestamp, not by frame counting, so a variable frame
rate, a changed frame rate or dropped frames still give samples at the requested times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, UnidentifiedImageError

from core.media import (
    MediaLimitExceeded,
    check_video,
    decode_bounded,
    open_image,
    video_open_options,
)
from reverse_search.errors import (
    EmptyMediaError,
    InvalidFramesError,
    MediaDecodeError,
    MediaTooLargeError,
)

# Descriptors look at thumbnails of at most a few dozen pixels; decoding straight to a
# small size keeps conversion cost proportional to what is used.
DEFAULT_MAX_SIDE = 160

_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


@dataclass(frozen=True)
class SampledFrames:
    """RGB frames (N, H, W, 3) uint8 and their times in seconds from the first frame."""

    frames: np.ndarray
    times: np.ndarray
    duration_s: float

    def __post_init__(self) -> None:
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3 or self.frames.dtype != np.uint8:
            raise InvalidFramesError(
                f"frames must be uint8 (N, H, W, 3); got {self.frames.dtype} {self.frames.shape}"
            )
        if len(self.frames) != len(self.times):
            raise InvalidFramesError("frames and times differ in length")
        if len(self.frames) == 0:
            raise EmptyMediaError("no frames were sampled")

    @property
    def is_still_image(self) -> bool:
        return len(self.frames) == 1 and self.duration_s == 0.0


def _target_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, round(width * scale)), max(2, round(height * scale))


def _check_rate(rate_fps: float) -> None:
    if not np.isfinite(rate_fps) or rate_fps <= 0:
        raise ValueError(
            f"sampling rate must be a positive number of frames per second, got {rate_fps}"
        )


def sample_video(
    path: str | Path,
    rate_fps: float = 2.0,
    *,
    max_side: int | None = DEFAULT_MAX_SIDE,
    skip_nonreference: bool = False,
) -> SampledFrames:
    """Decode ``path`` and keep the first frame at or after each multiple of ``1/rate_fps``.

    ``skip_nonreference`` asks the decoder to skip frames no other frame depends on (most
    B-frames): decoding, not describing, dominates a search for an HD clip, and this cuts
    it by a third (10 s of 720p H.264: 280 -> 195 ms; 1080p: 555 -> 400 ms). A sample may
    then come up to a couple of frame intervals after its grid point, well inside the
    alignment's tolerance. Used for queries only; the archive is sampled exactly. If the
    skipping leaves fewer than half the expected samples (a codec that marks nearly every
    frame as non-reference), the file is decoded again in full.

    Raises ``MediaDecodeError`` when the file is not a video, ``EmptyMediaError`` when it
    has no decodable frame and ``MediaTooLargeError`` (422) when it declares (or
    decodes to) frames, a length or a frame count over the limits (a decompression bomb).
    """
    if skip_nonreference:
        try:
            sampled = _decode_samples(path, rate_fps, max_side, skip_nonreference=True)
        except EmptyMediaError:
            return _decode_samples(path, rate_fps, max_side, skip_nonreference=False)
        expected = sampled.duration_s * rate_fps
        if len(sampled.frames) >= 0.5 * expected:
            return sampled
    return _decode_samples(path, rate_fps, max_side, skip_nonreference=False)


def _decode_samples(
    path: str | Path, rate_fps: float, max_side: int | None, *, skip_nonreference: bool
) -> SampledFrames:
    _check_rate(rate_fps)
    step = 1.0 / rate_fps
    # Half a millisecond of slack absorbs timestamp rounding in containers whose time base
    # does not divide the sampling step exactly.
    slack = 5e-4
    frames: list[np.ndarray] = []
    times: list[float] = []
    first_t: float | None = None
    last_t = 0.0
    decoded_interval = 0.0
    fallback_rate = 25.0
    next_t = 0.0
    try:
        with av.open(str(path), options=video_open_options()) as container:
            if not container.streams.video:
                raise MediaDecodeError(f"{path}: no video stream")
            stream = container.streams.video[0]
            check_video(container, stream)
            stream.thread_type = "AUTO"
            if skip_nonreference:
                stream.codec_context.skip_frame = "NONREF"
            fallback_rate = float(stream.average_rate or stream.guessed_rate or 25)
            for index, frame in enumerate(decode_bounded(container, stream)):
                t = frame.time if frame.time is not None else index / fallback_rate
                if first_t is None:
                    first_t = t
                rel = t - first_t
                if rel > last_t:
                    decoded_interval = rel - last_t
                    last_t = rel
                if rel + slack < next_t:
                    continue
                width, height = _target_size(frame.width, frame.height, max_side)
                frames.append(frame.to_ndarray(format="rgb24", width=width, height=height))
                times.append(rel)
                # A low input frame rate can jump past several sample points at once; the
                # next sample is the first grid point after this frame, not one step later.
                next_t = (np.floor((rel + slack) / step) + 1) * step
    except MediaLimitExceeded as exc:
        raise MediaTooLargeError(exc.detail, **exc.extra) from None
    except av.FFmpegError as exc:
        raise MediaDecodeError(f"{path}: cannot decode video ({exc})") from exc
    except FileNotFoundError as exc:
        raise MediaDecodeError(f"{path}: no such file") from exc
    if not frames:
        raise EmptyMediaError(f"{path}: no decodable video frames")
    # The last frame is displayed for one frame interval; without it a 1-frame clip would
    # have zero duration and look like a still image.
    duration = last_t + (decoded_interval or (1.0 / fallback_rate))
    return SampledFrames(np.stack(frames), np.asarray(times, dtype=np.float64), float(duration))


def load_image(path: str | Path, *, max_side: int | None = DEFAULT_MAX_SIDE) -> SampledFrames:
    """Load a still image as a one-frame sample at time 0 (a bomb: ``MediaTooLargeError``)."""
    try:
        with open_image(path) as image:
            rgb = image.convert("RGB")
    except MediaLimitExceeded as exc:
        raise MediaTooLargeError(exc.detail, **exc.extra) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaDecodeError(f"{path}: cannot decode image ({exc})") from exc
    width, height = _target_size(rgb.width, rgb.height, max_side)
    if (width, height) != (rgb.width, rgb.height):
        rgb = rgb.resize((width, height), Image.Resampling.BOX)
    return SampledFrames(np.asarray(rgb, dtype=np.uint8)[None], np.zeros(1), 0.0)


def sample_media(
    path: str | Path,
    rate_fps: float = 2.0,
    *,
    max_side: int | None = DEFAULT_MAX_SIDE,
    skip_nonreference: bool = False,
) -> SampledFrames:
    """Sample a video, or load an image when the file is one (by suffix, then by content)."""
    path = Path(path)
    if not path.is_file():
        raise MediaDecodeError(f"{path}: no such file")
    if path.suffix.lower() in _IMAGE_SUFFIXES or _is_still_image(path):
        return load_image(path, max_side=max_side)
    return sample_video(path, rate_fps, max_side=max_side, skip_nonreference=skip_nonreference)


def sample_query(path: str | Path, rate_fps: float = 2.0) -> SampledFrames:
    """Sample a clip or image to search for: as ``sample_media``, skipping non-reference
    frames of a video (see ``sample_video``)."""
    return sample_media(path, rate_fps, skip_nonreference=True)


def _is_still_image(path: Path) -> bool:
    """Whether Pillow recognises the file as a single-frame image (reads only the header;
    an image over the pixel limits raises ``MediaTooLargeError``)."""
    try:
        with open_image(path) as image:
            return getattr(image, "n_frames", 1) == 1
    except MediaLimitExceeded as exc:
        raise MediaTooLargeError(exc.detail, **exc.extra) from None
    except (UnidentifiedImageError, OSError):
        return False


def sample_array(frames: np.ndarray, fps: float, rate_fps: float = 2.0) -> SampledFrames:
    """Sample an in-memory clip (uint8 (T, H, W, 3) at ``fps``) on the same time grid."""
    _check_rate(rate_fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise InvalidFramesError(
            f"frames must be uint8 (T, H, W, 3); got {frames.dtype} {frames.shape}"
        )
    if len(frames) == 0:
        raise EmptyMediaError("the clip has no frames")
    frame_times = np.arange(len(frames)) / fps
    duration = len(frames) / fps
    grid = np.arange(0.0, duration - 1e-9, 1.0 / rate_fps)
    picks = np.searchsorted(frame_times, grid - 1e-6, side="left")
    picks = np.unique(picks[picks < len(frames)])
    return SampledFrames(np.ascontiguousarray(frames[picks]), frame_times[picks], float(duration))
