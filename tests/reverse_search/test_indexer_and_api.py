"""The indexer projection, the investigator API, the C2PA-shaped endpoints and the CLI, on
the embedded default (SQLite, SQL-tail log), with real H.264 files in the blob store."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from core.events import Actor
from core.replay import rebuild, replay_check
from core.services import Services
from core.video import encode_mp4
from reverse_search.cli import cmd_ingest, cmd_search
from reverse_search.engine import engine_for
from reverse_search.indexer import ReverseSearchIndexer, make_indexer
from reverse_search.service import Audience, InvestigatorSearch
from tests.reverse_search.events import ALG, SERIALS, sign_generation
from tests.reverse_search.helpers import FPS, clip
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal

INDEXER = "reverse-search-indexer"
VISIBILITY = ["asset-visibility", INDEXER]
GENERATIONS = 6


@pytest.fixture
def archive(services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("CLEARFRAME_RS_SNAPSHOT_INTERVAL_S", "0")
    for i in range(GENERATIONS):
        video = encode_mp4(clip(20 + i), FPS, tmp_path / f"gen-{i}.mp4")
        sign_generation(services, f"g{i}", video, account=f"user-{i}", prompt=f"prompt number {i}")
    drain(services, [INDEXER])
    return services


def _query(tmp_path: Path, source: int, name: str = "query") -> Path:
    frames = np.ascontiguousarray(clip(20 + source)[24:120, :, ::-1])  # seconds 1..5, mirrored
    return encode_mp4(frames, FPS, tmp_path / f"{name}.mp4", bitrate=80_000)


def _search(client, headers: dict[str, str], path: Path) -> dict:
    with path.open("rb") as fh:
        response = client.post(
            "/v1/reverse-search/searches",
            headers=headers,
            files={"file": (path.name, fh, "video/mp4")},
        )
    assert response.status_code == 200, response.text
    return response.json()


def _top_generations(body: dict) -> list[str]:
    return [m["generation_id"] for m in body["matches"]]


def test_investigator_finds_the_generation_with_its_record_and_the_search_is_audited(
    archive: Services, client, tmp_path: Path
) -> None:
    pid, headers = make_principal(archive, "investigator")
    query = _query(tmp_path, 3)
    body = _search(client, headers, query)
    best = body["matches"][0]
    assert best["generation_id"] == "g3" and best["asset_id"] == "asset-g3"
    assert best["generation_range_s"][0] == pytest.approx(1.0, abs=0.6)
    assert best["generation_range_s"][1] == pytest.approx(5.0, abs=0.6)
    record = best["record"]
    assert record["prompt"] == "prompt number 3" and record["account_id"] == "user-3"
    assert [m["event"] for m in record["moderation"]] == ["PromptModerated", "OutputModerated"]
    assert record["moderation"][1]["frame_scores"] == "<list elided>"
    assert record["c2pa"]["manifest_id"] == "urn:uuid:manifest-g3"
    assert record["watermark_payload"] == SERIALS["g3"]
    assert record["status"] == "signed"

    audit = archive.store.read_stream(f"audit-{body['search_id']}")
    assert [e.type for e in audit] == ["ReverseSearchPerformed"]
    event = audit[0]
    assert event.actor.id == pid and event.actor.role == "investigator"
    assert event.payload["query_sha256"] == hashlib.sha256(query.read_bytes()).hexdigest()
    assert event.payload["query_kind"] == "video"
    assert [r["asset_id"] for r in event.payload["results"]] == [
        m["asset_id"] for m in body["matches"]
    ]


def test_only_investigators_and_admins_may_search(
    archive: Services, client, tmp_path: Path
) -> None:
    _, user = make_principal(archive, "user")
    _, reviewer = make_principal(archive, "reviewer")
    _, admin = make_principal(archive, "admin")
    query = _query(tmp_path, 1)
    for headers, status in ((user, 403), (reviewer, 403), ({}, 401)):
        with query.open("rb") as fh:
            response = client.post(
                "/v1/reverse-search/searches",
                headers=headers,
                files={"file": ("q.mp4", fh, "video/mp4")},
            )
        assert response.status_code == status
        assert response.headers["content-type"].startswith("application/problem+json")
    assert _top_generations(_search(client, admin, query))[0] == "g1"
    assert client.get("/v1/reverse-search/generations/g1", headers=user).status_code == 403
    assert client.get("/v1/c2pa/matches/byBinding?alg=x&value=y", headers=user).status_code == 403


def test_bad_uploads_get_problem_responses(archive: Services, client) -> None:
    _, headers = make_principal(archive, "investigator")
    response = client.post(
        "/v1/reverse-search/searches",
        headers=headers,
        files={"file": ("x.mp4", io.BytesIO(b"not a video" * 100), "video/mp4")},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    response = client.post(
        "/v1/reverse-search/searches",
        headers=headers,
        files={"file": ("x.mp4", io.BytesIO(b""), "video/mp4")},
    )
    assert response.status_code == 422
    response = client.post(
        "/v1/reverse-search/searches/text", headers=headers, json={"text": "a kite"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "reverse_search.text_search_unavailable"


def _binding(serial_hex: str) -> str:
    """The base64 value a c2pa.soft-binding assertion holds for a watermark serial."""
    return base64.b64encode(bytes.fromhex(serial_hex)).decode()


def _by_binding(client, headers: dict[str, str], generation: str) -> list[str]:
    response = client.get(
        "/v1/c2pa/matches/byBinding",
        params={"alg": ALG, "value": _binding(SERIALS[generation])},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return [m["manifestId"] for m in response.json()["matches"]]


def _by_content(client, headers: dict[str, str], path: Path) -> list[str]:
    response = client.post(
        "/v1/c2pa/matches/byContent",
        content=path.read_bytes(),
        headers={**headers, "content-type": "video/mp4"},
    )
    assert response.status_code == 200, response.text
    return [m["manifestId"] for m in response.json()["matches"]]


def test_investigators_find_removed_assets_flagged_with_their_state_and_history(
    archive: Services, client, tmp_path: Path
) -> None:
    _, headers = make_principal(archive, "investigator")
    query = _query(tmp_path, 2)
    found = _search(client, headers, query)["matches"][0]
    assert found["generation_id"] == "g2" and found["flags"] == [] and found["history"] == []
    assert _by_content(client, headers, query)[0] == "urn:uuid:manifest-g2"
    assert _by_binding(client, headers, "g2") == ["urn:uuid:manifest-g2"]

    # An enforcement removal and a cameo owner's removal: two holds, decided by the
    # asset-visibility processor, that reverse search copies.
    action = ce.action_taken("a1", "remove_asset", "asset-g2", generation_id="g2")
    ce.append(archive, action, ce.appearance_removed("cameo-9", "g2"))
    drain(archive, VISIBILITY)
    body = _search(client, headers, query)
    assert body["verdict"] == "match"
    best = body["matches"][0]
    assert best["generation_id"] == "g2" and best["visibility"] == "removed"
    assert best["flags"] == ["removed", "cameo_removed"]
    assert [(h["change"], h["hold"]) for h in best["history"]] == [
        ("placed", "a1"),
        ("placed", "cameo:cameo-9"),
    ]
    # ... while public lookups do not find it any more, by content or by binding.
    assert "urn:uuid:manifest-g2" not in _by_content(client, headers, query)
    assert _by_binding(client, headers, "g2") == []

    # Two holds: lifting one keeps the asset down, and the history says so.
    ce.append(archive, ce.reversed_(action))
    drain(archive, VISIBILITY)
    best = _search(client, headers, query)["matches"][0]
    assert best["generation_id"] == "g2" and best["flags"] == ["removed", "cameo_removed"]
    assert [(h["change"], h["hold"], h["visibility"]) for h in best["history"]][-1] == (
        "lifted",
        "a1",
        "removed",
    )
    assert _by_binding(client, headers, "g2") == []
    record = InvestigatorSearch(archive).record("g2")["assets"][0]
    assert record["visibility"] == "removed"
    assert [h["key"] for h in record["holds"]] == ["cameo:cameo-9"]
    assert record["enforcement"][0]["reversed_at"] is not None


def test_restricted_assets_are_flagged_for_investigators_and_still_resolve_publicly(
    archive: Services, client, tmp_path: Path
) -> None:
    _, headers = make_principal(archive, "investigator")
    ce.append(archive, ce.action_taken("r1", "restrict_asset", "asset-g1", generation_id="g1"))
    drain(archive, VISIBILITY)
    best = _search(client, headers, _query(tmp_path, 1))["matches"][0]
    assert best["generation_id"] == "g1" and best["flags"] == ["restricted"]
    assert best["visibility"] == "restricted"
    assert _by_binding(client, headers, "g1") == ["urn:uuid:manifest-g1"]


def test_a_reversed_removal_resolves_publicly_again(
    archive: Services, client, tmp_path: Path
) -> None:
    _, headers = make_principal(archive, "investigator")
    query = _query(tmp_path, 2)
    action = ce.action_taken("a1", "remove_asset", "asset-g2", generation_id="g2")
    ce.append(archive, action)
    drain(archive, VISIBILITY)
    assert "urn:uuid:manifest-g2" not in _by_content(client, headers, query)
    ce.append(archive, ce.reversed_(action))
    drain(archive, VISIBILITY)
    assert _by_content(client, headers, query)[0] == "urn:uuid:manifest-g2"
    best = _search(client, headers, query)["matches"][0]
    assert best["generation_id"] == "g2" and best["record"]["visibility"] == "visible"
    assert best["flags"] == [] and [h["change"] for h in best["history"]] == ["placed", "lifted"]


def remove(services: Services, generation_id: str) -> None:
    ce.append(services, ce.appearance_removed("cameo-1", generation_id))
    drain(services, VISIBILITY)


def test_the_read_model_decides_public_visibility_even_with_a_stale_index(
    archive: Services, tmp_path: Path
) -> None:
    remove(archive, "g4")
    # The index holds every asset; only the read model says g4 is down.
    assert not engine_for(archive).index.entry("asset-g4").removed
    search = InvestigatorSearch(archive)
    public = search.matches_for_file(_query(tmp_path, 4), audience=Audience.PUBLIC)
    assert all(h.generation_id != "g4" for h in public)
    investigator = search.matches_for_file(_query(tmp_path, 4))
    assert investigator[0].generation_id == "g4"


def test_concurrent_searches_while_the_indexer_writes_find_what_one_search_finds(
    archive: Services, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    search = InvestigatorSearch(archive)
    queries = [_query(tmp_path, i, name=f"q{i}") for i in range(4)]
    alone = [search.matches_for_file(q)[0].generation_id for q in queries]
    engine = engine_for(archive)

    def churn() -> None:
        # The writer side mutates the index under the engine lock while searches describe.
        for _ in range(20):
            with engine.lock:
                engine.index.remove("asset-g5")
                engine.index.restore("asset-g5")

    with ThreadPoolExecutor(max_workers=5) as pool:
        writer = pool.submit(churn)
        together = list(pool.map(lambda q: search.matches_for_file(q)[0].generation_id, queries))
        writer.result()
    assert together == alone == ["g0", "g1", "g2", "g3"]


def test_rebuild_by_replay_equals_the_live_state(archive: Services, tmp_path: Path) -> None:
    remove(archive, "g5")
    engine = engine_for(archive)
    before = engine.index.vector_count
    rebuild(ReverseSearchIndexer(archive), archive, progress=False, out=lambda _: None)
    # A removed asset stays in FAISS: investigators still find it.
    assert engine.index.entry("asset-g5").in_faiss
    assert engine.index.vector_count == before
    hits = InvestigatorSearch(archive).matches_for_file(_query(tmp_path, 5))
    assert hits[0].generation_id == "g5" and hits[0].record["visibility"] == "removed"
    assert replay_check(archive, {INDEXER: make_indexer}, progress=False, out=lambda _: None) == []


def test_a_new_process_loads_the_snapshot_and_reconciles(archive: Services, tmp_path: Path) -> None:
    engine_for(archive).save(force=True)
    fresh = Services.from_settings(archive.settings)
    try:
        indexer = make_indexer(fresh)
        assert indexer.engine.index.asset_count == GENERATIONS
        assert (
            InvestigatorSearch(fresh).matches_for_file(_query(tmp_path, 5))[0].generation_id == "g5"
        )
    finally:
        fresh.close()


def test_c2pa_soft_binding_endpoints(archive: Services, client, tmp_path: Path) -> None:
    _, headers = make_principal(archive, "investigator")
    query = _query(tmp_path, 1)
    response = client.post(
        "/v1/c2pa/matches/byContent?maxResults=3",
        content=query.read_bytes(),
        headers={**headers, "content-type": "video/mp4"},
    )
    assert response.status_code == 200, response.text
    matches = response.json()["matches"]
    assert matches[0]["manifestId"] == "urn:uuid:manifest-g1"
    assert 0 < matches[0]["similarityScore"] <= 100 and len(matches) <= 3
    assert _by_binding(client, headers, "g1") == ["urn:uuid:manifest-g1"]
    # The hex serial is not the binding's value (base64 of its bytes): a 400 if not base64,
    # no match otherwise; an algorithm none of our assets is bound with is refused.
    for params, status in (
        ({"alg": ALG, "value": SERIALS["g1"][:-1]}, 400),
        ({"alg": "com.example.other", "value": _binding(SERIALS["g1"])}, 400),
        ({"alg": ALG, "value": base64.b64encode(b"unknown!").decode()}, 200),
    ):
        response = client.get("/v1/c2pa/matches/byBinding", params=params, headers=headers)
        assert response.status_code == status, response.text
        if status == 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["detail"]
        else:
            assert response.json() == {"matches": []}
    # The test blobs carry no C2PA manifest; an unknown manifest is a 404 as well.
    assert client.get("/v1/c2pa/manifests/urn:uuid:manifest-g1", headers=headers).status_code == 404
    assert client.get("/v1/c2pa/manifests/nope", headers=headers).status_code == 404
    response = client.post(
        "/v1/c2pa/matches/byContent",
        content=b"{}",
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 415


def test_generation_record_endpoint(archive: Services, client) -> None:
    _, headers = make_principal(archive, "investigator")
    body = client.get("/v1/reverse-search/generations/g0", headers=headers).json()
    assert body["prompt"] == "prompt number 0" and body["assets"][0]["asset_id"] == "asset-g0"
    assert client.get("/v1/reverse-search/generations/none", headers=headers).status_code == 404


def test_cli_search_and_ingest(archive: Services, tmp_path: Path) -> None:
    _, headers = make_principal(archive, "investigator")
    token = headers["Authorization"].split()[1]
    out = io.StringIO()
    args = argparse.Namespace(
        file=str(_query(tmp_path, 0)),
        text=None,
        token=token,
        max_results=3,
        json=True,
        out=out,
        _services=archive,
    )
    assert cmd_search(args) == 0
    report = json.loads(out.getvalue())
    assert report["matches"][0]["generation_id"] == "g0"
    assert archive.store.read_stream(f"audit-{report['search_id']}")[0].actor.role == "investigator"

    _, user_headers = make_principal(archive, "user")
    args.token = user_headers["Authorization"].split()[1]
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        cmd_search(args)

    video = encode_mp4(clip(40), FPS, tmp_path / "late.mp4")
    sign_generation(archive, "late", video, account="user-9", prompt="late one")
    assert cmd_ingest(argparse.Namespace(no_progress=True, _services=archive)) == 0
    assert "asset-late" in engine_for(archive).index


def test_the_fingerprint_search_port_for_verification(archive: Services, tmp_path: Path) -> None:
    from contracts.ports import FINGERPRINT_SEARCH

    matches = archive.port(FINGERPRINT_SEARCH).find_matches(_query(tmp_path, 3), max_results=2)
    assert matches[0]["generation_id"] == "g3" and len(matches) <= 2
    assert Actor  # the port appends no audit event of its own


def test_the_record_carries_the_signing_facts(archive: Services, client) -> None:
    _, headers = make_principal(archive, "investigator")
    asset = client.get("/v1/reverse-search/generations/g1", headers=headers).json()["assets"][0]
    assert asset["c2pa"]["manifest_id"] == "urn:uuid:manifest-g1"
    assert asset["c2pa"]["c2pa_state"] == "signed"
    assert asset["watermark_payload"] == SERIALS["g1"]


def test_an_investigator_reads_their_own_searches_newest_first_from_the_audit_trail(
    archive: Services, client, tmp_path: Path
) -> None:
    _, mine = make_principal(archive, "investigator")
    _, theirs = make_principal(archive, "investigator")
    assert client.get("/v1/reverse-search/searches/mine", headers=mine).json() == {"searches": []}
    first = _search(client, mine, _query(tmp_path, 1, "one"))
    second = _search(client, mine, _query(tmp_path, 4, "four"))
    _search(client, theirs, _query(tmp_path, 2, "two"))
    history = client.get("/v1/reverse-search/searches/mine", headers=mine)
    assert history.status_code == 200, history.text
    searches = history.json()["searches"]
    assert [s["search_id"] for s in searches] == [second["search_id"], first["search_id"]]
    assert searches[0]["query_sha256"] == second["query_sha256"]
    assert searches[0]["results"][0]["generation_id"] == "g4"
    limited = client.get("/v1/reverse-search/searches/mine?limit=1", headers=mine).json()
    assert len(limited["searches"]) == 1
    assert client.get("/v1/reverse-search/searches/mine?limit=0", headers=mine).status_code == 422
    _, user = make_principal(archive, "user")
    assert client.get("/v1/reverse-search/searches/mine", headers=user).status_code == 403
