"""Enforcement: what can be done to an asset or an account, the strike ladder, and the statement
of reasons every action carries.

Asset actions: remove, restrict (demoted out of Recent/Featured and closed to remixing), label,
age-restrict. Account actions: temporary suspension, ban. Any asset action may add a strike; the
ladder turns accumulated live strikes into a suspension and then a ban. A ladder consequence
records the strikes that triggered it, so reversing one of those strikes on appeal also lifts
what it caused.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select

from contracts.enforcement import (
    ACCOUNT_ACTIONS,
    ENFORCEMENT,
    ActionKind,
    EnforcementActionTaken,
    EnforcementReversed,
    TargetKind,
)
from contracts.statement_of_reasons import (
    AutomatedDecision,
    Category,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionProvision,
    DecisionVisibility,
    Keyword,
    SourceType,
    StatementOfReasons,
)
from core.aggregate import Transaction, transact
from core.auth import Principal
from core.errors import Conflict
from core.events import EventPayload, RecordedEvent, require_utc, stream_id, utcnow
from core.services import Services
from trust_safety.cases.claims import held_case
from trust_safety.cases.errors import (
    AlreadyReversed,
    InvalidEnforcement,
    UnknownCase,
)
from trust_safety.cases.inbox import enforcement_message, notify, reversal_message
from trust_safety.cases.ladder import (
    AccountStanding,
    ActionRecord,
    LadderConsequence,
    ladder_consequence,
)
from trust_safety.cases.models import ActionRow, AssetFactsRow
from trust_safety.cases.policy import DEFAULT_POLICY, MAX_SUSPENSION, CasesPolicy, appeal_deadline
from trust_safety.cases.reports import REVIEW, Close, owner_of, tell_reporters

PUID_PREFIX = "clearframe-sor-"


_VISIBILITY: Mapping[ActionKind, tuple[DecisionVisibility, ...]] = {
    ActionKind.REMOVE_ASSET: (DecisionVisibility.CONTENT_REMOVED,),
    ActionKind.RESTRICT_ASSET: (
        DecisionVisibility.CONTENT_DEMOTED,
        DecisionVisibility.CONTENT_INTERACTION_RESTRICTED,
    ),
    ActionKind.LABEL_ASSET: (DecisionVisibility.CONTENT_LABELLED,),
    ActionKind.AGE_RESTRICT_ASSET: (DecisionVisibility.CONTENT_AGE_RESTRICTED,),
    # the render is never made available: access to it is disabled, not taken down
    ActionKind.BLOCK_OUTPUT: (DecisionVisibility.CONTENT_DISABLED,),
}


class Evidence(BaseModel):
    """What the decision rested on; shown again to whoever reviews an appeal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str | None = Field(default=None, max_length=200)
    rule_version: str | None = Field(default=None, max_length=100)
    classifier_scores: dict[str, float] = Field(default_factory=dict)
    matched_optout_id: str | None = Field(default=None, max_length=200)
    optout_rights_holder_id: str | None = Field(default=None, max_length=200)
    matched_cameo_id: str | None = Field(default=None, max_length=200)
    reviewer_ids: tuple[str, ...] = ()
    notes: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> Evidence:
        for name, score in self.classifier_scores.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"classifier score {name}={score} is outside [0, 1]")
        if (self.matched_optout_id is None) != (self.optout_rights_holder_id is None):
            raise ValueError("matched_optout_id and optout_rights_holder_id go together")
        if self.rule_version is not None and self.rule_id is None:
            raise ValueError("rule_version needs rule_id")
        return self


