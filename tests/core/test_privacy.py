"""Erasing a person: their personal data leaves every read model and becomes unreadable in the
event log (crypto-shredding), a rebuild equals the live erased state, and the audit facts the
law requires (statements of reasons, transparency counts) stay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from contracts.generation import generation_history
from core.events import REGISTRY
from core.identity import principal_stream
from core.modules import all_processors, all_projections, import_all_models
from core.privacy import ERASED, SubjectKey, personal_columns
from core.replay import IDENTICAL, replay_check
from core.services import Services
from tests.trust_safety.cases.foreign import publish
from tests.utils import drain, make_principal
from trust_safety.optout.public import TEXT_EMBEDDER as OPTOUT_EMBEDDER

NAME = "Wilhelmina Quarrington"
PROMPT = "a lighthouse keeper called Ottoline Brackenbury waving at a paper boat"
NEGATIVE = "no Fennimore cottage in the background"
EXPLANATION = "This video mocks my neighbour Philippa Ashgrove and her dog Biscuitwhistle"
APPEAL = "The keeper is Ottoline Brackenbury herself, my grandmother, who agreed to it"
# Distinctive words of the person's data: none may be left anywhere in the database.
WORDS = ["Quarrington", "Ottoline", "Brackenbury", "Fennimore", "Ashgrove", "Biscuitwhistle"]

ACTION = {
    "kind": "remove_asset",
    "category": "STATEMENT_CATEGORY_VIOLENCE",
    "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "ground_reference": "Terms of Service 4.1 (violence)",
    "ground_explanation": "The video depicts a staged attack presented as real footage.",
    "facts": "A reviewer watched the video and found the staged attack at 0:01.",
    "source_type": "SOURCE_VOLUNTARY",
    "automated_detection": False,
    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
}
PERIOD = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    return make_services(request.param)


def everything(services: Services) -> dict[str, str]:
    """Every table of the database, every row, as text (the raw event payloads included)."""
    dump: dict[str, str] = {}
    with services.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            dump[table] = "\n".join(repr(tuple(row)) for row in rows)
    return dump


def found(dump: dict[str, str]) -> dict[str, list[str]]:
    return {t: hits for t, body in dump.items() if (hits := [w for w in WORDS if w in body])}


@pytest.fixture
def world(services: Services, client: Any) -> dict[str, Any]:
    """A person who generated a video, reported someone else's and appealed a decision."""
    services.override(OPTOUT_EMBEDDER, None)  # lexical opt-out matching is enough here
    person, ph = make_principal(services, "user", name=NAME)
    owner, _ = make_principal(services, "user", name="Someone Else")
    _, reviewer = make_principal(services, "reviewer", name="Reviewer")
    _, admin = make_principal(services, "admin", name="Admin")

    made = client.post(
        "/v1/generations",
        headers=ph,
        json={
            "prompt": PROMPT,
            "negative_prompt": NEGATIVE,
            "resolution": "360p",
            "aspect_ratio": "1:1",
            "duration_s": 0.5,
            "fps": 8,
            "seed": 3,
            "tier": "paid",
        },
    )
    assert made.status_code == 202, made.text
    generation_id = made.json()["generation_id"]
    drain(services)
    # another person's video to report, on a real file: every read model, the fingerprints
    # included, must rebuild to the erased state below
    [signed] = [
        e for e in generation_history(services.store, generation_id) if e.type == "AssetSigned"
    ]
    publish(services, "vid-other", owner, blob_address=signed.payload["blob_address"])
    drain(services)
    generation = client.get(f"/v1/generations/{generation_id}", headers=ph).json()
    assert generation["status"] == "published", generation
    assert generation["prompt"] == PROMPT

    filed = client.post(
        "/v1/reports",
        headers=ph,
        json={
            "target": {"kind": "asset", "id": "vid-other"},
            "category": "harassment",
            "explanation": EXPLANATION,
            "good_faith": True,
        },
    )
    assert filed.status_code == 201, filed.text
    action = client.post(
        "/v1/enforcement/actions",
        headers=reviewer,
        json={**ACTION, "target_id": generation["asset_id"], "affected_user_id": person},
    )
    assert action.status_code == 201, action.text
    drain(services)
    appeal = client.post(
        "/v1/appeals",
        headers=ph,
        json={"decision_id": action.json()["action_id"], "statement": APPEAL},
    )
    assert appeal.status_code == 201, appeal.text
    drain(services)
    return {
        "person": person,
        "ph": ph,
        "admin": admin,
        "generation_id": generation_id,
        "report_id": filed.json()["report_id"],
        "appeal_id": appeal.json()["appeal_id"],
        "puid": action.json()["puid"],
    }


