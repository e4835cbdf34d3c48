"""The account measure for a known-CSAM match: a ban, with its statement of reasons.

Built with the cases domain's own enforcement pieces (``action_event`` builds the statement of
reasons in the Transparency Database's fields; ``enforcement_message`` the notice that DSA
Art. 17 requires), and returned as appends for the caller to commit with the match, so the
account is never acted against without the statement and the notice on record. The ban is an
ordinary ``ban_account`` action: it can be appealed and reversed like any other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from contracts.enforcement import ENFORCEMENT, ActionKind
from contracts.statement_of_reasons import (
    AutomatedDecision,
    Category,
    DecisionGround,
    Keyword,
    SourceType,
)
from core.events import SYSTEM_ACTOR, stream_id
from core.projections import Append
from core.services import Services
from trust_safety.cases.enforcement import EnforcementDecision, Evidence, action_event
from trust_safety.cases.events import INBOX
from trust_safety.cases.inbox import enforcement_message, notice
from trust_safety.cases.policy import DEFAULT_POLICY, appeal_deadline
from trust_safety.hash_banks.index import SignalMatch

BAN_RULE = "hash-bank-known-csam"
BAN_RULE_VERSION = "1"


def standing_ban(services: Services, account_id: str) -> str | None:
    """The account's ban that stands, if the actions read model has seen one (a second match
    of a banned account cites that ban instead of banning it again; a ban the read model has
    not seen yet leads, at worst, to a second one)."""
    from trust_safety.cases.models import ActionRow

    with services.read_sessions() as s:
        found = s.scalar(
            select(ActionRow.action_id)
            .where(
                ActionRow.affected_user_id == account_id,
                ActionRow.kind == ActionKind.BAN_ACCOUNT.value,
                ActionRow.reversed_at.is_(None),
            )
            .order_by(ActionRow.position)
            .limit(1)
        )
    return str(found) if found is not None else None


def ban_action_id(match_id: str) -> str:
    """One ban per match: a retried reaction names the same action."""
    return hashlib.sha256(f"hash-bank-ban\x1f{match_id}".encode()).hexdigest()[:32]


def _facts(surface: str, subject_id: str, matches: Sequence[SignalMatch]) -> str:
    found = "; ".join(
        f"{m.signal_type} hash in bank {m.bank_id}"
        + (f" at distance {m.distance}" if m.distance is not None else "")
        + (f" ({m.query_match_pct:.0f}% of frames)" if m.query_match_pct is not None else "")
        for m in matches
    )
    what = "upload" if surface == "upload" else "generated video"
    return (
        f"The {what} {subject_id} matched known child sexual abuse material by hash: {found}. "
        "It was refused, preserved as evidence and reported to the competent authority."
    )[:5000]


def ban_decision(
    account_id: str, surface: str, subject_id: str, matches: Sequence[SignalMatch]
) -> EnforcementDecision:
    return EnforcementDecision(
        kind=ActionKind.BAN_ACCOUNT,
        target_id=account_id,
        affected_user_id=account_id,
        category=Category.PROTECTION_OF_MINORS,
        category_specification=(Keyword.CHILD_SEXUAL_ABUSE_MATERIAL,),
        ground=DecisionGround.ILLEGAL_CONTENT,
        ground_reference=(
            "18 U.S.C. 2252A and 2258A (child sexual abuse material; the provider's duty to "
            "report it); Directive 2011/93/EU art. 5; Terms of Service: child safety"
        ),
        ground_explanation=(
            "Child sexual abuse material is illegal. An account that uploads or requests it "
            "is closed, the material is kept for the authorities and reported to them."
        ),
        facts=_facts(surface, subject_id, matches),
        source_type=SourceType.VOLUNTARY,
        automated_detection=True,
        automated_decision=AutomatedDecision.FULLY,
        evidence=Evidence(
            rule_id=BAN_RULE,
            rule_version=BAN_RULE_VERSION,
            notes=("banks: " + ", ".join(sorted({m.bank_id for m in matches})))[:2000],
        ),
    )


def ban_appends(
    match_id: str,
    account_id: str,
    surface: str,
    subject_id: str,
    matches: Sequence[SignalMatch],
    decided_at: datetime,
) -> tuple[str, list[Append]]:
    """The ban's action and the account's notice, for the caller to commit with the match."""
    action_id = ban_action_id(match_id)
    decision = ban_decision(account_id, surface, subject_id, matches)
    taken = action_event(action_id, decision, decided_at, SYSTEM_ACTOR.id, set(), set(), None)
    deadline = appeal_deadline(decided_at, DEFAULT_POLICY.appeals)
    message = enforcement_message(action_id, taken.puid, decision, decided_at, deadline)
    nid = uuid.uuid5(uuid.NAMESPACE_URL, f"clearframe:hash-bank-ban:{action_id}").hex
    return action_id, [
        Append(stream_id(ENFORCEMENT, action_id), [taken], expected_version=0),
        Append(stream_id(INBOX, account_id), [notice(message, nid)], expected_version=None),
    ]
