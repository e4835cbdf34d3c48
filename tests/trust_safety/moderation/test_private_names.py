"""Private people named in prompts are rewritten to neutral words; nothing else is."""

from __future__ import annotations

import pytest

from trust_safety.moderation.artists import load_default_artists
from trust_safety.moderation.figures import load_default_figures
from trust_safety.moderation.normalise import normalise
from trust_safety.moderation.pipeline import build_default_pipeline, chain_rewrites
from trust_safety.moderation.private_names import (
    REWRITE_KIND,
    load_default_person_names,
    private_name_stage,
)
from trust_safety.moderation.stages import ModerationContext, Rewrite


@pytest.fixture(scope="module")
def stage():
    return private_name_stage(load_default_figures(), load_default_artists())


def rewritten(stage, prompt: str, context: ModerationContext | None = None) -> str | None:
    result = stage.evaluate(normalise(prompt), context or ModerationContext(language="en"))
    return result.rewrite.after if result.rewrite else None


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("John Smith dancing in the rain", "A person dancing in the rain"),
        ("a video of Maria García walking her dog", "a video of a person walking her dog"),
        ("john smith waving at the camera", "a person waving at the camera"),
        ("Priya Raghunathan's birthday party", "A person's birthday party"),
        ("John F. Kowalczyk giving a speech", "A person giving a speech"),
        (
            "Emma Dubois and Lukas Becker share a meal, then Emma Dubois leaves",
            "A person and another person share a meal, then the same person leaves",
        ),
        ("wedding of Ahmed Al-Farsi on a beach", "wedding of a person on a beach"),
    ],
)
def test_full_names_of_private_people_become_neutral_words(stage, prompt, expected):
    assert rewritten(stage, prompt) == expected


@pytest.mark.parametrize(
    "prompt",
    [
        "Rose petals falling on a wooden table",
        "a rose garden at dawn",
        "Will power and grace under pressure",
        "a boat on the Jordan River at sunset",
        "tourists outside Victoria Station",
        "Harry Potter casting a spell",  # a fictional character, not a private person
        "Keanu Reeves feeding ducks",  # a public figure: the public-figure stage decides
        "Greg Rutkowski style castle",  # a living artist: the artist stage rewrites it
        "a man named John walks his dog",  # a first name alone identifies no one
        "A Portrait Of A Lighthouse In The Storm",
        "mark the spot where the river bends",
    ],
)
def test_places_words_characters_and_known_people_are_left_alone(stage, prompt):
    assert rewritten(stage, prompt) is None


def test_a_consented_cameo_keeps_its_name(stage):
    asked: list[tuple[str, str]] = []

    def consent(requester: str, name: str) -> bool:
        asked.append((requester, name))
        return name == "Mia Lindqvist"

    context = ModerationContext(requester_id="u1", language="en", cameo_name_consent=consent)
    assert rewritten(stage, "Mia Lindqvist surfing a big wave", context) is None
    assert rewritten(stage, "John Smith and Mia Lindqvist surfing", context) == (
        "A person and Mia Lindqvist surfing"
    )
    assert ("u1", "Mia Lindqvist") in asked
    # No requester, no consent: the name is rewritten.
    assert rewritten(stage, "Mia Lindqvist surfing") == "A person surfing"


def test_prompts_in_other_scripts_are_left_to_other_readers(stage):
    result = stage.evaluate(normalise("田中太郎が踊っている"), ModerationContext(language="ja"))
    assert result.rewrite is None and result.data_versions["person_names"]


def test_the_shipped_lists_hold_names_in_many_languages():
    names = load_default_person_names()
    for given in ("john", "maría", "maria", "françois", "dmitri", "fatima", "yuki", "priya"):
        assert names.is_given(given), given
    for surname in ("smith", "garcía", "müller", "nguyen", "tanaka", "kumar"):
        assert names.is_surname(surname), surname
    assert names.is_everyday("rose") and names.is_everyday("will")


def test_the_pipeline_chains_an_artist_rewrite_and_a_name_rewrite():
    pipeline = build_default_pipeline()
    decision = pipeline.moderate("John Smith painting a castle in the style of Greg Rutkowski")
    assert decision.approved
    kinds = [r.kind for r in decision.rewrites]
    assert kinds == ["living_artist_style", REWRITE_KIND]
    first, second = decision.rewrites
    assert first.before == "John Smith painting a castle in the style of Greg Rutkowski"
    assert second.before == first.after and "Rutkowski" not in second.before
    assert decision.effective_prompt == second.after
    assert decision.effective_prompt.startswith("A person painting a castle in the style of")
    record = decision.to_record()
    assert [r["kind"] for r in record["rewrites"]] == kinds
    assert record["rewrite"]["kind"] == f"living_artist_style+{REWRITE_KIND}"
    assert record["rewrite"]["after"] == decision.effective_prompt
    # A refused prompt keeps its rewrites as evidence but the generator gets nothing.
    refused = pipeline.moderate("John Smith naked in explicit sex on a bed")
    assert not refused.approved and refused.effective_prompt.startswith("John Smith")


def test_a_rewrite_that_cannot_replay_starts_from_its_own_text_and_keeps_earlier_changes():
    upper = Rewrite("upper", "a b", "A b", (), apply=lambda t: t.replace("a", "A"))
    # Matched only a repaired view: no apply, its own after is "a B".
    fixed = Rewrite("fixed", "a b", "a B", ())
    steps = chain_rewrites("a b", [upper, fixed])
    assert [s.after for s in steps] == ["A b", "A B"]
    assert steps[1].before == "A b"
    # A rewrite that changes nothing is not recorded.
    assert chain_rewrites("x", [Rewrite("none", "x", "x", (), apply=lambda t: t)]) == ()


@pytest.mark.parametrize(
    ("prompt", "language", "expected"),
    [
        ("un gato tirando un vaso de una mesa", "es", None),  # "una" is also a given name
        ("una campaña de donación de sangre", "es", None),
        ("Anna trinkt Kaffee im Garten", "de", None),
        ("Anna Garten trinkt Kaffee", "de", None),  # German capitalises every noun
        ("Anna Schmidt trinkt Kaffee", "de", "A person trinkt Kaffee"),
        ("María Fernández bailando en la playa", "es", "A person bailando en la playa"),
    ],
)
def test_other_languages_read_names_by_their_own_conventions(stage, prompt, language, expected):
    assert rewritten(stage, prompt, ModerationContext(language=language)) == expected
