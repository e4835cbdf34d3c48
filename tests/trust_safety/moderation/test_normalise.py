from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trust_safety.moderation.errors import InvalidPrompt
from trust_safety.moderation.normalise import MAX_PROMPT_CHARS, normalise, squeeze


@pytest.mark.parametrize(
    ("prompt", "expected_word"),
    [
        ("a n4k3d w0man", "naked"),  # leetspeak
        ("ｎａｋｅｄ", "naked"),  # fullwidth (NFKC)
        ("n\u0430k\u0435d", "naked"),  # Cyrillic a and e
        ("na\u200bk\u200ded", "naked"),  # zero-width characters
        ("ṅäķëḋ", "naked"),  # diacritics
        ("n a k e d", "naked"),  # letters split by spaces
        ("n.a.k.e.d", "naked"),  # split by punctuation
        ("n-a-k-3-d", "naked"),  # split and leet
        ("k!ll", "kill"),
        ("$ex", "sex"),
        ("heeeeead", "head"),  # tripled letters
    ],
)
def test_evasions_are_undone_in_some_view(prompt: str, expected_word: str) -> None:
    views = normalise(prompt).views.values()
    assert any(expected_word in view.split() for view in views), normalise(prompt).views


def test_numbers_with_units_survive_leet_folding() -> None:
    n = normalise("a 1080p 4k video of 3 cats at 60fps, 10th take")
    assert n.leet == "a 1080p 4k video of 3 cats at 60fps, 10th take"
    assert n.base == n.leet


def test_split_runs_with_different_separators_stay_separate_words() -> None:
    n = normalise("a man h . a . n . g . i . n . g h.i.m.s.e.l.f")
    assert n.joined == "a man hanging himself"
    assert n.joined_runs == ("hanging", "himself")


def test_brackets_and_exclamations_are_not_letters() -> None:
    assert normalise("(cyrillic) wow!").leet == "(cyrillic) wow!"


def test_distinct_views_has_base_first_and_no_duplicates() -> None:
    plain = normalise("a cat on a mat")
    assert plain.distinct_views() == ("a cat on a mat",)
    evasive = normalise("a c4t on a m4t")
    assert evasive.distinct_views() == ("a c4t on a m4t", "a cat on a mat")


def test_empty_after_invisible_characters_is_rejected() -> None:
    with pytest.raises(InvalidPrompt) as err:
        normalise("\u200b\u200d \u2060")
    assert err.value.code == "invalid_prompt"


def test_too_long_and_non_string_prompts_are_rejected() -> None:
    with pytest.raises(InvalidPrompt):
        normalise("a" * (MAX_PROMPT_CHARS + 1))
    with pytest.raises(InvalidPrompt):
        normalise(b"bytes")  # type: ignore[arg-type]


@given(st.text(min_size=1, max_size=200))
def test_normalise_is_total_and_idempotent_on_base(text: str) -> None:
    try:
        n = normalise(text)
    except InvalidPrompt:
        return
    again = normalise(n.base)
    assert again.base == n.base
    assert "\u200b" not in n.joined


@given(st.text(alphabet="abcde", max_size=30))
def test_squeeze_is_idempotent(text: str) -> None:
    assert squeeze(squeeze(text)) == squeeze(text)
