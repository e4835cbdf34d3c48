"""What investigators and public lookups see, on the real pipeline (generator, output
moderation, C2PA signing), and scores that mean "no match" in a small archive."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import c2pa
import numpy as np
import pytest

from contracts.ports import BLOB_STORE
from core.services import Services
from core.video import encode_mp4
from reverse_search.cli import cmd_search
from reverse_search.engine import engine_for
from reverse_search.service import InvestigatorSearch
from tests.generator.helpers import last, request_and_approve
from tests.reverse_search.events import put_blob, sign_generation
from tests.reverse_search.helpers import FPS, clip
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal

INDEXER = "reverse-search-indexer"
PIPELINE = ["generator", "output-moderation", "provenance-signing", "asset-visibility", INDEXER]


def soft_binding_of(path: Path) -> tuple[str, str]:
    """(alg, value) of the c2pa.soft-binding assertion in a signed file, as a reader sees it."""
    with path.open("rb") as stream:
        store = json.loads(c2pa.Reader("video/mp4", stream).json())
    manifest = store["manifests"][store["active_manifest"]]
    (binding,) = [a for a in manifest["assertions"] if a["label"] == "c2pa.soft-binding"]
    return binding["data"]["alg"], binding["data"]["blocks"][0]["value"]


def test_by_binding_resolves_the_values_a_signed_file_holds_and_follows_public_visibility(
    services: Services, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARFRAME_RS_SNAPSHOT_INTERVAL_S", "0")
    requester, _ = make_principal(services, "user")
    _, investigator = make_principal(services, "investigator")
    request_and_approve(
        services, "g-sb", requester, "a lighthouse in fog", seed=7, width=192, height=108,
        duration_s=2.0, fps=12,
    )  # fmt: skip
    drain(services, PIPELINE)
    signed = last(services, "g-sb", "AssetSigned").payload
    alg, value = soft_binding_of(services.port(BLOB_STORE).path(signed["blob_address"]))
    assert value != signed["watermark_payload"]  # base64, not the hex serial

    def by_binding(alg: str, value: str) -> Any:
        return client.get(
            "/v1/c2pa/matches/byBinding", params={"alg": alg, "value": value}, headers=investigator
        )

    response = by_binding(alg, value)
    assert response.status_code == 200, response.text
    assert response.json() == {"matches": [{"manifestId": signed["manifest_id"]}]}
    # The hex serial the endpoint used to take, and an algorithm we do not bind with.
    assert by_binding(alg, signed["watermark_payload"]).json() == {"matches": []}
    refused = by_binding("com.example.unknown.v1", value)
    assert refused.status_code == 400
    assert "com.example.unknown.v1" in refused.json()["detail"]

    manifest = client.get(f"/v1/c2pa/manifests/{signed['manifest_id']}", headers=investigator)
    assert manifest.status_code == 200, manifest.text

    # Removed: public lookups no longer resolve it; the investigator's search still finds it.
    ce.append(
        services,
        ce.action_taken("rm-1", "remove_asset", signed["asset_id"], generation_id="g-sb"),
    )
    drain(services, PIPELINE)
    assert by_binding(alg, value).json() == {"matches": []}
    gone = client.get(f"/v1/c2pa/manifests/{signed['manifest_id']}", headers=investigator)
    assert gone.status_code == 404
    path = services.port(BLOB_STORE).path(signed["blob_address"])
    hits = InvestigatorSearch(services).matches_for_file(path)
    assert hits[0].generation_id == "g-sb"
    assert hits[0].to_dict()["flags"] == ["removed"]


SMALL_ARCHIVE = 16


@pytest.fixture
def small_archive(services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("CLEARFRAME_RS_SNAPSHOT_INTERVAL_S", "0")
    for i in range(SMALL_ARCHIVE):
        video = encode_mp4(clip(300 + i), FPS, tmp_path / f"small-{i}.mp4")
        sign_generation(services, f"s{i}", video, account=f"user-{i}", prompt=f"small {i}")
    drain(services, [INDEXER])
    return services


def test_a_small_archive_answers_no_match_to_an_unrelated_clip_and_finds_a_true_copy(
    small_archive: Services, client: Any, tmp_path: Path
) -> None:
    engine = engine_for(small_archive)
    # Tens of clips: far below the size whitening is fitted at, searched whitened anyway
    # (the background's whitening), with scores calibrated against the same background.
    assert engine.index.vector_count < engine.index.config.whitening_min_vectors
    assert engine.index.whitening is engine.index.prior_whitening is not None
    cutoff = engine.settings.min_score
    assert cutoff == 0.15

    search = InvestigatorSearch(small_archive)
    unrelated = [encode_mp4(clip(900 + j), FPS, tmp_path / f"unrelated-{j}.mp4") for j in range(6)]
    for path in unrelated:
        # Below the cutoff nothing is reported; what the matcher saw at all stays below it.
        assert search.matches_for_file(path) == []
        outcome = engine.searcher.search_file(path)
        assert all(m.score <= cutoff for m in outcome.matches)

    _, headers = make_principal(small_archive, "investigator")
    with unrelated[0].open("rb") as fh:
        response = client.post(
            "/v1/reverse-search/searches",
            headers=headers,
            files={"file": ("unrelated.mp4", fh, "video/mp4")},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "no_match" and body["matches"] == []
    assert "no match" in body["message"] and body["min_score"] == cutoff
    # still an audited search
    audit = small_archive.store.read_stream(f"audit-{body['search_id']}")
    assert [e.type for e in audit] == ["ReverseSearchPerformed"]

    # A true copy (mirrored, re-encoded, an excerpt) is found well above the cutoff.
    copy = encode_mp4(
        np.ascontiguousarray(clip(307)[24:120, :, ::-1]),
        FPS,
        tmp_path / "copy.mp4",
        bitrate=80_000,
    )
    with copy.open("rb") as fh:
        found = client.post(
            "/v1/reverse-search/searches",
            headers=headers,
            files={"file": ("copy.mp4", fh, "video/mp4")},
        ).json()
    assert found["verdict"] == "match"
    assert found["matches"][0]["generation_id"] == "s7"
    assert found["matches"][0]["score"] > 2 * cutoff

    # The CLI says so plainly too.
    out = io.StringIO()
    args = argparse.Namespace(
        file=str(unrelated[1]),
        text=None,
        token=headers["Authorization"].split()[1],
        max_results=None,
        json=False,
        out=out,
        _services=small_archive,
    )
    assert cmd_search(args) == 0
    assert "no match" in out.getvalue() and f"{cutoff:g}" in out.getvalue()


def test_a_render_blocked_at_output_is_found_by_investigators_until_it_is_signed(
    services: Services, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARFRAME_RS_SNAPSHOT_INTERVAL_S", "0")
    for i in range(3):
        video = encode_mp4(clip(500 + i), FPS, tmp_path / f"ok-{i}.mp4")
        sign_generation(services, f"ok{i}", video, account="maker", prompt=f"fine {i}")
    master = put_blob(services, encode_mp4(clip(520), FPS, tmp_path / "blocked.mp4"))
    ce.append(
        services,
        ce.output_moderated("g-bl", "block", blocked_categories=["violence"], master_blob=master),
    )
    drain(services, ["asset-visibility", INDEXER])
    _, headers = make_principal(services, "investigator")
    query = encode_mp4(
        np.ascontiguousarray(clip(520)[24:120, :, ::-1]), FPS, tmp_path / "q.mp4", bitrate=80_000
    )
    hits = InvestigatorSearch(services).matches_for_file(query)
    assert hits[0].generation_id == "g-bl" and hits[0].manifest_id is None
    assert hits[0].to_dict()["flags"] == ["removed", "blocked"]
    assert hits[0].record["history"][0]["hold"] == "output"
    public = client.post(
        "/v1/c2pa/matches/byContent",
        content=query.read_bytes(),
        headers={**headers, "content-type": "video/mp4"},
    )
    assert public.status_code == 200 and public.json() == {"matches": []}

    # Released and signed after all: the signed asset takes the blocked render's place.
    sign_generation(services, "g-bl", tmp_path / "blocked.mp4", account="maker", prompt="x")
    drain(services, ["asset-visibility", INDEXER])
    found = InvestigatorSearch(services).matches_for_file(query)
    assert [h.match.asset_id for h in found if h.generation_id == "g-bl"] == ["asset-g-bl"]
