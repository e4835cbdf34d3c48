"""Image-to-video: the procedural backend starts from the request's image (fitted to the
frame) and moves the camera into it; the worker reads that image through the
``generation_inputs`` port, and the signed asset names it as an ``inputTo`` ingredient."""

from __future__ import annotations

import hashlib
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import c2pa
import cv2
import numpy as np
import pytest
from PIL import Image

from contracts.ports import BLOB_STORE
from core.services import Services
from core.video import decode_frames
from generator.backends.base import ProceduralBackend, RenderRequest
from generator.backends.diffusers_backend import DiffusersBackend
from generator.backends.procedural import fit_image, render_clip
from generator.errors import InvalidRenderRequest
from generator.jobs import job_from_stream
from generator.settings import GeneratorSettings
from generator.similarity import frame_similarity
from generator.worker import GeneratorWorker, decode_input_image
from provenance.c2pa_manifest import SHA256_KEY
from tests.generator.helpers import PIPELINE, last, request_and_approve
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


def test_the_clip_starts_from_the_image_and_moves_into_it() -> None:
    clip = kit_clip()
    again = render_clip("a portrait in a garden", 3, 320, 184, 2.0, fps=6, image=kit())
    other_seed = render_clip("a portrait in a garden", 4, 320, 184, 2.0, fps=6, image=kit())
    unrelated = render_clip("a portrait in a garden", 3, 320, 184, 2.0, fps=6)
    assert clip.shape == unrelated.shape == (12, 184, 320, 3)
    assert np.array_equal(clip, again)
    assert not np.array_equal(clip, other_seed)  # the seed chooses the motion
    fitted = fit_image(kit(), 320, 184)
    assert np.array_equal(clip[0], fitted)  # frame 0 is the image fitted to the frame
    ours, theirs = frame_similarity(fitted, clip[0]), frame_similarity(fitted, unrelated[0])
    assert ours > 0.99 and theirs < 0.3, (ours, theirs)
    # It moves: each frame differs from the last, and the end is far from the start, but it
    # is still the same picture.
    steps = np.abs(np.diff(clip.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    assert steps.min() > 0.3
    assert frame_similarity(clip[0], clip[-1]) < 0.9
    assert frame_similarity(clip[-1], fitted) > 2 * frame_similarity(unrelated[-1], fitted)
    assert clip.min() >= 16 and clip.max() <= 235  # the broadcast range


def test_the_nearer_lower_part_moves_more_than_the_upper_part() -> None:
    """Parallax: the bottom of the picture (near) moves further over the clip than its top
    (far), measured by optical flow on a texture that is the same everywhere."""
    noise = np.random.default_rng(1).integers(0, 256, (90, 160, 3), dtype=np.uint8)
    blurred = np.asarray(cv2.GaussianBlur(noise, (0, 0), 2.0))
    texture = np.asarray(cv2.normalize(blurred, None, 0, 255, cv2.NORM_MINMAX), dtype=np.uint8)
    clip = render_clip("a wall", 11, 320, 180, 1.0, fps=8, image=texture)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (clip[0], clip[-1])]
    flow = cv2.calcOpticalFlowFarneback(grey[0], grey[1], None, 0.5, 5, 31, 5, 7, 1.5, 0)
    moved = np.linalg.norm(flow, axis=2)[:, 40:280]  # away from the side borders
    top, bottom = moved[20:60].mean(), moved[120:160].mean()
    assert top > 1.0 and bottom > 1.25 * top, (top, bottom)


def test_a_picture_of_another_shape_is_fitted_whole_over_a_blurred_copy() -> None:
    tall = np.zeros((200, 100, 3), np.uint8)
    tall[:, :50] = 200  # left half bright
    tall[:, 50:] = 40
    frame = fit_image(tall, 320, 160)
    assert frame.shape == (160, 320, 3)
    # The whole image, 80 px wide, centred: its halves are where they belong, at full contrast.
    assert frame[:, 121:159].min() >= 199 and frame[:, 161:199].max() <= 41
    # The sides show the image's own colours continued (a copy scaled to cover the frame),
    # not black bars.
    assert frame[:, :100].mean() > 190 and 30 < frame[:, 230:].mean() < 50


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
    unrelated = render_clip("a lantern", 4, 160, 96, 1.0, fps=6)
    source = fit_image(still, 160, 96)
    # The upload is the clip's first frame (through H.264 and the watermark); a clip of the
    # same prompt and seed without it is not.
    ours, theirs = frame_similarity(source, master[0]), frame_similarity(source, unrelated[0])
    assert ours > 0.75 and ours > 2 * theirs, (ours, theirs)
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


def test_the_signed_asset_names_the_upload_as_its_input(services: Services, client: Any) -> None:
    requester, headers = make_principal(services, "user")
    still = render_clip("a paper lantern", 9, 256, 256, 0.2, fps=5)[0].copy()
    data = _png(still)
    upload_id = _upload(client, headers, data)
    request_and_approve(
        services,
        "g-in",
        requester,
        "a lantern",
        seed=4,
        upload_id=upload_id,
        kind="image_to_video",
        **SMALL,
    )
    drain(services, PIPELINE)
    signed = last(services, "g-in", "AssetSigned").payload
    blobs = services.port(BLOB_STORE)
    # Both the canonical file and the free tier's visibly marked download say so.
    for address in (signed["blob_address"], signed["download_blob_address"]):
        with open(blobs.path(address), "rb") as fh, c2pa.Reader("video/mp4", fh) as reader:
            manifest = json.loads(reader.json())
        (ingredient,) = manifest["manifests"][manifest["active_manifest"]]["ingredients"]
        assert ingredient["relationship"] == "inputTo"
        assert ingredient["instance_id"] == f"clearframe:upload:{upload_id}"
        assert ingredient["title"] == f"Clearframe upload {upload_id}"
        assert ingredient["format"] == "image/png"
        assert ingredient["metadata"][SHA256_KEY] == hashlib.sha256(data).hexdigest()
