"""Every statement of reasons we export passes the Transparency Database's own rules.

The rules are ``transparency_db_rules``, written from the Database's PHP source (see its
docstring for the files); the export is checked against them, not against our own model.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import pytest

from contracts.enforcement import ENFORCEMENT, EnforcementActionTaken
from contracts.statement_of_reasons import (
    RETIRED_CATEGORIES,
    RETIRED_KEYWORDS,
    Category,
    Keyword,
    StatementOfReasons,
    export_submissions,
)
from core.events import REGISTRY, SYSTEM_ACTOR, RecordedEvent, stream_id
from core.services import Services
from tests.trust_safety.cases import transparency_db_rules as db
from tests.trust_safety.cases.builders import at, decision, statement_fields
from tests.trust_safety.cases.foreign import publish
from tests.utils import drain, make_principal
from trust_safety.cases.enforcement import ActionKind, build_statement
from trust_safety.cases.registration import PROJECTIONS
from trust_safety.cases.reports import CATEGORY_PROFILES

# What the Database refused in Clearframe's exports before this change (issue 15).
REFUSED_CATEGORIES = [
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
]
REFUSED_KEYWORDS = [
    "KEYWORD_DISINFORMATION",
    "KEYWORD_MISINFORMATION",
    "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE",
    "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
    "KEYWORD_ONLINE_BULLYING_INTIMIDATION",
]


def _assert_accepted(statement: dict[str, Any]) -> None:
    verdict = db.validate_statement(statement)
    assert verdict.accepted, (statement.get("puid"), verdict.errors)
    assert verdict.dropped == [], (statement.get("puid"), verdict.dropped)


def _assert_submissions_accepted(bodies: list[dict[str, Any]]) -> int:
    count = 0
    for body in bodies:
        verdicts = db.validate_submission(body)
        assert db.refused(verdicts.values()) == []
        assert all(v.dropped == [] for v in verdicts.values())
        count += len(body["statements"])
    return count


def test_our_vocabulary_is_the_databases() -> None:
    assert {c.value for c in Category} == db.STATEMENT_CATEGORIES
    assert {k.value for k in Keyword} == db.KEYWORDS
    # every retired value has a current successor, and none is itself current
    assert set(RETIRED_CATEGORIES.values()) <= db.STATEMENT_CATEGORIES
    assert set(RETIRED_KEYWORDS.values()) <= db.KEYWORDS
    assert not set(RETIRED_CATEGORIES) & db.STATEMENT_CATEGORIES
    assert not set(RETIRED_KEYWORDS) & db.KEYWORDS
    assert {p.statement_category.value for p in CATEGORY_PROFILES.values()} <= (
        db.STATEMENT_CATEGORIES
    )


@pytest.mark.parametrize("value", REFUSED_CATEGORIES)
def test_the_retired_categories_are_refused_by_the_database(value: str) -> None:
    raw = {**statement_fields(), "automated_detection": "Yes", "category": value}
    assert "category" in db.validate_statement(raw).errors
    # and read as their successor by us: the export carries a current value
    exported = StatementOfReasons.parse(statement_fields(category=value)).to_transparency_db()
    assert exported["category"] == RETIRED_CATEGORIES[value]
    _assert_accepted(exported)


@pytest.mark.parametrize("value", REFUSED_KEYWORDS)
def test_the_retired_keywords_are_refused_by_the_database(value: str) -> None:
    raw = {**statement_fields(), "automated_detection": "Yes", "category_specification": [value]}
    assert "category_specification" in db.validate_statement(raw).errors
    exported = StatementOfReasons.parse(
        statement_fields(category_specification=[value])
    ).to_transparency_db()
    assert exported["category_specification"] == [RETIRED_KEYWORDS[value]]
    _assert_accepted(exported)


def test_the_database_rules_catch_what_they_should() -> None:
    """The validator is only worth something if it refuses: a few of its rules, exercised."""
    good = StatementOfReasons.parse(statement_fields()).to_transparency_db()
    _assert_accepted(good)
    for change, field in [
        ({"puid": "clearframe:sor:1"}, "puid"),  # colons were allowed by our old pattern
        ({"content_language": "XX"}, "content_language"),
        ({"territorial_scope": ["CH"]}, "territorial_scope"),
        ({"application_date": "2019-12-31"}, "application_date"),
        ({"decision_facts": "x" * 5001}, "decision_facts"),
        ({"automated_detection": True}, "automated_detection"),
        ({"content_id": {"EAN-13": "123"}}, "content_id.EAN-13"),
        ({"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}, "decision_visibility_other"),
    ]:
        assert field in db.validate_statement({**good, **change}).errors, change
    assert db.validate_statement({**good, "unknown": 1}).dropped == ["unknown"]
    bodies = [{"statements": [good, good]}]
    assert "puid" in db.validate_submission(bodies[0])["statement_1"].errors
    assert "statements" in db.validate_submission({"statements": [good] * 101})


_KINDS: dict[ActionKind, dict[str, Any]] = {
    ActionKind.REMOVE_ASSET: {},
    ActionKind.RESTRICT_ASSET: {},
    ActionKind.LABEL_ASSET: {"label_text": "Made with AI: depicts a real event falsely"},
    ActionKind.AGE_RESTRICT_ASSET: {},
    ActionKind.SUSPEND_ACCOUNT: {"duration_days": 30, "target_id": "user-owner"},
    ActionKind.BAN_ACCOUNT: {"target_id": "user-owner"},
}


def test_every_statement_we_build_passes_the_database_rules() -> None:
    keywords = list(Keyword)
    built = []
    combos = itertools.product(
        _KINDS.items(),
        list(Category),
        ["DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"],
        ["SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_VOLUNTARY"],
    )
    for i, ((kind, extra), category, ground, source) in enumerate(combos):
        own = source == "SOURCE_VOLUNTARY"
        d = decision(
            kind=kind.value,
            category=category.value,
            category_specification=[keywords[i % len(keywords)].value],
            ground=ground,
            source_type=source,
            case_id=None if own else "case-1",
            source_identity=None if own else "Trusted Flagger e.V.",
            territorial_scope=["DE", "FR", "NO"],
            **extra,
        )
        statement = build_statement(f"a{i}", d, at(days=i % 400)).to_transparency_db()
        _assert_accepted(statement)
        built.append(StatementOfReasons.parse(statement))
    assert len(built) == len(_KINDS) * len(Category) * 2 * 3
    assert _assert_submissions_accepted(list(export_submissions(built))) == len(built)


def _v1_statement(puid: str) -> dict[str, Any]:
    """A statement as the code before 2025-02-26's vocabulary wrote it."""
    return {
        **StatementOfReasons.parse(statement_fields(puid=puid)).to_transparency_db(),
        "category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "category_addition": [
            "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
            "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        ],
        "category_specification": [
            "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE",
            "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
            "KEYWORD_DISINFORMATION",
            "KEYWORD_MISINFORMATION",
            "KEYWORD_ONLINE_BULLYING_INTIMIDATION",
        ],
    }


