"""Typed failures of the cases domain, each with a stable machine code.

They subclass the core error family so the API edge maps them to problem+json in one place.
"""

from __future__ import annotations

from contracts.errors import DuplicatePuid, InvalidStatement
from core.errors import ClearframeError, Conflict, Forbidden, NotFound, ValidationFailed


class InvalidReport(ValidationFailed):
    code = "invalid_report"


class ClaimHeld(Conflict):
    """Another reviewer holds an unexpired claim on the queue item."""

    code = "claim_held"


class ClaimNotHeld(Conflict):
    """The reviewer acts on an item without holding a live claim on it."""

    code = "claim_not_held"


class CaseClosed(Conflict):
    code = "case_closed"


class InvalidEnforcement(ValidationFailed):
    code = "invalid_enforcement"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class AppealNotAllowed(Forbidden):
    """The person may not appeal this decision (not affected, not the notifier)."""

    code = "appeal_not_allowed"


class AppealWindowClosed(Conflict):
    code = "appeal_window_closed"


class AppealAlreadyOpen(Conflict):
    code = "appeal_already_open"


class ReviewerNotIndependent(Conflict):
    """The reviewer took part in the decision under appeal (DSA Art. 20(6))."""

    code = "reviewer_not_independent"


class AutomatedAppealDecision(Forbidden):
    """Appeals are never decided by automated means alone (DSA Art. 20(6))."""

    code = "automated_appeal_decision"


class ReasonsRequired(ValidationFailed):
    code = "reasons_required"


class AwaitingRightsHolder(Conflict):
    """The opt-out rights holder's response window is still open."""

    code = "awaiting_rights_holder"


class InvalidAppealTransition(Conflict):
    code = "invalid_appeal_transition"


class UnknownCase(NotFound):
    code = "unknown_case"


class UnknownTarget(NotFound):
    code = "unknown_target"


class InvalidPeriod(ValidationFailed):
    code = "invalid_period"


__all__ = [
    "AlreadyReversed",
    "AppealAlreadyOpen",
    "AppealNotAllowed",
    "AppealWindowClosed",
    "AutomatedAppealDecision",
    "AwaitingRightsHolder",
    "CaseClosed",
    "ClaimHeld",
    "ClaimNotHeld",
    "ClearframeError",
    "DuplicatePuid",
    "InvalidAppealTransition",
    "InvalidEnforcement",
    "InvalidPeriod",
    "InvalidReport",
    "InvalidStatement",
    "ReasonsRequired",
    "ReviewerNotIndependent",
    "UnknownCase",
]
