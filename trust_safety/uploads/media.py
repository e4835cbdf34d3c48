"""Decoding uploads into facts (dimensions, duration) and frames for the classifiers.

Images are decoded with Pillow under a pixel ceiling (decompression bombs are refused before
the pixels are allocated); videos with PyAV from memory. Both return BGR uint8 frames, the
layout the OpenCV and NudeNet wrappers take.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.media import MediaLimits, check_video, decode_bounded, video_open_options
from trust_safety.uploads.errors import CorruptMedia, MediaLimitExceeded
from trust_safety.uploads.limits import UploadLimits
from trust_safety.uploads.sniffing import MediaType

Frame = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class DecodedMedia:
    media_type: MediaType
    width: int
    height: int
    duration_s: float | None
    fps: float | None
    frames: tuple[Frame, ...]
    # Presentation time of each sampled frame of a clip (empty for an image).
    frame_times: tuple[float, ...] = ()


def decode_image(data: bytes, media_type: MediaType, limits: UploadLimits) -> DecodedMedia:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                _check_image_size(width, height, limits)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.seek(0)  # the first frame of a GIF or animated WebP
                rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaLimitExceeded(f"image has too many pixels: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptMedia(f"the {media_type.value} upload cannot be decoded: {exc}") from exc
    return DecodedMedia(
        media_type, width, height, None, None, (np.ascontiguousarray(rgb[:, :, ::-1]),)
    )


def _check_image_size(width: int, height: int, limits: UploadLimits) -> None:
    if min(width, height) < limits.min_side:
        raise MediaLimitExceeded(
            f"image is {width}x{height}; each side must be at least {limits.min_side} px"
        )
    if max(width, height) > limits.max_image_side:
        raise MediaLimitExceeded(
            f"image is {width}x{height}; the longest side may be at most {limits.max_image_side} px"
        )


def decode_video(data: bytes, media_type: MediaType, limits: UploadLimits) -> DecodedMedia:
    import av

    ceiling = _media_limits(limits)
    try:
        # The probe decodes a frame: the pixel ceiling keeps a bomb's frame from being allocated.
        container = av.open(io.BytesIO(data), mode="r", options=video_open_options(ceiling))
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise CorruptMedia(f"the {media_type.value} upload cannot be opened: {exc}") from exc
    with container:
        if not container.streams.video:
            raise CorruptMedia("the video upload has no video stream")
        stream = container.streams.video[0]
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        duration = _duration_seconds(container, stream)
        fps = float(stream.average_rate) if stream.average_rate else None
        _check_video_limits(width, height, duration, fps, limits)
        check_video(container, stream, ceiling)
        sampled = _sample_frames(container, stream, duration, limits.sampled_frames, ceiling)
    if not sampled:
        raise CorruptMedia("no frame of the video upload could be decoded")
    return DecodedMedia(
        media_type,
        width,
        height,
        duration,
        fps,
        tuple(frame for _, frame in sampled),
        tuple(time for time, _ in sampled),
    )


def _duration_seconds(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000.0
    raise CorruptMedia("the video upload does not declare its duration")


def _check_video_limits(
    width: int, height: int, duration: float, fps: float | None, limits: UploadLimits
) -> None:
    long_side, short_side = max(width, height), min(width, height)
    if short_side < limits.min_side:
        raise MediaLimitExceeded(
            f"video is {width}x{height}; each side must be at least {limits.min_side} px"
        )
    if long_side > limits.max_video_long_side or short_side > limits.max_video_short_side:
        raise MediaLimitExceeded(
            f"video is {width}x{height}; the limit is {limits.max_video_long_side}x{limits.max_video_short_side} (1080p)"
        )
    if duration <= 0 or duration > limits.max_video_seconds:
        raise MediaLimitExceeded(
            f"video lasts {duration:.2f} s; the limit is {limits.max_video_seconds:g} s"
        )
    if fps is not None and fps > limits.max_video_fps:
        raise MediaLimitExceeded(
            f"video runs at {fps:.1f} fps; the limit is {limits.max_video_fps:g}"
        )


def _media_limits(limits: UploadLimits) -> MediaLimits:
    # A second bound behind the declared duration and frame rate: timestamps can lie, the
    # count of decoded frames cannot.
    return MediaLimits(
        max_frame_pixels=limits.max_video_long_side * limits.max_video_short_side,
        max_video_seconds=limits.max_video_seconds,
        max_video_frames=int(limits.max_video_seconds * limits.max_video_fps) + 1,
    )


def _sample_frames(
    container: Any, stream: Any, duration: float, count: int, ceiling: MediaLimits
) -> list[tuple[float, Frame]]:
    """Evenly spaced frames by timestamp, each with its time, decoded sequentially (short
    clips: no seeking)."""
    import av

    targets = [duration * (i + 0.5) / count for i in range(count)]
    frames: list[tuple[float, Frame]] = []
    try:
        for frame in decode_bounded(container, stream, ceiling):
            if frame.time is None:
                continue
            while targets and frame.time >= targets[0]:
                targets.pop(0)
                frames.append(
                    (float(frame.time), np.ascontiguousarray(frame.to_ndarray(format="bgr24")))
                )
            if not targets:
                break
    except av.FFmpegError as exc:
        raise CorruptMedia(f"the video upload is damaged: {exc}") from exc
    return frames


def decode_media(data: bytes, media_type: MediaType, limits: UploadLimits) -> DecodedMedia:
    if media_type.is_video:
        return decode_video(data, media_type, limits)
    return decode_image(data, media_type, limits)