class EnforcementDecision(BaseModel):
    """A decision to act, as a reviewer (or an automated rule) states it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: ActionKind
    target_id: str = Field(min_length=1, max_length=200)
    affected_user_id: str = Field(min_length=1, max_length=200)
    case_id: str | None = None
    category: Category
    category_specification: tuple[Keyword, ...] = ()
    ground: DecisionGround
    # Illegal content: the law relied on. Incompatible content: the clause of our terms.
    ground_reference: str = Field(min_length=3, max_length=500)
    ground_explanation: str = Field(min_length=10, max_length=2000)
    facts: str = Field(min_length=10, max_length=5000)
    source_type: SourceType
    source_identity: str | None = Field(default=None, max_length=500)
    automated_detection: bool
    automated_decision: AutomatedDecision
    strike: bool = False
    duration_days: int | None = Field(default=None, ge=1, le=MAX_SUSPENSION.days)
    label_text: str | None = Field(default=None, max_length=280)
    territorial_scope: tuple[str, ...] = ()
    content_date: date | None = None
    evidence: Evidence = Field(default_factory=Evidence)

    @model_validator(mode="after")
    def _kind_specific(self) -> EnforcementDecision:
        if self.kind is ActionKind.SUSPEND_ACCOUNT and self.duration_days is None:
            raise ValueError("a suspension is temporary: duration_days is required")
        if self.kind is not ActionKind.SUSPEND_ACCOUNT and self.duration_days is not None:
            raise ValueError("duration_days only applies to suspend_account")
        if self.kind is ActionKind.LABEL_ASSET and not self.label_text:
            raise ValueError("label_asset needs label_text, the label viewers will see")
        if self.kind is not ActionKind.LABEL_ASSET and self.label_text:
            raise ValueError("label_text only applies to label_asset")
        if self.kind in ACCOUNT_ACTIONS and self.strike:
            raise ValueError("strikes accompany asset actions; account actions are their result")
        if self.source_type is SourceType.VOLUNTARY and self.case_id:
            raise ValueError("a decision on a reported case is not own-initiative")
        if self.source_type is not SourceType.VOLUNTARY and not self.case_id:
            raise ValueError("a decision on a notice must name its case_id")
        return self

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> EnforcementDecision:
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]) or "decision", "msg": err["msg"]}
                for err in exc.errors()
            ]
            raise InvalidEnforcement(
                "enforcement rejected: " + "; ".join(f"{e['field']}: {e['msg']}" for e in errors),
                errors=errors,
            ) from None

    def ends_at(self, decided_at: datetime) -> datetime | None:
        if self.duration_days is None:
            return None
        return require_utc(decided_at) + timedelta(days=self.duration_days)


def puid_for(action_id: str) -> str:
    """The statement's platform unique identifier: one per action, never reused."""
    if not action_id or any(c.isspace() for c in action_id):
        raise InvalidEnforcement("action_id must be a non-empty token", action_id=action_id)
    return f"{PUID_PREFIX}{action_id}"


def build_statement(
    action_id: str, decision: EnforcementDecision, decided_at: datetime
) -> StatementOfReasons:
    """The statement of reasons for an action, in the Transparency Database's fields."""
    decided_at = require_utc(decided_at)
    application = decided_at.date()
    illegal = decision.ground is DecisionGround.ILLEGAL_CONTENT
    fields: dict[str, Any] = {
        "puid": puid_for(action_id),
        "decision_ground": decision.ground,
        "category": decision.category,
        "category_specification": decision.category_specification,
        # Every asset here is generated by a model, so it is synthetic media as well as video.
        "content_type": (ContentType.SYNTHETIC_MEDIA, ContentType.VIDEO),
        "content_date": decision.content_date or application,
        "application_date": application,
        "decision_facts": decision.facts,
        "source_type": decision.source_type,
        "source_identity": decision.source_identity,
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision,
        "territorial_scope": decision.territorial_scope,
        "account_type": "ACCOUNT_TYPE_PRIVATE",
    }
    if illegal:
        fields["illegal_content_legal_ground"] = decision.ground_reference
        fields["illegal_content_explanation"] = decision.ground_explanation
    else:
        fields["incompatible_content_ground"] = decision.ground_reference
        fields["incompatible_content_explanation"] = decision.ground_explanation
        fields["incompatible_content_illegal"] = "No"
    if decision.kind in _VISIBILITY:
        fields["decision_visibility"] = _VISIBILITY[decision.kind]
    elif decision.kind is ActionKind.SUSPEND_ACCOUNT:
        fields["decision_account"] = DecisionAccount.SUSPENDED
        fields["decision_provision"] = DecisionProvision.TOTAL_SUSPENSION
        end = decision.ends_at(decided_at)
        assert end is not None  # guaranteed by EnforcementDecision validation
        fields["end_date_account_restriction"] = end.date()
        fields["end_date_service_restriction"] = end.date()
    else:
        fields["decision_account"] = DecisionAccount.TERMINATED
        fields["decision_provision"] = DecisionProvision.TOTAL_TERMINATION
    if fields["content_date"] > application:
        raise InvalidEnforcement("content_date lies after the decision", action_id=action_id)
    return StatementOfReasons.parse(fields)


