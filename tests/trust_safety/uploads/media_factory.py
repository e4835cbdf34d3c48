"""Small media for upload tests: encoded images, MP4 clips, a drawn face, the real photos."""

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


def drawn_face(size: int = 480) -> np.ndarray:
    """A cartoon face with the light/dark layout a frontal Haar cascade keys on."""
    image = np.full((size, size, 3), 230, np.uint8)
    cx = cy = size // 2
    fw, fh = int(size * 0.22), int(size * 0.30)
    skin = (140, 170, 210)
    cv2.ellipse(image, (cx, cy), (fw, fh), 0, 0, 360, skin, -1)
    cv2.ellipse(
        image,
        (cx, cy - int(fh * 0.75)),
        (int(fw * 1.05), int(fh * 0.45)),
        0,
        180,
        360,
        (30, 30, 40),
        -1,
    )
    eye_y = cy - fh + int(2 * fh * 0.42)
    for dx in (-int(fw * 0.42), int(fw * 0.42)):
        cv2.ellipse(image, (cx + dx, eye_y), (22, 12), 0, 0, 360, (40, 40, 40), -1)
        cv2.ellipse(image, (cx + dx, eye_y - 24), (26, 6), 0, 180, 360, (40, 40, 50), 4)
    cv2.line(image, (cx, eye_y + 10), (cx, eye_y + int(fh * 0.35)), (112, 136, 168), 8)
    mouth_y = cy - fh + int(2 * fh * 0.70)
    cv2.ellipse(
        image, (cx, mouth_y), (int(fw * 0.38), int(fh * 0.07)), 0, 0, 360, (70, 70, 150), -1
    )
    return cv2.GaussianBlur(image, (9, 9), 0)


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def mp4(frames: list[np.ndarray], fps: int = 10) -> bytes:
    import av

    out = io.BytesIO()
    height, width = frames[0].shape[:2]
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
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