def test_stored_v1_actions_are_upcast_to_current_values() -> None:
    v1 = {"statement_category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"}
    version, payload = REGISTRY.upcast(
        "EnforcementActionTaken", 1, {**v1, "statement": _v1_statement("clearframe-sor-old")}
    )
    assert version == EnforcementActionTaken.schema_version == 2
    statement = payload["statement"]
    # sexualised and non-consensual: cyber violence, the addition that said the same dropped
    assert (
        payload["statement_category"]
        == statement["category"]
        == ("STATEMENT_CATEGORY_CYBER_VIOLENCE")
    )
    assert statement["category_addition"] == ["STATEMENT_CATEGORY_OTHER_VIOLATION_TC"]
    assert statement["category_specification"] == [
        "KEYWORD_CYBER_BULLYING_INTIMIDATION",
        "KEYWORD_MISINFORMATION_DISINFORMATION",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    ]
    _assert_accepted(statement)
    # an upcast payload is a valid current event
    EnforcementActionTaken.model_validate(
        {
            **_action_fields("a-old"),
            "statement_category": payload["statement_category"],
            "statement": statement,
        }
    )


def _action_fields(action_id: str) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "puid": f"clearframe-sor-{action_id}",
        "kind": "remove_asset",
        "target_kind": "asset",
        "target_id": "vid-old",
        "affected_user_id": "user-owner",
        "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "automated_detection": True,
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
        "source_type": "SOURCE_VOLUNTARY",
        "decided_by": "reviewer-1",
    }


