"""Cameo enrolment for the suites: liveness captures built from the real photos in
tests/data/faces, analysed once per process.

A capture of one person is two photos of them (two moments, two head poses) plus a small
zoom of each, cropped to the face and scaled down (about 0.2 s of analysis a frame). A
"still photo" capture is one photo moved, rotated and scaled in its plane, as a photo held to
a camera would be.

* :func:`register_cameo` goes through ``POST /v1/cameos`` with the capture as PNG frames:
  the whole path, decoding and analysis included.
* :func:`enrol_cameo` registers through the consent service with the capture's faces
  analysed once per process (same checks, same events, same template store): for suites
  that need many cameos and are not about enrolment.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.events import Actor
from core.services import Services
from trust_safety.classifiers.faces import Face, shared_face_analyzer
from trust_safety.consent.enrolment import Capture
from trust_safety.consent.facts import Audience
from trust_safety.consent.service import ConsentService

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"
OPERATOR = Actor(id="operator", role="admin")
# Two photos each: the people a live capture can be built for.
PEOPLE = {
    "kit": ("kit_harington_1.jpg", "kit_harington_2.jpg"),
    "rose": ("rose_leslie_1.jpg", "rose_leslie_2.jpg"),
    "alex": ("alex_lacamoire_1.jpg", "alex_lacamoire_2.png"),
    "obama": ("obama_1.jpg", "obama_2.jpg"),
}
SIDE = 320


@cache
def _photo(name: str) -> Image.Image:
    return Image.open(FACES / name).convert("RGB")


@cache
def _face_box(name: str) -> tuple[int, int, int, int]:
    faces = shared_face_analyzer().analyze(np.asarray(_photo(name)), estimate_age=False)
    if len(faces) != 1:
        raise AssertionError(f"{name}: expected one face, found {len(faces)}")
    return faces[0].box.x, faces[0].box.y, faces[0].box.width, faces[0].box.height


def face_crop(name: str, *, zoom: float = 1.0, angle: float = 0.0, shift: float = 0.0) -> Any:
    """The photo's face, cropped (zoomed by ``zoom``), rotated by ``angle`` degrees in its
    plane and moved by ``shift`` face widths, as a ``SIDE``-pixel RGB frame."""
    x, y, w, h = _face_box(name)
    cx, cy = x + w / 2 + shift * w, y + h / 2 + shift * h / 2
    half = w * 1.3 / zoom
    image = _photo(name)
    if angle:
        image = image.rotate(
            angle, resample=Image.Resampling.BICUBIC, center=(x + w / 2, y + h / 2)
        )
    crop = image.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
    return np.asarray(crop.resize((SIDE, SIDE), Image.Resampling.LANCZOS), dtype=np.uint8)


@cache
def live_frames(person: str) -> tuple[Any, ...]:
    """A live capture of ``person``: both photos, each also zoomed in a little."""
    first, second = PEOPLE[person]
    return (
        face_crop(first),
        face_crop(first, zoom=1.15),
        face_crop(second),
        face_crop(second, zoom=1.15),
    )


@cache
def alternate_live_frames(person: str) -> tuple[Any, ...]:
    """Another live capture of ``person`` (other zooms, a slight roll): a re-enrolment."""
    first, second = PEOPLE[person]
    return (
        face_crop(first, zoom=1.05, angle=4),
        face_crop(first, zoom=1.25),
        face_crop(second, zoom=1.05, angle=-4),
        face_crop(second, zoom=1.25),
    )


@cache
def mixed_frames(one: str, other: str) -> tuple[Any, ...]:
    """A "capture" whose frames show two different people, one after the other."""
    return live_frames(one)[:2] + live_frames(other)[2:]


@cache
def two_people_frames() -> tuple[Any, ...]:
    """Both people of two_people.jpg in every frame, the camera moving a little."""
    image = _photo("two_people.jpg")
    width, height = image.size
    frames = []
    for left, top in ((0, 0), (20, 10), (40, 0)):
        crop = image.crop((left, top, width - 40 + left, height - 20 + top))
        frames.append(np.asarray(crop.resize((560, 330), Image.Resampling.LANCZOS), np.uint8))
    return tuple(frames)


@cache
def faceless_frame() -> Any:
    """A frame with no face: a smooth gradient."""
    ramp = np.linspace(0, 255, SIDE, dtype=np.uint8)
    return np.stack(
        [
            np.tile(ramp, (SIDE, 1)),
            np.tile(ramp[:, None], (1, SIDE)),
            np.full((SIDE, SIDE), 90, np.uint8),
        ],
        axis=-1,
    )


@cache
def still_frames(name: str) -> tuple[Any, ...]:
    """One photo held to the camera: moved, rotated and scaled in its plane."""
    return (
        face_crop(name),
        face_crop(name, zoom=1.2, angle=8),
        face_crop(name, zoom=0.85, angle=-10, shift=0.1),
        face_crop(name, zoom=1.1, angle=14, shift=-0.1),
    )


# id(frames) -> (frames, their faces); the frames are kept so that their id is not reused
_ANALYSED: dict[int, tuple[tuple[Any, ...], tuple[tuple[Face, ...], ...]]] = {}


def analysed(frames: tuple[Any, ...]) -> tuple[tuple[Face, ...], ...]:
    """The frames' faces, analysed once per process (the captures of this module are
    cached, so the same tuple comes back for the same capture)."""
    found = _ANALYSED.get(id(frames))
    if found is None or found[0] is not frames:
        analyzer = shared_face_analyzer()
        found = (frames, tuple(tuple(analyzer.analyze(f)) for f in frames))
        _ANALYSED[id(frames)] = found
    return found[1]


def png(frame: Any) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frame).save(out, format="PNG")
    return out.getvalue()


def capture_files(frames: Sequence[Any]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The multipart ``files`` of a frames capture."""
    return [("frames", (f"frame{i}.png", png(f), "image/png")) for i, f in enumerate(frames)]


def register_cameo(
    client: Any,
    headers: dict[str, str],
    handle: str,
    *,
    audience: str = "only_me",
    display_name: str | None = None,
    person: str = "kit",
    expect: int = 201,
) -> str:
    """Register a cameo through ``POST /v1/cameos`` from a real capture of ``person``."""
    response = client.post(
        "/v1/cameos",
        headers=headers,
        data={
            "handle": handle,
            "display_name": display_name or handle.title(),
            "audience": audience,
        },
        files=capture_files(live_frames(person)),
    )
    assert response.status_code == expect, response.text
    return str(response.json().get("cameo_id", ""))


def enrol_cameo(
    services: Services,
    owner_id: str,
    handle: str,
    *,
    audience: Audience = Audience.ONLY_ME,
    person: str = "kit",
    display_name: str | None = None,
    public_figure_id: str | None = None,
) -> str:
    """Register and enrol a cameo for ``owner_id`` through the consent service, from the
    cached analysis of a real capture of ``person``."""
    frames = live_frames(person)
    consent = ConsentService(services)
    cameo_id = consent.register(
        Actor(id=owner_id, role="user"),
        handle=handle,
        display_name=display_name or handle,
        audience=audience,
        capture=Capture("frames", frames),
        faces=analysed(frames),
    )
    if public_figure_id is not None:
        consent.link_public_figure(OPERATOR, cameo_id, public_figure_id)
    return cameo_id
