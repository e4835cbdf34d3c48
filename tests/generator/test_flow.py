"""The whole pipeline on the embedded default (SQLite + SQL-tail log): approved request ->
generator -> output moderation -> signing -> download and verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from contracts.ports import BLOB_STORE, PICKUP_POLICY, PickupAnswer, PickupRequest
from core.events import stream_id
from core.projections import DeadLetter, make_runner
from core.services import Services
from core.video import decode_frames, encode_mp4
from generator.backends.base import ProceduralBackend, RenderedVideo, RenderRequest
from generator.errors import BackendFailed
from generator.pickup import PickupCheck
from generator.settings import GeneratorSettings
from generator.worker import GeneratorWorker
from provenance.c2pa_manifest import read_manifest
from provenance.signing import credentials
from tests.generator.helpers import (
    PIPELINE,
    ScriptedSexual,
    last,
    request_and_approve,
    stream_types,
)
from tests.utils import drain, make_principal
from trust_safety.output.classifiers import SEXUAL
from trust_safety.output.processor import OutputModeration

SMALL = {"width": 160, "height": 96, "duration_s": 1.0, "fps": 12}


def test_free_and_paid_generations_end_signed_and_downloadable(
    services: Services, client: Any
) -> None:
    requester, headers = make_principal(services, "user")
    request_and_approve(services, "g-free", requester, "a paper boat on a pond", seed=5, **SMALL)
    request_and_approve(
        services, "g-paid", requester, "a paper boat on a pond", seed=5, tier="paid", **SMALL
    )
    drain(services, PIPELINE)

    for gid in ("g-free", "g-paid"):
        types = stream_types(services, gid)
        assert types[2:] == [
            "GenerationStarted",
            "GenerationCompleted",
            "OutputModerated",
            "AssetSigned",
            "AssetPublished",
        ], types
    creds = credentials(services)
    blobs = services.port(BLOB_STORE)
    free = last(services, "g-free", "AssetSigned").payload
    paid = last(services, "g-paid", "AssetSigned").payload
    assert free["visible_watermark"] and free["download_blob_address"] != free["blob_address"]
    assert not paid["visible_watermark"] and paid["download_blob_address"] == paid["blob_address"]
    completed = last(services, "g-free", "GenerationCompleted").payload
    assert (completed["width"], completed["height"], completed["frames"]) == (160, 96, 12)
    for address in (free["blob_address"], free["download_blob_address"], paid["blob_address"]):
        report = read_manifest(blobs.path(address), creds.trust_anchors_pem)
        assert report.state == "Trusted"
    assert (
        read_manifest(blobs.path(free["blob_address"]), creds.trust_anchors_pem).generation_id
        == "g-free"
    )

    # The visible mark is in the free download only.
    master, _ = decode_frames(blobs.path(free["blob_address"]))
    download, _ = decode_frames(blobs.path(free["download_blob_address"]))
    assert np.abs(master.astype(np.int16) - download).max() > 60

    status = client.get("/v1/generations/g-free/job", headers=headers)
    assert status.status_code == 200 and status.json()["status"] == "published"
    got = client.get("/v1/generations/g-free/download", headers=headers)
    assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
    assert got.content == blobs.path(free["download_blob_address"]).read_bytes()

    _, stranger = make_principal(services, "user")
    assert client.get("/v1/generations/g-free/download", headers=stranger).status_code == 404
    assert client.get("/v1/generations/g-free/job", headers=stranger).status_code == 404
    assert client.get("/v1/generations/g-free/job").status_code == 401


def test_verification_api_and_cli_record_audit_events(
    services: Services,
    client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    requester, headers = make_principal(services, "user")
    # Big enough for the watermark to survive a low-bitrate re-encode under the visible mark.
    request_and_approve(
        services,
        "g-v",
        requester,
        "lanterns over a river",
        seed=2,
        width=320,
        height=184,
        duration_s=2.0,
        fps=12,
    )
    drain(services, PIPELINE)
    signed = services.port(BLOB_STORE).path(
        last(services, "g-v", "AssetSigned").payload["download_blob_address"]
    )

    resp = client.post(
        "/v1/provenance/verify",
        headers=headers,
        files={"file": ("clip.mp4", signed.read_bytes(), "video/mp4")},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["conclusion"] == "signed_by_us" and body["generation_id"] == "g-v"
    assert body["c2pa"]["state"] == "Trusted"
    assert body["watermark"]["generation_id"] == "g-v"
    assert body["fingerprint_matches"] == []  # users do not get other people's records

    # A stripped re-encode still resolves through the watermark.
    frames, fps = decode_frames(signed)
    stripped = encode_mp4(frames, fps, tmp_path / "stripped.mp4", bitrate=150_000)
    resp = client.post(
        "/v1/provenance/verify",
        headers=headers,
        files={"file": ("x.mp4", stripped.read_bytes(), "video/mp4")},
    )
    assert (
        resp.json()["conclusion"] == "watermarked_by_us" and resp.json()["generation_id"] == "g-v"
    )

    junk = client.post(
        "/v1/provenance/verify",
        headers=headers,
        files={"file": ("x.mp4", b"definitely not a video", "video/mp4")},
    )
    # Undecodable files are unreadable (422), never tampered, even one that starts as the
    # signed file did; each check is still recorded.
    assert junk.status_code == 422 and junk.json()["code"] == "provenance.unreadable_media"
    truncated = client.post(
        "/v1/provenance/verify",
        headers=headers,
        files={"file": ("x.mp4", signed.read_bytes()[:4000], "video/mp4")},
    )
    assert truncated.status_code == 422, truncated.text
    assert truncated.json()["code"] == "provenance.unreadable_media"
    assert "<file>" not in truncated.json()["notes"] and "/tmp" not in truncated.json()["notes"]
    checked = services.store.read_stream(f"audit-provcheck-{truncated.json()['check_id']}")
    assert checked[0].payload["conclusion"] == "unreadable"
    assert (
        client.post(
            "/v1/provenance/verify", files={"file": ("x.mp4", b"x", "video/mp4")}
        ).status_code
        == 401
    )

    monkeypatch.setenv("CLEARFRAME_DATABASE_URL", services.settings.effective_database_url)
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(services.settings.data_dir))
    from core.cli import main

    assert main(["verify", str(signed), "--no-fingerprints"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["conclusion"] == "signed_by_us" and printed["generation_id"] == "g-v"
    garbage = signed.with_name("garbage.mp4")
    garbage.write_bytes(b"\x00" * 4096)
    assert main(["verify", str(garbage), "--no-fingerprints"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["conclusion"] == "unreadable"
    assert "cannot be decoded" in captured.err and str(garbage.parent) not in captured.err

    audits = [e for e in services.store.read_all() if e.type == "ProvenanceChecked"]
    assert [a.payload["channel"] for a in audits] == ["api", "api", "api", "api", "cli", "cli"]
    assert audits[0].actor.id == requester
    assert audits[0].payload["sha256"] == body["sha256"]


def _runners(
    services: Services,
    *,
    worker: GeneratorWorker | None = None,
    moderation: OutputModeration | None = None,
) -> list[Any]:
    from generator.projection import GenerationJobs
    from provenance.projection import ProvenanceAssets
    from provenance.signing import AssetSigning

    return [
        make_runner(worker or GeneratorWorker(services), services),
        make_runner(moderation or OutputModeration(services), services),
        make_runner(AssetSigning(services), services),
        make_runner(GenerationJobs(), services),
        make_runner(ProvenanceAssets(), services),
    ]


def test_blocked_output_is_never_signed_or_downloadable(services: Services, client: Any) -> None:
    requester, headers = make_principal(services, "user")
    request_and_approve(services, "g-b", requester, "something", **SMALL)
    moderation = OutputModeration(services, classifiers=[ScriptedSexual(0.97)])
    drain(services, built=_runners(services, moderation=moderation))
    types = stream_types(services, "g-b")
    assert "AssetSigned" not in types and "AssetPublished" not in types
    moderated = last(services, "g-b", "OutputModerated").payload
    assert moderated["decision"] == "block" and SEXUAL in moderated["blocked_categories"]
    assert len(moderated["frame_scores"]) == 2  # 1 s sampled at 2 fps
    resp = client.get("/v1/generations/g-b/download", headers=headers)
    assert resp.status_code == 409 and resp.json()["reason"] == "output_blocked"


class FlakyBackend:
    name = "flaky"
    model_id = "flaky-v1"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.inner = ProceduralBackend()

    def render(self, request: RenderRequest) -> RenderedVideo:
        self.calls += 1
        if self.calls <= self.failures:
            raise BackendFailed(f"simulated GPU fault #{self.calls}")
        return self.inner.render(request)


FAST_RETRY = GeneratorSettings(backend_retries=2, backend_retry_wait_s=0.0)


def test_transient_failures_are_retried(services: Services) -> None:
    requester, _ = make_principal(services, "user")
    request_and_approve(services, "g-r", requester, "retry me", **SMALL)
    backend = FlakyBackend(failures=3)  # 2 inside the first attempt, 1 more in the second
    worker = GeneratorWorker(services, backend=backend, settings=FAST_RETRY)
    drain(services, built=_runners(services, worker=worker))
    assert backend.calls == 4
    assert "GenerationCompleted" in stream_types(services, "g-r")
    assert "GenerationFailed" not in stream_types(services, "g-r")
    assert stream_types(services, "g-r").count("GenerationStarted") == 1


def test_persistent_failure_is_dead_lettered_and_the_partition_moves_on(services: Services) -> None:
    requester, _ = make_principal(services, "user")
    request_and_approve(services, "g-dead", requester, "doomed", **SMALL)
    backend = FlakyBackend(failures=10**6)
    worker = GeneratorWorker(services, backend=backend, settings=FAST_RETRY)
    runner = make_runner(worker, services)
    drain(services, built=[runner])
    failed = last(services, "g-dead", "GenerationFailed").payload
    assert failed["dead_lettered"] and failed["reason"] == "backend_failed"
    assert "simulated GPU fault" in failed["error"]
    assert backend.calls == GeneratorWorker.max_attempts * FAST_RETRY.backend_retries
    dlq = services.store.read_stream(stream_id("generation_dlq", "g-dead"))
    assert [e.type for e in dlq] == ["GenerationDeadLettered"]
    with services.sessions() as s:
        assert s.scalars(select(DeadLetter.consumer)).all() == ["generator"]

    # The next job on the same log is processed normally.
    backend.failures = 0
    request_and_approve(services, "g-next", requester, "fine", **SMALL)
    drain(services, built=[runner])
    assert "GenerationCompleted" in stream_types(services, "g-next")


def test_pickup_recheck_and_invalid_requests_fail_without_rendering(services: Services) -> None:
    requester, _ = make_principal(services, "user")
    backend = FlakyBackend(failures=0)
    refusals: list[PickupRequest] = []

    class Refusing:
        def recheck(self, request: PickupRequest) -> PickupAnswer:
            refusals.append(request)
            return PickupAnswer(False, "consent_revoked", {"cameo_ids": list(request.cameo_ids)})

    worker = GeneratorWorker(services, backend=backend, pickup=PickupCheck(Refusing()))
    request_and_approve(services, "g-c", requester, "me and @friend", cameo_ids=["cam-1"], **SMALL)
    request_and_approve(
        services, "g-odd", requester, "odd size", width=161, height=96, duration_s=1.0
    )
    drain(services, built=[make_runner(worker, services)])
    failed = last(services, "g-c", "GenerationFailed").payload
    assert failed["reason"] == "consent_revoked" and not failed["retryable"]
    assert list(refusals[0].cameo_ids) == ["cam-1"] and refusals[0].requester_id == requester
    assert last(services, "g-odd", "GenerationFailed").payload["reason"] == "invalid_request"
    assert backend.calls == 0
    assert "GenerationStarted" not in stream_types(services, "g-c")
    # Without a module providing the re-check no worker starts at all:
    # tests/generator/test_pickup_port.py.


def test_replay_rebuilds_the_read_models(services: Services) -> None:
    requester, _ = make_principal(services, "user")
    request_and_approve(services, "g-rp", requester, "replay", **SMALL)
    drain(services, PIPELINE)
    from generator.models import GenerationJobRow
    from provenance.models import ProvAsset

    def snapshot() -> tuple[list[Any], list[Any]]:
        with services.sessions() as s:
            jobs = [
                (r.generation_id, r.status, r.download_blob, r.published)
                for r in s.scalars(select(GenerationJobRow))
            ]
            assets = [(r.asset_id, r.serial, r.blob_address) for r in s.scalars(select(ProvAsset))]
        return jobs, assets

    before = snapshot()
    from core.replay import rebuild
    from generator.projection import GenerationJobs
    from provenance.projection import ProvenanceAssets

    for projection in (GenerationJobs(), ProvenanceAssets()):
        rebuild(projection, services, progress=False)
    assert snapshot() == before
    assert before[0][0][1] == "published"


def test_investigators_get_fingerprint_matches_from_reverse_search(
    services: Services, client: Any, tmp_path: Path
) -> None:
    requester, _ = make_principal(services, "user")
    _, investigator = make_principal(services, "investigator")
    request_and_approve(
        services,
        "g-fp",
        requester,
        "a windmill at dusk",
        seed=4,
        width=320,
        height=184,
        duration_s=3.0,
        fps=12,
    )
    drain(services, [*PIPELINE, "reverse-search-indexer"])
    signed = services.port(BLOB_STORE).path(
        last(services, "g-fp", "AssetSigned").payload["blob_address"]
    )
    frames, fps = decode_frames(signed)
    # Cropped hard and re-encoded: C2PA is gone; the fingerprint still finds the source.
    copy = encode_mp4(
        np.ascontiguousarray(frames[:, 30:154, 40:280]), fps, tmp_path / "copy.mp4", crf=30
    )
    resp = client.post(
        "/v1/provenance/verify",
        headers=investigator,
        files={"file": ("copy.mp4", copy.read_bytes(), "video/mp4")},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["c2pa"]["state"] == "none"
    assert body["fingerprint_matches"], body
    assert body["fingerprint_matches"][0]["generation_id"] == "g-fp"
    assert body["generation_id"] == "g-fp"


def test_end_to_end_from_the_generation_gate(services: Services, client: Any) -> None:
    """POST /v1/generations -> prompt moderation (the gate) -> generator (with the gate's
    pick-up re-check) -> output moderation -> signing -> the requester's download."""
    wiring = services.wiring or services.wire()
    provider = wiring.provider(PICKUP_POLICY)
    assert provider is not None and provider.module == "trust_safety"
    requester, headers = make_principal(services, "user")
    resp = client.post(
        "/v1/generations",
        headers=headers,
        json={
            "prompt": "a paper boat drifting on a calm pond",
            "resolution": "360p",
            "aspect_ratio": "16:9",
            "duration_s": 1.0,
            "fps": 8,
            "tier": "paid",
        },
    )
    assert resp.status_code == 202, resp.text
    gid = resp.json()["generation_id"]
    drain(services, ["prompt-moderation", "generation-requests", *PIPELINE])
    types = stream_types(services, gid)
    assert types[-3:] == ["OutputModerated", "AssetSigned", "AssetPublished"], types
    started = last(services, gid, "GenerationStarted").payload
    assert started["pickup_check"]["status"] == "passed"
    completed = last(services, gid, "GenerationCompleted").payload
    assert (completed["width"], completed["height"], completed["fps"]) == (640, 360, 8)
    got = client.get(f"/v1/generations/{gid}/download", headers=headers)
    assert got.status_code == 200
    report = client.post(
        "/v1/provenance/verify",
        headers=headers,
        files={"file": ("mine.mp4", got.content, "video/mp4")},
    ).json()
    assert report["conclusion"] == "signed_by_us" and report["generation_id"] == gid


def test_remix_parents_are_ingredients_of_the_childs_manifest(services: Services) -> None:
    requester, _ = make_principal(services, "user")
    request_and_approve(services, "g-parent", requester, "a red kite", seed=1, **SMALL)
    drain(services, PIPELINE)
    request_and_approve(
        services,
        "g-child",
        requester,
        "a red kite at night",
        seed=2,
        remix_of=["g-parent"],
        **SMALL,
    )
    drain(services, PIPELINE)
    signed = last(services, "g-child", "AssetSigned").payload
    assert signed["remix_parents"] == ["g-parent"]
    report = read_manifest(
        services.port(BLOB_STORE).path(signed["blob_address"]),
        credentials(services).trust_anchors_pem,
    )
    assert report.state == "Trusted"
    assert report.ingredients == ("Clearframe generation g-parent",)
