from __future__ import annotations

import pytest

from trust_safety.moderation.artists import ArtistStyleStage, load_default_artists
from trust_safety.moderation.categories import Category
from trust_safety.moderation.errors import (
    InvalidBlocklistEdit,
    InvalidModerationData,
    StaleListVersion,
)
from trust_safety.moderation.figures import (
    PublicFigure,
    PublicFigureList,
    PublicFigureStage,
    figures_from_json,
    load_default_figures,
)
from trust_safety.moderation.minors import MinorsStage
from trust_safety.moderation.normalise import normalise
from trust_safety.moderation.stages import ModerationContext

FIGURES = load_default_figures()


def figure_ids(prompt: str, context: ModerationContext | None = None) -> tuple[set[str], float]:
    result = PublicFigureStage(FIGURES).evaluate(normalise(prompt), context or ModerationContext())
    return {e.ref for e in result.evidence}, result.scores.get(Category.PUBLIC_FIGURES, 0.0)


@pytest.mark.parametrize(
    ("prompt", "figure"),
    [
        ("Taylor Swift at a cat cafe", "pf-taylor-swift"),
        ("Tayler Swfit at a cat cafe", "pf-taylor-swift"),  # two typos, fuzzy
        ("T\u0430ylor Sw\u0456ft singing", "pf-taylor-swift"),  # homoglyphs
        ("b a r a c k o b a m a surfing", "pf-barack-obama"),
        ("Vladmir Putin skateboarding", "pf-vladimir-putin"),
        ("President Biden eating ice cream", "pf-joe-biden"),
        ("zelenskyy at a piano", "pf-volodymyr-zelensky"),
    ],
)
def test_figures_are_found_by_alias_and_misspelling(prompt: str, figure: str) -> None:
    ids, score = figure_ids(prompt)
    assert figure in ids and score >= 0.86


@pytest.mark.parametrize(
    "prompt",
    [
        "a trump card played at poker",
        "a musk ox in the snow",
        "a kitten on a rock",
        "swift river rapids",
    ],
)
def test_ordinary_words_are_not_figures(prompt: str) -> None:
    assert figure_ids(prompt) == (set(), 0.0)


def test_consent_seam_clears_only_the_consented_figure() -> None:
    asked: list[tuple[str, str]] = []

    def consent(requester: str, figure_id: str) -> bool:
        asked.append((requester, figure_id))
        return figure_id == "pf-taylor-swift"

    context = ModerationContext(requester_id="user-1", likeness_consent=consent)
    _, score = figure_ids("Taylor Swift on stage", context)
    assert score == 0.0
    assert asked == [("user-1", "pf-taylor-swift")]
    _, score = figure_ids("Taylor Swift and Elon Musk on stage", context)
    assert score == 1.0
    # Without a requester, consent cannot be on record.
    _, score = figure_ids("Taylor Swift", ModerationContext(likeness_consent=consent))
    assert score == 1.0


def test_figure_list_edits_are_versioned() -> None:
    base = PublicFigureList(1, ())
    v2 = base.with_figure(PublicFigure("pf-jane-doe", "Jane Qwertyuiop", ("JQ Doe",)))
    assert v2.version == 2 and v2.get("pf-jane-doe") is not None
    stage = PublicFigureStage(v2)
    result = stage.evaluate(normalise("Jane Qwertyuiop riding a bike"), ModerationContext())
    assert result.scores == {Category.PUBLIC_FIGURES: 1.0}
    assert result.data_versions == {"public_figures": "2"}
    with pytest.raises(StaleListVersion):
        v2.without_figure("pf-jane-doe", expected_version=1)
    with pytest.raises(InvalidBlocklistEdit):
        v2.without_figure("pf-nobody")
    assert v2.without_figure("pf-jane-doe").figures == ()


def test_figure_data_is_validated() -> None:
    with pytest.raises(InvalidModerationData):
        figures_from_json({"version": 1, "figures": [{"id": "Bad Id", "name": "X Y Z"}]})
    with pytest.raises(InvalidModerationData):
        figures_from_json({"version": 1, "figures": [{"id": "pf-a", "name": "Al", "aliases": []}]})
    dup = {"id": "pf-a", "name": "Alpha Beta"}
    with pytest.raises(InvalidModerationData):
        figures_from_json({"version": 1, "figures": [dup, dup]})
    assert figures_from_json(FIGURES.to_json()) == FIGURES


def test_living_artist_style_is_rewritten_and_recorded() -> None:
    stage = ArtistStyleStage(load_default_artists())
    result = stage.evaluate(
        normalise("A castle in the style of Greg Rutkowski at dusk"), ModerationContext()
    )
    assert result.rewrite is not None
    assert result.rewrite.after == (
        "A castle in the style of dramatic painterly fantasy illustration with dynamic lighting at dusk"
    )
    assert result.rewrite.refs == ("artist-greg-rutkowski",)
    assert "rutkowski" not in result.rewrite.after.lower()


def test_artist_rewrite_handles_by_and_suffix_forms_and_evasions() -> None:
    stage = ArtistStyleStage(load_default_artists())
    by_form = stage.evaluate(normalise("a portrait by Yayoi Kusama"), ModerationContext())
    assert by_form.rewrite is not None and "kusama" not in by_form.rewrite.after.lower()
    suffix = stage.evaluate(normalise("a Banksy-style mural"), ModerationContext())
    assert suffix.rewrite is not None and "banksy" not in suffix.rewrite.after.lower()
    leet = stage.evaluate(normalise("a city by b4nksy"), ModerationContext())
    assert leet.rewrite is not None and "stencilled" in leet.rewrite.after
    untouched = stage.evaluate(normalise("a castle at dusk"), ModerationContext())
    assert untouched.rewrite is None


@pytest.mark.parametrize(
    "prompt",
    [
        "a 15 year old at the beach",
        "a fourteen-year-old skater",
        "a 12yo",
        "a toddler",
        "s c h o o l g i r l",
        "a t33n",
    ],
)
def test_minor_references_raise_the_signal(prompt: str) -> None:
    result = MinorsStage().evaluate(normalise(prompt), ModerationContext())
    assert result.signals == {"minor_reference": 1.0}
    assert not result.scores


@pytest.mark.parametrize(
    "prompt", ["a 25 year old runner", "a 1080p clip at 60fps", "an adult woman"]
)
def test_adults_and_numbers_do_not_raise_the_signal(prompt: str) -> None:
    assert MinorsStage().evaluate(normalise(prompt), ModerationContext()).signals == {}
