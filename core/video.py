"""H.264 MP4 encoding and decoding with PyAV, shared by every domain that handles video.

Files written here are plain (non-fragmented) MP4 with the ``moov`` box at the end, no
faststart pass: c2pa-python can sign such files, it cannot sign fragmented MP4 from Python.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from core.errors import ClearframeError

DEFAULT_CRF = 20


class EncodingError(ClearframeError):
    """Frames could not be written as, or read back from, a video file."""

    code, status, title = "media_encoding_failed", 422, "Video could not be encoded or decoded"

    @property
    def message(self) -> str:
        return self.detail


def _check_frames(frames: np.ndarray) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise EncodingError(f"frames must be shaped (T, H, W, 3), got {arr.shape}")
    if arr.shape[0] == 0:
        raise EncodingError("cannot encode zero frames")
    if arr.dtype != np.uint8:
        raise EncodingError(f"frames must be uint8 RGB, got dtype {arr.dtype}")
    _, h, w, _ = arr.shape
    if h % 2 or w % 2:
        # yuv420p subsamples chroma 2x2; odd sizes would be silently cropped or padded.
        raise EncodingError(f"width and height must be even for yuv420p, got {w}x{h}")
    return arr


def encode_mp4(
    frames: np.ndarray,
    fps: int | float | Fraction,
    path: str | Path,
    *,
    crf: int | None = None,
    bitrate: int | None = None,
    keyframe_interval: int | None = None,
) -> Path:
    """Write RGB uint8 ``frames`` (T, H, W, 3) as H.264 yuv420p MP4 at ``path``.

    Quality is either constant (``crf``, default 20) or a target ``bitrate`` in bits per
    second (for example to simulate a low-bitrate re-upload); giving both is an error.
    ``keyframe_interval`` caps the frames between keyframes (libx264's default: 250).
    """
    arr = _check_frames(frames)
    if crf is not None and bitrate is not None:
        raise EncodingError("give either crf or bitrate, not both")
    if crf is not None and not 0 <= int(crf) <= 51:
        raise EncodingError(f"crf must be in [0, 51], got {crf}")
    if bitrate is not None and int(bitrate) < 1000:
        raise EncodingError(f"bitrate must be at least 1000 bit/s, got {bitrate}")
    try:
        rate = Fraction(fps).limit_denominator(1001)
    except (TypeError, ValueError) as exc:
        raise EncodingError(f"fps must be a positive number, got {fps!r}") from exc
    if rate <= 0:
        raise EncodingError(f"fps must be positive, got {fps!r}")

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _, h, w, _ = arr.shape
    options = {"preset": "veryfast"}
    if keyframe_interval is not None:
        if int(keyframe_interval) < 1:
            raise EncodingError(f"keyframe_interval must be positive, got {keyframe_interval}")
        options["g"] = str(int(keyframe_interval))
    if bitrate is None:
        options["crf"] = str(DEFAULT_CRF if crf is None else int(crf))
    try:
        with av.open(str(out), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=rate, options=options)
            stream.width = w
            stream.height = h
            stream.pix_fmt = "yuv420p"
            if bitrate is not None:
                stream.bit_rate = int(bitrate)
            for frame_rgb in arr:
                frame = av.VideoFrame.from_ndarray(frame_rgb, format="rgb24")
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    except av.FFmpegError as exc:
        raise EncodingError(f"libx264 encoding to {out} failed: {exc}") from exc
    return out


def probe_fps(path: str | Path) -> float:
    """The average frame rate the file declares."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise EncodingError(f"{path} has no video stream")
            rate = container.streams.video[0].average_rate or container.streams.video[0].base_rate
            return float(rate) if rate else 0.0
    except av.FFmpegError as exc:
        raise EncodingError(f"cannot read {path}: {exc}") from exc


def decode_frames(path: str | Path, fps: float | None = None) -> tuple[np.ndarray, float]:
    """Decode a video to RGB uint8 frames (T, H, W, 3) and return them with their frame rate.

    With ``fps`` the frames are resampled to that rate by presentation time (the last frame
    shown at each sampling instant), which is how a player would show them; the returned
    rate is then ``fps``. Without it, every decoded frame is returned with the stream's rate.
    """
    if fps is not None and not fps > 0:
        raise EncodingError(f"fps must be positive, got {fps!r}")
    frames: list[np.ndarray] = []
    times: list[float] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise EncodingError(f"{path} has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            native = stream.average_rate or stream.base_rate
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                times.append(
                    float(frame.time) if frame.time is not None else len(times) / float(native or 1)
                )
    except (av.FFmpegError, OSError) as exc:
        raise EncodingError(f"cannot decode {path}: {exc}") from exc
    if not frames:
        raise EncodingError(f"{path} contains no decodable video frames")
    native_fps = float(native) if native else 0.0
    if fps is None:
        return np.stack(frames), native_fps
    order = np.argsort(times, kind="stable")
    t = np.asarray(times)[order]
    t -= t[0]
    step = 1.0 / native_fps if native_fps > 0 else 0.0
    end = t[-1] + step
    n_out = max(1, int(np.floor(end * fps + 1e-6)))
    instants = np.arange(n_out) / fps
    # Index of the last frame whose presentation time is <= the instant.
    idx = np.clip(np.searchsorted(t, instants + 1e-9, side="right") - 1, 0, len(t) - 1)
    return np.stack([frames[order[i]] for i in idx]), float(fps)


def frame_at(path: str | Path, at_s: float) -> np.ndarray:
    """The RGB frame a player shows at ``at_s`` seconds (the last one starting at or before
    it; the last frame of the file past its end). Seeks to the keyframe before ``at_s``
    instead of decoding from the start, so a frame late in a long clip costs one GOP."""
    if not at_s >= 0:
        raise EncodingError(f"a time in the video must be 0 or more seconds, got {at_s!r}")
    shown: np.ndarray | None = None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise EncodingError(f"{path} has no video stream")
            stream = container.streams.video[0]
            if stream.time_base is not None and at_s > 0:
                container.seek(int(at_s / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if shown is not None and frame.time is not None and frame.time > at_s + 1e-6:
                    break
                shown = frame.to_ndarray(format="rgb24")
    except (av.FFmpegError, OSError) as exc:
        raise EncodingError(f"cannot decode {path}: {exc}") from exc
    if shown is None:
        raise EncodingError(f"{path} contains no decodable video frames")
    return shown
