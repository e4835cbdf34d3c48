"""The signal types a bank holds, and hashing media into them.

Signal types are threatexchange's (``PdqSignal``, ``VideoMD5Signal``, ``VideoSHA256Signal``),
so a hash file or an exchange that names ``pdq``/``video_md5``/``video_sha256`` imports as it
is. Two more are declared the threatexchange way, as ``SignalType`` subclasses:

* ``vpdq``: a clip as its per-frame PDQ hashes, in the library's own vPDQ signal format (a
  JSON list of ``"<pdq hex>,<quality>,<timestamp>"``), so hashes from HMA or the ``vpdq``
  tool import unchanged. threatexchange's own vPDQ extension needs the ``vpdq`` C++ package,
  which does not build without the FFmpeg development headers; here the frames are decoded
  with PyAV (already in the stack) and hashed with ``pdqhash``, one frame per
  ``seconds_per_hash``, which is what vpdq does (on the test clip in
  tests/trust_safety/hash_banks/data the two agree bit for bit), and matched with vpdq's rule
  (index.py).
* ``md5``/``sha256``: the exact bytes of any file, image or clip (threatexchange's MD5 and
  SHA-256 types are declared for video only; an exact hash does not care what the file is).
  A file's digest is matched against both its own type and the video types.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from threatexchange.content_type.content_base import ContentType
from threatexchange.content_type.photo import PhotoContent
from threatexchange.content_type.video import VideoContent
from threatexchange.signal_type import signal_base
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal

PDQ = PdqSignal.get_name()  # "pdq"
VPDQ = "vpdq"
MD5 = "md5"
SHA256 = "sha256"
VIDEO_MD5 = VideoMD5Signal.get_name()  # "video_md5"
VIDEO_SHA256 = VideoSHA256Signal.get_name()  # "video_sha256"
# Which stored signal types a file digest is compared with.
EXACT_ALIASES = {MD5: (MD5, VIDEO_MD5), SHA256: (SHA256, VIDEO_SHA256)}


class FileMD5Signal(VideoMD5Signal):
    """The MD5 of a file's bytes, whatever the file is."""

    @classmethod
    def get_name(cls) -> str:
        return MD5

    @classmethod
    def get_content_types(cls) -> list[type[ContentType]]:
        return [PhotoContent, VideoContent]


class FileSHA256Signal(VideoSHA256Signal):
    """The SHA-256 of a file's bytes, whatever the file is."""

    @classmethod
    def get_name(cls) -> str:
        return SHA256

    @classmethod
    def get_content_types(cls) -> list[type[ContentType]]:
        return [PhotoContent, VideoContent]


_FEATURE = re.compile(r"^([0-9a-f]{64}),(\d{1,3}),(\d+(?:\.\d+)?)$")


@dataclass(frozen=True, slots=True)
class VpdqFeature:
    """One hashed frame of a clip: vPDQ's compact feature."""

    pdq_hex: str
    quality: int
    timestamp: float

    def __str__(self) -> str:
        return f"{self.pdq_hex},{self.quality},{self.timestamp:.3f}"


def parse_vpdq(signal: str) -> list[VpdqFeature]:
    """The features of a vPDQ signal string; ValueError when it is not one."""
    try:
        items = json.loads(signal)
    except ValueError:
        raise ValueError("a vpdq signal is a JSON list of 'hex,quality,timestamp'") from None
    if not isinstance(items, list) or not items:
        raise ValueError("a vpdq signal is a non-empty JSON list of 'hex,quality,timestamp'")
    out = []
    for item in items:
        m = _FEATURE.match(str(item).strip().lower())
        if not m or int(m[2]) > 100:
            raise ValueError(f"invalid vpdq feature {str(item)[:100]!r}")
        out.append(VpdqFeature(m[1], int(m[2]), float(m[3])))
    return out


def vpdq_signal(features: Sequence[VpdqFeature]) -> str:
    return json.dumps([str(f) for f in features])


