"""Small media for upload tests: encoded images, MP4 clips, the real photos."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np


def gradient(width: int, height: int) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = x
    image[..., 1] = y
    image[..., 2] = 128
    return image


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def mp4(frames: list[np.ndarray], fps: int = 10, pixel_format: str = "bgr24") -> bytes:
    """H.264 in MP4 from frames in ``pixel_format`` (OpenCV's BGR by default)."""
    import av

    out = io.BytesIO()
    height, width = frames[0].shape[:2]
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format=pixel_format)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


FACES = Path(__file__).resolve().parents[2] / "data" / "faces"


def photo(name: str, max_side: int = 640) -> np.ndarray:
    """A photo from tests/data/faces (see its README) as BGR, scaled down to ``max_side``
    (the analyzer works at 800 px anyway; smaller keeps the tests fast)."""
    from PIL import Image

    with Image.open(FACES / name) as image:
        rgb = image.convert("RGB")
        rgb.thumbnail((max_side, max_side))
        return np.ascontiguousarray(np.asarray(rgb, np.uint8)[:, :, ::-1])


def on_canvas(image: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    """``image`` letterboxed onto a grey canvas of one size (frames of one clip)."""
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(
        image,
        (int(image.shape[1] * scale), int(image.shape[0] * scale)),
        interpolation=cv2.INTER_AREA,
    )
    canvas = np.full((height, width, 3), 128, np.uint8)
    y, x = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[y : y + resized.shape[0], x : x + resized.shape[1]] = resized
    return canvas
