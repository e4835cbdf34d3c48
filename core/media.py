"""Opening media from outside within declared limits: no decompression bombs.

A few hundred bytes can declare a 100000x100000 PNG, or an H.264 stream of 16000x16000
frames that the decoder conceals into gigabytes per frame, or a clip of hours of black
frames. Every route that reads media from a caller opens it through these helpers: the size
the file declares is checked before a pixel is decoded, the decoder is given the same
ceiling (a stream that changes size midway fails instead of allocating), and frames are
counted as they come, so metadata that lies does not buy unbounded work either.

Refusals are :class:`MediaLimitExceeded` (422, ``media_limit_exceeded``). Files that are not
media at all are left to the caller, which knows which error its domain gives for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from core.errors import ValidationFailed


class MediaLimitExceeded(ValidationFailed):
    """The media declares (or decodes to) more pixels, frames or seconds than are decoded."""

    code = "media_limit_exceeded"
    title = "Media too large to decode"


@dataclass(frozen=True, slots=True)
class MediaLimits:
    # A 64-megapixel still: beyond what phones take, far below Pillow's bomb threshold.
    max_image_pixels: int = 8192 * 8192
    # H.264 level 6.2 (8K) tops out at 139264 macroblocks, about 35.6 million pixels.
    max_frame_pixels: int = 8192 * 4352
    max_side: int = 16384
    max_video_seconds: float = 600.0
    # ten minutes at 60 fps
    max_video_frames: int = 36_000


DEFAULT_LIMITS = MediaLimits()


def _pixels_text(width: int, height: int) -> str:
    return f"{width}x{height} ({width * height} pixels)"


def check_image_size(width: int, height: int, limits: MediaLimits = DEFAULT_LIMITS) -> None:
    if width * height > limits.max_image_pixels or max(width, height) > limits.max_side:
        raise MediaLimitExceeded(
            f"the image is {_pixels_text(width, height)}; at most {limits.max_image_pixels} "
            f"pixels and {limits.max_side} px a side are decoded",
            width=width,
            height=height,
        )


def open_image(source: str | Path | IO[bytes], limits: MediaLimits = DEFAULT_LIMITS) -> Any:
    """``PIL.Image.open`` with the declared size checked; use it as a context manager.

    Raises :class:`MediaLimitExceeded` for a bomb, and Pillow's own errors
    (``UnidentifiedImageError``, ``OSError``) for what is not an image.
    """
    from PIL import Image

    try:
        image = Image.open(source)
    except Image.DecompressionBombError as exc:
        # Pillow refuses before allocating when a header claims over twice its own ceiling.
        raise MediaLimitExceeded(f"the image is too large to decode: {exc}") from None
    try:
        check_image_size(image.width, image.height, limits)
    except MediaLimitExceeded:
        image.close()
        raise
    return image


def video_open_options(limits: MediaLimits = DEFAULT_LIMITS) -> dict[str, str]:
    """Options for ``av.open``: the stream probe (which decodes a frame to learn the format)
    then refuses frames over the ceiling instead of allocating them."""
    return {"max_pixels": str(limits.max_frame_pixels)}


@dataclass(frozen=True, slots=True)
class VideoFacts:
    width: int
    height: int
    duration_s: float | None
    frames: int | None  # as the container declares it (0 or absent: unknown)


def declared_duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000.0
    return None


def check_video(container: Any, stream: Any, limits: MediaLimits = DEFAULT_LIMITS) -> VideoFacts:
    """Check what a video stream declares, before decoding it, and arm the decoder's ceiling."""
    ctx = stream.codec_context
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    if width * height > limits.max_frame_pixels or max(width, height) > limits.max_side:
        raise MediaLimitExceeded(
            f"the video's frames are {_pixels_text(width, height)}; at most "
            f"{limits.max_frame_pixels} pixels a frame are decoded",
            width=width,
            height=height,
        )
    duration = declared_duration(container, stream)
    if duration is not None and duration > limits.max_video_seconds:
        raise MediaLimitExceeded(
            f"the video declares {duration:.0f} s; at most {limits.max_video_seconds:g} s "
            "are decoded",
            duration_s=round(duration, 3),
        )
    frames = int(stream.frames or 0) or None
    if frames is not None and frames > limits.max_video_frames:
        raise MediaLimitExceeded(
            f"the video declares {frames} frames; at most {limits.max_video_frames} are decoded",
            frames=frames,
        )
    # Set before the first decode opens the codec: a later sequence header that grows the
    # frames past the ceiling makes the decoder fail rather than allocate.
    ctx.options = {**dict(ctx.options or {}), **video_open_options(limits)}
    return VideoFacts(width, height, duration, frames)


def decode_bounded(
    container: Any, stream: Any, limits: MediaLimits = DEFAULT_LIMITS
) -> Iterator[Any]:
    """The stream's frames, refusing once they exceed the frame count or the duration."""
    first: float | None = None
    for count, frame in enumerate(container.decode(stream), start=1):
        if count > limits.max_video_frames:
            raise MediaLimitExceeded(
                f"the video has more than {limits.max_video_frames} frames; no more are decoded"
            )
        if frame.width * frame.height > limits.max_frame_pixels:
            raise MediaLimitExceeded(
                f"a frame of the video is {_pixels_text(frame.width, frame.height)}; at most "
                f"{limits.max_frame_pixels} pixels a frame are decoded"
            )
        if frame.time is not None:
            first = frame.time if first is None else first
            if frame.time - first > limits.max_video_seconds:
                raise MediaLimitExceeded(
                    f"the video runs past {limits.max_video_seconds:g} s; no more is decoded"
                )
        yield frame


T = TypeVar("T")


def decode_evenly(
    container: Any,
    stream: Any,
    picks: Callable[[int], Sequence[int]],
    convert: Callable[[Any], T],
    limits: MediaLimits = DEFAULT_LIMITS,
) -> list[T]:
    """``convert`` of the frames ``picks(frame_count)`` chooses, each frame decoded once.

    Only the frames kept are converted (an RGB copy of an 8K frame is 100 MB), so memory
    does not grow with the clip. With the frame count the container declares, the frames
    kept are exactly those ``picks`` names. Without one, every ``stride``-th frame is kept,
    the stride doubling whenever the kept frames reach twice what ``picks`` asks for, and
    ``picks`` then chooses among them.
    """
    declared = check_video(container, stream, limits).frames
    wanted = set(picks(declared)) if declared else None
    budget = 2 * max(1, len(picks(1 << 30)))
    kept: list[T] = []
    stride = 1
    for index, frame in enumerate(decode_bounded(container, stream, limits)):
        if wanted is not None:
            if index in wanted:
                kept.append(convert(frame))
        elif index % stride == 0:
            kept.append(convert(frame))
            if len(kept) >= budget:
                kept, stride = kept[::2], stride * 2
    if wanted is None:
        kept = [kept[i] for i in picks(len(kept))] if kept else kept
    return kept


def check_media_file(path: str | Path, limits: MediaLimits = DEFAULT_LIMITS) -> str | None:
    """Refuse a file whose declared size is over the limits, without decoding it.

    Returns ``"image"`` or ``"video"`` for media within the limits, ``None`` for a file that
    is neither (the caller decides what that means).
    """
    from PIL import UnidentifiedImageError

    try:
        with open_image(path, limits):
            return "image"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        pass
    import av

    try:
        with av.open(str(path), options=video_open_options(limits)) as container:
            if not container.streams.video:
                return None
            check_video(container, container.streams.video[0], limits)
            return "video"
    except (av.FFmpegError, OSError, ValueError):
        return None
