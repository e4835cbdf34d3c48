"""Blocked outputs: output moderation's automated block as a decision a person can contest.

A ``block`` is an enforcement action of kind ``block_output`` on the asset the render would
have become: detected and decided by automated means, on the platform's own initiative, with
its statement of reasons. Output moderation appends it and the requester's notice in the
commit that records the block (:func:`block_appends`), so nobody is refused without the
notice on record. The requester asks for a human review by appealing that action
(``appeals.py``, open for the policy's window); the reviewer who holds the appeal sees the
frames and scores behind the block (:func:`block_view`). Reversing the action releases the
output (:class:`contracts.output_review.OutputReleased`, appended by :func:`release`), and
provenance then signs and publishes it as it does an ``allow``; upholding it leaves the
action and its statement standing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.enforcement import ENFORCEMENT, ActionKind
from contracts.generation import OUTPUT, OutputModerated
from contracts.output_review import OutputReleased, output_asset_id
from contracts.statement_of_reasons import AutomatedDecision, DecisionGround, SourceType
from core.aggregate import Transaction
from core.db import as_utc
from core.errors import ValidationFailed
from core.events import SYSTEM_ACTOR, EventPayload, RecordedEvent, stream_id
from core.projections import Append
from core.store import EventStore
from trust_safety.cases.enforcement import EnforcementDecision, Evidence, action_event
from trust_safety.cases.events import INBOX
from trust_safety.cases.inbox import enforcement_message, notice
from trust_safety.cases.models import OutputBlockRow
from trust_safety.cases.notices import CATEGORY_PROFILES, CategoryProfile, ReportCategory
from trust_safety.cases.policy import DEFAULT_POLICY, CasesPolicy, appeal_deadline
from trust_safety.optout.facts import OPTOUT, OptOutFiled

BLOCK_RULE = "output-moderation"

# Output moderation's categories read as the notice categories of the same harm, whose
# profiles already give the statement's category and a severity to pick the headline by.
_AS_NOTICE: Mapping[str, ReportCategory] = {
    "minors": ReportCategory.CHILD_SAFETY,
    "likeness": ReportCategory.LIKENESS_WITHOUT_CONSENT,
    "self_harm": ReportCategory.SELF_HARM,
    "violence_gore": ReportCategory.VIOLENCE,
    "hate_symbols": ReportCategory.HATE_SPEECH,
    "sexual": ReportCategory.SEXUAL_CONTENT,
    "ip": ReportCategory.INTELLECTUAL_PROPERTY,  # a rights holder's reference media matched
    # a hash bank's known media (trust_safety/hash_banks): known_<the bank's category>
    "known_csam": ReportCategory.CHILD_SAFETY,
    "known_ncii": ReportCategory.NON_CONSENSUAL_INTIMATE_IMAGERY,
    "known_terrorism": ReportCategory.TERRORISM_OR_VIOLENT_EXTREMISM,
}


def block_action_id(generation_id: str) -> str:
    """One block per generation: a retried or redelivered moderation names the same action."""
    return hashlib.sha256(f"output-block\x1f{generation_id}".encode()).hexdigest()[:32]


def _profile(category: str) -> CategoryProfile:
    return CATEGORY_PROFILES[_AS_NOTICE.get(category, ReportCategory.OTHER)]


def rights_holder_of(store: EventStore, optout_id: str) -> str | None:
    """Who filed the opt-out, from its own stream: the rights holder an appeal must hear."""
    try:
        events = store.read_stream(stream_id(OPTOUT, optout_id))
    except ValidationFailed:  # not an id an opt-out can have
        return None
    filed = [e for e in events if e.type == OptOutFiled.event_type_name]
    return str(filed[0].payload["rights_holder_id"]) if filed else None


def primary_category(categories: Iterable[str]) -> str | None:
    """The most severe blocked category (the first listed among equals)."""
    ordered = list(categories)
    return max(ordered, key=lambda c: _profile(c).severity) if ordered else None


def _finding(verdict: Mapping[str, Any]) -> str:
    category = verdict.get("category")
    if verdict.get("max_score") is None:
        return f"{category} could not be checked, and the policy blocks what it cannot check"
    at = verdict.get("worst_frame_s")
    where = f" at {float(at):.1f} s" if at is not None else ""
    return (
        f"{category} scored {float(verdict['max_score']):.2f}{where} "
        f"(the policy blocks from {verdict.get('threshold')})"
    )


def _subjects(blocking: Iterable[Mapping[str, Any]], kind: str) -> list[str]:
    return [
        str(s).split(":", 1)[1]
        for v in blocking
        for s in v.get("subjects", ())
        if str(s).startswith(f"{kind}:")
    ]


def block_decision(
    generation_id: str,
    requester_id: str,
    moderated: OutputModerated,
    rights_holders: Callable[[str], str | None] = lambda _: None,
) -> EnforcementDecision:
    blocking = [v for v in moderated.verdicts if v.get("outcome") == "block"]
    primary = primary_category(moderated.blocked_categories) or "other"
    scores = {
        str(v["category"]): float(v["max_score"])
        for v in moderated.verdicts
        if v.get("max_score") is not None and 0.0 <= float(v["max_score"]) <= 1.0
    }
    cameos = _subjects(blocking, "cameo")
    # The first opt-out whose holder is known: that holder is heard on appeal (appeals.py).
    optout = next(
        ((o, h) for o in _subjects(blocking, "optout") if (h := rights_holders(o)) is not None),
        None,
    )
    findings = "; ".join(_finding(v) for v in blocking) or ", ".join(moderated.blocked_categories)
    return EnforcementDecision(
        kind=ActionKind.BLOCK_OUTPUT,
        target_id=output_asset_id(generation_id),
        affected_user_id=requester_id,
        category=_profile(primary).statement_category,
        ground=DecisionGround.INCOMPATIBLE_CONTENT,
        ground_reference=f"Terms of Service: generated videos (output policy "
        f"{moderated.policy_version})",
        ground_explanation=(
            "Generated videos that the output policy blocks are not shown, published or "
            "downloadable; this one was stopped before anyone saw it."
        ),
        facts=(
            f"Output moderation checked the frames of generation {generation_id} and blocked "
            f"it: {findings}."
        )[:5000],
        source_type=SourceType.VOLUNTARY,
        automated_detection=True,
        automated_decision=AutomatedDecision.FULLY,
        evidence=Evidence(
            rule_id=BLOCK_RULE,
            rule_version=moderated.policy_version[:100],
            classifier_scores=scores,
            matched_cameo_id=cameos[0] if cameos else None,
            matched_optout_id=optout[0] if optout else None,
            optout_rights_holder_id=optout[1] if optout else None,
        ),
    )


def block_appends(
    store: EventStore,
    generation_id: str,
    requester_id: str,
    moderated: OutputModerated,
    decided_at: datetime,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> list[Append]:
    """The block's action and the requester's notice, for output moderation to commit with
    the ``OutputModerated`` they follow from."""
    action_id = block_action_id(generation_id)
    decision = block_decision(
        generation_id, requester_id, moderated, lambda o: rights_holder_of(store, o)
    )
    taken = action_event(
        action_id, decision, decided_at, SYSTEM_ACTOR.id, set(), set(), generation_id
    )
    deadline = appeal_deadline(decided_at, policy.appeals)
    message = enforcement_message(action_id, taken.puid, decision, decided_at, deadline)
    nid = uuid.uuid5(uuid.NAMESPACE_URL, f"clearframe:output-block:{action_id}").hex
    return [
        Append(stream_id(ENFORCEMENT, action_id), [taken], expected_version=0),
        Append(stream_id(INBOX, requester_id), [notice(message, nid)], expected_version=None),
    ]


# -- the release: ``output-<generation_id>`` ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Release:
    generation_id: str
    action_id: str
    appeal_id: str | None
    released_by: str
    reason: str


class OutputReview:
    """Whether a generation's output stream already holds a release (at most one)."""

    category = OUTPUT

    def initial(self) -> bool:
        return False

    def evolve(self, state: bool, event: RecordedEvent) -> bool:
        return state or event.type == OutputReleased.event_type_name

    def decide(self, state: bool, command: Release) -> list[EventPayload]:
        if state:
            return []
        return [
            OutputReleased(
                generation_id=command.generation_id,
                action_id=command.action_id,
                appeal_id=command.appeal_id,
                released_by=command.released_by,
                reason=command.reason[:2000],
            )
        ]


