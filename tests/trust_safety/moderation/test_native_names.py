"""Names written in their own script are matched as written, by the script's idea of a word."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trust_safety.moderation.categories import Category
from trust_safety.moderation.errors import InvalidModerationData
from trust_safety.moderation.figures import PublicFigureStage, figures_from_json
from trust_safety.moderation.native_names import NativeNameMatcher, native_pattern
from trust_safety.moderation.normalise import native_form, normalise
from trust_safety.moderation.stages import ModerationContext
from trust_safety.optout.prompt_matcher import OptOutPromptMatcher
from trust_safety.optout.registry import InMemoryOptOutRegistry, RecordedOptOutFact, file_optout

TRUMP = ("Трамп", "トランプ", "特朗普", "트럼프", "ترامب", "ट्रम्प")


@pytest.fixture(scope="module")
def matcher() -> NativeNameMatcher[str]:
    return NativeNameMatcher([*(("trump", n) for n in TRUMP), ("putin", "普京"), ("x", "Trump")])


@pytest.mark.parametrize(
    "text",
    [
        "Трампа показали танцующим",  # an inflected form
        "ドナルド・トランプが踊っている",  # no spaces, a particle after it
        "特朗普在跳舞",
        "트럼프가 춤을 춘다",  # a particle glued on
        "وترامب يرقص",  # a clitic in front
        "ट्रम्प नाच रहे हैं",
    ],
)
def test_each_script_finds_the_name_in_running_text(matcher, text):
    assert [h.owner for h in matcher.find(native_form(text))] == ["trump"]


@pytest.mark.parametrize("text", ["трамплин в бассейне", "a trump card", "李子树开花"])
def test_longer_words_latin_text_and_other_words_are_not_the_name(matcher, text):
    assert matcher.find(native_form(text)) == []


def test_names_too_short_to_mean_anyone_are_never_compiled():
    assert native_pattern("李") is None and native_pattern("김") is None
    assert native_pattern("普京") is not None
    with pytest.raises(InvalidModerationData, match="too short"):
        figures_from_json(
            {"version": 1, "figures": [{"id": "pf-x", "name": "Xi", "aliases": ["习"]}]}
        )


def test_the_public_figure_stage_refuses_a_figure_named_in_cyrillic_or_han():
    stage = PublicFigureStage(
        figures_from_json(
            {
                "version": 1,
                "figures": [{"id": "pf-trump", "name": "Donald Trump", "aliases": list(TRUMP)}],
            }
        )
    )
    for prompt in ("Трамп танцует на улице", "特朗普在跳舞"):
        result = stage.evaluate(normalise(prompt), ModerationContext(language="ru"))
        assert result.scores == {Category.PUBLIC_FIGURES: 1.0}, prompt
        assert [(e.ref, e.view) for e in result.evidence] == [("pf-trump", "native")]


def test_an_opt_out_name_in_katakana_matches_prompts_in_japanese():
    registry = InMemoryOptOutRegistry()
    fact = file_optout(
        None,
        optout_id="oo-comet",
        rights_holder_id="rh",
        rights_holder_name="Comet Studios",
        terms={"characters": ["Captain Comet", "キャプテン・コメット"]},
        scopes=["prompts"],
        territories=["*"],
    )
    registry.record(RecordedOptOutFact(fact, datetime(2026, 1, 1, tzinfo=UTC), "rh"))
    matcher = OptOutPromptMatcher(registry.all(), None)
    found = matcher.match(normalise("キャプテンコメットが空を飛ぶ"), by_meaning=False)
    assert found.optout_ids == ("oo-comet",) and found.matches[0].view == "native"
    assert matcher.match(normalise("Captain Comet flying"), by_meaning=False).optout_ids == (
        "oo-comet",
    )
    assert matcher.match(normalise("キャプテンが空を飛ぶ"), by_meaning=False).optout_ids == ()
