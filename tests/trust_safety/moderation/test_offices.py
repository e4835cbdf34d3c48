"""Public figures named by the office they hold: the dated table, title matching, the stage."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from trust_safety.moderation.categories import Category
from trust_safety.moderation.errors import InvalidModerationData, StaleListVersion
from trust_safety.moderation.figures import PublicFigureStage, load_default_figures
from trust_safety.moderation.normalise import normalise
from trust_safety.moderation.offices import (
    OfficeMatcher,
    UnknownOffice,
    load_default_offices,
    offices_from_json,
)
from trust_safety.moderation.stages import ModerationContext

FIGURES = load_default_figures()
OFFICES = load_default_offices()
MATCHER = OfficeMatcher(OFFICES)
LATE_2026 = date(2026, 11, 1)
BIG_OFFICES = (
    "pope",
    "us-president",
    "uk-monarch",
    "uk-prime-minister",
    "france-president",
    "germany-chancellor",
    "russia-president",
    "china-president",
    "japan-prime-minister",
    "india-prime-minister",
    "un-secretary-general",
)
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "ru", "ja", "zh", "ko", "ar", "hi", "id")


def resolved(prompt: str, day: date = LATE_2026) -> set[tuple[str, str]]:
    return {(m.office_id, m.figure_id) for m in MATCHER.match(normalise(prompt), day)}


@pytest.mark.parametrize(
    ("prompt", "office", "figure"),
    [
        ("the Pope giving a speech in a nightclub", "pope", "pf-pope-leo"),
        ("El Papa bailando en una discoteca", "pope", "pf-pope-leo"),
        ("o papa num show de rock", "pope", "pf-pope-leo"),
        ("le pape dans une boîte de nuit", "pope", "pf-pope-leo"),
        ("der Papst tanzt in einem Club", "pope", "pf-pope-leo"),
        ("il papa in discoteca", "pope", "pf-pope-leo"),
        ("папа римский танцует в клубе", "pope", "pf-pope-leo"),
        ("ナイトクラブで踊るローマ教皇", "pope", "pf-pope-leo"),
        ("教皇在夜店跳舞", "pope", "pf-pope-leo"),
        ("교황이 클럽에서 춤춘다", "pope", "pf-pope-leo"),
        ("البابا يرقص في ملهى ليلي", "pope", "pf-pope-leo"),
        ("पोप नाइटक्लब में नाच रहे हैं", "pope", "pf-pope-leo"),
        ("sri paus berdansa di klub malam", "pope", "pf-pope-leo"),
        ("th3 p0pe at a rave", "pope", "pf-pope-leo"),  # the normalised views count
        ("the US president riding a horse", "us-president", "pf-donald-trump"),
        ("POTUS at a karaoke bar", "us-president", "pf-donald-trump"),
        ("the president of the U.S. dancing", "us-president", "pf-donald-trump"),
        ("el presidente de Estados Unidos bailando", "us-president", "pf-donald-trump"),
        ("美国总统在跳舞", "us-president", "pf-donald-trump"),
        ("미국 대통령이 춤춘다", "us-president", "pf-donald-trump"),
        ("the King of England waving from a balcony", "uk-monarch", "pf-king-charles"),
        ("le roi d'Angleterre au marché", "uk-monarch", "pf-king-charles"),
        ("der deutsche Kanzler beim Tanzen", "germany-chancellor", "pf-friedrich-merz"),
        ("the Japanese prime minister singing", "japan-prime-minister", "pf-sanae-takaichi"),
        ("президент России на коне", "russia-president", "pf-vladimir-putin"),
        ("the UN Secretary-General surfing", "un-secretary-general", "pf-antonio-guterres"),
    ],
)
def test_a_title_resolves_to_the_current_holder(prompt: str, office: str, figure: str) -> None:
    assert resolved(prompt) == {(office, figure)}


@pytest.mark.parametrize(
    "prompt",
    [
        "a king in a fairy tale",
        "a chess king on a board",
        "the king of the jungle roaring",
        "a pope costume party",  # an indefinite: a role, not the holder
        "any US president would say so",
        "the former US president on a boat",  # former holders are out of scope
        "the first prime minister of India",
        "a medieval king of england",
        "Pope Francis waving",  # a former holder, named
        "mi papá bailando en la cocina",  # Spanish dad folds to "papa"
        "papa bear and mama bear",
        "ikan paus berenang di laut",  # Indonesian 'paus' is also a whale
        "мой папа танцует",  # Russian dad
        "the president of the chess club",
        "a vampire prime minister in a novel",
        "前美国总统在跳舞",  # former, in Chinese
        "ehemalige Bundeskanzler",
    ],
)
def test_generic_and_former_titles_resolve_to_no_one(prompt: str) -> None:
    assert resolved(prompt) == set()


def test_a_match_inside_a_longer_title_belongs_to_the_longer_office() -> None:
    assert resolved("the vice president of the united states eating") == {
        ("us-vice-president", "pf-jd-vance")
    }
    # qualified as a whole: neither the VP nor, inside it, the president
    assert resolved("the former vice president of the united states") == set()


def test_the_holder_changes_when_the_table_says_so() -> None:
    assert resolved("the US president", date(2019, 6, 1)) == {("us-president", "pf-donald-trump")}
    assert resolved("the US president", date(2023, 6, 1)) == {("us-president", "pf-joe-biden")}
    # the day of the inauguration is the new holder's, the day before the old one's
    assert resolved("the US president", date(2025, 1, 19)) == {("us-president", "pf-joe-biden")}
    assert resolved("the US president", date(2025, 1, 20)) == {("us-president", "pf-donald-trump")}
    assert resolved("the German chancellor", date(2024, 1, 1)) == {
        ("germany-chancellor", "pf-olaf-scholz")
    }
    # before Leo XIV the table has no pope: the title resolves to no one it knows
    assert resolved("the pope", date(2024, 1, 1)) == set()


def test_the_shipped_table_covers_the_big_offices_in_every_language() -> None:
    figure_ids = {f.figure_id for f in FIGURES.figures}
    for office in OFFICES.offices:
        assert office.holder_on(LATE_2026) is not None, office.office_id
        assert all(h.figure_id in figure_ids for h in office.holders)
    for office_id in BIG_OFFICES:
        big = OFFICES.get(office_id)
        assert big is not None
        assert set(LANGUAGES) <= set(big.titles), (office_id, set(LANGUAGES) - set(big.titles))
    assert "admins keep" in OFFICES.source
    assert len(OFFICES.offices) >= 23


def stage() -> PublicFigureStage:
    return PublicFigureStage(FIGURES, OFFICES)


def test_the_stage_treats_a_title_as_the_holders_name() -> None:
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    result = stage().evaluate(
        normalise("the Pope giving a speech in a nightclub"), ModerationContext(at=at)
    )
    assert result.scores == {Category.PUBLIC_FIGURES: 1.0}
    [figure] = [e for e in result.evidence if e.kind == "public_figure"]
    assert figure.ref == "pf-pope-leo" and figure.score == 1.0
    assert figure.detail == "by title: pope (holder since 2025-05-08)"
    [title] = [e for e in result.evidence if e.kind == "office_title"]
    assert title.ref == "office:pope" and title.score == 0.0
    assert result.data_versions == {
        "public_figures": str(FIGURES.version),
        "public_offices": str(OFFICES.version),
    }
    # the request's own moment decides who the title names
    earlier = stage().evaluate(
        normalise("the US president on a horse"),
        ModerationContext(at=datetime(2023, 3, 1, tzinfo=UTC)),
    )
    assert {e.ref for e in earlier.evidence if e.kind == "public_figure"} == {"pf-joe-biden"}


def test_consent_for_the_holder_clears_the_title_like_the_name() -> None:
    asked: list[tuple[str, str]] = []

    def consent(requester: str, figure_id: str) -> bool:
        asked.append((requester, figure_id))
        return figure_id == "pf-pope-leo"

    context = ModerationContext(requester_id="user-1", likeness_consent=consent)
    result = stage().evaluate(normalise("the pope feeding ducks"), context)
    assert result.scores == {}
    assert asked == [("user-1", "pf-pope-leo")]
    [figure] = [e for e in result.evidence if e.kind == "public_figure"]
    assert figure.detail == "consent on record"  # what the gate resolves the cameo from
    # another figure by title is still refused
    refused = stage().evaluate(normalise("the pope and the King of England"), context)
    assert refused.scores == {Category.PUBLIC_FIGURES: 1.0}
    # named and titled, the figure is asked about once
    asked.clear()
    stage().evaluate(normalise("Pope Leo, the pope, feeding ducks"), context)
    assert asked == [("user-1", "pf-pope-leo")]


def test_without_a_table_titles_resolve_to_no_one() -> None:
    result = PublicFigureStage(FIGURES).evaluate(normalise("the pope"), ModerationContext())
    assert result.scores == {} and result.data_versions == {"public_figures": str(FIGURES.version)}


def test_table_edits_are_versioned_and_dated() -> None:
    moved = OFFICES.with_holder("pope", "pf-keanu-reeves", date(2026, 6, 1))
    assert moved.version == OFFICES.version + 1
    pope = moved.get("pope")
    assert pope is not None
    assert pope.holder_on(date(2026, 5, 31)).figure_id == "pf-pope-leo"  # type: ignore[union-attr]
    assert pope.holder_on(date(2026, 6, 1)).figure_id == "pf-keanu-reeves"  # type: ignore[union-attr]
    # a correction: a holder set earlier replaces the later entries
    corrected = moved.with_holder("pope", "pf-tom-hanks", date(2026, 1, 1))
    holders = [(h.figure_id, h.end) for h in corrected.get("pope").holders]  # type: ignore[union-attr]
    assert holders == [("pf-pope-leo", date(2026, 1, 1)), ("pf-tom-hanks", None)]

    titled = OFFICES.with_title("pope", "nl", "de paus")
    assert titled.version == OFFICES.version + 1
    assert resolved("de paus op een feest") == set()
    assert {
        m.figure_id
        for m in OfficeMatcher(titled).match(normalise("de paus op een feest"), LATE_2026)
    } == {"pf-pope-leo"}
    untitled, stored = titled.without_title("pope", "nl", "De Paus")
    assert stored == "de paus" and "nl" not in untitled.get("pope").titles  # type: ignore[union-attr]

    with pytest.raises(StaleListVersion):
        OFFICES.with_title("pope", "nl", "de paus", expected_version=OFFICES.version + 5)
    with pytest.raises(UnknownOffice):
        OFFICES.with_holder("pharaoh", "pf-tom-hanks", date(2026, 1, 1))
    for generic in ("king", "The President", "prime minister", "el rey"):
        with pytest.raises(InvalidModerationData):
            OFFICES.with_title("uk-monarch", "en", generic)
    with pytest.raises(InvalidModerationData):
        OFFICES.with_title("pope", "en", "x" * 81)
    with pytest.raises(InvalidModerationData):
        OFFICES.with_title("pope", "en", "pontiff")  # already there
    with pytest.raises(InvalidModerationData):
        OFFICES.without_title("pope", "en", "antipope")


def test_office_data_is_validated() -> None:
    def table(**office: object) -> dict[str, object]:
        base = {"id": "pope", "name": "Pope", "titles": {"en": ["the pope"]}, "holders": []}
        return {"version": 1, "offices": [{**base, **office}]}

    ids = ["pf-a", "pf-b"]
    offices_from_json(table(holders=[{"figure_id": "pf-a", "from": "2020-01-01"}]), ids)
    with pytest.raises(InvalidModerationData):
        offices_from_json(table(holders=[{"figure_id": "pf-z", "from": "2020-01-01"}]), ids)
    with pytest.raises(InvalidModerationData):
        offices_from_json(table(holders=[{"figure_id": "pf-a", "from": "2020-13-01"}]), ids)
    overlapping = [
        {"figure_id": "pf-a", "from": "2020-01-01"},
        {"figure_id": "pf-b", "from": "2021-01-01"},
    ]
    with pytest.raises(InvalidModerationData):
        offices_from_json(table(holders=overlapping), ids)
    with pytest.raises(InvalidModerationData):
        offices_from_json(table(id="Bad Id"), ids)
    with pytest.raises(InvalidModerationData):
        offices_from_json(table(titles={"english": ["the pope"]}), ids)
    with pytest.raises(InvalidModerationData):
        offices_from_json(table(titles={"en": ["king"]}), ids)
