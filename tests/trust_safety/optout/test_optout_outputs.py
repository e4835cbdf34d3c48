"""Opt-outs on outputs: a rights holder's reference media is found in generated outputs.

The matcher (local features, geometrically verified) must survive the ordinary edits a
generated output puts a work through, and stay silent on unrelated outputs; the index behind
output moderation follows the opt-out events in the store, so an opt-out filed a moment ago
is matched at once; a block cites ``optout:<id>`` with the frames, and the rights holder's
stats count it without saying who asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from contracts.ports import BLOB_STORE
from core.events import Actor
from core.replay import replay_check
from core.video import encode_mp4
from generator.backends.procedural import render_clip
from tests.generator.helpers import last, request_and_approve
from tests.trust_safety.likeness.clips import memo_classifiers
from tests.trust_safety.optout.artwork import artwork, drifting, fit, overlay, transforms
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal
from trust_safety.optout.facts import BlobRef, MediaKind
from trust_safety.optout.keypoints import KeypointDescriber, ReferenceBank
from trust_safety.optout.media_loader import sha256_of
from trust_safety.optout.public import OUTPUT_INDEX, output_matches
from trust_safety.optout.registration import PROJECTIONS
from trust_safety.optout.service import OptOutService
from trust_safety.output.classifiers import IP, OptOutMediaClassifier
from trust_safety.output.moderation import DEFAULT_OUTPUT_POLICY, moderate_frames
from trust_safety.output.processor import CLASSIFIERS

W, H, FPS = 320, 240, 4
HARMLESS = ("an ocean at dusk", "a city street at night", "colourful shapes", "a forest")


def reference_file(tmp: Path, name: str, image: np.ndarray) -> dict[str, Any]:
    path = tmp / name
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    ref = BlobRef(
        uri=path.as_uri(), sha256=sha256_of(path), media_type="image/png", kind=MediaKind.IMAGE
    )
    return ref.model_dump(mode="json")


def outputs_filing(media: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rights_holder_name": "Comet Studios",
        "terms": {"characters": ["Captain Comet"]},
        "scopes": ["prompts", "outputs"],
        "territories": ["*"],
        "reference_media": media,
    }


def test_matching_survives_ordinary_edits_and_ignores_unrelated_frames():
    describer = KeypointDescriber()
    works = [artwork(seed) for seed in range(4)]
    rows = [(k, d) for k, w in enumerate(works) for d in describer.describe_with_mirror(w)]
    bank = ReferenceBank([d for _, d in rows])
    background = render_clip("a meadow", 9, 480, 360, 0.25, fps=4)[0]
    for name, edit in transforms(background).items():
        for k, work in enumerate(works):
            found = bank.match(describer.describe(edit(work)))
            matched = {rows[i][0] for i, f in enumerate(found) if f is not None}
            assert matched == {k}, (name, k, found)
    for prompt in HARMLESS:
        for frame in render_clip(prompt, 1, 480, 270, 1.0, fps=2):
            assert not any(bank.match(describer.describe(frame))), prompt


def test_a_new_optout_is_matched_at_once_then_amended_and_withdrawn(services, tmp_path):
    work, other = artwork(11), artwork(12)
    shown = [np.ascontiguousarray(f) for f in drifting(work, W, H, 3)]
    assert output_matches(services, shown) == []  # the index exists before the filing
    holder = Actor(id="rh-comet", role="rights_holder")
    optouts = OptOutService(services)
    optout_id = optouts.file(
        holder, **outputs_filing([reference_file(tmp_path, "comet.png", work)])
    )
    # No projection ran: the index read the filing from the store.
    (match,) = output_matches(services, shown)
    assert match.optout_id == optout_id and match.ref == f"optout:{optout_id}"
    assert [f.frame for f in match.frames] == [0, 1, 2] and match.frames_checked == 3
    assert all(f.inliers >= 12 for f in match.frames)
    assert output_matches(services, [fit(other, W, H)] * 3) == []
    # An amendment that replaces the reference file replaces what is matched.
    optouts.amend(holder, optout_id, reference_media=[reference_file(tmp_path, "other.png", other)])
    assert output_matches(services, shown) == []
    assert [m.optout_id for m in output_matches(services, [fit(other, W, H)] * 2)] == [optout_id]
    optouts.withdraw(holder, optout_id)
    assert output_matches(services, [fit(other, W, H)] * 2) == []
    assert services.resource(OUTPUT_INDEX).reference_count == 0


def test_one_matching_frame_in_a_longer_output_does_not_block(services, tmp_path):
    work = artwork(21)
    optout_id = OptOutService(services).file(
        Actor(id="rh-a", role="rights_holder"),
        **outputs_filing([reference_file(tmp_path, "w.png", work)]),
    )
    scene = render_clip("a lighthouse at dawn", 2, W, H, 2.0, fps=2)
    once = [fit(work, W, H), *scene[1:]]
    twice = [fit(work, W, H), overlay(work, scene[1]), *scene[2:]]
    assert output_matches(services, once) == []
    assert [m.optout_id for m in output_matches(services, twice)] == [optout_id]


def test_moderation_blocks_citing_the_optout_with_its_frames(services, tmp_path):
    work = artwork(31)
    ref = reference_file(tmp_path, "w.png", work)
    optout_id = OptOutService(services).file(
        Actor(id="rh-a", role="rights_holder"), **outputs_filing([ref])
    )
    classifier = OptOutMediaClassifier(lambda frames: output_matches(services, frames))
    scene = render_clip("a paper boat on a pond", 3, W, H, 2.0, fps=FPS)
    pasted = np.stack([overlay(np.ascontiguousarray(work[:, ::-1]), f) for f in scene])
    result = moderate_frames(pasted, FPS, [classifier], DEFAULT_OUTPUT_POLICY)
    verdict = result.verdict(IP)
    assert verdict.outcome == "block" and IP in result.blocked_categories
    assert verdict.subjects == (f"optout:{optout_id}",)
    (match,) = verdict.matches
    assert match["reference_sha256s"] == [ref["sha256"]]
    assert [(f["index"], f["time_s"]) for f in match["frames"]] == [
        (frame.index, frame.time_s) for frame in result.frames
    ]
    assert all(f["mirrored"] and f["score"] > 0 for f in match["frames"])
    record = next(v for v in result.to_payload()["verdicts"] if v["category"] == IP)  # type: ignore[union-attr]
    assert record["subjects"] == [f"optout:{optout_id}"] and record["matches"][0]["frames"]
    harmless = moderate_frames(scene, FPS, [classifier], DEFAULT_OUTPUT_POLICY)
    assert harmless.verdict(IP).outcome == "pass" and harmless.verdict(IP).max_score == 0.0
    assert harmless.verdict(IP).subjects == ()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_end_to_end_output_block_and_the_holders_stats(backend, make_services, tmp_path):
    from fastapi.testclient import TestClient

    from core.app import create_app

    services = make_services(backend)
    services.override(CLASSIFIERS, list(memo_classifiers()))
    holder, h = make_principal(services, "rights_holder", name="Comet Studios")
    requester, _ = make_principal(services, "user")
    work = artwork(41)
    ref = reference_file(tmp_path, "comet.png", work)
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        filed = client.post("/v1/optouts", headers=h, json=outputs_filing([ref]))
        assert filed.status_code == 201, filed.text
        optout_id = filed.json()["optout_id"]

        scene = render_clip("a city street at night", 5, W, H, 2.0, fps=FPS)
        # The output shows the work cropped, recoloured and pasted into its scene.
        edited = transforms(scene[0])["flip_crop_shift"](work)
        copied = np.stack([overlay(edited, f, 0.55) for f in scene])
        blobs = services.port(BLOB_STORE)
        for generation_id, clip in (("g-copy", copied), ("g-clean", scene)):
            request_and_approve(
                services, generation_id, requester, "a night street", width=W, height=H
            )
            blob = blobs.put_file(encode_mp4(clip, FPS, tmp_path / f"{generation_id}.mp4"))
            ce.append(
                services,
                ce.generation_completed(
                    generation_id,
                    master_blob=blob,
                    width=W,
                    height=H,
                    fps=FPS,
                    frames=len(clip),
                    duration_s=len(clip) / FPS,
                ),
            )
        drain(services, ["output-moderation", "optout-registry"])

        blocked = last(services, "g-copy", "OutputModerated").payload
        assert blocked["decision"] == "block" and blocked["blocked_categories"] == [IP]
        verdict = next(v for v in blocked["verdicts"] if v["category"] == IP)
        assert verdict["subjects"] == [f"optout:{optout_id}"]
        frames = verdict["matches"][0]["frames"]
        assert len(frames) >= 2 and all(
            {"index", "time_s", "score", "reference_sha256"} <= set(f) for f in frames
        )
        clean = last(services, "g-clean", "OutputModerated").payload
        assert clean["decision"] == "allow", clean["verdicts"]

        stats = client.get(f"/v1/optouts/{optout_id}/stats", headers=h)
        assert stats.status_code == 200, stats.text
        body = stats.json()
        assert body["blocked_outputs"] == 1 and body["blocked_requests"] == 0
        assert [(d["prompts"], d["outputs"]) for d in body["by_day"]] == [(0, 1)]
        assert body["matched"] == [
            {
                "kind": "reference_media",
                "value": ref["sha256"],
                "uri": ref["uri"],
                "prompts": 0,
                "outputs": 1,
            }
        ]
        listed = client.get(f"/v1/optouts/{optout_id}", headers=h).json()
        assert listed["blocked_outputs"] == 1
        # Never who asked, what they asked, or which generation.
        for text in (stats.text, json.dumps(listed)):
            assert requester not in text and "g-copy" not in text and "night" not in text
        _, stranger_h = make_principal(services, "rights_holder")
        assert client.get(f"/v1/optouts/{optout_id}/stats", headers=stranger_h).status_code == 404
    assert replay_check(services, PROJECTIONS, progress=False, out=lambda _: None) == []
