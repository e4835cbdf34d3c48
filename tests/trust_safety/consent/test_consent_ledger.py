"""The consent ledger's pure rules: commands, folding, the decision and the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trust_safety.consent.follows import InMemoryFollowGraph
from trust_safety.consent import commands
from trust_safety.consent.errors import (
    AppearanceNotFound,
    CameoAlreadyRegistered,
    CameoAlreadyRetired,
    CameoHandleTaken,
    InvalidCameoInput,
    NotCameoOwner,
    NotLivenessProvider,
)
from trust_safety.consent.facts import (
    AppearanceStatus,
    Audience,
    CameoAppearanceRecorded,
    CameoRegistered,
    LivenessResult,
)
from trust_safety.consent.ledger import (
    DecisionReason,
    RecordedFact,
    decide_cameo_use,
    fold,
)
from trust_safety.consent.memory import InMemoryConsentLedger

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
OWNER = "user-ada"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def tick(self, minutes: int = 1) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


PROVIDER = "idv-vendor"  # a principal with the liveness_provider role
MODELS = {"embedding": "dlib_face_recognition_resnet_model_v1"}
SCORES = {"frames": 4.0, "pose_range": 0.12, "age_median": 34.0}


def register(
    ledger: InMemoryConsentLedger,
    clock: Clock,
    *,
    cameo_id: str = "cam-1",
    owner: str = OWNER,
    handle: str = "ada",
    audience: Audience = Audience.ONLY_ME,
    liveness: LivenessResult = LivenessResult.PASSED,
) -> str:
    """Registered and enrolled from a capture; ``liveness`` other than passed: then a
    liveness provider's verdict says so."""
    fact = commands.register_cameo(
        ledger,
        cameo_id=cameo_id,
        owner_id=owner,
        handle=handle,
        display_name="Ada",
        audience=audience,
    )
    ledger.record(RecordedFact(fact, clock.tick(), owner))
    enrolled = commands.enrol_cameo(
        ledger.get(cameo_id), owner, capture_kind="video", model_versions=MODELS, scores=SCORES
    )
    ledger.record(RecordedFact(enrolled, clock.tick(), owner))
    if liveness is not LivenessResult.PASSED:
        verdict = commands.record_liveness_check(
            ledger.get(cameo_id),
            PROVIDER,
            liveness_reference="vendor:check/123",
            liveness_result=liveness,
            liveness_checked_at=clock.now,
        )
        ledger.record(RecordedFact(verdict, clock.tick(), PROVIDER))
    return cameo_id


def do(ledger: InMemoryConsentLedger, clock: Clock, actor: str, fact: object) -> None:
    ledger.record(RecordedFact(fact, clock.tick(), actor))  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def graph() -> InMemoryFollowGraph:
    return InMemoryFollowGraph()


@pytest.fixture
def ledger(graph: InMemoryFollowGraph) -> InMemoryConsentLedger:
    return InMemoryConsentLedger(graph)


def test_only_me_allows_owner_and_nobody_else_even_with_a_grant(ledger, clock):
    cameo = register(ledger, clock)
    record = ledger.get(cameo)
    do(ledger, clock, OWNER, commands.grant_cameo_consent(record, OWNER, "bob", now=clock.now))
    assert ledger.decide(cameo, OWNER, clock.now).reason is DecisionReason.OWNER
    decision = ledger.decide(cameo, "bob", clock.now)
    assert not decision.allowed and decision.reason is DecisionReason.ONLY_ME


