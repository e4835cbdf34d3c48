"""An in-memory consent ledger: the reference implementation of the read side.

The SQL projection must answer every question the same way; the contract tests run the same
scenarios against both.
"""

from __future__ import annotations

from datetime import datetime

from contracts.ports import FollowGraph
from trust_safety.consent.facts import CameoRegistered
from trust_safety.consent.ledger import (
    CameoRecord,
    ConsentDecision,
    RecordedFact,
    apply,
    decide_cameo_use,
)


class NoFollows:
    """Where no follow graph is given: nobody is a mutual follow of anybody."""

    def are_mutual_follows(self, a: str, b: str) -> bool:  # noqa: ARG002
        return False


class InMemoryConsentLedger:
    def __init__(self, graph: FollowGraph | None = None) -> None:
        self._records: dict[str, CameoRecord] = {}
        self.graph: FollowGraph = graph or NoFollows()

    def record(self, recorded: RecordedFact) -> CameoRecord:
        fact = recorded.fact
        current = None if isinstance(fact, CameoRegistered) else self._records.get(fact.cameo_id)
        updated = apply(current, recorded)
        self._records[updated.cameo_id] = updated
        return updated

    def record_all(self, recorded: list[RecordedFact]) -> None:
        for item in recorded:
            self.record(item)

    def get(self, cameo_id: str) -> CameoRecord | None:
        return self._records.get(cameo_id)

    def by_handle(self, handle: str) -> CameoRecord | None:
        wanted = handle.lower().lstrip("@")
        matches = [r for r in self._records.values() if r.handle == wanted]
        # A retired cameo's handle may be reused; the active one is the one people mean.
        active = [r for r in matches if r.active]
        chosen = active or matches
        return chosen[0] if chosen else None

    def active_cameo_of(self, owner_id: str) -> CameoRecord | None:
        for record in self._records.values():
            if record.owner_id == owner_id and record.active:
                return record
        return None

    def cameos_of(self, owner_id: str) -> list[CameoRecord]:
        return sorted(
            (r for r in self._records.values() if r.owner_id == owner_id),
            key=lambda r: r.registered_at,
        )

    def cameo_for_public_figure(self, public_figure_id: str) -> CameoRecord | None:
        for record in self._records.values():
            if record.public_figure_id == public_figure_id and record.active:
                return record
        return None

    def decide(self, cameo_id: str, principal_id: str, at: datetime) -> ConsentDecision:
        return decide_cameo_use(
            self._records.get(cameo_id), principal_id, at, self.graph, cameo_id=cameo_id
        )
