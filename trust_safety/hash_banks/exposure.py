"""Exposure controls: what a reviewer's screen shows of matched or flagged media.

By default a preview is small, greyscale and blurred so hard that no detail survives (a box
blur of a tenth of the preview's side, applied twice), enough to tell a dark frame from a
bright one and where things are, nothing more. A reviewer unblurs one item at a time, with a
reason, and each unblur is an audit event (``MatchedMediaUnblurred``) written before the
clear image leaves the server. The console builds on :func:`preview`.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt

from core.events import Actor, stream_id
from core.services import Services
from trust_safety.hash_banks.events import AUDIT, MatchedMediaUnblurred

PREVIEW_SIDE = 256


def first_frame(data: bytes, media_type: str) -> npt.NDArray[np.uint8]:
    from trust_safety.hash_banks.signals import decode_video_rgb, rgb_of_image_bytes

    if media_type.startswith("video/"):
        frames, _ = decode_video_rgb(io.BytesIO(data), 1.0, max_frames=1)
        if not frames:
            return np.zeros((PREVIEW_SIDE, PREVIEW_SIDE, 3), np.uint8)
        return frames[0]
    return rgb_of_image_bytes(data)


def _small(rgb: npt.NDArray[np.uint8]) -> object:
    from PIL import Image

    image = Image.fromarray(rgb)
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return image


def blurred(rgb: npt.NDArray[np.uint8]) -> bytes:
    """The default preview: greyscale, heavily blurred, JPEG."""
    from PIL import Image, ImageFilter

    image = _small(rgb)
    assert isinstance(image, Image.Image)
    grey = image.convert("L")
    radius = max(4, max(grey.size) // 10)
    grey = grey.filter(ImageFilter.BoxBlur(radius)).filter(ImageFilter.BoxBlur(radius))
    out = io.BytesIO()
    grey.save(out, format="JPEG", quality=70)
    return out.getvalue()


def clear(rgb: npt.NDArray[np.uint8]) -> bytes:
    from PIL import Image

    image = _small(rgb)
    assert isinstance(image, Image.Image)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def record_unblur(services: Services, match_id: str, reviewer: Actor, reason: str) -> None:
    services.store.append(
        stream_id(AUDIT, f"unblur-{match_id}"),
        [MatchedMediaUnblurred(match_id=match_id, reviewer_id=reviewer.id, reason=reason)],
        expected_version=None,
        actor=reviewer,
    )
