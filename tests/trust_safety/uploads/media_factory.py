"""Small media made on the fly for upload tests: encoded images, MP4 clips, a drawn face."""

from __future__ import annotations

import io

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