# -- the action aggregate: ``enforcement-<action_id>`` -----------------------------------------


@dataclass(frozen=True, slots=True)
class ActionState:
    taken: EnforcementActionTaken
    taken_at: datetime
    position: int
    reversed: bool = False


@dataclass(frozen=True, slots=True)
class Take:
    event: EnforcementActionTaken


@dataclass(frozen=True, slots=True)
class Reverse:
    action_id: str
    reason: str
    reversed_by: str
    appeal_id: str | None
    cascaded_from: str | None = None


class Action:
    category = ENFORCEMENT

    def initial(self) -> ActionState | None:
        return None

    def evolve(self, state: ActionState | None, event: RecordedEvent) -> ActionState | None:
        if event.type == EnforcementActionTaken.event_type_name:
            taken: EnforcementActionTaken = event.payload_as(EnforcementActionTaken)
            return ActionState(taken, require_utc(event.occurred_at), event.position)
        if event.type == EnforcementReversed.event_type_name and state is not None:
            return replace(state, reversed=True)
        return state

    def decide(self, state: ActionState | None, command: Take | Reverse) -> list[EventPayload]:
        if isinstance(command, Take):
            if state is not None:
                raise Conflict(f"action {command.event.action_id!r} exists already")
            return [command.event]
        if state is None:
            raise UnknownCase(
                f"action {command.action_id!r} does not exist", action_id=command.action_id
            )
        if state.reversed:
            if command.cascaded_from is not None:
                return []  # lifted already, by another strike's reversal or its own appeal
            raise AlreadyReversed(
                f"action {command.action_id!r} was already reversed", action_id=command.action_id
            )
        t = state.taken
        return [
            EnforcementReversed(
                action_id=t.action_id,
                kind=t.kind,
                target_kind=t.target_kind,
                target_id=t.target_id,
                generation_id=t.generation_id,
                affected_user_id=t.affected_user_id,
                reason=command.reason,
                appeal_id=command.appeal_id,
                cascaded_from=command.cascaded_from,
                reversed_by=command.reversed_by,
            )
        ]


ACTIONS = Action()


@dataclass(frozen=True, slots=True)
class ActionTaken:
    action_id: str
    puid: str
    kind: ActionKind
    ladder_action_ids: tuple[str, ...]


def action_event(
    action_id: str,
    decision: EnforcementDecision,
    decided_at: datetime,
    decided_by: str,
    participants: set[str],
    notifier_ids: set[str],
    generation_id: str | None,
    triggered_by: Sequence[str] = (),
) -> EnforcementActionTaken:
    statement = build_statement(action_id, decision, decided_at)
    return EnforcementActionTaken(
        action_id=action_id,
        puid=statement.puid,
        kind=decision.kind,
        target_kind=decision.kind.target_kind,
        target_id=decision.target_id,
        generation_id=generation_id,
        affected_user_id=decision.affected_user_id,
        case_id=decision.case_id,
        statement_category=decision.category.value,
        ground=decision.ground.value,
        strike=decision.strike,
        ends_at=decision.ends_at(decided_at),
        label_text=decision.label_text,
        automated_detection=decision.automated_detection,
        automated_decision=decision.automated_decision.value,
        source_type=decision.source_type.value,
        decided_by=decided_by,
        participants=sorted(participants),
        notifier_ids=sorted(notifier_ids),
        triggered_by=list(triggered_by),
        evidence=decision.evidence.model_dump(mode="json"),
        statement=statement.to_transparency_db(),
    )


