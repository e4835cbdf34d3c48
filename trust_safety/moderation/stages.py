"""The stage interface of the prompt pipeline, and the evidence a stage returns.

A stage is anything with a ``name``, a ``version`` and ``evaluate(prompt, context)``; the
pipeline runs them in order and hands their scores to the policy. Other packages plug in
their own stages (the IP opt-out registry contributes the ``ip`` scores this way) without
the pipeline knowing them.

A stage whose class sets ``concurrent = True`` spends its time in native code that releases
the GIL (the multilingual encoder's C engine): the pipeline starts it on a worker thread
before the others and collects it after them, so it reads the prompt beside them. Its
result keeps its place in stage order; it must not depend on another stage's result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from trust_safety.moderation.categories import Category
from trust_safety.moderation.normalise import NormalisedPrompt

# Answers "may this requester depict this public figure?": True when the figure is the
# requester's own verified cameo or the figure's cameo was granted to them. The consent
# ledger provides it; moderation only calls it.
LikenessConsent = Callable[[str, str], bool]
# Answers "may this requester depict the person of this name?": True when a cameo the
# requester may use (their own, or one granted to them) carries that display name.
CameoNameConsent = Callable[[str, str], bool]


@dataclass(frozen=True, slots=True)
class ModerationContext:
    requester_id: str | None = None
    likeness_consent: LikenessConsent | None = None
    cameo_name_consent: CameoNameConsent | None = None
    # ISO 3166-1 alpha-2 code of the request's territory (opt-outs can be territorial);
    # None means unknown, and every territorial rule applies.
    territory: str | None = None
    # The prompt's language (ISO 639-1, "und" when it has no letters), set by the pipeline
    # from its own reading; stages for other languages stay silent on "en".
    language: str | None = None
    # The moment the request is judged at (the gate passes the request event's time), so a
    # title resolves to the office holder of that day; None means now.
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a stage scored what it did. Internal: reviewers see it, requesters never do."""

    category: Category | None
    kind: str
    ref: str
    score: float
    view: str | None = None
    detail: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "category": self.category.value if self.category else None,
            "kind": self.kind,
            "ref": self.ref,
            "score": round(self.score, 4),
            "view": self.view,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A change the pipeline made to the prompt before generation (kept in the decision).

    ``before``/``after`` are the stage's own rewrite of the prompt as typed. ``apply`` makes
    the same change to any text, so the pipeline can chain several stages' rewrites (an
    artist's style and a private name in one prompt); without it a later rewrite starts from
    this one's ``after``.
    """

    kind: str
    before: str
    after: str
    refs: tuple[str, ...]
    apply: Callable[[str], str] | None = field(default=None, compare=False, repr=False)

    def to_record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "refs": list(self.refs),
        }


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: str
    version: str
    scores: Mapping[Category, float] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    # Named non-category signals the policy reads, e.g. "minor_reference".
    signals: Mapping[str, float] = field(default_factory=dict)
    rewrite: Rewrite | None = None
    # Data versions the stage consulted (list name -> version), so a decision can be
    # replayed against exactly the lists it saw.
    data_versions: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class PromptStage(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult: ...
