"""Generation kinds that use their source: does image_to_video start from its image, does an
extend continue its source, and how long is the result?

    .venv/bin/python bench/generation_kinds.py                  # about 1 min on 2 cores
    .venv/bin/python bench/generation_kinds.py --image my.png   # animate your own picture

Runs the embedded service end to end, as a user would: upload an image over HTTP, request an
``image_to_video`` of it, a ``text_to_video`` of an unrelated prompt, then an ``extend`` of
the image-to-video clip; every worker runs (prompt and output moderation, the generator with
its configured backend, signing), and the paid tier's signed downloads are measured.

Similarity is :func:`generator.similarity.frame_similarity` (luma SSIM at 128x72; 1.0 for
identical frames):

* ``image_to_video.first_frame_vs_image``: the clip's first frame against the uploaded image
  fitted to the frame (what the clip should start from); ``..._unrelated`` the unrelated
  clip's first frame against the same image.
* ``extend.continuation_vs_source_last``: the first frame after the source's frames against
  the source's last frame; ``..._unrelated`` the unrelated clip's first frame against it.
  ``extend.source_prefix_min``: the lowest similarity of the result's first frames to the
  source's own, frame by frame (the source is delivered unchanged, re-encoded once).
* durations: the source's, the requested extension's and the result's, in seconds.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import assure_age, create_principal, issue_token  # noqa: E402
from core.events import Actor  # noqa: E402
from core.identity import AgeAssuranceSource  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.modules import all_processors, all_projections  # noqa: E402
from core.projections import lag, make_runner  # noqa: E402
from core.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.video import decode_frames  # noqa: E402
from generator.backends.procedural import fit_image, render_clip  # noqa: E402
from generator.settings import GeneratorSettings  # noqa: E402
from generator.similarity import frame_similarity  # noqa: E402

BENCH_OPERATOR = Actor(id="bench-operator", role="admin")


def _user(services: Services) -> dict[str, str]:
    pid = create_principal(services.sessions, "bench user", ["user"])
    assure_age(
        services.sessions, pid, AgeAssuranceSource.OPERATOR, actor=BENCH_OPERATOR, reference="bench"
    )
    _, token = issue_token(services.sessions, services.settings, pid, "bench")
    return {"Authorization": f"Bearer {token}"}


def _catch_up(services: Services, max_s: float = 600.0) -> None:
    """Step every projection and processor until none has anything left (``serve``'s
    workers, stepped in this process)."""
    factories = {**all_projections(), **all_processors()}
    runners = [make_runner(factories[name](services), services) for name in sorted(factories)]
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        moved = sum(r.run_once(0.0) for r in runners)
        if moved == 0 and all(lag(services, r.consumer) == 0 for r in runners):
            return
    raise TimeoutError("the workers did not catch up")


def _request(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    body = {"resolution": "360p", "aspect_ratio": "16:9", "tier": "paid", **body}
    response = client.post("/v1/generations", headers=headers, json=body)
    if response.status_code != 202:
        raise SystemExit(f"request refused: {response.status_code} {response.text}")
    return str(response.json()["generation_id"])


def _video(client: TestClient, headers: dict[str, str], generation_id: str, tmp: Path) -> Any:
    state = client.get(f"/v1/generations/{generation_id}/job", headers=headers).json()
    response = client.get(f"/v1/generations/{generation_id}/download", headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{generation_id} has no download ({state}): {response.text}")
    path = tmp / f"{generation_id}.mp4"
    path.write_bytes(response.content)
    frames, fps = decode_frames(path)
    return frames, fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="the picture to animate (default: generated)")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds of each clip")
    parser.add_argument("--extend-by", type=float, default=2.0, help="seconds an extend adds")
    parser.add_argument("--fps", type=int, default=12)
    args = parser.parse_args()

    if args.image:
        picture = np.asarray(Image.open(args.image).convert("RGB"), dtype=np.uint8)
    else:
        # a still with no face in it (a face would need a cameo to pass output moderation)
        picture = render_clip("a paper lantern festival", 9, 640, 480, 0.2, fps=5)[0]
    png = io.BytesIO()
    Image.fromarray(picture).save(png, format="PNG")

    with tempfile.TemporaryDirectory(prefix="clearframe-bench-kinds-") as tmp_name:
        tmp = Path(tmp_name)
        settings = Settings(data_dir=tmp / "data", poll_interval_s=0.01)
        (tmp / "data").mkdir()
        upgrade(settings.effective_database_url)
        services = Services.from_settings(settings)
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            headers = _user(services)
            uploaded = client.post(
                "/v1/uploads",
                headers=headers,
                files={"file": ("in.png", png.getvalue(), "image/png")},
            )
            if uploaded.status_code != 201 or uploaded.json().get("outcome") != "approved":
                raise SystemExit(f"upload not approved: {uploaded.text}")
            clip = {"duration_s": args.duration, "fps": args.fps}
            i2v = _request(
                client,
                headers,
                kind="image_to_video",
                prompt="the lanterns drift in the night wind",
                upload_id=uploaded.json()["upload_id"],
                seed=4,
                **clip,
            )
            unrelated_id = _request(
                client, headers, prompt="a red kite over a stormy sea", seed=11, **clip
            )
            _catch_up(services)
            ext = _request(
                client,
                headers,
                kind="extend",
                prompt="the lanterns rise higher",
                source_generation_id=i2v,
                seed=5,
                duration_s=args.extend_by,
                fps=args.fps,
            )
            _catch_up(services)
            source, fps = _video(client, headers, i2v, tmp)
            unrelated, _ = _video(client, headers, unrelated_id, tmp)
            extended, ext_fps = _video(client, headers, ext, tmp)
        services.close()

    height, width = source.shape[1:3]
    fitted = fit_image(picture, width, height)
    n = len(source)
    out = {
        "bench": "generation_kinds",
        "backend": settings.section(GeneratorSettings).backend,
        "image_to_video": {
            "first_frame_vs_image": round(frame_similarity(fitted, source[0]), 4),
            "first_frame_vs_image_unrelated": round(frame_similarity(fitted, unrelated[0]), 4),
            "size": [int(width), int(height)],
        },
        "extend": {
            "continuation_vs_source_last": round(frame_similarity(source[-1], extended[n]), 4),
            "continuation_vs_source_last_unrelated": round(
                frame_similarity(source[-1], unrelated[0]), 4
            ),
            "source_prefix_min": round(
                min(frame_similarity(a, b) for a, b in zip(source, extended[:n], strict=True)),
                4,
            ),
            "source_s": round(n / fps, 4),
            "requested_s": args.extend_by,
            "result_s": round(len(extended) / ext_fps, 4),
            "added_s": round((len(extended) - n) / ext_fps, 4),
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
