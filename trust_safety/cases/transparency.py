"""Transparency numbers (Santa Clara Principles; DSA Art. 15 and 24) computed from the log.

A pure function of the event sequence, a period and an "as of" instant: the figures published
for last quarter can be recomputed at any later date and come out identical, and a figure can
be recomputed as it stood on any past date by moving ``as_of`` back.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.enforcement import EnforcementActionTaken, EnforcementReversed
from core.events import require_utc
from trust_safety.cases import events as ev
from trust_safety.cases.errors import InvalidPeriod
from trust_safety.cases.recorded import Fact


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    period_start: datetime
    period_end: datetime
    as_of: datetime
    reports_received: int
    reports_by_category: dict[str, int]
    reports_from_trusted_flaggers: int
    actions_taken: int
    actions_by_category: dict[str, dict[str, int]]  # category -> {"automated": n, "human": n}
    actions_by_kind: dict[str, int]
    actions_automated_detection: int
    actions_by_automated_decision: dict[str, int]
    own_initiative_actions: int
    reports_dismissed: int
    appeals_filed: int
    appeals_decided: int
    appeals_reversed: int
    appeals_upheld: int
    reversals: int
    median_time_to_decision_s: float | None
    median_appeal_time_to_decision_s: float | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def _is_fully_automated(payload: Any) -> bool:
    return payload.get("automated_decision") == "AUTOMATED_DECISION_FULLY"


def compute_transparency(
    events: Iterable[Fact],
    period_start: datetime,
    period_end: datetime,
    as_of: datetime | None = None,
) -> TransparencyReport:
    """Figures for events in ``[period_start, period_end)`` known at ``as_of``.

    Events after ``as_of`` are ignored wholesale, so a decision taken later does not leak into
    an earlier snapshot. Time to decision runs from the case's first notice (which may predate
    the period) to the action or dismissal that closed it; only decisions inside the period
    count.
    """
    start = require_utc(period_start)
    end = require_utc(period_end)
    if end <= start:
        raise InvalidPeriod("period_end must be after period_start")
    snapshot = require_utc(as_of) if as_of is not None else end
    if snapshot < start:
        raise InvalidPeriod("as_of precedes the period; nothing could be known yet")

    reports_by_category: Counter[str] = Counter()
    trusted = 0
    actions_by_category: dict[str, Counter[str]] = {}
    actions_by_kind: Counter[str] = Counter()
    by_automated_decision: Counter[str] = Counter()
    automated_detection = 0
    own_initiative = 0
    dismissed = 0
    appeals_filed = appeals_decided = appeals_reversed = appeals_upheld = 0
    reversals = 0
    case_opened: dict[str, datetime] = {}
    case_decided: set[str] = set()
    decision_times: list[float] = []
    appeal_filed_at: dict[str, datetime] = {}
    appeal_times: list[float] = []

    for event in events:
        at = require_utc(event.occurred_at)
        if at > snapshot:
            continue
        p = event.payload
        in_period = start <= at < end
        kind = event.type
        if kind == ev.ReportFiled.event_type_name:
            case_opened.setdefault(str(p["case_id"]), at)
            if in_period:
                reports_by_category[str(p["report_category"])] += 1
                trusted += 1 if p.get("trusted_flagger") else 0
        elif kind == ev.ReportTriaged.event_type_name:
            # A reopened case (a notifier's appeal upheld) starts a new decision clock.
            case_id = str(p["case_id"])
            if case_id in case_decided:
                case_decided.discard(case_id)
                case_opened[case_id] = at
        elif kind in (EnforcementActionTaken.event_type_name, ev.ReportDismissed.event_type_name):
            decided_case = str(p.get("case_id") or "")
            if decided_case in case_opened and decided_case not in case_decided:
                case_decided.add(decided_case)
                if in_period:
                    decision_times.append((at - case_opened[decided_case]).total_seconds())
            if not in_period:
                continue
            if kind == ev.ReportDismissed.event_type_name:
                dismissed += 1
                continue
            category = str(p["statement_category"])
            mode = "automated" if _is_fully_automated(p) else "human"
            actions_by_category.setdefault(category, Counter())[mode] += 1
            actions_by_kind[str(p["kind"])] += 1
            by_automated_decision[str(p["automated_decision"])] += 1
            automated_detection += 1 if p.get("automated_detection") else 0
            own_initiative += 1 if p.get("source_type") == "SOURCE_VOLUNTARY" else 0
        elif kind == ev.AppealFiled.event_type_name:
            appeal_filed_at[str(p["appeal_id"])] = at
            appeals_filed += 1 if in_period else 0
        elif kind == ev.AppealDecided.event_type_name and in_period:
            appeals_decided += 1
            if p["outcome"] == "reversed":
                appeals_reversed += 1
            else:
                appeals_upheld += 1
            filed = appeal_filed_at.get(str(p["appeal_id"]))
            if filed is not None:
                appeal_times.append((at - filed).total_seconds())
        elif kind == EnforcementReversed.event_type_name and in_period:
            reversals += 1

    actions_total = sum(actions_by_kind.values())
    return TransparencyReport(
        period_start=start,
        period_end=end,
        as_of=snapshot,
        reports_received=sum(reports_by_category.values()),
        reports_by_category=dict(sorted(reports_by_category.items())),
        reports_from_trusted_flaggers=trusted,
        actions_taken=actions_total,
        actions_by_category={
            c: {"automated": n["automated"], "human": n["human"]}
            for c, n in sorted(actions_by_category.items())
        },
        actions_by_kind=dict(sorted(actions_by_kind.items())),
        actions_automated_detection=automated_detection,
        actions_by_automated_decision=dict(sorted(by_automated_decision.items())),
        own_initiative_actions=own_initiative,
        reports_dismissed=dismissed,
        appeals_filed=appeals_filed,
        appeals_decided=appeals_decided,
        appeals_reversed=appeals_reversed,
        appeals_upheld=appeals_upheld,
        reversals=reversals,
        median_time_to_decision_s=statistics.median(decision_times) if decision_times else None,
        median_appeal_time_to_decision_s=(
            statistics.median(appeal_times) if appeal_times else None
        ),
        notes=[
            "'automated' counts fully automated decisions; partially automated and human "
            "decisions count as 'human' because a person took them",
        ],
    )
