"""Referred prompts end to end: the gate (real pipeline) refers them, ``prompt-filter-review``
asks a configured LLM filter (a real HTTP server, or a tiny local model built here) and
records its verdict with the outcome; without a filter nothing changes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.services import Services
from tests.trust_safety.generation.gate_calls import GATE, events, request
from tests.utils import drain, make_principal
from tests.utils.llm_filter import ChatServer, build_tiny_lm, running_chat_server
from trust_safety.generation.filter_review import PromptFilterReview
from trust_safety.moderation.language import identify
from trust_safety.optout.public import TEXT_EMBEDDER as OPTOUT_EMBEDDER

REVIEW = ["prompt-filter-review", "generation-requests"]
TURKISH = "Bir köpek yavrusu karlı bir parkta top ile oynuyor"  # a puppy playing in a snowy park
BORDERLINE = "a horror film monster attacking a village"
API_KEY = "sk-filter-test-key-8c1d"


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with running_chat_server() as server:
        yield server


Gate = tuple[Services, Any, dict[str, str]]


@pytest.fixture
def gate(
    make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Gate]:
    """Services with the filter settings in ``env`` (CLEARFRAME_LLM_FILTER_*), a client and a
    user's headers."""
    from fastapi.testclient import TestClient

    from core.app import create_app

    clients: list[Any] = []

    def make(**env: str) -> Gate:
        for key, value in env.items():
            monkeypatch.setenv(f"CLEARFRAME_LLM_FILTER_{key.upper()}", value)
        services = make_services("sqlite")
        services.override(OPTOUT_EMBEDDER, None)  # lexical opt-out matching is enough here
        client = TestClient(create_app(services), raise_server_exceptions=False)
        clients.append(client)
        _, headers = make_principal(services, "user", name="ada")
        return services, client, headers

    yield make  # type: ignore[misc]
    for c in clients:
        c.close()


def openai_env(server: ChatServer, **extra: str) -> dict[str, str]:
    return {"kind": "openai", "url": server.url, "model": "judge", "api_key": API_KEY, **extra}


