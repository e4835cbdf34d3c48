"""The LLM filter's adapters against real parts: a tiny causal LM built here (nothing is
downloaded) and a real HTTP server speaking the chat-completions API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import ConfigurationError, Environment, Settings
from tests.utils.llm_filter import ChatServer, build_tiny_lm, running_chat_server
from trust_safety.moderation.categories import Category
from trust_safety.moderation.filter_settings import PromptFilterSettings
from trust_safety.moderation.llm_filter import (
    OPTIONS,
    FilterAnswerInvalid,
    FilterTimeout,
    FilterUnavailable,
    LocalTransformersFilter,
    OpenAICompatibleFilter,
    TimedFilter,
    build_filter,
    parse_answer,
)

PROMPT = "a horror film monster attacking a village"
SCORES = {"violence_gore": 0.72, "sexual": 0.01}


# -- a real chat-completions server ----------------------------------------------------------


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with running_chat_server() as server:
        yield server


def openai(server: ChatServer, timeout_s: float = 5.0) -> OpenAICompatibleFilter:
    return OpenAICompatibleFilter(
        server.url, "judge-1", api_key="sk-test-key-1", timeout_s=timeout_s
    )


def review(f: Any, prompt: str = PROMPT, referral: str = "borderline") -> Any:
    return f.review(prompt, referral=referral, language="en", scores=SCORES)


def test_openai_filter_sends_the_policy_and_reads_a_fenced_answer(chat_server: ChatServer) -> None:
    chat_server.answer(
        'Here is my decision:\n```json\n{"verdict": "refuse", "category": "violence_gore",'
        ' "rationale": "graphic attack"}\n```'
    )
    verdict = review(openai(chat_server))
    assert (verdict.verdict, verdict.category) == ("refuse", Category.VIOLENCE_GORE)
    assert verdict.rationale == "graphic attack" and verdict.model_id == "openai:judge-1"
    assert verdict.elapsed_ms >= 0

    sent = chat_server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test-key-1"
    body = sent["body"]
    assert body["model"] == "judge-1" and body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system"
    assert all(c.value in system["content"] for c in Category)
    assert json.loads(user["content"]) == {
        "referral": "borderline",
        "language": "en",
        "scores": SCORES,
        "prompt": PROMPT,
    }


@pytest.mark.parametrize(
    ("status", "content", "error"),
    [
        (200, "I think it is fine.", FilterAnswerInvalid),
        (200, '{"verdict": "maybe", "category": null, "rationale": "?"}', FilterAnswerInvalid),
        (
            200,
            '{"verdict": "refuse", "category": "rudeness", "rationale": "x"}',
            FilterAnswerInvalid,
        ),
        (200, '{"verdict": "allow", "category": "sexual", "rationale": "x"}', FilterAnswerInvalid),
        (200, 'RAW:{"choices": []}', FilterAnswerInvalid),
        (200, "RAW:not json at all", FilterAnswerInvalid),
        (500, 'RAW:{"error": "overloaded"}', FilterUnavailable),
        (401, 'RAW:{"error": "bad key"}', FilterUnavailable),
    ],
)
def test_openai_filter_never_guesses(
    chat_server: ChatServer, status: int, content: str, error: type[Exception]
) -> None:
    chat_server.answer(content, status=status)
    with pytest.raises(error) as raised:
        review(openai(chat_server))
    assert "sk-test-key-1" not in str(raised.value)


def test_openai_filter_unreachable_and_slow_fail(chat_server: ChatServer) -> None:
    with pytest.raises(FilterUnavailable):
        review(OpenAICompatibleFilter("http://127.0.0.1:9/v1", "m", timeout_s=2))
    chat_server.answer('{"verdict": "allow", "category": null, "rationale": "late"}', delay_s=1.5)
    started = time.monotonic()
    timed = TimedFilter(openai(chat_server, timeout_s=10), timeout_s=0.3)
    with pytest.raises(FilterTimeout):
        review(timed)
    assert time.monotonic() - started < 1.2  # abandoned at the timeout, not at the answer
    while timed.in_flight and time.monotonic() - started < 10:
        time.sleep(0.05)


def test_parse_answer_accepts_null_category_spellings() -> None:
    assert parse_answer('{"verdict": "ALLOW", "category": "none", "rationale": " ok "}') == (
        "allow",
        None,
        "ok",
    )
    assert parse_answer('{"verdict": "refuse", "category": null}') == ("refuse", None, "")
    with pytest.raises(FilterAnswerInvalid):
        parse_answer("[1, 2]")


# -- a tiny local model -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("llm") / "tiny-judge")


def test_local_filter_chooses_one_option_deterministically(tiny_lm: Path) -> None:
    first = LocalTransformersFilter(tiny_lm)
    verdict = review(first, referral="language_unsupported")
    again = review(LocalTransformersFilter(tiny_lm), referral="language_unsupported")
    assert (verdict.verdict, verdict.category, verdict.rationale) == (
        again.verdict,
        again.category,
        again.rationale,
    )
    assert (verdict.verdict, verdict.category) in {(v, c) for _, v, c in OPTIONS}
    assert verdict.model_id == "local:tiny-judge"
    chosen = "allow" if verdict.verdict == "allow" else f"refuse: {verdict.category}"
    assert verdict.rationale.startswith(f"chose '{chosen}' (p=")
    assert "runner-up '" in verdict.rationale

    ranked = first.option_probabilities(PROMPT, referral="language_unsupported", language="en")
    assert sorted(t for t, _ in ranked) == sorted(t for t, _, _ in OPTIONS)
    assert sum(p for _, p in ranked) == pytest.approx(1.0)


def test_local_filter_batched_scores_equal_one_option_at_a_time(tiny_lm: Path) -> None:
    """Right padding changes nothing: each option's log-likelihood, computed alone without
    padding, gives the same distribution."""
    import torch

    f = LocalTransformersFilter(tiny_lm)
    tokenizer, model = f.load()
    context = f._context_ids(tokenizer, PROMPT, "borderline", "en")
    totals = []
    for text, _, _ in OPTIONS:
        option = tokenizer(" " + text, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([context + option])).logits[0]
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        totals.append(sum(float(log_probs[len(context) - 1 + i, t]) for i, t in enumerate(option)))
    expected = torch.softmax(torch.tensor(totals), dim=0).tolist()
    got = dict(f.option_probabilities(PROMPT, referral="borderline", language="en"))
    for (text, _, _), p in zip(OPTIONS, expected, strict=True):
        assert got[text] == pytest.approx(p, rel=1e-4, abs=1e-9)


def test_local_filter_timeout_and_missing_model_fail_closed(tiny_lm: Path, tmp_path: Path) -> None:
    timed = TimedFilter(LocalTransformersFilter(tiny_lm), timeout_s=0.001)
    with pytest.raises(FilterTimeout):
        review(timed)
    # the abandoned call runs out on its own and frees its slot
    deadline = time.monotonic() + 60
    while timed.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    assert timed.in_flight == 0
    with pytest.raises(FilterUnavailable):
        review(TimedFilter(LocalTransformersFilter(tmp_path / "gone"), timeout_s=30))


# -- settings -----------------------------------------------------------------------------------


def read(monkeypatch: pytest.MonkeyPatch, **env: str) -> PromptFilterSettings:
    for key, value in env.items():
        monkeypatch.setenv(f"CLEARFRAME_LLM_FILTER_{key.upper()}", value)
    settings = Settings()
    settings.load_sections([PromptFilterSettings])
    return settings.section(PromptFilterSettings)


def test_no_filter_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    section = read(monkeypatch)
    assert not section.configured and build_filter(section) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"kind": "openai", "model": "m"}, "CLEARFRAME_LLM_FILTER_URL must be set"),
        ({"kind": "openai", "url": "ftp://x/v1", "model": "m"}, "must be an http(s) URL"),
        ({"kind": "openai", "url": "http://h/v1"}, "CLEARFRAME_LLM_FILTER_MODEL must be set"),
        ({"kind": "local"}, "CLEARFRAME_LLM_FILTER_MODEL_DIR must be set"),
        ({"kind": "local", "model_dir": "/nonexistent/model"}, "is not a directory"),
        ({"kind": "gpt"}, "CLEARFRAME_LLM_FILTER_KIND"),
        ({"url": "http://h/v1"}, "KIND is empty"),
        ({"kind": "local", "model_dir": ".", "timeout_s": "600"}, "TIMEOUT_S"),
    ],
)
def test_bad_filter_settings_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        read(monkeypatch, **env)
    assert message in str(raised.value)


def test_production_needs_an_api_key_that_never_shows(
    monkeypatch: pytest.MonkeyPatch, tiny_lm: Path
) -> None:
    base = Settings(env=Environment.production)
    keyless = read(monkeypatch, kind="openai", url="https://llm.internal/v1", model="judge")
    assert any("CLEARFRAME_LLM_FILTER_API_KEY" in p for p in keyless.production_problems(base))
    keyed = read(monkeypatch, api_key="sk-live-secret-value")
    assert keyed.production_problems(base) == []
    built = build_filter(keyed)
    assert built is not None and built.model_id == "openai:judge"
    for text in (repr(keyed), str(keyed), repr(built), str(keyed.model_dump())):
        assert "sk-live-secret-value" not in text
    local = PromptFilterSettings(kind="local", model_dir=tiny_lm, timeout_s=3)
    assert local.production_problems(base) == []
    timed = build_filter(local)
    assert isinstance(timed, TimedFilter) and timed.timeout_s == 3
    assert isinstance(timed.inner, LocalTransformersFilter)
