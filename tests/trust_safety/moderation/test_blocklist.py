from __future__ import annotations

import pytest

from trust_safety.moderation.blocklist import (
    Blocklist,
    BlocklistStage,
    blocklist_from_json,
    load_default_blocklist,
)
from trust_safety.moderation.categories import Category
from trust_safety.moderation.errors import (
    InvalidBlocklistEdit,
    InvalidModerationData,
    StaleListVersion,
    UnknownCategory,
)
from trust_safety.moderation.lexicon import Lexicon, canonical_term
from trust_safety.moderation.normalise import normalise
from trust_safety.moderation.stages import ModerationContext


def hits(lexicon: Lexicon, prompt: str) -> set[str]:
    return {h.term for h in lexicon.find(normalise(prompt))}


def test_lexicon_matches_whole_words_with_inflections() -> None:
    lexicon = Lexicon(["rapist", "behead"])
    assert hits(lexicon, "a therapist listening") == set()
    assert hits(lexicon, "they beheaded him") == {"behead"}
    assert hits(lexicon, "B E H E A D I N G") == {"behead"}


def test_lexicon_letter_runs_match_but_missing_letters_do_not() -> None:
    lexicon = Lexicon(["kill", "kkk"])
    assert hits(lexicon, "kiiiilll") == {"kill"}
    assert hits(lexicon, "kil") == set()
    assert hits(lexicon, "a kkkk rally") == {"kkk"}
    assert hits(lexicon, "a k rally") == set()


def test_lexicon_finds_terms_in_glued_runs_that_swallowed_an_article() -> None:
    assert hits(Lexicon(["naked"]), "a n a k e d woman") == {"naked"}


def test_lexicon_exceptions_blank_harmless_idioms() -> None:
    lexicon = Lexicon(["naked", "suicide"], exceptions=["naked eye", "suicide prevention"])
    assert hits(lexicon, "saturn with the naked eye") == set()
    assert hits(lexicon, "a suicide prevention hotline") == set()
    assert hits(lexicon, "a naked man, then the naked eye") == {"naked"}


def test_canonical_term_squeezes_for_name_matchers() -> None:
    assert canonical_term("Spider-Man!!") == "spider man"
    assert canonical_term("Harry  Potter") == "hary poter"


def test_edits_bump_the_version_and_leave_the_old_list_untouched() -> None:
    v1 = Blocklist(1, {Category.SEXUAL: frozenset({"porn"})})
    v2 = v1.with_term(Category.VIOLENCE_GORE, "Dismembered", expected_version=1)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.entries(Category.VIOLENCE_GORE) == frozenset()
    assert v2.entries(Category.VIOLENCE_GORE) == frozenset({"dismembered"})
    v3 = v2.without_term(Category.SEXUAL, "PORN")
    assert v3.version == 3 and v3.entries(Category.SEXUAL) == frozenset()
    stage = BlocklistStage(v3)
    result = stage.evaluate(normalise("a dismembered doll, porn"), ModerationContext())
    assert result.scores == {Category.VIOLENCE_GORE: 1.0}
    assert result.data_versions == {"blocklist": "3"}


def test_edit_against_a_stale_version_is_refused() -> None:
    v1 = Blocklist(1, {})
    v2 = v1.with_term(Category.SEXUAL, "porn")
    with pytest.raises(StaleListVersion) as err:
        v2.with_term(Category.SEXUAL, "nudes", expected_version=1)
    assert err.value.status == 409


@pytest.mark.parametrize("term", ["", "ab", "a-b", "x" * 81])
def test_bad_terms_are_refused(term: str) -> None:
    with pytest.raises(InvalidBlocklistEdit):
        Blocklist(1, {}).with_term(Category.SEXUAL, term)


def test_duplicate_add_and_missing_remove_are_refused() -> None:
    v1 = Blocklist(1, {Category.SEXUAL: frozenset({"porn"})})
    with pytest.raises(InvalidBlocklistEdit):
        v1.with_term(Category.SEXUAL, "P O R N")
    with pytest.raises(InvalidBlocklistEdit):
        v1.without_term(Category.HATE_SYMBOLS, "porn")


def test_json_round_trip_and_validation() -> None:
    shipped = load_default_blocklist()
    assert blocklist_from_json(shipped.to_json()) == shipped
    with pytest.raises(UnknownCategory):
        blocklist_from_json({"version": 1, "lists": {"spam": ["x"]}})
    with pytest.raises(InvalidModerationData):
        blocklist_from_json({"version": 1, "lists": {"sexual": ["ok term", "xx"]}})
    with pytest.raises(InvalidModerationData):
        blocklist_from_json({"lists": {}})


def test_weak_terms_raise_a_signal_but_no_score() -> None:
    stage = BlocklistStage(load_default_blocklist())
    result = stage.evaluate(normalise("a woman stabbed in an alley"), ModerationContext())
    assert Category.VIOLENCE_GORE not in result.scores
    assert result.signals.get("weak_term:violence_gore") == 1.0


def test_shipped_list_catches_evasive_spellings_and_spares_idioms() -> None:
    stage = BlocklistStage(load_default_blocklist())

    def categories(prompt: str) -> set[Category]:
        return set(stage.evaluate(normalise(prompt), ModerationContext()).scores)

    assert categories("a p 0 r n video") == {Category.SEXUAL}
    assert categories("a s\u0432astika flag".replace("\u0432", "w")) == {Category.HATE_SYMBOLS}
    assert categories("d3c4p1t4t3d") == {Category.VIOLENCE_GORE}
    assert categories("how to make m e t h") == {Category.ILLEGAL_ACTIVITY}
    assert categories("a nude lipstick shade, seen with the naked eye") == set()
    assert categories("suicide prevention week poster") == set()


@pytest.mark.parametrize(
    "prompt",
    [
        "a zombie film scene, no gore",
        "a sword duel on a castle wall without blood or gore",
        "a beach volleyball match without nudity",
        "a haunted house tour, free of gore",
    ],
)
def test_a_negated_term_refuses_nothing_and_stays_in_the_evidence(prompt: str) -> None:
    result = BlocklistStage(load_default_blocklist()).evaluate(
        normalise(prompt), ModerationContext()
    )
    assert result.scores == {} and result.signals == {}
    assert {e.kind for e in result.evidence} == {"negated_term"}


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        # the disclaimer's scope ends at "but": the second mention is requested
        ("no gore but a beheading with gore everywhere", Category.VIOLENCE_GORE),
        # a negation elsewhere in the prompt does not reach the term
        ("full frontal nudity, no clothes, no censoring", Category.SEXUAL),
        # hiding the word is not negating it: only the plain text is read for negation
        ("a castle siege, no g.o.r.e", Category.VIOLENCE_GORE),
    ],
)
def test_negation_does_not_excuse_a_term_outside_its_scope(prompt: str, category: Category) -> None:
    result = BlocklistStage(load_default_blocklist()).evaluate(
        normalise(prompt), ModerationContext()
    )
    assert result.scores.get(category) == 1.0