def _standing(tx: Transaction, user_id: str) -> AccountStanding:
    """The user's standing folded from the streams of their actions.

    Which actions the user has comes from the actions read model, a hint: one it has not
    seen yet is not counted (the ladder errs towards leniency). Whether a counted action
    still stands comes from its own stream, so a reversed strike never counts. Called after
    the command's first append, which holds the store's append lock: every reversal
    committed before is visible, and one committed after sees this command's consequence.
    """
    standing = AccountStanding(user_id)
    ids = tx.session.scalars(
        select(ActionRow.action_id).where(ActionRow.affected_user_id == user_id)
    ).all()
    for action_id in ids:
        for event in tx.store.read_stream(stream_id(ENFORCEMENT, action_id), session=tx.session):
            standing.apply(event)
    return standing


def _ladder_decision(
    decision: EnforcementDecision,
    action_id: str,
    consequence: LadderConsequence,
    participants: set[str],
    policy: CasesPolicy,
) -> EnforcementDecision:
    return EnforcementDecision(
        kind=consequence.kind,
        target_id=decision.affected_user_id,
        affected_user_id=decision.affected_user_id,
        case_id=decision.case_id,
        category=decision.category,
        ground=DecisionGround.INCOMPATIBLE_CONTENT,
        ground_reference="Terms of Service: repeated violations (strike policy)",
        ground_explanation=(
            f"The account reached the strike threshold ({consequence.reason}); "
            "our terms suspend or end accounts that keep breaking the rules."
        ),
        facts=(
            "Strikes that count: "
            + ", ".join(consequence.triggered_by)
            + f". The latest is {action_id}: {decision.facts}"
        )[:5000],
        source_type=decision.source_type,
        source_identity=decision.source_identity,
        automated_detection=decision.automated_detection,
        # A fixed rule turns the human decision into the account measure.
        automated_decision=AutomatedDecision.PARTIALLY,
        duration_days=consequence.duration.days if consequence.duration else None,
        territorial_scope=decision.territorial_scope,
        evidence=Evidence(
            rule_id="strike-ladder",
            rule_version=policy.ladder.version,
            reviewer_ids=tuple(sorted(participants)),
        ),
    )


def _take(
    tx: Transaction,
    decision: EnforcementDecision,
    decided_at: datetime,
    decided_by: str,
    participants: set[str],
    notifier_ids: set[str],
    generation_id: str | None,
    policy: CasesPolicy,
    triggered_by: Sequence[str] = (),
) -> EnforcementActionTaken:
    action_id = uuid.uuid4().hex
    taken = action_event(
        action_id,
        decision,
        decided_at,
        decided_by,
        participants,
        notifier_ids,
        generation_id,
        triggered_by,
    )
    tx.execute(ACTIONS, action_id, Take(taken))
    deadline = appeal_deadline(decided_at, policy.appeals)
    notify(tx, enforcement_message(action_id, taken.puid, decision, decided_at, deadline))
    return taken


def _enforce(
    tx: Transaction,
    decision: EnforcementDecision,
    decided_by: str,
    participants: set[str],
    notifier_ids: set[str],
    generation_id: str | None,
    policy: CasesPolicy,
) -> ActionTaken:
    """Append an action, its notice and whatever the strike ladder adds."""
    now = utcnow()
    taken = _take(tx, decision, now, decided_by, participants, notifier_ids, generation_id, policy)
    ladder_ids: list[str] = []
    if decision.strike:
        standing = _standing(tx, decision.affected_user_id)
        standing.actions[taken.action_id] = ActionRecord(
            action_id=taken.action_id,
            kind=decision.kind,
            taken_at=now,
            category=decision.category,
            ground=decision.ground,
            strike=True,
        )
        consequence = ladder_consequence(standing, now, policy.ladder)
        if consequence is not None:
            ladder = _ladder_decision(decision, taken.action_id, consequence, participants, policy)
            account_action = _take(
                tx,
                ladder,
                now,
                decided_by,
                participants,
                notifier_ids,
                None,
                policy,
                triggered_by=consequence.triggered_by,
            )
            ladder_ids.append(account_action.action_id)
    return ActionTaken(taken.action_id, taken.puid, decision.kind, tuple(ladder_ids))


