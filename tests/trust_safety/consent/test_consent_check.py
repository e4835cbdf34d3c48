"""The seam the generation gate calls: references in a request and their consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.trust_safety.consent.follows import InMemoryFollowGraph
from trust_safety.consent import commands
from trust_safety.consent.check import (
    ReferenceSource,
    check_cameo_consent,
    find_cameo_mentions,
    recheck_at_pickup,
)
from trust_safety.consent.facts import Audience
from trust_safety.consent.ledger import DecisionReason, RecordedFact
from trust_safety.consent.memory import InMemoryConsentLedger

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_ledger() -> InMemoryConsentLedger:
    ledger = InMemoryConsentLedger(InMemoryFollowGraph())
    for cameo_id, owner, handle, audience in [
        ("cam-ada", "ada", "ada", Audience.APPROVED_PEOPLE),
        ("cam-bo", "bo", "bo.the.dog", Audience.EVERYONE),
        ("cam-star", "star", "real_star", Audience.ONLY_ME),
    ]:
        fact = commands.register_cameo(
            ledger,
            cameo_id=cameo_id,
            owner_id=owner,
            handle=handle,
            display_name=owner,
            audience=audience,
        )
        ledger.record(RecordedFact(fact, T0, owner))
        enrolled = commands.enrol_cameo(
            ledger.get(cameo_id),
            owner,
            capture_kind="video",
            model_versions={"embedding": "dlib_face_recognition_resnet_model_v1"},
            scores={"frames": 4.0},
        )
        ledger.record(RecordedFact(enrolled, T0, owner))
    link = commands.link_public_figure(ledger, ledger.get("cam-star"), "pf-star")
    ledger.record(RecordedFact(link, T0, "operator"))
    return ledger


def test_mentions_are_found_with_styling_and_without_emails():
    prompt = "@Ada and ＠bo.the.dog dance; mail me@example.com, @ada again, @x"
    assert find_cameo_mentions(prompt) == ["ada", "bo.the.dog"]


def test_check_resolves_mentions_explicit_ids_and_public_figures():
    ledger = make_ledger()
    result = check_cameo_consent(
        ledger,
        ledger.graph,
        principal_id="carl",
        at=T0,
        prompt="@ada and @bo.the.dog at the beach with @nobody_here",
        explicit_cameo_ids=["cam-bo"],
        public_figure_ids=["pf-star", "pf-unlinked"],
    )
    by_source = [
        (d.reference.source, d.decision.cameo_id, d.decision.reason) for d in result.decisions
    ]
    assert by_source == [
        (ReferenceSource.EXPLICIT, "cam-bo", DecisionReason.EVERYONE),
        (ReferenceSource.MENTION, "cam-ada", DecisionReason.NOT_APPROVED),
        (ReferenceSource.PUBLIC_FIGURE, "cam-star", DecisionReason.ONLY_ME),
        (ReferenceSource.PUBLIC_FIGURE, "", DecisionReason.PUBLIC_FIGURE_WITHOUT_CAMEO),
    ]
    assert not result.allowed
    assert result.unresolved_mentions == ("nobody_here",)
    assert result.cameo_ids == ("cam-bo", "cam-ada", "cam-star")
    evidence = result.as_evidence()
    assert evidence["allowed"] is False and len(evidence["decisions"]) == 4


def test_public_figure_may_depict_themselves():
    ledger = make_ledger()
    result = check_cameo_consent(
        ledger,
        ledger.graph,
        principal_id="star",
        at=T0,
        prompt="me giving a speech",
        public_figure_ids=["pf-star"],
    )
    assert result.allowed and result.cameo_ids == ("cam-star",)


def test_revocation_between_request_and_pickup_cancels():
    ledger = make_ledger()
    grant = commands.grant_cameo_consent(ledger.get("cam-ada"), "ada", "carl", now=T0)
    ledger.record(RecordedFact(grant, T0, "ada"))
    at_request = check_cameo_consent(
        ledger, ledger.graph, principal_id="carl", prompt="@ada surfing", at=T0
    )
    assert at_request.allowed
    revoke = commands.revoke_cameo_consent(ledger.get("cam-ada"), "ada", "carl")
    ledger.record(RecordedFact(revoke, T0 + timedelta(seconds=5), "ada"))
    at_pickup = recheck_at_pickup(
        ledger,
        ledger.graph,
        principal_id="carl",
        cameo_ids=at_request.cameo_ids,
        at=T0 + timedelta(seconds=9),
    )
    assert not at_pickup.allowed
    assert at_pickup.denied[0].decision.reason is DecisionReason.REVOKED


def test_prompt_without_references_is_allowed_and_empty():
    ledger = make_ledger()
    result = check_cameo_consent(
        ledger, ledger.graph, principal_id="carl", prompt="a cat on a skateboard", at=T0
    )
    assert result.allowed and result.decisions == ()


def test_likeness_consent_adapter_for_the_public_figure_stage():
    from trust_safety.consent.check import likeness_consent_callable

    ledger = make_ledger()
    consent = likeness_consent_callable(ledger, ledger.graph, lambda: T0)
    assert consent("star", "pf-star") is True
    assert consent("carl", "pf-star") is False
    assert consent("star", "pf-nobody") is False