def test_approved_people_follow_grants_and_revocations(ledger, clock):
    cameo = register(ledger, clock, audience=Audience.APPROVED_PEOPLE)
    assert ledger.decide(cameo, "bob", clock.now).reason is DecisionReason.NOT_APPROVED
    do(
        ledger,
        clock,
        OWNER,
        commands.grant_cameo_consent(ledger.get(cameo), OWNER, "bob", now=clock.now),
    )
    assert ledger.decide(cameo, "bob", clock.now).reason is DecisionReason.APPROVED
    assert not ledger.decide(cameo, "carol", clock.now).allowed
    do(ledger, clock, OWNER, commands.revoke_cameo_consent(ledger.get(cameo), OWNER, "bob"))
    revoked = ledger.decide(cameo, "bob", clock.now)
    assert not revoked.allowed and revoked.reason is DecisionReason.REVOKED
    do(
        ledger,
        clock,
        OWNER,
        commands.grant_cameo_consent(ledger.get(cameo), OWNER, "bob", now=clock.now),
    )
    assert ledger.decide(cameo, "bob", clock.now).allowed


def test_grant_expiry_is_judged_at_decision_time(ledger, clock):
    cameo = register(ledger, clock, audience=Audience.APPROVED_PEOPLE)
    expires = clock.now + timedelta(hours=1)
    do(
        ledger,
        clock,
        OWNER,
        commands.grant_cameo_consent(
            ledger.get(cameo), OWNER, "bob", now=clock.now, expires_at=expires
        ),
    )
    assert ledger.decide(cameo, "bob", expires - timedelta(seconds=1)).allowed
    late = ledger.decide(cameo, "bob", expires)
    assert not late.allowed and late.reason is DecisionReason.GRANT_EXPIRED


def test_mutual_follows_needs_both_directions(ledger, clock, graph):
    cameo = register(ledger, clock, audience=Audience.MUTUAL_FOLLOWS)
    graph.follow("bob", OWNER)
    assert ledger.decide(cameo, "bob", clock.now).reason is DecisionReason.NOT_MUTUAL_FOLLOW
    graph.follow(OWNER, "bob")
    assert ledger.decide(cameo, "bob", clock.now).reason is DecisionReason.MUTUAL_FOLLOW
    # An approved person who is not a mutual follow is still allowed under this audience.
    do(
        ledger,
        clock,
        OWNER,
        commands.grant_cameo_consent(ledger.get(cameo), OWNER, "carol", now=clock.now),
    )
    assert ledger.decide(cameo, "carol", clock.now).allowed
    # A revocation beats the follow relation.
    do(ledger, clock, OWNER, commands.revoke_cameo_consent(ledger.get(cameo), OWNER, "bob"))
    assert ledger.decide(cameo, "bob", clock.now).reason is DecisionReason.REVOKED


def test_everyone_allows_strangers_but_not_revoked_people(ledger, clock):
    cameo = register(ledger, clock, audience=Audience.EVERYONE)
    assert ledger.decide(cameo, "stranger", clock.now).reason is DecisionReason.EVERYONE
    do(ledger, clock, OWNER, commands.revoke_cameo_consent(ledger.get(cameo), OWNER, "troll"))
    assert ledger.decide(cameo, "troll", clock.now).reason is DecisionReason.REVOKED


def test_failed_liveness_blocks_everyone_until_a_passing_check(ledger, clock):
    cameo = register(ledger, clock, audience=Audience.EVERYONE, liveness=LivenessResult.FAILED)
    assert ledger.decide(cameo, OWNER, clock.now).reason is DecisionReason.LIVENESS_NOT_PASSED
    # The owner can neither record a verdict nor lift the provider's by enrolling again.
    with pytest.raises(NotLivenessProvider) as err:
        commands.record_liveness_check(
            ledger.get(cameo),
            OWNER,
            liveness_reference="self",
            liveness_result=LivenessResult.PASSED,
            liveness_checked_at=clock.now,
        )
    assert err.value.status == 403
    again = commands.enrol_cameo(
        ledger.get(cameo), OWNER, capture_kind="frames", model_versions=MODELS, scores=SCORES
    )
    do(ledger, clock, OWNER, again)
    assert ledger.decide(cameo, OWNER, clock.now).reason is DecisionReason.LIVENESS_NOT_PASSED
    do(
        ledger,
        clock,
        PROVIDER,
        commands.record_liveness_check(
            ledger.get(cameo),
            PROVIDER,
            liveness_reference="vendor:check/124",
            liveness_result=LivenessResult.PASSED,
            liveness_checked_at=clock.now,
        ),
    )
    assert ledger.decide(cameo, OWNER, clock.now).allowed
    record = ledger.get(cameo)
    assert (record.liveness_reference, record.liveness_source) == ("vendor:check/124", "provider")


