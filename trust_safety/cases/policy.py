"""The cases domain's tunable rules in one place: appeal windows, the strike ladder, claim leases.

Every command takes a :class:`CasesPolicy`; the defaults are the service's policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.statement_of_reasons import Category
from core.events import require_utc

# Six calendar months can be 184 days; the floor guarantees every six-month span is covered.
MIN_APPEAL_WINDOW = timedelta(days=184)
MAX_SUSPENSION = timedelta(days=365)
DEFAULT_CLAIM_TTL = timedelta(minutes=15)
MAX_CLAIM_TTL = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class AppealPolicy:
    window: timedelta = timedelta(days=365)
    rights_holder_response_window: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.window < MIN_APPEAL_WINDOW:
            raise ValueError(
                f"appeal window {self.window} is shorter than six months (DSA Art. 20(1))"
            )
        if self.rights_holder_response_window <= timedelta(0):
            raise ValueError("rights_holder_response_window must be positive")


def appeal_deadline(decided_at: datetime, policy: AppealPolicy = AppealPolicy()) -> datetime:
    return require_utc(decided_at) + policy.window


@dataclass(frozen=True, slots=True)
class LadderPolicy:
    strike_ttl: timedelta = timedelta(days=90)
    suspend_at_strikes: int = 3
    ban_at_strikes: int = 5
    suspension_durations: Sequence[timedelta] = (timedelta(days=7), timedelta(days=30))
    # A suspension beyond the listed durations escalates to a ban.
    zero_tolerance: frozenset[Category] = frozenset({Category.PROTECTION_OF_MINORS})

    def __post_init__(self) -> None:
        if not 1 <= self.suspend_at_strikes < self.ban_at_strikes:
            raise ValueError("need 1 <= suspend_at_strikes < ban_at_strikes")
        if not self.suspension_durations:
            raise ValueError("need at least one suspension duration")
        if any(d <= timedelta(0) or d > MAX_SUSPENSION for d in self.suspension_durations):
            raise ValueError("suspension durations must be positive and at most a year")
        if self.strike_ttl <= timedelta(0):
            raise ValueError("strike_ttl must be positive")

    @property
    def version(self) -> str:
        """Recorded as the rule version on every action the ladder takes."""
        durations = "/".join(str(d.days) for d in self.suspension_durations)
        return (
            f"ttl={self.strike_ttl.days}d;suspend@{self.suspend_at_strikes};"
            f"ban@{self.ban_at_strikes};durations={durations}d"
        )


@dataclass(frozen=True, slots=True)
class CasesPolicy:
    appeals: AppealPolicy = AppealPolicy()
    ladder: LadderPolicy = LadderPolicy()
    claim_ttl: timedelta = DEFAULT_CLAIM_TTL


DEFAULT_POLICY = CasesPolicy()