class VpdqSignal(signal_base.SimpleSignalType):
    """vPDQ (threatexchange's signal format; see the module's notes)."""

    @classmethod
    def get_name(cls) -> str:
        return VPDQ

    @classmethod
    def get_content_types(cls) -> list[type[ContentType]]:
        return [VideoContent]

    @classmethod
    def get_index_cls(cls) -> Any:
        return signal_base.TrivialLinearSearchHashIndex

    @classmethod
    def validate_signal_str(cls, signal_str: str) -> str:
        return vpdq_signal(parse_vpdq(signal_str))

    @classmethod
    def compare_hash(cls, hash1: str, hash2: str) -> signal_base.SignalComparisonResult:
        from trust_safety.hash_banks.index import vpdq_match_percents

        query, banked = parse_vpdq(hash1), parse_vpdq(hash2)
        q, b = vpdq_match_percents(query, banked, distance=31, quality=50)
        return signal_base.SignalComparisonResult.from_bool_only(q >= 80.0)

    @staticmethod
    def get_examples() -> list[str]:
        return [
            vpdq_signal(
                [VpdqFeature(h, 100, float(i)) for i, h in enumerate(PdqSignal.get_examples()[:4])]
            )
        ]


# The signal types a bank accepts, by name.
SIGNAL_TYPES: dict[str, type[signal_base.SignalType]] = {
    PDQ: PdqSignal,
    VPDQ: VpdqSignal,
    MD5: FileMD5Signal,
    SHA256: FileSHA256Signal,
    VIDEO_MD5: VideoMD5Signal,
    VIDEO_SHA256: VideoSHA256Signal,
}


def validate_signal(signal_type: str, signal: str) -> str:
    """The signal in its normal form; ValueError when the type is unknown or it is malformed."""
    cls = SIGNAL_TYPES.get(signal_type)
    if cls is None:
        raise ValueError(f"unknown signal type {signal_type!r}; known: {sorted(SIGNAL_TYPES)}")
    # hex digests are compared in lower case (threatexchange's PDQ type accepts only that)
    text = signal.strip() if signal_type == VPDQ else signal.strip().lower()
    return str(cls.validate_signal_str(text))


# -- hashing -----------------------------------------------------------------------------------


def pdq_of_rgb(rgb: npt.NDArray[np.uint8]) -> tuple[str, int]:
    """PDQ (hex) and quality of an RGB frame, through pdqhash (as threatexchange hashes)."""
    import pdqhash

    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8))
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), int(quality)


def rgb_of_image_bytes(data: bytes) -> npt.NDArray[np.uint8]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


@dataclass(frozen=True)
class MediaHashes:
    """Every signal of one file: exact digests, PDQ for an image, vPDQ for a clip."""

    md5: str
    sha256: str
    pdq: tuple[str, int] | None = None  # (hex, quality)
    vpdq: tuple[VpdqFeature, ...] = ()
    frames: int = field(default=0)

    def signals(self) -> list[dict[str, Any]]:
        """What a match record and a report carry (PDQ with its quality)."""
        out: list[dict[str, Any]] = [
            {"signal_type": MD5, "signal": self.md5},
            {"signal_type": SHA256, "signal": self.sha256},
        ]
        if self.pdq is not None:
            out.append({"signal_type": PDQ, "signal": self.pdq[0], "quality": self.pdq[1]})
        if self.vpdq:
            out.append({"signal_type": VPDQ, "signal": vpdq_signal(self.vpdq)})
        return out

    def bankable(self) -> list[tuple[str, str]]:
        """The (signal type, signal) pairs to add to a bank for this file."""
        out = [(MD5, self.md5), (SHA256, self.sha256)]
        if self.pdq is not None:
            out.append((PDQ, self.pdq[0]))
        if self.vpdq:
            out.append((VPDQ, vpdq_signal(self.vpdq)))
        return out