def status(client: Any, headers: dict[str, str], generation_id: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/generations/{generation_id}", headers=headers).json())


def test_the_prompts_are_what_the_gate_refers() -> None:
    assert identify(TURKISH).code == "tr" and not identify(TURKISH).covered


def test_language_referral_allowed_by_the_filter(
    gate: Callable[..., Gate], chat_server: ChatServer
) -> None:
    services, client, ada = gate(**openai_env(chat_server))
    chat_server.answer('{"verdict": "allow", "category": null, "rationale": "a puppy in snow"}')
    gid = request(client, ada, prompt=TURKISH)
    drain(services, GATE)
    assert [e.type for e in events(services, gid)] == ["GenerationRequested", "PromptModerated"]
    referred = events(services, gid)[-1].payload
    assert referred["referral"] == "language_unsupported"
    assert (referred["approved"], referred["reason_category"], referred["stage"]) == (
        False,
        None,
        "llm_filter",
    )
    assert status(client, ada, gid)["status"] == "requested"  # waiting for the filter

    drain(services, REVIEW)
    history = events(services, gid)
    assert [e.type for e in history[2:]] == ["PromptFilterReviewed", "GenerationApproved"]
    reviewed = history[2].payload
    assert reviewed["verdict"] == "allow" and reviewed["failure"] is None
    assert reviewed["model_id"] == "openai:judge" and reviewed["rationale"] == "a puppy in snow"
    assert reviewed["referral"] == "language_unsupported"
    assert history[3].payload["prompt"] == TURKISH
    assert status(client, ada, gid)["status"] == "approved"
    # Reviewers see the filter's verdict and rationale beside the gate's decision.
    _, reviewer = make_principal(services, "reviewer", name="rev")
    record = client.get(f"/v1/generations/{gid}/moderation", headers=reviewer).json()
    assert record["decision"]["referral"] == "language_unsupported"
    assert record["filter_review"]["verdict"] == "allow"
    assert record["filter_review"]["rationale"] == "a puppy in snow"
    assert client.get(f"/v1/generations/{gid}/moderation", headers=ada).status_code == 403

    sent = chat_server.requests[0]
    assert sent["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert json.loads(sent["body"]["messages"][1]["content"])["prompt"] == TURKISH
    stored = json.dumps([dict(e.payload) for e in history], default=str)
    assert API_KEY not in stored

    # a redelivered referral changes nothing
    assert PromptFilterReview(services).handle(history[1]) == ()


def test_borderline_refused_by_the_filter_and_fail_closed_on_timeout(
    gate: Callable[..., Gate], chat_server: ChatServer
) -> None:
    services, client, ada = gate(**openai_env(chat_server, timeout_s="0.5"))
    chat_server.answer(
        '```json\n{"verdict": "refuse", "category": "violence_gore", "rationale": "an attack"}\n```'
    )
    refused = request(client, ada, prompt=BORDERLINE)
    drain(services, GATE)
    referred = events(services, refused)[-1]
    assert referred.type == "PromptModerated", "the prompt is no longer borderline"
    assert referred.payload["referral"] == "borderline"
    drain(services, REVIEW)
    reviewed, outcome = events(services, refused)[2:]
    assert (reviewed.payload["verdict"], reviewed.payload["reason_category"]) == (
        "refuse",
        "violence_gore",
    )
    assert outcome.type == "GenerationRefused"
    assert (outcome.payload["reason_category"], outcome.payload["stage"]) == (
        "violence_gore",
        "llm_filter",
    )
    assert status(client, ada, refused)["reason_category"] == "violence_gore"

    # the endpoint is slower than the timeout: refused, borderline and language alike
    chat_server.answer('{"verdict": "allow", "category": null, "rationale": "late"}', delay_s=2)
    chat_server.answer('{"verdict": "allow", "category": null, "rationale": "late"}', delay_s=2)
    slow_borderline = request(client, ada, prompt=BORDERLINE)
    slow_language = request(client, ada, prompt=TURKISH)
    drain(services, [*GATE, "prompt-filter-review"])
    for gid, category in (
        (slow_borderline, "review_unavailable"),
        (slow_language, "language_unsupported"),
    ):
        reviewed, outcome = events(services, gid)[2:]
        assert reviewed.type == "PromptFilterReviewed"
        assert (reviewed.payload["verdict"], reviewed.payload["failure"]) == (None, "timeout")
        assert outcome.type == "GenerationRefused"
        assert outcome.payload["reason_category"] == category
        assert status(client, ada, gid)["status"] == "refused"
    unavailable = events(services, slow_borderline)[-1].payload["reason"]
    assert unavailable == "The prompt could not be checked right now. Please try again later."


def test_a_local_model_reviews_the_referral(gate: Callable[..., Gate], tmp_path: Path) -> None:
    model_dir = build_tiny_lm(tmp_path / "tiny-judge")
    services, client, ada = gate(kind="local", model_dir=str(model_dir))
    gid = request(client, ada, prompt=TURKISH)
    drain(services, [*GATE, "prompt-filter-review"])
    history = events(services, gid)
    assert [e.type for e in history] == [
        "GenerationRequested",
        "PromptModerated",
        "PromptFilterReviewed",
        "GenerationApproved" if history[2].payload["verdict"] == "allow" else "GenerationRefused",
    ]
    reviewed = history[2].payload
    assert reviewed["model_id"] == "local:tiny-judge" and reviewed["failure"] is None
    assert reviewed["rationale"].startswith("chose '")


def test_without_a_filter_nothing_is_referred(gate: Callable[..., Gate]) -> None:
    services, client, ada = gate()
    language = request(client, ada, prompt=TURKISH)
    borderline = request(client, ada, prompt=BORDERLINE)
    drain(services, [*GATE, "prompt-filter-review"])
    assert [e.type for e in events(services, language)] == [
        "GenerationRequested",
        "PromptModerated",
        "GenerationRefused",
    ]
    moderated = events(services, language)[1].payload
    assert moderated["referral"] is None and moderated["stage"] == "prompt"
    assert events(services, language)[-1].payload["reason_category"] == "language_unsupported"
    assert [e.type for e in events(services, borderline)][-1] == "GenerationApproved"
    assert events(services, borderline)[1].payload["prompt_decision"]["referral"] == "borderline"
