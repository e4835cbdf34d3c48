"""Image-to-video: the procedural backend places the request's image in its clip, large and
moving slowly, and the worker reads that image through the ``generation_inputs`` port."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from contracts.ports import BLOB_STORE
from core.services import Services
from core.video import decode_frames
from generator.backends.base import ProceduralBackend, RenderRequest
from generator.backends.diffusers_backend import DiffusersBackend
from generator.backends.procedural import render_clip
from generator.errors import InvalidRenderRequest
from generator.jobs import job_from_stream
from generator.settings import GeneratorSettings
from generator.worker import GeneratorWorker, decode_input_image
from tests.generator.helpers import last, request_and_approve
from tests.utils import drain, make_principal
from trust_safety.classifiers.faces import nearest_distance, shared_face_analyzer

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"


@cache
def kit() -> np.ndarray:
    image = Image.open(FACES / "kit_harington_2.jpg").convert("RGB")
    image.thumbnail((480, 480))
    return np.asarray(image, dtype=np.uint8)


@cache
def kit_clip() -> np.ndarray:
    return render_clip("a portrait in a garden", 3, 320, 184, 2.0, fps=6, image=kit())


def test_the_image_is_placed_deterministically_over_the_same_scene() -> None:
    clip = kit_clip()
    again = render_clip("a portrait in a garden", 3, 320, 184, 2.0, fps=6, image=kit())
    bare = render_clip("a portrait in a garden", 3, 320, 184, 2.0, fps=6)
    assert clip.shape == bare.shape == (12, 184, 320, 3)
    assert np.array_equal(clip, again)
    changed = (np.abs(clip.astype(np.int16) - bare).max(axis=3) > 8).mean(axis=(1, 2))
    # The photo covers a large part of every frame, and the scene shows around it.
    assert changed.min() > 0.2 and changed.max() < 0.8
    assert clip.min() >= 16 and clip.max() <= 235  # still the broadcast range


def test_the_face_in_the_image_is_found_in_every_sampled_frame_moving_slowly() -> None:
    analyzer = shared_face_analyzer()
    (source,) = analyzer.analyze(kit(), estimate_age=False)
    assert source.embedding is not None
    clip = kit_clip()
    found = [analyzer.analyze(clip[i], estimate_age=False) for i in range(0, len(clip), 3)]
    assert all(len(faces) == 1 for faces in found)
    centres = np.array([(f[0].box.x + f[0].box.width / 2, f[0].box.y) for f in found])
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
    assert steps.max() < 0.1 * 320  # slow: under a tenth of the frame per half second
    assert np.linalg.norm(centres[-1] - centres[0]) > 2  # and it does move
    for faces in found:
        assert faces[0].box.height >= 40  # large enough for the detector's minimum
        assert faces[0].embedding is not None
        assert nearest_distance(source.embedding[None, :], faces[0].embedding) < 0.45


def test_a_bad_input_image_is_refused() -> None:
    with pytest.raises(InvalidRenderRequest, match="RGB uint8"):
        RenderRequest("x", 1, 64, 64, 1.0, image=np.zeros((32, 32), np.uint8))
    with pytest.raises(InvalidRenderRequest, match="too small"):
        render_clip("x", 1, 64, 64, 1.0, fps=4, image=np.zeros((8, 40, 3), np.uint8))
    with pytest.raises(InvalidRenderRequest, match="cannot be decoded"):
        decode_input_image(b"not an image at all")
    request = RenderRequest("x", 1, 96, 64, 1.0, fps=4, image=kit())
    assert ProceduralBackend().render(request).frames.shape == (4, 64, 96, 3)


def test_a_text_only_learned_pipeline_refuses_an_image_request(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "TextToVideoSDPipeline"}))
    backend = DiffusersBackend(tmp_path, device="cpu", allow_cpu=True)
    with pytest.raises(InvalidRenderRequest, match="text only"):
        backend.render(RenderRequest("x", 1, 64, 64, 1.0, fps=4, image=kit()))


def _png(frame: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frame).save(out, format="PNG")
    return out.getvalue()


def _upload(client: Any, headers: dict[str, str], data: bytes) -> str:
    response = client.post(
        "/v1/uploads", headers=headers, files={"file": ("in.png", data, "image/png")}
    )
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "approved"
    return str(response.json()["upload_id"])


SMALL = {"width": 160, "height": 96, "duration_s": 1.0, "fps": 6}


def test_the_worker_renders_from_the_requesters_own_upload(services: Services, client: Any) -> None:
    requester, headers = make_principal(services, "user")
    other, other_headers = make_principal(services, "user")
    # An input with no face in it: a frame of another clip, a bright square in its middle.
    still = render_clip("a paper lantern", 9, 256, 256, 0.2, fps=5)[0].copy()
    still[96:160, 96:160] = 230
    upload_id = _upload(client, headers, _png(still))
    stranger_upload = _upload(client, other_headers, _png(still))

    image_job = {"kind": "image_to_video", **SMALL}
    request_and_approve(
        services, "g-i2v", requester, "a lantern", seed=4, upload_id=upload_id, **image_job
    )
    request_and_approve(
        services, "g-theirs", requester, "a lantern", seed=4, upload_id=stranger_upload, **image_job
    )
    history = services.store.read_stream("generation-g-i2v")
    job = job_from_stream(history, GeneratorSettings())
    assert (job.kind, job.upload_id) == ("image_to_video", upload_id)

    drain(services, ["generator"])
    rendered = last(services, "g-i2v", "GenerationCompleted").payload
    master, _ = decode_frames(services.port(BLOB_STORE).path(rendered["master_blob"]))
    bare = render_clip("a lantern", 4, 160, 96, 1.0, fps=6).astype(np.int16)
    # The upload is in the clip: most of the frame differs from the scene rendered without it.
    assert (np.abs(master.astype(np.int16) - bare).max(axis=3) > 24).mean() > 0.2
    # Someone else's upload is never read: the job ends as an invalid request.
    failed = last(services, "g-theirs", "GenerationFailed").payload
    assert (
        failed["reason"] == "invalid_request" and "not an approved image upload" in failed["error"]
    )


def test_the_inputs_port_hands_out_only_approved_images_of_the_requester(
    services: Services, client: Any
) -> None:
    from contracts.ports import GENERATION_INPUTS

    requester, headers = make_principal(services, "user")
    data = _png(render_clip("a paper lantern", 2, 128, 128, 0.2, fps=5)[0])
    upload_id = _upload(client, headers, data)
    inputs = services.port(GENERATION_INPUTS)
    assert inputs.upload_image(upload_id, requester) == data
    assert inputs.upload_image(upload_id, "someone-else") is None
    assert inputs.upload_image("0" * 32, requester) is None
    worker = GeneratorWorker(services)
    assert worker.inputs is inputs
