"""The stored video and its frames for staff (the console's player, evidence frames and
side-by-side comparison): who may see them, removed ones included, blocked ones blurred."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from core.projections import make_runner
from core.services import Services
from generator.projection import GenerationJobs
from generator.worker import GeneratorWorker
from provenance.projection import ProvenanceAssets
from provenance.signing import AssetSigning
from tests.generator.helpers import PIPELINE, ScriptedSexual, last, request_and_approve
from tests.utils import drain, make_principal
from trust_safety.output.processor import OutputModeration

SMALL = {"width": 160, "height": 96, "duration_s": 1.0, "fps": 12}


def _jpeg(response: Any) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def test_staff_see_a_video_by_asset_with_its_frames_and_others_do_not(
    services: Services, client: Any
) -> None:
    requester, owner = make_principal(services, "user")
    request_and_approve(services, "g-m", requester, "a paper boat on a pond", seed=3, **SMALL)
    drain(services, PIPELINE)
    asset_id = last(services, "g-m", "AssetPublished").payload["asset_id"]
    _, reviewer = make_principal(services, "reviewer")
    _, investigator = make_principal(services, "investigator")
    _, stranger = make_principal(services, "user")

    found = client.get(f"/v1/assets/{asset_id}", headers=reviewer)
    assert found.status_code == 200, found.text
    assert found.json()["generation_id"] == "g-m" and found.json()["playable"] is True
    for headers in (reviewer, investigator):
        media = client.get(f"/v1/assets/{asset_id}/media", headers=headers)
        assert media.status_code == 200 and media.headers["content-type"] == "video/mp4"
        assert media.content[4:8] == b"ftyp"
    # the first and the last frame differ (the procedural clip moves): seeking works
    first = _jpeg(client.get(f"/v1/assets/{asset_id}/frames?at=0&width=160", headers=reviewer))
    late = _jpeg(client.get(f"/v1/assets/{asset_id}/frames?at=0.9&width=160", headers=reviewer))
    assert first.shape[1] == 160 and np.abs(first.astype(int) - late).mean() > 1.0
    # the requester sees frames of their own generation, not the staff routes
    assert client.get("/v1/generations/g-m/frames?at=0.5", headers=owner).status_code == 200
    assert client.get(f"/v1/assets/{asset_id}/media", headers=owner).status_code == 403
    assert client.get("/v1/generations/g-m/frames", headers=stranger).status_code == 404
    assert client.get(f"/v1/assets/{asset_id}/frames").status_code == 401
    assert client.get("/v1/assets/asset-nope", headers=reviewer).status_code == 404
    bad = client.get(f"/v1/assets/{asset_id}/frames?at=-1", headers=reviewer)
    assert bad.status_code == 422
    assert client.get(f"/v1/assets/{asset_id}/frames?width=5000", headers=reviewer).status_code == 422


def test_a_blocked_output_is_never_played_and_its_frames_come_blurred(
    services: Services, client: Any
) -> None:
    requester, owner = make_principal(services, "user")
    request_and_approve(services, "g-blk", requester, "something", seed=4, **SMALL)
    moderation = OutputModeration(services, classifiers=[ScriptedSexual(0.97)])
    drain(services, built=[
        make_runner(GeneratorWorker(services), services),
        make_runner(moderation, services),
        make_runner(AssetSigning(services), services),
        make_runner(GenerationJobs(), services),
        make_runner(ProvenanceAssets(), services),
    ])
    _, reviewer = make_principal(services, "reviewer")
    media = client.get("/v1/generations/g-blk/media", headers=reviewer)
    assert media.status_code == 409 and media.json()["reason"] == "output_blocked"
    frame = client.get("/v1/generations/g-blk/frames?at=0.5&width=160", headers=reviewer)
    assert frame.headers["x-clearframe-blurred"] == "true"
    pixels = _jpeg(frame)
    # greyscale: the three channels agree
    assert np.abs(pixels[..., 0].astype(int) - pixels[..., 2]).max() <= 8