def _refuse_block_output(kind: ActionKind) -> None:
    if kind is ActionKind.BLOCK_OUTPUT:
        raise InvalidEnforcement(
            "block_output is output moderation's own decision on a render; a person reverses "
            "or upholds it on appeal, and acts on published videos with the asset actions"
        )


class CaseAction(BaseModel):
    """What a reviewer decides on a case; target, affected user and source come from the case."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: ActionKind
    category: Category
    category_specification: tuple[Keyword, ...] = ()
    ground: DecisionGround
    ground_reference: str = Field(min_length=3, max_length=500)
    ground_explanation: str = Field(min_length=10, max_length=2000)
    facts: str = Field(min_length=10, max_length=5000)
    strike: bool = False
    duration_days: int | None = Field(default=None, ge=1, le=365)
    label_text: str | None = Field(default=None, max_length=280)
    territorial_scope: tuple[str, ...] = ()
    automated_detection: bool = False
    automated_decision: AutomatedDecision = AutomatedDecision.NOT_AUTOMATED
    # Evidence the reviewer relied on beyond what the case carries: a rights holder's opt-out
    # (whose holder is then heard on appeal) or a cameo used without consent.
    matched_optout_id: str | None = Field(default=None, max_length=200)
    optout_rights_holder_id: str | None = Field(default=None, max_length=200)
    matched_cameo_id: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


def act_on_case(
    services: Services,
    reviewer: Principal,
    case_id: str,
    action: CaseAction,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> ActionTaken:
    """A reviewer holding the case's claim takes an action on its target (or its owner)."""

    _refuse_block_output(action.kind)

    def work(tx: Transaction) -> ActionTaken:
        s = tx.session
        loaded, item = held_case(tx, reviewer.id, case_id)
        target_kind = TargetKind(item.target_kind)
        owner = owner_of(s, target_kind, item.target_id)
        if owner is None:
            raise InvalidEnforcement(
                f"the owner of {item.target_id!r} is unknown; the asset was never published",
                case_id=case_id,
            )
        kind = action.kind
        if kind.target_kind is TargetKind.ASSET and target_kind is not TargetKind.ASSET:
            raise InvalidEnforcement("asset actions need an asset case", case_id=case_id)
        facts = s.get(AssetFactsRow, item.target_id) if target_kind is TargetKind.ASSET else None
        evidence_fields = {"matched_optout_id", "optout_rights_holder_id", "matched_cameo_id"}
        scored = facts is not None and bool(facts.classifier_scores)
        decision = EnforcementDecision.parse(
            {
                **action.model_dump(exclude={"notes", *evidence_fields}),
                "target_id": item.target_id if kind.target_kind is TargetKind.ASSET else owner,
                "affected_user_id": owner,
                "case_id": case_id,
                "source_type": (
                    SourceType.TRUSTED_FLAGGER if item.trusted_flagger else SourceType.ARTICLE_16
                ).value,
                "evidence": {
                    "rule_id": "output-moderation" if facts and scored else None,
                    "rule_version": facts.moderation_policy_version if facts and scored else None,
                    "classifier_scores": dict(facts.classifier_scores) if facts else {},
                    "matched_optout_id": action.matched_optout_id,
                    "optout_rights_holder_id": action.optout_rights_holder_id,
                    "matched_cameo_id": action.matched_cameo_id,
                    "reviewer_ids": sorted(item.participants | {reviewer.id}),
                    "notes": action.notes,
                },
            }
        )
        participants = item.participants | {reviewer.id}
        generation_id = (
            facts.generation_id
            if facts is not None and kind.target_kind is TargetKind.ASSET
            else None
        )
        taken = _enforce(
            tx, decision, reviewer.id, participants, item.reporter_ids, generation_id, policy
        )
        closed = REVIEW.decide(
            loaded.state,
            Close(case_id, reviewer.id, (taken.action_id, *taken.ladder_action_ids)),
        )
        tx.append(REVIEW, case_id, closed, expected_version=loaded.version)
        tell_reporters(
            tx,
            item,
            taken.action_id,
            True,
            f"Decision: {kind.value.replace('_', ' ')} (reference {taken.puid}).",
            utcnow(),
            policy,
        )
        return taken

    return transact(services.store, work, actor=reviewer.actor())


