"""The consent seam the generation gate calls, at request time and again at pick-up.

A request can bring a likeness into a video three ways, and each is checked:

* an ``@handle`` mention of a cameo in the prompt;
* a cameo chosen explicitly in the request (the picker in the app sends its id);
* a public figure found in the prompt by the moderation pipeline's curated list. A public
  figure may only be depicted through their own verified cameo (linked by an operator), so
  the figure is resolved to that cameo and the ordinary consent rules apply; a figure with
  no linked cameo is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from contracts.ports import FollowGraph
from trust_safety.consent.ledger import (
    CameoRecord,
    ConsentDecision,
    DecisionReason,
    decide_cameo_use,
)

# "@" then a handle; the look-behind keeps e-mail addresses ("me@example.com") out.
_MENTION = re.compile(r"(?<![\w.@])@([a-z0-9](?:[a-z0-9_.]{1,28}[a-z0-9]))(?![\w])")


class ReferenceSource(StrEnum):
    MENTION = "mention"
    EXPLICIT = "explicit"
    PUBLIC_FIGURE = "public_figure"


class CameoReader(Protocol):
    def get(self, cameo_id: str) -> CameoRecord | None: ...

    def by_handle(self, handle: str) -> CameoRecord | None: ...

    def cameo_for_public_figure(self, public_figure_id: str) -> CameoRecord | None: ...


@dataclass(frozen=True)
class CameoReference:
    source: ReferenceSource
    cameo_id: str | None
    handle: str | None = None
    public_figure_id: str | None = None


@dataclass(frozen=True)
class ReferenceDecision:
    reference: CameoReference
    decision: ConsentDecision


@dataclass(frozen=True)
class ConsentCheckResult:
    principal_id: str
    checked_at: datetime
    decisions: tuple[ReferenceDecision, ...]
    unresolved_mentions: tuple[str, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return all(d.decision.allowed for d in self.decisions)

    @property
    def denied(self) -> tuple[ReferenceDecision, ...]:
        return tuple(d for d in self.decisions if not d.decision.allowed)

    @property
    def cameo_ids(self) -> tuple[str, ...]:
        """The cameos the generator will need (deduplicated, stable order)."""
        seen: dict[str, None] = {}
        for d in self.decisions:
            if d.reference.cameo_id:
                seen.setdefault(d.reference.cameo_id, None)
        return tuple(seen)

    def as_evidence(self) -> dict[str, object]:
        return {
            "principal_id": self.principal_id,
            "checked_at": self.checked_at.isoformat(),
            "allowed": self.allowed,
            "decisions": [
                {
                    "source": d.reference.source.value,
                    "handle": d.reference.handle,
                    "public_figure_id": d.reference.public_figure_id,
                    **d.decision.as_evidence(),
                }
                for d in self.decisions
            ],
            "unresolved_mentions": list(self.unresolved_mentions),
        }


def find_cameo_mentions(prompt: str) -> list[str]:
    """Handles mentioned with ``@`` in the prompt, lower-cased, in order, without repeats."""
    # NFKC folds full-width "＠" and letters so a mention cannot dodge the check by styling.
    text = unicodedata.normalize("NFKC", prompt).lower()
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def check_cameo_consent(
    ledger: CameoReader,
    graph: FollowGraph,
    *,
    principal_id: str,
    prompt: str,
    at: datetime,
    explicit_cameo_ids: Sequence[str] = (),
    public_figure_ids: Iterable[str] = (),
) -> ConsentCheckResult:
    decisions: list[ReferenceDecision] = []
    unresolved: list[str] = []
    decided: set[str] = set()

    def decide(reference: CameoReference, record: CameoRecord | None) -> None:
        key = record.cameo_id if record else f"{reference.source}:{reference.cameo_id}"
        if key in decided and record is not None:
            return
        decided.add(key)
        decisions.append(
            ReferenceDecision(
                reference,
                decide_cameo_use(record, principal_id, at, graph, cameo_id=reference.cameo_id),
            )
        )

    for cameo_id in explicit_cameo_ids:
        record = ledger.get(cameo_id)
        decide(CameoReference(ReferenceSource.EXPLICIT, cameo_id), record)
    for handle in find_cameo_mentions(prompt):
        record = ledger.by_handle(handle)
        if record is None:
            # An @word that is no cameo brings no likeness into the video: it is only text.
            unresolved.append(handle)
            continue
        decide(CameoReference(ReferenceSource.MENTION, record.cameo_id, handle=handle), record)
    for figure_id in dict.fromkeys(public_figure_ids):
        record = ledger.cameo_for_public_figure(figure_id)
        reference = CameoReference(
            ReferenceSource.PUBLIC_FIGURE,
            record.cameo_id if record else None,
            public_figure_id=figure_id,
        )
        if record is None:
            decisions.append(
                ReferenceDecision(
                    reference,
                    ConsentDecision(
                        cameo_id="",
                        principal_id=principal_id,
                        allowed=False,
                        reason=DecisionReason.PUBLIC_FIGURE_WITHOUT_CAMEO,
                        decided_at=at,
                        cameo_version=0,
                    ),
                )
            )
        else:
            decide(reference, record)
    return ConsentCheckResult(principal_id, at, tuple(decisions), tuple(unresolved))


def recheck_at_pickup(
    ledger: CameoReader,
    graph: FollowGraph,
    *,
    principal_id: str,
    cameo_ids: Sequence[str],
    at: datetime,
) -> ConsentCheckResult:
    """The generator's second look: the cameos approved at request time, against the ledger
    as it is now, so a revocation between approval and pick-up cancels the job."""
    decisions = tuple(
        ReferenceDecision(
            CameoReference(ReferenceSource.EXPLICIT, cameo_id),
            decide_cameo_use(ledger.get(cameo_id), principal_id, at, graph, cameo_id=cameo_id),
        )
        for cameo_id in dict.fromkeys(cameo_ids)
    )
    return ConsentCheckResult(principal_id, at, decisions)


def likeness_consent_callable(
    ledger: CameoReader, graph: FollowGraph, clock: Callable[[], datetime]
) -> Callable[[str, str], bool]:
    """Adapter for the moderation pipeline's ``LikenessConsent``: (requester, figure) -> bool.

    True when the figure's verified cameo exists and the requester may use it now.
    """

    def consent(requester_id: str, public_figure_id: str) -> bool:
        record = ledger.cameo_for_public_figure(public_figure_id)
        if record is None:
            return False
        return decide_cameo_use(record, requester_id, clock(), graph).allowed

    return consent
