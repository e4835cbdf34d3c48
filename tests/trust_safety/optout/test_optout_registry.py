"""Filing, amending and withdrawing opt-outs: validation, folding and scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trust_safety.optout.errors import (
    InvalidOptOut,
    NotOptOutHolder,
    OptOutAlreadyFiled,
    OptOutAlreadyWithdrawn,
    OptOutNotFound,
)
from trust_safety.optout.facts import OptOutTerms, Scope
from trust_safety.optout.registry import (
    InMemoryOptOutRegistry,
    RecordedOptOutFact,
    amend_optout,
    file_optout,
    withdraw_optout,
)
from trust_safety.optout.seed import filings_from_document, registry_from_file
from trust_safety.optout.territories import applies_in, normalise_territories

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DATA = Path(__file__).parent / "data"
SHA = "ab" * 32


def filed(registry: InMemoryOptOutRegistry, **overrides: object) -> str:
    values: dict[str, object] = {
        "optout_id": "oo-1",
        "rights_holder_id": "rh-1",
        "rights_holder_name": "Studio One",
        "terms": {"characters": ["Captain Comet"], "aliases": ["The Comet"]},
        "scopes": ["prompts"],
        "territories": ["us", "GB"],
    }
    values.update(overrides)
    fact = file_optout(registry.get(str(values["optout_id"])), **values)  # type: ignore[arg-type]
    registry.record(RecordedOptOutFact(fact, T0, str(values["rights_holder_id"])))
    return fact.optout_id


def test_filing_normalises_and_folds():
    registry = InMemoryOptOutRegistry()
    oid = filed(registry, terms={"characters": ["Captain  Comet", "captain comet"]})
    record = registry.require(oid)
    assert record.terms.characters == ["Captain Comet"]  # whitespace and case duplicates
    assert record.territories == frozenset({"US", "GB"})
    assert record.enforced(Scope.PROMPTS, "us") and not record.enforced(Scope.PROMPTS, "FR")
    assert not record.enforced(Scope.OUTPUTS, "US")
    assert record.version == 1 and record.history[0].action == "filed"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"territories": ["UK"]}, "ISO 3166"),
        ({"territories": []}, "territory"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["everywhere"]}, "scopes"),
        ({"terms": {"characters": []}}, "work, character or brand name"),
        ({"scopes": ["outputs"]}, "reference image"),
        ({"terms": {"characters": ["   "]}}, "blank"),
        (
            {
                "reference_media": [
                    {
                        "uri": "file:///x.png",
                        "sha256": "nothex",
                        "media_type": "image/png",
                        "kind": "image",
                    }
                ],
                "scopes": ["outputs"],
            },
            "sha256",
        ),
        (
            {
                "reference_media": [
                    {
                        "uri": "file:///x.txt",
                        "sha256": SHA,
                        "media_type": "text/plain",
                        "kind": "image",
                    }
                ],
                "scopes": ["outputs"],
            },
            "image/",
        ),
        ({"rights_holder_id": ""}, "rights_holder_id"),
    ],
)
def test_invalid_filings_raise_typed_errors(overrides, fragment):
    with pytest.raises(InvalidOptOut) as err:
        filed(InMemoryOptOutRegistry(), **overrides)
    assert fragment in str(err.value)
    assert err.value.code == "optout.invalid_input" and err.value.status == 422


def test_duplicate_filing_conflicts():
    registry = InMemoryOptOutRegistry()
    filed(registry)
    with pytest.raises(OptOutAlreadyFiled):
        filed(registry)


def test_amend_replaces_only_given_fields_and_keeps_history():
    registry = InMemoryOptOutRegistry()
    oid = filed(registry)
    record = registry.require(oid)
    fact = amend_optout(
        record,
        "rh-1",
        territories=["*"],
        terms=OptOutTerms(characters=["Captain Comet"], misspellings=["Capt Komet"]),
    )
    registry.record(RecordedOptOutFact(fact, T0 + timedelta(days=1), "rh-1"))
    record = registry.require(oid)
    assert record.territories == frozenset({"*"}) and applies_in(record.territories, "FR")
    assert record.terms.misspellings == ["Capt Komet"] and record.terms.aliases == []
    assert record.scopes == frozenset({Scope.PROMPTS})
    assert record.history[-1].fields == ("terms", "territories") and record.version == 2
    with pytest.raises(InvalidOptOut):
        amend_optout(record, "rh-1")  # nothing to change
    with pytest.raises(InvalidOptOut):
        amend_optout(record, "rh-1", terms={"descriptions": ["a comet-shaped hero in a cape"]})


def test_only_the_holder_amends_or_withdraws_and_withdrawal_is_final():
    registry = InMemoryOptOutRegistry()
    record = registry.require(filed(registry))
    with pytest.raises(NotOptOutHolder):
        amend_optout(record, "rh-2", territories=["FR"])
    with pytest.raises(NotOptOutHolder):
        withdraw_optout(record, "rh-2")
    registry.record(RecordedOptOutFact(withdraw_optout(record, "rh-1", "licensed"), T0, "rh-1"))
    record = registry.require("oo-1")
    assert not record.active and not record.enforced(Scope.PROMPTS, "US")
    assert registry.enforced(Scope.PROMPTS) == []
    with pytest.raises(OptOutAlreadyWithdrawn):
        amend_optout(record, "rh-1", territories=["FR"])
    with pytest.raises(OptOutAlreadyWithdrawn):
        withdraw_optout(record, "rh-1")
    with pytest.raises(OptOutNotFound):
        registry.require("oo-missing")


def test_territory_rules():
    assert normalise_territories(["fr", "Worldwide"]) == frozenset({"*"})
    assert applies_in(frozenset({"FR"}), None)  # unknown origin: protect
    assert not applies_in(frozenset({"FR"}), "de")


def test_fixture_document_loads_and_rejects_bad_documents():
    registry = registry_from_file(DATA / "optouts.json")
    assert len(registry.all()) == 15
    assert {r.rights_holder_id for r in registry.of_holder("rh-mouse")} == {"rh-mouse"}
    with pytest.raises(InvalidOptOut):
        filings_from_document({"optouts": "nope"})
    with pytest.raises(InvalidOptOut) as err:
        filings_from_document(
            {
                "optouts": [
                    {
                        "optout_id": "x",
                        "rights_holder_id": "r",
                        "rights_holder_name": "R",
                        "characters": ["A b"],
                        "scopes": ["prompts"],
                        "territories": ["XX"],
                    }
                ]
            }
        )
    assert "optouts[0] (x)" in str(err.value)