def act_on_own_initiative(
    services: Services,
    actor: Principal,
    decision: EnforcementDecision,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> ActionTaken:
    """An action without a notice: a reviewer's own finding or an automated rule's."""
    if decision.source_type is not SourceType.VOLUNTARY or decision.case_id is not None:
        raise InvalidEnforcement("own-initiative actions use SOURCE_VOLUNTARY and no case_id")
    _refuse_block_output(decision.kind)

    def work(tx: Transaction) -> ActionTaken:
        generation_id: str | None = None
        if decision.kind.target_kind is TargetKind.ASSET:
            facts = tx.session.get(AssetFactsRow, decision.target_id)
            owner = facts.owner_id if facts is not None else None
            if owner is not None and owner != decision.affected_user_id:
                raise InvalidEnforcement(
                    f"asset {decision.target_id!r} belongs to {owner!r}, "
                    f"not {decision.affected_user_id!r}"
                )
            # An automated rule may act the moment an asset is signed, before this domain's
            # read model has seen it: the action then goes out without the generation, and
            # its consumers look the asset up themselves (as for events older than the field).
            generation_id = facts.generation_id if facts is not None else None
        elif decision.target_id != decision.affected_user_id:
            raise InvalidEnforcement("an account action's target is the affected user")
        return _enforce(tx, decision, actor.id, {actor.id}, set(), generation_id, policy)

    return transact(services.store, work, actor=actor.actor())


# -- reversal and its cascade ---------------------------------------------------------------------


def _consequences(tx: Transaction, strike: ActionState) -> list[str]:
    """Standing and reversed actions whose ``triggered_by`` names ``strike``, from the log.

    The ladder takes a consequence in the transaction of a strike at or after this one, so
    they all lie after its position. Read after this command's first append, which holds the
    store's append lock: a consequence committed before is seen, and one being decided now
    waits for this reversal and then no longer counts the strike (see ``_standing``).
    """
    action_id = strike.taken.action_id
    found: list[str] = []
    after = strike.position
    while True:
        page = tx.store.read_all(
            after_position=after,
            categories=(ENFORCEMENT,),
            types=(EnforcementActionTaken.event_type_name,),
            session=tx.session,
        )
        if not page:
            return found
        for event in page:
            taken: EnforcementActionTaken = event.payload_as(EnforcementActionTaken)
            if action_id in taken.triggered_by:
                found.append(taken.action_id)
        after = page[-1].position


def reverse(
    tx: Transaction,
    action_id: str,
    reason: str,
    reversed_by: str,
    appeal_id: str | None,
    cascaded_from: str | None = None,
) -> list[str]:
    """Reverse an action and what the ladder took because of it; returns the reversed ids."""
    loaded = tx.load(ACTIONS, action_id)
    command = Reverse(action_id, reason, reversed_by, appeal_id, cascaded_from)
    events = ACTIONS.decide(loaded.state, command)
    if not events:
        return []
    tx.append(ACTIONS, action_id, events, expected_version=loaded.version)
    assert loaded.state is not None  # decide refuses an unknown action
    taken = loaded.state.taken
    notify(tx, reversal_message(taken.affected_user_id, action_id, taken.target_id, reason))
    if taken.kind is ActionKind.BLOCK_OUTPUT and taken.generation_id:
        from trust_safety.cases.output_blocks import Release, release

        release(tx, Release(taken.generation_id, action_id, appeal_id, reversed_by, reason))
    done = [action_id]
    if taken.strike:
        for other in _consequences(tx, loaded.state):
            done += reverse(
                tx,
                other,
                f"the strike {action_id} it rested on was reversed",
                reversed_by,
                appeal_id,
                cascaded_from=action_id,
            )
    return done
