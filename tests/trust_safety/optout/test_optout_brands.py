"""Brands in prompts are described generically, never refused, and the holder's counts stay
counts of blocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from trust_safety.optout.brands import BrandRewriter
from trust_safety.optout.errors import InvalidOptOut
from trust_safety.optout.registry import InMemoryOptOutRegistry, RecordedOptOutFact, file_optout

AT = datetime(2026, 1, 1, tzinfo=UTC)


def registry(*filings: dict[str, Any]) -> InMemoryOptOutRegistry:
    reg = InMemoryOptOutRegistry()
    for n, filing in enumerate(filings):
        fact = file_optout(
            None,
            optout_id=f"oo-{n}",
            rights_holder_id=f"rh-{n}",
            rights_holder_name=f"Holder {n}",
            scopes=filing.pop("scopes", ["prompts"]),
            territories=filing.pop("territories", ["*"]),
            **filing,
        )
        reg.record(RecordedOptOutFact(fact, AT, fact.rights_holder_id))
    return reg


FIZZCO = {"terms": {"brands": [{"name": "Fizzco", "aliases": ["Fizz Cola"], "generic": "cola"}]}}
ORBIT = {
    "terms": {"brands": [{"name": "Orbit Phone", "generic": "smartphone"}]},
    "territories": ["DE"],
}


@pytest.fixture
def rewriter() -> BrandRewriter:
    return BrandRewriter(registry(dict(FIZZCO), dict(ORBIT)).all())


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a Fizzco can on a beach", "a cola can on a beach"),
        ("FIZZ-CO™ bottles in a fridge", "Cola bottles in a fridge"),
        ("a girl drinking fizz cola at a party", "a girl drinking cola at a party"),
        ("Fizzco's new ad, with a Fizzco truck", "Cola's new ad, with a cola truck"),
    ],
)
def test_brand_names_and_aliases_become_the_generic_words(rewriter, prompt, expected):
    result = rewriter.rewrite(prompt)
    assert result is not None
    rewrite, mentions = result
    assert rewrite.after == expected
    assert rewrite.refs == ("brand:oo-0",)
    assert [(m.optout_id, m.brand, m.generic) for m in mentions] == [("oo-0", "Fizzco", "cola")]
    assert rewrite.apply is not None and rewrite.apply(prompt) == expected


def test_words_that_contain_the_brand_are_not_it_and_territories_apply(rewriter):
    assert rewriter.rewrite("a fizzcoin stall and an unfizzcoed drink") is None
    assert rewriter.rewrite("an Orbit Phone on a desk", territory="FR") is None
    in_germany = rewriter.rewrite("an Orbit Phone on a desk", territory="DE")
    assert in_germany is not None and in_germany[0].after == "a smartphone on a desk"
    # Unknown territory: every territorial opt-out applies.
    assert rewriter.rewrite("an Orbit Phone on a desk") is not None


def test_a_brand_is_something_to_match_and_its_generic_must_not_name_it():
    assert BrandRewriter(registry(dict(FIZZCO)).all()).brand_count == 1
    with pytest.raises(InvalidOptOut, match="must not name the brand"):
        registry({"terms": {"brands": [{"name": "Fizzco", "generic": "Fizzco cola"}]}})
    with pytest.raises(InvalidOptOut, match="work, character or brand"):
        registry({"terms": {}})
    # An opt-out not scoped to prompts never rewrites them.
    training_only = registry(
        {"terms": {"characters": ["Fizz Man"], **FIZZCO["terms"]}, "scopes": ["training"]}
    )
    assert BrandRewriter(training_only.all()).brand_count == 0