def test_enrolment_from_the_capture_is_what_makes_a_cameo_usable(ledger, clock):
    fact = commands.register_cameo(
        ledger, cameo_id="cam-9", owner_id=OWNER, handle="ada", display_name="Ada"
    )
    ledger.record(RecordedFact(fact, clock.tick(), OWNER))
    # registered but not enrolled yet: nobody may use it, its owner included
    assert ledger.decide("cam-9", OWNER, clock.now).reason is DecisionReason.LIVENESS_NOT_PASSED
    enrolled = commands.enrol_cameo(
        ledger.get("cam-9"), OWNER, capture_kind="video", model_versions=MODELS, scores=SCORES
    )
    do(ledger, clock, OWNER, enrolled)
    record = ledger.get("cam-9")
    assert ledger.decide("cam-9", OWNER, clock.now).allowed
    assert (record.liveness_source, record.liveness_reference) == ("capture", "capture:video")
    assert record.enrolled_at == clock.now
    assert [h.action for h in record.history] == ["registered", "enrolled"]
    # only the owner enrols their face
    with pytest.raises(NotCameoOwner):
        commands.enrol_cameo(
            record, "mallory", capture_kind="video", model_versions=MODELS, scores=SCORES
        )


def test_a_stream_registered_with_a_claimed_liveness_still_folds():
    """Streams written before enrolment from the capture carry the caller's claim."""
    legacy = CameoRegistered(
        cameo_id="cam-old",
        owner_id=OWNER,
        handle="ada",
        display_name="Ada",
        liveness_reference="idv:ada",
        liveness_result=LivenessResult.PASSED,
        liveness_checked_at=T0,
        audience=Audience.EVERYONE,
    )
    record = fold([RecordedFact(legacy, T0, OWNER)])
    assert (record.liveness_result, record.liveness_source, record.enrolled_at) == (
        LivenessResult.PASSED,
        None,
        None,
    )
    assert record.liveness_reference == "idv:ada"


def test_retired_cameo_is_unusable_and_frozen(ledger, clock):
    cameo = register(ledger, clock, audience=Audience.EVERYONE)
    do(ledger, clock, OWNER, commands.retire_cameo(ledger.get(cameo), OWNER))
    assert ledger.decide(cameo, OWNER, clock.now).reason is DecisionReason.RETIRED
    with pytest.raises(CameoAlreadyRetired):
        commands.grant_cameo_consent(ledger.get(cameo), OWNER, "bob", now=clock.now)
    # The owner may register a new cameo once the old one is retired.
    register(ledger, clock, cameo_id="cam-2", handle="ada")
    assert ledger.by_handle("ada").cameo_id == "cam-2"


def test_unknown_cameo_is_denied():
    decision = decide_cameo_use(None, "bob", T0, InMemoryFollowGraph(), cameo_id="cam-x")
    assert not decision.allowed and decision.reason is DecisionReason.UNKNOWN_CAMEO
    assert decision.cameo_id == "cam-x"


def test_only_the_owner_changes_consent(ledger, clock):
    cameo = register(ledger, clock)
    record = ledger.get(cameo)
    with pytest.raises(NotCameoOwner) as err:
        commands.grant_cameo_consent(record, "mallory", "mallory", now=clock.now)
    assert err.value.code == "consent.not_cameo_owner"
    with pytest.raises(NotCameoOwner):
        commands.change_cameo_audience(record, "mallory", Audience.EVERYONE)
    with pytest.raises(NotCameoOwner):
        commands.revoke_cameo_consent(record, "mallory", "bob")