# PDQ does not survive crops: a 10 % crop (5 % off each side) moves a hash by 80-100 bits,
# far past any usable distance (bench/hash_banks.py). Media the service banks itself (a
# confirmed match, a file hashed with `clearframe hash-banks hash`) is therefore banked with
# the PDQ of centre crops as well; hashes that come from an exchange carry no such variants.
CROP_VARIANTS = (0.95, 0.9, 0.85)


def centre_crop(rgb: npt.NDArray[np.uint8], keep: float) -> npt.NDArray[np.uint8]:
    h, w = rgb.shape[:2]
    ch, cw = max(1, round(h * keep)), max(1, round(w * keep))
    y, x = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


def bank_signals(
    rgb_frames: Sequence[npt.NDArray[np.uint8]],
    times: Sequence[float] | None = None,
    *,
    variants: Sequence[float] = CROP_VARIANTS,
) -> list[tuple[str, str]]:
    """PDQ (one frame) or vPDQ (several, with their times) of media to bank, with the
    signals of its centre crops (``variants``) so that a cropped copy still matches."""
    out: list[tuple[str, str]] = []
    for keep in (1.0, *variants):
        frames = [f if keep == 1.0 else centre_crop(f, keep) for f in rgb_frames]
        if times is None:
            out.append((PDQ, pdq_of_rgb(frames[0])[0]))
        else:
            out.append((VPDQ, vpdq_signal(vpdq_features(frames, times))))
    return list(dict.fromkeys(out))


def digests(data: bytes) -> tuple[str, str]:
    return hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest()


def hash_image(data: bytes, rgb: npt.NDArray[np.uint8] | None = None) -> MediaHashes:
    md5, sha = digests(data)
    frame = rgb if rgb is not None else rgb_of_image_bytes(data)
    return MediaHashes(md5, sha, pdq=pdq_of_rgb(frame), frames=1)


def vpdq_features(
    frames: Iterable[npt.NDArray[np.uint8]], times: Iterable[float]
) -> tuple[VpdqFeature, ...]:
    """vPDQ features of RGB frames with their presentation times."""
    return tuple(
        VpdqFeature(*pdq_of_rgb(frame), round(float(t), 3))
        for frame, t in zip(frames, times, strict=True)
    )


def frames_every(
    frames: Sequence[npt.NDArray[np.uint8]], fps: float, seconds_per_hash: float
) -> tuple[list[npt.NDArray[np.uint8]], list[float]]:
    """One frame per ``seconds_per_hash`` of decoded frames (the first at or after each mark)."""
    if not frames:
        return [], []
    step = max(1, round(max(fps, 1e-6) * seconds_per_hash))
    picked = list(range(0, len(frames), step))
    return [frames[i] for i in picked], [i / max(fps, 1e-6) for i in picked]


def decode_video_rgb(
    source: Any, seconds_per_hash: float, *, max_frames: int = 3600
) -> tuple[list[npt.NDArray[np.uint8]], list[float]]:
    """Frames of a clip (a path or a binary file), one per ``seconds_per_hash``, as RGB."""
    import av

    out: list[npt.NDArray[np.uint8]] = []
    times: list[float] = []
    next_mark = 0.0
    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = float(frame.time) if frame.time is not None else len(out) * seconds_per_hash
            if t + 1e-6 < next_mark:
                continue
            out.append(frame.to_ndarray(format="rgb24"))
            times.append(t)
            next_mark = (int(t / seconds_per_hash + 1e-6) + 1) * seconds_per_hash
            if len(out) >= max_frames:
                break
    return out, times


def hash_video(data: bytes, seconds_per_hash: float = 1.0) -> MediaHashes:
    md5, sha = digests(data)
    frames, times = decode_video_rgb(io.BytesIO(data), seconds_per_hash)
    return MediaHashes(md5, sha, vpdq=vpdq_features(frames, times), frames=len(frames))