def statements(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/v1/transparency/statements", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["statements"])


def test_erasure_removes_a_person_from_read_models_and_the_raw_log(
    services: Services, client: Any, world: dict[str, Any]
) -> None:
    person, ph, admin = world["person"], world["ph"], world["admin"]
    before = everything(services)
    # At rest the log never held the words in the clear; the read models did.
    assert "events" not in found(before), found(before)["events"]
    assert {"gen_requests", "cases_reports", "cases_appeals", "principals"} <= set(found(before))
    sor_before = statements(client, admin)
    assert [s["puid"] for s in sor_before] == [world["puid"]]
    counts_before = client.get("/v1/transparency/report", headers=admin, params=PERIOD).json()
    with services.sessions() as s:
        wrapped = s.scalars(
            select(SubjectKey.wrapped_key).where(SubjectKey.subject_id == person)
        ).one()

    erased = client.post("/v1/admin/erasures", headers=admin, json={"subject_id": person})
    assert erased.status_code == 201, erased.text
    report = erased.json()
    assert report["settled"] is True and report["keys_erased"] == 1
    assert report["storage_purged"] is True  # the database's own old copies of the key dropped
    assert report["sealed_events"] >= 6  # created, requested, moderated, approved, report, appeal
    assert report["read_model_rows"]["cases_reports.explanation"] == 1

    after = everything(services)
    assert found(after) == {}
    if services.engine.dialect.name == "sqlite":
        # Not in the files either: no old page of a read model, no old copy of the key.
        for path in Path(services.settings.data_dir).glob("clearframe.db*"):
            data = path.read_bytes()
            assert wrapped not in data and not [w for w in WORDS if w.encode() in data], path
    # The keys' rows remain as the record of when; their key material is gone.
    with services.sessions() as s:
        keys = s.scalars(select(SubjectKey).where(SubjectKey.subject_id == person)).all()
        assert [(k.wrapped_key, k.erased_at is not None) for k in keys] == [(None, True)]

    # Every read returns the placeholder, the rest of each fact as it was.
    assert (
        client.get(f"/v1/generations/{world['generation_id']}", headers=ph).json()["prompt"]
        == ERASED
    )
    mine = client.get("/v1/reports/mine", headers=ph).json()
    assert json.dumps(mine).count(ERASED) >= 1 and "harassment" in json.dumps(mine)
    events = services.store.read_all(limit=10_000)
    requested = next(e for e in events if e.type == "GenerationRequested")
    assert requested.payload["prompt"] == requested.payload["negative_prompt"] == ERASED
    assert requested.payload["resolution"] == "360p" and requested.payload["requester_id"] == person
    moderated = next(e for e in events if e.type == "PromptModerated")
    assert moderated.payload["prompt_decision"]["normalised_prompt"] == ERASED
    assert moderated.payload["approved"] is True and moderated.payload["prompt_decision"]["scores"]
    identity = services.store.read_stream(principal_stream(person))
    assert identity[0].type == "PrincipalCreated" and identity[0].payload["name"] == ERASED
    assert identity[-1].type == "PersonalDataErased" and identity[-1].actor.role == "admin"

    # The audit facts the law requires are unchanged.
    assert statements(client, admin) == sor_before
    counts_after = client.get("/v1/transparency/report", headers=admin, params=PERIOD).json()
    assert counts_after == counts_before

    # A rebuild from the log equals the live erased state, for every projection.
    result = replay_check(
        services,
        all_projections(),
        progress=False,
        out=lambda _: None,
        wait_s=30,
        skipped=sorted(all_processors()),
    )
    assert result.state == IDENTICAL, [d.summary() for d in result]

    # Erasing again is harmless: nothing left to scrub, one more event.
    again = client.post("/v1/admin/erasures", headers=admin, json={"subject_id": person})
    assert again.status_code == 201 and again.json()["keys_erased"] == 0
    assert again.json()["read_model_rows"] == {}


def test_erasure_answers_bad_requests_with_problems(services: Services, client: Any) -> None:
    _, admin = make_principal(services, "admin")
    _, user = make_principal(services, "user")
    body = {"subject_id": "p_nobody"}
    assert client.post("/v1/admin/erasures", headers=user, json=body).status_code == 403
    assert client.post("/v1/admin/erasures", json=body).status_code == 401
    missing = client.post("/v1/admin/erasures", headers=admin, json=body)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    for bad in (
        {"subject_id": "../etc"},
        {"subject_id": "p", "request_ref": "free text here"},
        {"subject_id": "p", "extra": 1},
        {},
    ):
        r = client.post("/v1/admin/erasures", headers=admin, json=bad)
        assert r.status_code == 422, (bad, r.text)


def test_personal_declarations_name_real_fields_and_columns() -> None:
    import_all_models()
    for name in REGISTRY.names():
        spec = REGISTRY.personal_data(name)
        if spec is not None:
            assert spec.subject in REGISTRY.info(name).payload_class.model_fields
    columns = personal_columns()
    assert columns["principals"] == [("name", "id")]
    assert ("prompt", "requester_id") in columns["gen_requests"]
    assert ("explanation", "reporter_id") in columns["cases_reports"]
