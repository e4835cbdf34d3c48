"""Extend: the result is the source video followed by its continuation, which starts at the
source's last frame; the source comes through the ``generation_inputs`` port as it was
signed, and the extended asset names it as its ``parentOf`` ingredient."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import c2pa
import numpy as np

from contracts.ports import BLOB_STORE, GENERATION_INPUTS
from core.services import Services
from core.video import decode_frames
from generator.similarity import frame_similarity
from provenance.c2pa_manifest import SHA256_KEY
from provenance.public import watermarker
from tests.generator.helpers import PIPELINE, last, request_and_approve
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal

SOURCE = {"width": 160, "height": 96, "duration_s": 1.0, "fps": 6}


def _frames(services: Services, address: str) -> np.ndarray:
    frames, _ = decode_frames(services.port(BLOB_STORE).path(address))
    return frames


def test_an_extend_is_the_source_followed_by_its_continuation(services: Services) -> None:
    requester, _ = make_principal(services, "user")
    stranger, _ = make_principal(services, "user")
    request_and_approve(services, "g-src", requester, "a paper boat on a pond", seed=5, **SOURCE)
    request_and_approve(services, "g-else", requester, "a neon city at night", seed=9, **SOURCE)
    drain(services, PIPELINE)
    source_asset = last(services, "g-src", "AssetSigned").payload["blob_address"]
    source = _frames(services, source_asset)
    unrelated = _frames(services, last(services, "g-else", "AssetSigned").payload["blob_address"])

    # The request's own size and rate do not apply: the extension is one clip with its source.
    extend = {"kind": "extend", "extends": "g-src", "duration_s": 2.0, "fps": 12}
    request_and_approve(services, "g-ext", requester, "the boat drifts away", seed=6, **extend)
    request_and_approve(services, "g-theirs", stranger, "the boat sinks", seed=6, **extend)
    drain(services, PIPELINE)

    done = last(services, "g-ext", "GenerationCompleted").payload
    assert (done["width"], done["height"], done["fps"]) == (160, 96, 6)
    assert done["frames"] == len(source) + 12  # 2 s more at the source's 6 fps
    assert done["duration_s"] == 3.0
    result = _frames(services, last(services, "g-ext", "AssetSigned").payload["blob_address"])
    assert len(result) == len(source) + 12
    # It begins as the source, frame for frame (through a second encode and watermark)...
    assert min(frame_similarity(a, b) for a, b in zip(source, result, strict=False)) > 0.85
    # ...and the continuation starts at the source's last frame, as an unrelated clip's
    # first frame does not...
    ours = frame_similarity(source[-1], result[len(source)])
    theirs = frame_similarity(source[-1], unrelated[0])
    assert ours > 0.85 and ours > 2 * theirs, (ours, theirs)
    # ...and then moves on.
    assert frame_similarity(result[len(source)], result[-1]) < ours - 0.1
    # The new clip carries its own serial, over the source's.
    serial = (
        watermarker(services)
        .detect_file(
            services.port(BLOB_STORE).path(
                last(services, "g-ext", "AssetSigned").payload["blob_address"]
            )
        )
        .serial
    )
    assert serial is not None and f"{serial:016x}" == done["watermark_serial"]

    # The manifest names the source as its parent, by the exact bytes it continued.
    ext_path = services.port(BLOB_STORE).path(
        last(services, "g-ext", "AssetSigned").payload["blob_address"]
    )
    with open(ext_path, "rb") as fh, c2pa.Reader("video/mp4", fh) as reader:
        data = json.loads(reader.json())
    (parent,) = data["manifests"][data["active_manifest"]]["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert parent["instance_id"] == "clearframe:generation:g-src"
    assert parent["title"] == "Clearframe generation g-src"
    source_bytes = services.port(BLOB_STORE).path(source_asset).read_bytes()
    assert parent["metadata"][SHA256_KEY] == hashlib.sha256(source_bytes).hexdigest()

    # Someone else's video is never continued, whatever was approved.
    failed = last(services, "g-theirs", "GenerationFailed").payload
    assert failed["reason"] == "invalid_request"
    assert "not a signed video of the requester" in failed["error"]


def test_the_inputs_port_hands_out_only_the_requesters_own_signed_video(
    services: Services, client: Any
) -> None:
    requester, _ = make_principal(services, "user")
    request_and_approve(services, "g-mine", requester, "a kite over the sea", seed=2, **SOURCE)
    inputs = services.port(GENERATION_INPUTS)
    drain(services, ["generator"])
    assert inputs.source_video("g-mine", requester) is None  # rendered, not yet signed
    drain(services, PIPELINE)
    signed = last(services, "g-mine", "AssetSigned").payload["blob_address"]
    assert inputs.source_video("g-mine", requester) == (
        services.port(BLOB_STORE).path(signed).read_bytes()
    )
    assert inputs.source_video("g-mine", "someone-else") is None
    assert inputs.source_video("g-missing", requester) is None
    # A removed video is not continued; restored, it is again.
    removal = ce.hold("act-1")
    ce.append(services, ce.visibility("g-mine", [removal], changed=removal))
    assert inputs.source_video("g-mine", requester) is None
    ce.append(services, ce.visibility("g-mine", [], changed=removal))
    assert inputs.source_video("g-mine", requester) is not None
