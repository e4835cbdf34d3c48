"""Decompression bombs on every route that reads media: 422 ``media_limit_exceeded``, never a
500 and never a decode of what the header promises (core/media.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.media import MediaLimitExceeded, check_media_file
from core.services import Services
from tests.utils import make_principal
from tests.utils.bombs import bomb_png, endless_mp4, huge_frame_mp4, many_frames_mp4

Bomb = tuple[str, bytes, str, str]  # file name, bytes, media type, what the detail names


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> list[Bomb]:
    tmp = tmp_path_factory.mktemp("bombs")
    return [
        ("bomb.png", bomb_png(), "image/png", "10000000000 pixels"),
        ("huge.mp4", huge_frame_mp4(tmp / "huge.mp4").read_bytes(), "video/mp4", "16000x16000"),
        ("endless.mp4", endless_mp4(tmp / "endless.mp4").read_bytes(), "video/mp4", "declares"),
        ("many.mp4", many_frames_mp4(tmp / "many.mp4").read_bytes(), "video/mp4", "40000 frames"),
    ]


def test_the_bombs_are_tiny_and_refused_before_decoding(bombs: list[Bomb], tmp_path: Path) -> None:
    for name, data, _, names in bombs:
        assert len(data) < 600_000, name
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(MediaLimitExceeded) as refused:
            check_media_file(path)
        assert names in refused.value.detail, (name, refused.value.detail)


def _post_file(route: str) -> Callable[..., object]:
    def post(client, headers: dict[str, str], name: str, data: bytes, media_type: str) -> object:
        return client.post(route, headers=headers, files={"file": (name, data, media_type)})

    return post


def _post_body(client, headers: dict[str, str], name: str, data: bytes, media_type: str) -> object:
    return client.post(
        "/v1/c2pa/matches/byContent",
        headers={**headers, "Content-Type": media_type},
        content=data,
    )


ROUTES: dict[str, tuple[str, Callable[..., object]]] = {
    "reverse search": ("investigator", _post_file("/v1/reverse-search/searches")),
    "c2pa byContent (raw body)": ("investigator", _post_body),
    "c2pa byContent (multipart)": ("investigator", _post_file("/v1/c2pa/matches/byContent")),
    "provenance verify (investigator)": ("investigator", _post_file("/v1/provenance/verify")),
    "provenance verify (user)": ("user", _post_file("/v1/provenance/verify")),
    "uploads": ("user", _post_file("/v1/uploads")),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_media_route_answers_a_bomb_with_422(
    route: str, services: Services, client, bombs: list[Bomb]
) -> None:
    role, post = ROUTES[route]
    _, headers = make_principal(services, role)
    for name, data, media_type, names in bombs:
        response = post(client, headers, name, data, media_type)
        assert response.status_code == 422, (route, name, response.status_code, response.text)  # type: ignore[attr-defined]
        body = response.json()  # type: ignore[attr-defined]
        assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
        assert body["code"] == "media_limit_exceeded", (route, name, body)
        if route != "uploads":  # uploads state their own, tighter limits (1080p, 20 s)
            assert names in body["detail"], (route, name, body["detail"])
