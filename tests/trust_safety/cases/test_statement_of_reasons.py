from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.statement_of_reasons import (
    EEA_COUNTRY_CODES,
    EU_COUNTRY_CODES,
    DecisionVisibility,
    StatementOfReasons,
    dedupe_by_puid,
    export_submissions,
)
from tests.trust_safety.cases.builders import at, decision, statement_fields
from trust_safety.cases.enforcement import build_statement, puid_for
from trust_safety.cases.errors import DuplicatePuid, InvalidStatement


def test_valid_statement_exports_database_shape() -> None:
    sor = StatementOfReasons.parse(statement_fields(territorial_scope=["FR", "DE", "FR"]))
    out = sor.to_transparency_db()
    assert out["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    # arrays are sorted sets, dates ISO, automated_detection the Database's Yes/No
    assert out["content_type"] == ["CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_VIDEO"]
    assert out["territorial_scope"] == ["DE", "FR"]
    assert out["application_date"] == "2026-03-02"
    assert out["automated_detection"] == "Yes"
    assert out["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert "illegal_content_legal_ground" not in out  # unset fields are omitted, not null
    json.dumps(out)  # plain JSON


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"decision_visibility": []}, "at least one of decision_visibility"),
        (
            {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]},
            "decision_visibility_other is required",
        ),
        ({"decision_visibility_other": "shadow"}, "decision_visibility_other is only allowed"),
        ({"incompatible_content_ground": None}, "incompatible_content_ground is required"),
        (
            {"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"},
            "illegal_content_legal_ground is required",
        ),
        ({"content_type": []}, "content_type"),
        ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other is required"),
        ({"territorial_scope": ["US"]}, "non-EEA"),
        ({"category": "STATEMENT_CATEGORY_NOPE"}, "category"),
        ({"automated_decision": "Yes"}, "automated_decision"),
        ({"application_date": "2019-12-31"}, "application_date must lie"),
        ({"content_date": "2026-03-05"}, "must not precede content_date"),
        ({"end_date_account_restriction": "2026-04-01"}, "no such restriction"),
        ({"end_date_visibility_restriction": "2026-03-01"}, "must lie in [application_date"),
        ({"source_type": "SOURCE_VOLUNTARY", "source_identity": "x"}, "source_identity"),
        ({"puid": "has space"}, "puid"),
        ({"puid": "x" * 501}, "puid"),
        ({"decision_facts": ""}, "decision_facts"),
        ({"decision_ground_reference_url": "ftp://x"}, "http(s) URL"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"category_addition": ["STATEMENT_CATEGORY_CYBER_VIOLENCE"]}, "repeat"),
        ({"incompatible_content_illegal": "Maybe"}, "incompatible_content_illegal"),
    ],
)
def test_database_rules_are_enforced(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidStatement) as err:
        StatementOfReasons.parse(statement_fields(**overrides))
    assert needle in err.value.detail
    assert err.value.code == "invalid_statement_of_reasons"
    assert err.value.extra["errors"]


def test_illegal_content_needs_its_own_fields_and_excludes_the_other_ground() -> None:
    sor = StatementOfReasons.parse(
        statement_fields(
            decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
            incompatible_content_ground=None,
            incompatible_content_explanation=None,
            illegal_content_legal_ground="Art. 201a StGB",
            illegal_content_explanation="Intimate image of an identifiable person.",
        )
    )
    assert sor.to_transparency_db()["illegal_content_legal_ground"] == "Art. 201a StGB"
    with pytest.raises(InvalidStatement, match="incompatible_content_ground is only allowed"):
        StatementOfReasons.parse(
            statement_fields(
                decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
                illegal_content_legal_ground="Art. 201a StGB",
                illegal_content_explanation="Intimate image of an identifiable person.",
            )
        )


def test_eea_scope_covers_eu_and_three_efta_states() -> None:
    assert len(EU_COUNTRY_CODES) == 27
    assert {"IS", "LI", "NO"} == EEA_COUNTRY_CODES - EU_COUNTRY_CODES


def test_export_is_idempotent_by_puid_and_rejects_a_reused_puid() -> None:
    a = StatementOfReasons.parse(statement_fields(puid="p-1"))
    b = StatementOfReasons.parse(statement_fields(puid="p-2"))
    again = StatementOfReasons.parse(statement_fields(puid="p-1"))
    assert [s.puid for s in dedupe_by_puid([a, b, again, a])] == ["p-1", "p-2"]
    changed = StatementOfReasons.parse(statement_fields(puid="p-1", decision_facts="Other facts."))
    with pytest.raises(DuplicatePuid):
        dedupe_by_puid([a, changed])


def test_submissions_are_batched_at_the_database_limit() -> None:
    statements = [StatementOfReasons.parse(statement_fields(puid=f"p-{i}")) for i in range(250)]
    bodies = list(export_submissions(statements + statements[:10]))
    assert [len(b["statements"]) for b in bodies] == [100, 100, 50]
    puids = [s["puid"] for b in bodies for s in b["statements"]]
    assert len(set(puids)) == 250
    with pytest.raises(InvalidStatement):
        list(export_submissions(statements, batch_size=101))


@given(st.lists(st.sampled_from(list(DecisionVisibility)), min_size=1, max_size=7))
def test_export_is_byte_stable_whatever_the_input_order(vis: list[DecisionVisibility]) -> None:
    other = "geo-blocked" if DecisionVisibility.OTHER in vis else None
    one = StatementOfReasons.parse(
        statement_fields(decision_visibility=vis, decision_visibility_other=other)
    )
    two = StatementOfReasons.parse(
        statement_fields(decision_visibility=list(reversed(vis)), decision_visibility_other=other)
    )
    assert one.fingerprint() == two.fingerprint()
    assert one.to_transparency_db() == two.to_transparency_db()


@pytest.mark.parametrize(
    ("kind", "extra", "expect"),
    [
        ("remove_asset", {}, {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}),
        (
            "restrict_asset",
            {},
            {
                "decision_visibility": [
                    "DECISION_VISIBILITY_CONTENT_DEMOTED",
                    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
                ]
            },
        ),
        (
            "label_asset",
            {"label_text": "Synthetic likeness"},
            {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_LABELLED"]},
        ),
        (
            "age_restrict_asset",
            {},
            {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"]},
        ),
        (
            "suspend_account",
            {"duration_days": 7},
            {
                "decision_account": "DECISION_ACCOUNT_SUSPENDED",
                "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION",
                "end_date_account_restriction": "2026-03-09",
            },
        ),
        (
            "ban_account",
            {},
            {
                "decision_account": "DECISION_ACCOUNT_TERMINATED",
                "decision_provision": "DECISION_PROVISION_TOTAL_TERMINATION",
            },
        ),
    ],
)
def test_every_action_kind_maps_to_database_fields(
    kind: str, extra: dict[str, object], expect: dict[str, object]
) -> None:
    d = decision(kind=kind, **extra)
    out = build_statement("a-7", d, at()).to_transparency_db()
    assert out["puid"] == puid_for("a-7") == "clearframe-sor-a-7"
    for key, value in expect.items():
        assert out[key] == value
    assert "CONTENT_TYPE_SYNTHETIC_MEDIA" in out["content_type"]
    assert out["incompatible_content_illegal"] == "No"