OUTPUT_REVIEW = OutputReview()


def release(tx: Transaction, command: Release) -> None:
    """Release the output in the transaction that reverses its block."""
    tx.execute(OUTPUT_REVIEW, command.generation_id, command)


# -- what reviewers see ------------------------------------------------------------------------


def _causing_frames(row: OutputBlockRow) -> list[dict[str, Any]]:
    """The sampled frames on which a blocked category reached its threshold, with those
    categories' scores."""
    thresholds = {
        str(v["category"]): float(v["threshold"])
        for v in row.verdicts
        if v.get("outcome") == "block" and v.get("threshold") is not None
    }
    out = []
    for frame in row.frames:
        hits: dict[str, dict[str, float]] = {}
        for classifier, scores in dict(frame.get("scores", {})).items():
            for category, score in dict(scores).items():
                if category in thresholds and float(score) >= thresholds[category]:
                    hits.setdefault(str(classifier), {})[str(category)] = float(score)
        if hits:
            out.append({"index": frame.get("index"), "time_s": frame.get("time_s"), "scores": hits})
    return out


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


def block_view(row: OutputBlockRow) -> dict[str, Any]:
    return {
        "action_id": row.action_id,
        "generation_id": row.generation_id,
        "requester_id": row.requester_id,
        "policy_version": row.policy_version,
        "blocked_categories": list(row.blocked_categories),
        "blocked_at": _iso(row.blocked_at),
        "released_at": _iso(row.released_at),
        "verdicts": [v for v in row.verdicts if v.get("outcome") == "block"],
        "causing_frames": _causing_frames(row),
        "frame_scores": list(row.frames),
    }
