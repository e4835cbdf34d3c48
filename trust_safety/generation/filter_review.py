"""``prompt-filter-review``: the LLM filter's reading of the decisions the gate referred.

The gate records a referred decision as ``PromptModerated`` with ``referral`` set and no
outcome (gate.py). This processor asks the configured filter (bounded by its timeout), and
appends ``PromptFilterReviewed`` with the outcome in one append:

* allow: ``GenerationApproved`` with the prompt the gate would have approved (a living-artist
  rewrite included);
* refuse: ``GenerationRefused`` with the filter's category, or, when it named none, the
  decision's own (``language_unsupported``, or the borderline category it was nearest to);
* no verdict (timeout, endpoint down, an answer it could not read, no filter configured any
  more): refused, fail closed: ``language_unsupported`` for a language referral,
  ``review_unavailable`` for a borderline one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from contracts.generation import (
    GENERATION,
    GenerationApproved,
    GenerationRefused,
    PromptFilterReviewed,
    PromptModerated,
)
from core.errors import redact_paths
from core.events import SYSTEM_ACTOR, RecordedEvent
from core.projections import Append, Processor
from core.services import Services
from trust_safety.generation.gate import PROMPT_FILTER, reason_text
from trust_safety.moderation.categories import LANGUAGE_UNSUPPORTED, Category
from trust_safety.moderation.llm_filter import FilterFailed, FilterVerdict
from trust_safety.moderation.pipeline import REFERRAL_LANGUAGE

log = logging.getLogger(__name__)

STAGE = "llm_filter"
REVIEW_UNAVAILABLE = "review_unavailable"
_DECIDED = ("PromptFilterReviewed", "GenerationApproved", "GenerationRefused")


class PromptFilterReview(Processor):
    name = "prompt-filter-review"
    categories = (GENERATION,)

    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        if event.type != "PromptModerated" or not event.payload.get("referral"):
            return ()
        history = self.services.store.read_stream(event.stream_id)
        if any(e.type in _DECIDED for e in history):
            return ()  # reviewed already (a redelivery after the append)
        moderated = event.payload_as(PromptModerated)
        request = _request(history)
        prompt = str(request.get("prompt") or "")
        record = moderated.prompt_decision
        started = time.monotonic()
        prompt_filter = self.services.resource(PROMPT_FILTER)
        verdict: FilterVerdict | None = None
        failure: FilterFailed | None = None
        if prompt_filter is None:
            failure = FilterFailed("no LLM filter is configured any more")
            failure.failure = "unconfigured"
        elif not prompt.strip():
            failure = FilterFailed("the request's prompt is missing")
            failure.failure = "invalid_request"
        else:
            try:
                verdict = prompt_filter.review(
                    prompt,
                    referral=str(moderated.referral),
                    language=(record.get("language") or {}).get("code"),
                    scores=dict(record.get("scores") or {}),
                )
            except FilterFailed as exc:
                failure = exc
        if failure is not None:
            log.warning(
                "LLM filter gave no verdict on %s (%s); refusing",
                moderated.generation_id,
                failure.failure,
            )
        elapsed = max(0, round((time.monotonic() - started) * 1000))
        model_id = prompt_filter.model_id if prompt_filter is not None else "none"
        return [
            self._decide(event, history, moderated, request, verdict, failure, model_id, elapsed)
        ]

    def on_dead_letter(self, event: RecordedEvent, error: BaseException) -> Sequence[Append]:
        """A review that kept failing for another reason still ends in a refusal."""
        if event.type != "PromptModerated" or not event.payload.get("referral"):
            return ()
        history = self.services.store.read_stream(event.stream_id)
        if any(e.type in _DECIDED for e in history):
            return ()
        failure = FilterFailed(f"the review failed ({type(error).__name__})")
        moderated = event.payload_as(PromptModerated)
        return [
            self._decide(event, history, moderated, _request(history), None, failure, "none", 0)
        ]

    def _decide(
        self,
        event: RecordedEvent,
        history: Sequence[RecordedEvent],
        moderated: PromptModerated,
        request: dict[str, Any],
        verdict: FilterVerdict | None,
        failure: FilterFailed | None,
        model_id: str,
        elapsed_ms: int,
    ) -> Append:
        record = moderated.prompt_decision
        referral = str(moderated.referral)
        requester = str(moderated.requester_id or request.get("requester_id") or "")
        generation_id = moderated.generation_id
        policy_version = str(record.get("policy_version") or "")
        reviewed = PromptFilterReviewed(
            generation_id=generation_id,
            requester_id=requester,
            referral=referral,
            verdict=verdict.verdict if verdict else None,
            reason_category=verdict.category.value if verdict and verdict.category else None,
            rationale=(verdict.rationale if verdict else redact_paths(str(failure or ""))[:1000]),
            model_id=verdict.model_id if verdict else model_id,
            elapsed_ms=verdict.elapsed_ms if verdict else elapsed_ms,
            failure=failure.failure if failure is not None else None,
        )
        outcome: GenerationApproved | GenerationRefused
        if verdict is not None and verdict.verdict == "allow":
            rewrite = record.get("rewrite")
            outcome = GenerationApproved(
                generation_id=generation_id,
                requester_id=requester,
                prompt=str(rewrite["after"]) if rewrite else str(request.get("prompt") or ""),
                prompt_rewritten=rewrite is not None,
                cameo_ids=list((moderated.consent or {}).get("cameo_ids") or []),
                remix_of=list(request.get("remix_of") or []),
                policy_version=policy_version,
            )
        else:
            if verdict is not None:
                category = (
                    verdict.category.value
                    if verdict.category is not None
                    else _decision_category(referral, record)
                )
            else:
                category = (
                    LANGUAGE_UNSUPPORTED if referral == REFERRAL_LANGUAGE else REVIEW_UNAVAILABLE
                )
            outcome = GenerationRefused(
                generation_id=generation_id,
                requester_id=requester,
                reason_category=category,
                reason=reason_text(category),
                stage=STAGE,
                optout_ids=_optout_ids(record) if category == Category.IP.value else [],
                policy_version=policy_version,
            )
        return Append(
            event.stream_id, [reviewed, outcome], expected_version=len(history), actor=SYSTEM_ACTOR
        )


def _request(history: Sequence[RecordedEvent]) -> dict[str, Any]:
    return next((dict(e.payload) for e in history if e.type == "GenerationRequested"), {})


def _decision_category(referral: str, record: dict[str, Any]) -> str:
    """What a refusal the filter gave no category for is refused as: a language referral as
    the language, a borderline one as the category whose score brought it to the filter."""
    if referral == REFERRAL_LANGUAGE:
        return LANGUAGE_UNSUPPORTED
    scores = {k: float(v) for k, v in (record.get("scores") or {}).items() if k in set(Category)}
    if not scores:
        return REVIEW_UNAVAILABLE
    return max(sorted(scores), key=lambda k: scores[k])


def _optout_ids(record: dict[str, Any]) -> list[str]:
    from trust_safety.optout.public import optout_id_from_ref

    refs = (str(e.get("ref") or "") for e in record.get("evidence") or [])
    return sorted({i for ref in refs if (i := optout_id_from_ref(ref)) is not None})