class _ActionTakenV1(EnforcementActionTaken):
    """The event as version 1 of its schema wrote it (appended to test the upcaster)."""

    schema_version: ClassVar[int] = 1


def test_every_export_over_the_api_passes_the_database_rules(
    services: Services, client: Any
) -> None:
    owner, _ = make_principal(services, "user", name="Owner")
    _, reviewer = make_principal(services, "reviewer", name="Reviewer")
    _, admin = make_principal(services, "admin", name="Admin")
    # an action stored by the code before this change, with the values now refused
    old = _v1_statement("clearframe-sor-old1")
    services.store.append(
        stream_id(ENFORCEMENT, "old1"),
        [
            _ActionTakenV1(
                **_action_fields("old1"), statement_category=old["category"], statement=old
            )
        ],
        expected_version=0,
        actor=SYSTEM_ACTOR,
    )
    raw = services.store.read_stream(stream_id(ENFORCEMENT, "old1"))
    assert raw[0].schema_version == 2  # upcast on read
    assert isinstance(raw[0], RecordedEvent)

    for i, category in enumerate([*Category, *REFUSED_CATEGORIES]):
        publish(services, f"vid-{i}", owner)
        body = {
            "kind": "remove_asset" if i % 2 else "label_asset",
            "target_id": f"vid-{i}",
            "affected_user_id": owner,
            # an old client still sending a retired value is read as its successor
            "category": str(category),
            "category_specification": [REFUSED_KEYWORDS[i % len(REFUSED_KEYWORDS)]],
            "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "ground_reference": "Terms of Service 4.2",
            "ground_explanation": "The video breaks the terms the owner agreed to.",
            "facts": "A reviewer watched the video and found it in breach of the terms.",
            "source_type": "SOURCE_VOLUNTARY",
            "automated_detection": False,
            "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        }
        if body["kind"] == "label_asset":
            body["label_text"] = "Made with AI"
        r = client.post("/v1/enforcement/actions", headers=reviewer, json=body)
        assert r.status_code == 201, r.text
    drain(services, PROJECTIONS)
    # a read model row written by the code before this change (not rebuilt since)
    from trust_safety.cases.models import ActionRow

    with services.sessions.begin() as session:
        row = session.get(ActionRow, "old1")
        assert row is not None and row.category == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
        row.statement = _v1_statement(row.puid)
        row.category = "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"

    statements: list[dict[str, Any]] = []
    after = 0
    while True:  # the export pages by log position
        page = client.get(
            "/v1/transparency/statements",
            headers=admin,
            params={"limit": 7, "after_position": after},
        )
        assert page.status_code == 200, page.text
        if not page.json()["statements"]:
            break
        statements += page.json()["statements"]
        after = page.json()["next_after_position"]
    assert len(statements) == len(Category) + len(REFUSED_CATEGORIES) + 1
    for statement in statements:
        _assert_accepted(statement)
    assert _assert_submissions_accepted(
        list(export_submissions(StatementOfReasons.parse(s) for s in statements))
    ) == len(statements)
    # the export the CLI writes reads the event log: the same, and as valid
    from_log = [
        StatementOfReasons.parse(e.payload["statement"])
        for e in services.store.iter_all(categories=[ENFORCEMENT])
        if e.type == "EnforcementActionTaken"
    ]
    assert _assert_submissions_accepted(list(export_submissions(from_log))) == len(statements)