def test_registration_rejects_bad_and_duplicate_input(ledger, clock):
    register(ledger, clock)
    with pytest.raises(CameoAlreadyRegistered):
        register(ledger, clock, cameo_id="cam-2", handle="ada2")  # same owner, active cameo
    with pytest.raises(CameoHandleTaken):
        register(ledger, clock, cameo_id="cam-3", owner="bob", handle="ADA")
    with pytest.raises(InvalidCameoInput) as err:
        register(ledger, clock, cameo_id="cam-4", owner="carol", handle="x")
    assert "handle" in str(err.value)
    with pytest.raises(InvalidCameoInput):
        commands.record_liveness_check(
            ledger.get("cam-1"),
            PROVIDER,
            liveness_reference="r",
            liveness_result=LivenessResult.PASSED,
            liveness_checked_at=datetime(2026, 1, 1),
        )  # naive time


def test_grant_rejects_self_and_past_expiry(ledger, clock):
    record = ledger.get(register(ledger, clock))
    with pytest.raises(InvalidCameoInput):
        commands.grant_cameo_consent(record, OWNER, OWNER, now=clock.now)
    with pytest.raises(InvalidCameoInput):
        commands.grant_cameo_consent(
            record, OWNER, "bob", now=clock.now, expires_at=clock.now - timedelta(minutes=1)
        )
    with pytest.raises(InvalidCameoInput):
        commands.revoke_cameo_consent(record, OWNER, OWNER)


def test_history_says_who_granted_what_to_whom_and_when(ledger, clock):
    cameo = register(ledger, clock, audience=Audience.APPROVED_PEOPLE)
    do(
        ledger,
        clock,
        OWNER,
        commands.grant_cameo_consent(ledger.get(cameo), OWNER, "bob", now=clock.now),
    )
    granted_at = clock.now
    do(
        ledger,
        clock,
        OWNER,
        commands.change_cameo_audience(ledger.get(cameo), OWNER, Audience.EVERYONE),
    )
    do(ledger, clock, OWNER, commands.revoke_cameo_consent(ledger.get(cameo), OWNER, "bob"))
    history = ledger.get(cameo).history
    assert [h.action for h in history] == [
        "registered",
        "enrolled",
        "granted",
        "audience_changed",
        "revoked",
    ]
    assert history[2].subject_id == "bob" and history[2].at == granted_at
    assert history[2].actor_id == OWNER
    assert history[3].details == {"previous": "approved_people", "audience": "everyone"}
    assert ledger.get(cameo).version == 5


def test_public_figure_link_is_unique_and_needs_liveness(ledger, clock):
    cameo = register(ledger, clock)
    fact = commands.link_public_figure(ledger, ledger.get(cameo), "pf-ada-lovelace")
    do(ledger, clock, "operator-1", fact)
    assert ledger.cameo_for_public_figure("pf-ada-lovelace").cameo_id == cameo
    other = register(ledger, clock, cameo_id="cam-9", owner="imposter", handle="ada_real")
    with pytest.raises(CameoAlreadyRegistered):
        commands.link_public_figure(ledger, ledger.get(other), "pf-ada-lovelace")
    failed = register(
        ledger,
        clock,
        cameo_id="cam-10",
        owner="x",
        handle="xx_x",
        liveness=LivenessResult.INCONCLUSIVE,
    )
    with pytest.raises(InvalidCameoInput):
        commands.link_public_figure(ledger, ledger.get(failed), "pf-someone")


