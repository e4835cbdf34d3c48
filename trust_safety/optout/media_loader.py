"""Loading reference media from local files (``file://`` URIs), verified by content hash.

Images are decoded with OpenCV; clips are decoded with PyAV and sampled evenly, so a long
reference clip costs a bounded number of embeddings.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import cv2
import numpy as np

from core.media import MediaLimitExceeded, decode_evenly, open_image, video_open_options
from trust_safety.optout.errors import InvalidOptOut
from trust_safety.optout.facts import BlobRef, MediaKind
from trust_safety.optout.reference_media import Frame


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalFileMediaLoader:
    def __init__(self, *, root: Path | None = None, frames_per_clip: int = 8) -> None:
        if frames_per_clip < 1:
            raise ValueError("frames_per_clip must be at least 1")
        self.root = root.resolve() if root else None
        self.frames_per_clip = frames_per_clip

    def _path(self, ref: BlobRef) -> Path:
        parsed = urlparse(ref.uri)
        if parsed.scheme != "file":
            raise InvalidOptOut(f"this loader reads file:// URIs, not {parsed.scheme or 'bare'}")
        path = Path(unquote(parsed.path)).resolve()
        if self.root is not None and not path.is_relative_to(self.root):
            raise InvalidOptOut(f"{ref.uri} is outside the media root")
        if not path.is_file():
            raise InvalidOptOut(f"reference media {ref.uri} does not exist")
        # The filing names the media by hash: a swapped file must not be matched silently.
        if sha256_of(path) != ref.sha256:
            raise InvalidOptOut(f"reference media {ref.uri} does not match its sha256")
        return path

    def frames(self, ref: BlobRef) -> list[Frame]:
        path = self._path(ref)
        if ref.kind is MediaKind.IMAGE:
            _check_image_header(path, ref.uri)
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise InvalidOptOut(f"{ref.uri} is not a decodable image")
            return [np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)]
        return self._clip_frames(path, ref.uri)

    def _clip_frames(self, path: Path, uri: str) -> list[Frame]:
        import av

        def picks(count: int) -> list[int]:
            spread = np.linspace(0, count - 1, min(self.frames_per_clip, count))
            return [int(round(i)) for i in spread]

        def rgb(frame: Any) -> Frame:
            return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)

        try:
            with av.open(str(path), options=video_open_options()) as container:
                if not container.streams.video:
                    raise InvalidOptOut(f"{uri} has no video frames")
                # only the frames kept are converted: a long clip is not held in memory
                decoded = decode_evenly(container, container.streams.video[0], picks, rgb)
        except MediaLimitExceeded as exc:
            raise InvalidOptOut(f"{uri}: {exc.detail}") from None
        except (av.FFmpegError, ValueError) as exc:
            raise InvalidOptOut(f"{uri} is not a decodable video: {exc}") from exc
        if not decoded:
            raise InvalidOptOut(f"{uri} has no video frames")
        return decoded


def _check_image_header(path: Path, uri: str) -> None:
    """Refuse an image whose header declares more pixels than are decoded (a bomb)."""
    from PIL import UnidentifiedImageError

    try:
        with open_image(path):
            pass
    except MediaLimitExceeded as exc:
        raise InvalidOptOut(f"{uri}: {exc.detail}") from None
    except (UnidentifiedImageError, OSError):
        pass  # OpenCV may still read it, under its own pixel ceiling
