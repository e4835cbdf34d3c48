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
    """``max_side`` bounds the long side of a 16:9 (or 9:16) frame; a frame more elongated
    than that keeps the short side a 16:9 frame would have (up to twice ``max_side`` long):
    each clip of a side-by-side pair then gets as many pixels as a clip on its own."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    long_side, short_side = max(width, height), min(width, height)
    scale = max_side / long_side
    scale = max(scale, min(max_side * 9 / 16 / short_side, 2 * max_side / long_side))
    scale = min(scale, 1.0)
    return max(2, round(width * scale)), max(2, round(height * scale))


def _check_rate(rate_fps: float) -> None:
    if not np.isfinite(rate_fps) or rate_fps <= 0:
        raise ValueError(
            f"sampling rate must be a positive number of frames per second, got {rate_fps}"
        )


# A query's frames are decoded in full until this many pixels have been decoded, then only
# its keyframes (see ``sample_video``). About one second of 720p, half a second of 1080p;
# a small clip (the archive's 192x108, 10 s at 24 fps: 5 million) never reaches it.
QUERY_DECODE_BUDGET_PX = 24_000_000


def sample_video(
    path: str | Path,
    rate_fps: float = 2.0,
    *,
    max_side: int | None = DEFAULT_MAX_SIDE,
    skip_nonreference: bool = False,
    decode_budget_px: int | None = None,
) -> SampledFrames:
    """Decode ``path`` and keep the first frame at or after each multiple of ``1/rate_fps``.

    ``skip_nonreference`` asks the decoder to skip frames no other frame depends on (most
    B-frames) and the deblocking filter (its smoothing of block edges is gone after scaling
    to the descriptor's thumbnail; it was a fifth of H.264 decoding time): decoding, not
    describing, dominates a search for an HD clip. A sample may then come up to a couple of
    frame intervals after its grid point, well inside the alignment's tolerance. Used for
    queries only; the archive is sampled exactly. If the skipping leaves fewer than half the
    expected samples (a codec that marks nearly every frame as non-reference), the file is
    decoded again in full.

    ``decode_budget_px``: once the decoded frames add up to this many pixels, the decoder
    is told to decode keyframes only, and the rest of the clip is sampled at its keyframes.
    Every decoded frame of an H.264 stream costs its full resolution, whatever size it is
    scaled to afterwards, so a 1080p clip costs 40 times what the archive's clips do: the
    budget caps a query's decoding near that of a small clip. What it costs: past the
    budget, a clip with sparse keyframes is seen at few points in time (measured in
    bench/copy_detection.py, ``hd``).

    Raises ``MediaDecodeError`` when the file is not a video, ``EmptyMediaError`` when it
    has no decodable frame and ``MediaTooLargeError`` (422) when it declares (or
    decodes to) frames, a length or a frame count over the limits (a decompression bomb).
    """
    if skip_nonreference:
        try:
            sampled, budget_spent = _decode_samples(
                path, rate_fps, max_side, skip_nonreference=True, budget_px=decode_budget_px
            )
        except EmptyMediaError:
            return _decode_samples(path, rate_fps, max_side, skip_nonreference=False)[0]
        expected = sampled.duration_s * rate_fps
        if budget_spent or len(sampled.frames) >= 0.5 * expected:
            return sampled
    return _decode_samples(path, rate_fps, max_side, skip_nonreference=False)[0]


def _decode_samples(
    path: str | Path,
    rate_fps: float,
    max_side: int | None,
    *,
    skip_nonreference: bool,
    budget_px: int | None = None,
) -> tuple[SampledFrames, bool]:
    """The samples, and whether the decoding budget ran out (keyframes only after it)."""
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
    decoded_px = 0
    budget_spent = False
    try:
        with av.open(str(path), options=video_open_options()) as container:
            if not container.streams.video:
                raise MediaDecodeError(f"{path}: no video stream")
            stream = container.streams.video[0]
            check_video(container, stream)
            stream.thread_type = "AUTO"
            if skip_nonreference:
                stream.codec_context.skip_frame = "NONREF"
                stream.codec_context.options = {"skip_loop_filter": "all"}
            fallback_rate = float(stream.average_rate or stream.guessed_rate or 25)
            declared_s = (
                float(stream.duration * stream.time_base)
                if stream.duration and stream.time_base
                else (container.duration or 0) / av.time_base
            )
            for index, frame in enumerate(decode_bounded(container, stream)):
                t = frame.time if frame.time is not None else index / fallback_rate
                if first_t is None:
                    first_t = t
                rel = t - first_t
                if rel > last_t:
                    decoded_interval = rel - last_t
                    last_t = rel
                decoded_px += frame.width * frame.height
                if budget_px is not None and not budget_spent and decoded_px >= budget_px:
                    # Takes effect from the next frame the decoder starts; the demuxer
                    # still reads every packet, so the duration stays known.
                    stream.codec_context.skip_frame = "NONKEY"
                    budget_spent = True
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
    if budget_spent and declared_s > 0:
        # Frames between keyframes were never decoded: the clip is as long as its container
        # says, not as the gap after the last keyframe suggests.
        duration = declared_s
    sampled = SampledFrames(np.stack(frames), np.asarray(times, dtype=np.float64), float(duration))
    return sampled, budget_spent


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
    decode_budget_px: int | None = None,
) -> SampledFrames:
    """Sample a video, or load an image when the file is one (by suffix, then by content)."""
    path = Path(path)
    if not path.is_file():
        raise MediaDecodeError(f"{path}: no such file")
    if path.suffix.lower() in _IMAGE_SUFFIXES or _is_still_image(path):
        return load_image(path, max_side=max_side)
    return sample_video(
        path,
        rate_fps,
        max_side=max_side,
        skip_nonreference=skip_nonreference,
        decode_budget_px=decode_budget_px,
    )


def sample_query(
    path: str | Path,
    rate_fps: float = 2.0,
    *,
    decode_budget_px: int | None = QUERY_DECODE_BUDGET_PX,
) -> SampledFrames:
    """Sample a clip or image to search for: as ``sample_media``, skipping non-reference
    frames and, past ``decode_budget_px``, all but keyframes (see ``sample_video``)."""
    return sample_media(path, rate_fps, skip_nonreference=True, decode_budget_px=decode_budget_px)


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