def test_appearances_and_removal_is_final(ledger, clock):
    cameo = register(ledger, clock, audience=Audience.EVERYONE)
    do(
        ledger,
        clock,
        "bob",
        CameoAppearanceRecorded(
            cameo_id=cameo, generation_id="gen-1", creator_id="bob", status=AppearanceStatus.DRAFT
        ),
    )
    do(
        ledger,
        clock,
        "bob",
        CameoAppearanceRecorded(
            cameo_id=cameo,
            generation_id="gen-1",
            creator_id="bob",
            status=AppearanceStatus.PUBLISHED,
            asset_id="asset-1",
        ),
    )
    appearance = ledger.get(cameo).appearances["gen-1"]
    assert appearance.status is AppearanceStatus.PUBLISHED and appearance.asset_id == "asset-1"
    with pytest.raises(NotCameoOwner):
        commands.remove_cameo_appearance(ledger.get(cameo), "bob", "gen-1")
    with pytest.raises(AppearanceNotFound):
        commands.remove_cameo_appearance(ledger.get(cameo), OWNER, "gen-unknown")
    do(ledger, clock, OWNER, commands.remove_cameo_appearance(ledger.get(cameo), OWNER, "gen-1"))
    # A late publish event (redelivered or racing) must not bring the video back.
    do(
        ledger,
        clock,
        "bob",
        CameoAppearanceRecorded(
            cameo_id=cameo,
            generation_id="gen-1",
            creator_id="bob",
            status=AppearanceStatus.PUBLISHED,
            asset_id="asset-1",
        ),
    )
    assert ledger.get(cameo).appearances["gen-1"].status is AppearanceStatus.REMOVED
    with pytest.raises(AppearanceNotFound):
        commands.remove_cameo_appearance(ledger.get(cameo), OWNER, "gen-1")


_actions = st.lists(
    st.tuples(
        st.sampled_from(["grant", "revoke", "audience"]),
        st.sampled_from(["bob", "carol", "dan"]),
        st.sampled_from(list(Audience)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_actions, st.sampled_from(["bob", "carol", "dan", "eve"]))
def test_decision_matches_a_direct_reading_of_the_rules(actions, principal):
    """Property: replaying any sequence gives the same answer as reading the rules directly,
    and folding the stream from scratch equals the live ledger."""
    clock = Clock()
    graph = InMemoryFollowGraph({("dan", OWNER), (OWNER, "dan")})
    ledger = InMemoryConsentLedger(graph)
    register(ledger, clock, audience=Audience.ONLY_ME)
    stream: list[RecordedFact] = []
    last_action: dict[str, str] = {}
    audience = Audience.ONLY_ME
    for action, person, new_audience in actions:
        record = ledger.get("cam-1")
        if action == "grant":
            fact = commands.grant_cameo_consent(record, OWNER, person, now=clock.now)
            last_action[person] = "grant"
        elif action == "revoke":
            fact = commands.revoke_cameo_consent(record, OWNER, person)
            last_action[person] = "revoke"
        else:
            fact = commands.change_cameo_audience(record, OWNER, new_audience)
            audience = new_audience
        recorded = RecordedFact(fact, clock.tick(), OWNER)
        stream.append(recorded)
        ledger.record(recorded)

    state = last_action.get(principal)
    if state == "revoke" or audience is Audience.ONLY_ME:
        expected = False
    elif audience is Audience.EVERYONE:
        expected = True
    elif audience is Audience.APPROVED_PEOPLE:
        expected = state == "grant"
    else:
        expected = state == "grant" or principal == "dan"
    assert ledger.decide("cam-1", principal, clock.now).allowed is expected

    first, second = ledger.get("cam-1").history[:2]
    empty = InMemoryConsentLedger()
    registration = RecordedFact(
        commands.register_cameo(
            empty,
            cameo_id="cam-1",
            owner_id=OWNER,
            handle="ada",
            display_name="Ada",
            audience=Audience.ONLY_ME,
        ),
        first.at,
        OWNER,
    )
    enrolment = RecordedFact(
        commands.enrol_cameo(
            empty.record(registration),
            OWNER,
            capture_kind="video",
            model_versions=MODELS,
            scores=SCORES,
        ),
        second.at,
        OWNER,
    )
    rebuilt = fold([registration, enrolment, *stream])
    live = ledger.get("cam-1")
    assert rebuilt.people == live.people and rebuilt.audience == live.audience
    assert rebuilt.history == live.history and rebuilt.version == live.version
