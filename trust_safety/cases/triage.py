"""The triage queue: reports gathered into cases, ordered for reviewers, claimed under a lease.

A claim is an event with an expiry (``ReportClaimed`` carries ``expires_at``), not a row lock:
whether a claim is live is a function of the events and the clock, so the queue can be rebuilt
from the log at any time and a reviewer who walks away never blocks an item beyond its lease.
Two reviewers racing for one case both append to the case's stream at the same expected
version; the event store's optimistic concurrency lets exactly one of them win.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.events import require_utc
from core.folds import Fold, FoldAggregate
from trust_safety.cases import events as ev
from trust_safety.cases.errors import CaseClosed, ClaimHeld, ClaimNotHeld, UnknownCase
from trust_safety.cases.notices import CATEGORY_PROFILES, ReportCategory
from trust_safety.cases.policy import DEFAULT_CLAIM_TTL, MAX_CLAIM_TTL
from trust_safety.cases.recorded import Fact, parse_instant

# Waiting raises an item's priority so low-severity reports are not starved forever by a steady
# stream of severe ones; capped so age never outranks a full severity band.
AGE_BOOST_PER_HOUR = 1.0
AGE_BOOST_CAP = 30.0


@dataclass(frozen=True, slots=True)
class AutomatedSignals:
    """What machines already know about the target when the report arrives."""

    classifier_scores: Mapping[str, float] = field(default_factory=dict)
    matched_optout: bool = False
    matched_cameo_without_consent: bool = False
    prior_enforcements_against_owner: int = 0

    def __post_init__(self) -> None:
        for name, score in self.classifier_scores.items():
            if not (0.0 <= score <= 1.0) or math.isnan(score):
                raise ValueError(f"classifier score {name}={score} is outside [0, 1]")
        if self.prior_enforcements_against_owner < 0:
            raise ValueError("prior_enforcements_against_owner must be >= 0")

    @property
    def top_score(self) -> float:
        return max(self.classifier_scores.values(), default=0.0)

    def to_payload(self) -> dict[str, Any]:
        return {
            "classifier_scores": dict(sorted(self.classifier_scores.items())),
            "matched_optout": self.matched_optout,
            "matched_cameo_without_consent": self.matched_cameo_without_consent,
            "prior_enforcements_against_owner": self.prior_enforcements_against_owner,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any] | None) -> AutomatedSignals:
        data = data or {}
        return cls(
            classifier_scores={
                str(k): float(v) for k, v in data.get("classifier_scores", {}).items()
            },
            matched_optout=bool(data.get("matched_optout", False)),
            matched_cameo_without_consent=bool(data.get("matched_cameo_without_consent", False)),
            prior_enforcements_against_owner=int(data.get("prior_enforcements_against_owner", 0)),
        )


def triage_priority(
    categories: Iterable[ReportCategory],
    signals: AutomatedSignals,
    *,
    trusted_flagger: bool,
    distinct_reporters: int,
) -> float:
    """Static priority of a case; higher is reviewed first.

    The most severe reported category sets the base. A confident classifier, a matched cameo
    without consent or an opt-out corroborate the report. Trusted flaggers' notices are handled
    with priority by law (DSA Art. 22(1)). Many independent reporters add a little, on a log
    scale, so a brigading crowd cannot outrank a severe single report.
    """
    cats = list(categories)
    if not cats:
        raise ValueError("a case needs at least one report category")
    if distinct_reporters < 1:
        raise ValueError("distinct_reporters must be >= 1")
    severity = max(CATEGORY_PROFILES[c].severity for c in cats)
    score = float(severity)
    score += 40.0 * signals.top_score
    score += 15.0 if signals.matched_cameo_without_consent else 0.0
    score += 10.0 if signals.matched_optout else 0.0
    score += 25.0 if trusted_flagger else 0.0
    score += min(15.0, 5.0 * math.log2(distinct_reporters))
    score += min(10.0, 2.0 * signals.prior_enforcements_against_owner)
    return round(score, 6)


class CaseStatus(StrEnum):
    PENDING_TRIAGE = "pending_triage"
    OPEN = "open"
    ACTIONED = "actioned"
    DISMISSED = "dismissed"


@dataclass(slots=True)
class Claim:
    reviewer_id: str
    claimed_at: datetime
    expires_at: datetime
    released_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.released_at is None and now < self.expires_at


@dataclass(slots=True)
class QueueItem:
    case_id: str
    target_kind: str
    target_id: str
    first_filed_at: datetime
    report_ids: list[str] = field(default_factory=list)
    report_reporters: dict[str, str] = field(default_factory=dict)  # report id -> reporter
    reporter_ids: set[str] = field(default_factory=set)
    categories: set[ReportCategory] = field(default_factory=set)
    trusted_flagger: bool = False
    signals: AutomatedSignals = field(default_factory=AutomatedSignals)
    priority: float = 0.0
    status: CaseStatus = CaseStatus.PENDING_TRIAGE
    claim: Claim | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    action_ids: list[str] = field(default_factory=list)
    # Everyone who handled the case; appeal reviewers must come from outside this set.
    participants: set[str] = field(default_factory=set)

    def reports_of(self, reporter_id: str) -> list[str]:
        return [r for r in self.report_ids if self.report_reporters.get(r) == reporter_id]

    @property
    def target_key(self) -> str:
        return f"{self.target_kind}:{self.target_id}"

    def effective_priority(self, now: datetime) -> float:
        waited_h = max(0.0, (now - self.first_filed_at).total_seconds() / 3600.0)
        return self.priority + min(AGE_BOOST_CAP, AGE_BOOST_PER_HOUR * waited_h)

    def live_claim(self, now: datetime) -> Claim | None:
        if self.claim is not None and self.claim.live(now):
            return self.claim
        return None

    @property
    def is_open(self) -> bool:
        return self.status in (CaseStatus.PENDING_TRIAGE, CaseStatus.OPEN)


@dataclass(frozen=True, slots=True)
class ClaimGrant:
    """The payload of the ``ReportClaimed`` event a successful claim appends."""

    case_id: str
    reviewer_id: str
    expires_at: datetime
    renewal: bool

    def to_payload(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "reviewer_id": self.reviewer_id,
            "expires_at": self.expires_at.isoformat(),
            "renewal": self.renewal,
        }


class CaseQueue(Fold):
    """Fold of the case events into the reviewers' queue."""

    def __init__(self) -> None:
        self.items: dict[str, QueueItem] = {}
        self.open_case_by_target: dict[str, str] = {}

    def apply(self, event: Fact) -> None:
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event.payload, require_utc(event.occurred_at))

    # -- folds -------------------------------------------------------------------------------

    def _on_report_filed(self, p: Mapping[str, Any], at: datetime) -> None:
        case_id = str(p["case_id"])
        target = p["target"]
        item = self.items.get(case_id)
        if item is None:
            item = QueueItem(
                case_id=case_id,
                target_kind=str(target["kind"]),
                target_id=str(target["id"]),
                first_filed_at=at,
            )
            self.items[case_id] = item
        if str(p["report_id"]) not in item.report_ids:
            item.report_ids.append(str(p["report_id"]))
            item.report_reporters[str(p["report_id"])] = str(p["reporter_id"])
        item.reporter_ids.add(str(p["reporter_id"]))
        item.categories.add(ReportCategory(p["report_category"]))
        item.trusted_flagger = item.trusted_flagger or bool(p.get("trusted_flagger", False))
        if item.is_open:
            self.open_case_by_target[item.target_key] = case_id

    def _on_triaged(self, p: Mapping[str, Any], at: datetime) -> None:
        item = self._item(p)
        item.signals = AutomatedSignals.from_payload(p.get("signals"))
        item.priority = float(p["priority"])
        item.status = CaseStatus.OPEN
        item.decided_at = None
        self.open_case_by_target[item.target_key] = item.case_id

    def _on_claimed(self, p: Mapping[str, Any], at: datetime) -> None:
        item = self._item(p)
        reviewer = str(p["reviewer_id"])
        item.claim = Claim(reviewer, at, parse_instant(p["expires_at"]))
        item.participants.add(reviewer)

    def _on_claim_released(self, p: Mapping[str, Any], at: datetime) -> None:
        item = self._item(p)
        if item.claim is not None and item.claim.reviewer_id == str(p["reviewer_id"]):
            item.claim.released_at = at

    def _on_actioned(self, p: Mapping[str, Any], at: datetime) -> None:
        item = self._item(p)
        self._close(item, CaseStatus.ACTIONED, at, p.get("reviewer_id"))
        item.action_ids.extend(str(a) for a in p.get("action_ids", ()))

    def _on_dismissed(self, p: Mapping[str, Any], at: datetime) -> None:
        self._close(self._item(p), CaseStatus.DISMISSED, at, p.get("reviewer_id"))

    def _close(self, item: QueueItem, status: CaseStatus, at: datetime, by: Any) -> None:
        item.status = status
        item.decided_at = at
        item.decided_by = str(by) if by else None
        if by:
            item.participants.add(str(by))
        item.claim = None
        if self.open_case_by_target.get(item.target_key) == item.case_id:
            del self.open_case_by_target[item.target_key]

    def _item(self, p: Mapping[str, Any]) -> QueueItem:
        case_id = str(p["case_id"])
        try:
            return self.items[case_id]
        except KeyError:
            raise UnknownCase(f"case {case_id!r} does not exist", case_id=case_id) from None

    # -- queries and decisions ---------------------------------------------------------------

    def get(self, case_id: str) -> QueueItem:
        return self._item({"case_id": case_id})

    def ordered(self, now: datetime) -> list[QueueItem]:
        """Open, triaged cases, most urgent first; ties go to the oldest, then by id."""
        now = require_utc(now)
        open_items = [i for i in self.items.values() if i.status is CaseStatus.OPEN]
        return sorted(
            open_items, key=lambda i: (-i.effective_priority(now), i.first_filed_at, i.case_id)
        )

    def visible_to_reviewer(self, reviewer_id: str, now: datetime) -> list[QueueItem]:
        """What a reviewer may see: cases they hold and cases nobody holds."""
        out = []
        for item in self.ordered(now):
            claim = item.live_claim(now)
            if claim is None or claim.reviewer_id == reviewer_id:
                out.append(item)
        return out

    def next_claimable(self, reviewer_id: str, now: datetime) -> QueueItem | None:
        for item in self.visible_to_reviewer(reviewer_id, now):
            if item.live_claim(now) is None:
                return item
        return None

    def claim(
        self,
        case_id: str,
        reviewer_id: str,
        now: datetime,
        ttl: timedelta = DEFAULT_CLAIM_TTL,
    ) -> ClaimGrant:
        """Decide whether ``reviewer_id`` may claim the case now; the caller appends the event."""
        now = require_utc(now)
        if not timedelta(0) < ttl <= MAX_CLAIM_TTL:
            raise ValueError(f"claim ttl must be in (0, {MAX_CLAIM_TTL}]")
        item = self.get(case_id)
        if item.status is not CaseStatus.OPEN:
            raise CaseClosed(f"case {case_id!r} is {item.status.value}", case_id=case_id)
        held = item.live_claim(now)
        if held is not None and held.reviewer_id != reviewer_id:
            raise ClaimHeld(
                f"case {case_id!r} is claimed by another reviewer until "
                f"{held.expires_at.isoformat()}",
                case_id=case_id,
                expires_at=held.expires_at.isoformat(),
            )
        return ClaimGrant(case_id, reviewer_id, now + ttl, renewal=held is not None)

    def require_claim(self, case_id: str, reviewer_id: str, now: datetime) -> QueueItem:
        """A reviewer decides a case only while holding its claim."""
        item = self.get(case_id)
        if not item.is_open:
            raise CaseClosed(f"case {case_id!r} is {item.status.value}", case_id=case_id)
        held = item.live_claim(require_utc(now))
        if held is None or held.reviewer_id != reviewer_id:
            raise ClaimNotHeld(
                f"reviewer {reviewer_id!r} holds no live claim on case {case_id!r}",
                case_id=case_id,
            )
        return item


_HANDLERS = {
    ev.ReportFiled.event_type_name: CaseQueue._on_report_filed,
    ev.ReportTriaged.event_type_name: CaseQueue._on_triaged,
    ev.ReportClaimed.event_type_name: CaseQueue._on_claimed,
    ev.ReportClaimReleased.event_type_name: CaseQueue._on_claim_released,
    ev.ReportActioned.event_type_name: CaseQueue._on_actioned,
    ev.ReportDismissed.event_type_name: CaseQueue._on_dismissed,
}


class CaseStream(FoldAggregate[CaseQueue]):
    """State and ``evolve`` of one case's stream (``report-<case_id>``): the queue fold over
    that case alone. The deciders of filing and review (reports.py) and of claims (claims.py)
    share it."""

    category = ev.REPORT

    def initial(self) -> CaseQueue:
        return CaseQueue()
