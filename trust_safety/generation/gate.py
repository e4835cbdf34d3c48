"""``prompt-moderation``: the processor that decides every ``GenerationRequested``.

Checks, in order, each recorded in ``PromptModerated`` whether it passed or not:

1. lineage: an extend continues the requester's own approved generation; a remix derives from
   the requester's own or a published generation;
2. upload: an image-to-video input is the requester's own approved upload;
3. prompt: the moderation pipeline over the live lists, with the opt-out registry's ``ip``
   stage and the consent ledger's public-figure seam plugged in;
4. consent: every cameo the request names or @mentions may be used by the requester now.

The first failing check refuses the request; otherwise it is approved with the prompt the
pipeline produced (a living-artist rewrite included). Where an LLM filter is configured, a
decision the pipeline refers (a language it cannot read, a borderline approval) whose other
checks passed is recorded as referred (``PromptModerated.referral``) without an outcome; the
``prompt-filter-review`` processor (``filter_review.py``) asks the filter and decides.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from contracts.generation import (
    GENERATION,
    GenerationApproved,
    GenerationRefused,
    PromptModerated,
    generation_history,
)
from core.events import SYSTEM_ACTOR, RecordedEvent
from core.ports import Resource
from core.projections import Append, Processor
from core.services import Services
from trust_safety.classifiers.text_embedding import TextEmbedder, default_cache_dir
from trust_safety.generation.lists import LiveLists, load_live_lists
from trust_safety.moderation.artists import ArtistStyleStage, load_default_artists
from trust_safety.moderation.blocklist import BlocklistStage
from trust_safety.moderation.categories import (
    LANGUAGE_UNSUPPORTED,
    LANGUAGE_UNSUPPORTED_REASON,
    USER_FACING_REASON,
    Category,
)
from trust_safety.moderation.figures import PublicFigureStage
from trust_safety.moderation.filter_settings import PromptFilterSettings
from trust_safety.moderation.llm_filter import PromptFilter, build_filter
from trust_safety.moderation.minors import MinorsStage
from trust_safety.moderation.multilingual import default_gloss_stage, default_multilingual_stages
from trust_safety.moderation.pipeline import ModerationDecision, PromptModerationPipeline
from trust_safety.moderation.policy import load_default_policy
from trust_safety.moderation.private_names import load_default_person_names, private_name_stage
from trust_safety.moderation.semantic import SemanticStage, load_default_exemplars
from trust_safety.moderation.stages import ModerationContext, PromptStage

GATE_REASONS: dict[str, str] = {
    "cameo_consent": "A cameo in the request has not been shared with you, or its consent was withdrawn.",
    "upload_refused": "The uploaded input cannot be used for generation.",
    "source_unavailable": "The video to extend or remix is not available to you.",
    "invalid_request": "The request is incomplete and cannot be judged.",
    LANGUAGE_UNSUPPORTED: LANGUAGE_UNSUPPORTED_REASON,
    # a borderline prompt the LLM filter could not read in time (it fails closed)
    "review_unavailable": "The prompt could not be checked right now. Please try again later.",
}


def reason_text(reason_category: str) -> str:
    try:
        return USER_FACING_REASON[Category(reason_category)]
    except ValueError:
        return GATE_REASONS[reason_category]


def _default_embedder(_services: Services) -> TextEmbedder:
    from trust_safety.classifiers.text_embedding import shared_minilm

    return shared_minilm()


# The semantic stage's text embedder (MiniLM); tests may override it with a lighter one.
TEXT_EMBEDDER = Resource[TextEmbedder]("moderation.text_embedder", _default_embedder)


def _default_multilingual_embedder(_services: Services) -> TextEmbedder:
    from trust_safety.classifiers.text_embedding import shared_multilingual

    return shared_multilingual()


# The multilingual stage's encoder (multilingual-e5-small) for prompts in other languages.
MULTILINGUAL_EMBEDDER = Resource[TextEmbedder](
    "moderation.multilingual_embedder", _default_multilingual_embedder
)


def _configured_filter(services: Services) -> PromptFilter | None:
    return build_filter(services.settings.section(PromptFilterSettings))


# The LLM filter referred decisions go to (CLEARFRAME_LLM_FILTER_*); None: none configured.
PROMPT_FILTER = Resource[PromptFilter | None]("moderation.prompt_filter", _configured_filter)


class _PipelineCache:
    """The static stages are built once; list-backed stages are rebuilt when a list moves."""

    def __init__(self, services: Services) -> None:
        self.lock = threading.Lock()
        embedder = services.resource(TEXT_EMBEDDER)
        # Exemplar embeddings are a pure function of model and exemplars: one cache per machine
        # (CLEARFRAME_CACHE_DIR), shared by every service instance and test.
        self.semantic = SemanticStage(
            embedder, load_default_exemplars(), cache_dir=default_cache_dir()
        )
        self.multilingual = tuple(
            default_multilingual_stages(
                services.resource(MULTILINGUAL_EMBEDDER),
                load_default_exemplars(),
                cache_dir=default_cache_dir(),
            )
        )
        self.artist_list = load_default_artists()
        self.artists = ArtistStyleStage(self.artist_list)
        self.person_names = load_default_person_names()
        self.minors = MinorsStage()
        self.policy = load_default_policy()
        self.key: tuple[int, int] | None = None
        self.list_stages: tuple[PromptStage, PromptStage, PromptStage] | None = None

    def pipeline(self, lists: LiveLists, extra: Sequence[PromptStage]) -> PromptModerationPipeline:
        with self.lock:
            if self.list_stages is None or self.key != lists.key:
                self.list_stages = (
                    BlocklistStage(lists.blocklist),
                    PublicFigureStage(lists.figures, lists.offices),
                    # Knows the live figure list: a figure's name is never a private person's.
                    private_name_stage(lists.figures, self.artist_list, self.person_names),
                )
                self.key = lists.key
            blocklist_stage, figure_stage, private_names = self.list_stages
        return PromptModerationPipeline(
            [
                blocklist_stage,
                self.minors,
                figure_stage,
                self.artists,
                private_names,
                self.semantic,
                *self.multilingual,
                default_gloss_stage(blocklist_stage, self.semantic),
                *extra,
            ],
            self.policy,
        )


PIPELINE_CACHE = Resource[_PipelineCache]("moderation.pipeline_cache", _PipelineCache)


def gate_pipeline(services: Services) -> PromptModerationPipeline:
    """The pipeline as the gate runs it now: live lists plus the opt-out registry's stage."""
    from trust_safety.optout.public import optout_stage

    return services.resource(PIPELINE_CACHE).pipeline(
        load_live_lists(services), [optout_stage(services)]
    )


def _optout_ids(decision: ModerationDecision) -> list[str]:
    from trust_safety.optout.public import optout_id_from_ref

    return sorted({i for e in decision.evidence if (i := optout_id_from_ref(e.ref)) is not None})


class PromptModeration(Processor):
    name = "prompt-moderation"
    categories = (GENERATION,)

    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        if event.type != "GenerationRequested":
            return ()
        history = self.services.store.read_stream(event.stream_id)
        decided = ("PromptModerated", "GenerationApproved", "GenerationRefused")
        if any(e.type in decided for e in history):
            return ()  # decided already (a redelivery after the append)
        p = event.payload
        requester = str(p.get("requester_id") or event.actor.id)
        generation_id = str(p.get("generation_id") or event.stream_key)
        if not str(p.get("prompt") or "").strip():
            return [self._refuse_incomplete(event, history, generation_id, requester)]

        lineage = self._check_lineage(p, requester)
        upload = self._check_upload(p, requester)
        from trust_safety.consent.public import (
            cameo_name_consent,
            check_request_consent,
            likeness_consent,
        )

        at_request = lambda: event.occurred_at  # noqa: E731
        context = ModerationContext(
            requester_id=requester,
            likeness_consent=likeness_consent(self.services, clock=at_request),
            cameo_name_consent=cameo_name_consent(self.services, clock=at_request),
            territory=(p.get("territory") or None),
            at=event.occurred_at,
        )
        decision = gate_pipeline(self.services).moderate(str(p["prompt"]), context)
        # A public figure the pipeline let through was consented via the figure's cameo; the
        # ledger resolves it to that cameo so the generator receives it with the others.
        consented_figures = sorted(
            {
                e.ref
                for e in decision.evidence
                if e.kind == "public_figure" and e.detail == "consent on record"
            }
        )
        consent = check_request_consent(
            self.services,
            principal_id=requester,
            prompt=str(p["prompt"]),
            at=event.occurred_at,
            explicit_cameo_ids=list(p.get("cameo_ids") or []),
            public_figure_ids=consented_figures,
        )
        consent_record = {
            "allowed": consent.allowed,
            "decisions": [d.decision.as_evidence() for d in consent.decisions],
            "unresolved_mentions": list(consent.unresolved_mentions),
            "cameo_ids": list(consent.cameo_ids),
        }

        failure: tuple[str, str] | None = None
        if not lineage["ok"]:
            failure = ("lineage", "source_unavailable")
        elif upload is not None and not upload["ok"]:
            failure = ("upload", "upload_refused")
        elif not decision.approved:
            failure = ("prompt", str(decision.refusal_code))
        elif not consent.allowed:
            failure = ("consent", "cameo_consent")

        # A referred decision waits for the filter's reading, but only when nothing else
        # refused: a pipeline referral is never a harm it found.
        others_passed = lineage["ok"] and (upload is None or upload["ok"]) and consent.allowed
        if (
            decision.referral is not None
            and others_passed
            and self.services.resource(PROMPT_FILTER) is not None
        ):
            referred = PromptModerated(
                generation_id=generation_id,
                approved=False,
                reason_category=None,
                stage="llm_filter",
                prompt_decision=decision.to_record(),
                upload=upload,
                consent=consent_record,
                lineage=lineage,
                requester_id=requester,
                referral=decision.referral,
            )
            return [
                Append(
                    event.stream_id, [referred], expected_version=len(history), actor=SYSTEM_ACTOR
                )
            ]

        moderated = PromptModerated(
            generation_id=generation_id,
            approved=failure is None,
            reason_category=failure[1] if failure else None,
            stage=failure[0] if failure else None,
            prompt_decision=decision.to_record(),
            upload=upload,
            consent=consent_record,
            lineage=lineage,
            requester_id=requester,
        )
        outcome: GenerationApproved | GenerationRefused
        if failure is None:
            outcome = GenerationApproved(
                generation_id=generation_id,
                requester_id=requester,
                prompt=decision.effective_prompt,
                prompt_rewritten=decision.rewrite is not None,
                cameo_ids=list(consent.cameo_ids),
                remix_of=list(p.get("remix_of") or []),
                policy_version=decision.policy_version,
            )
        else:
            stage, category = failure
            outcome = GenerationRefused(
                generation_id=generation_id,
                requester_id=requester,
                reason_category=category,
                reason=reason_text(category),
                stage=stage,
                optout_ids=_optout_ids(decision) if category == Category.IP.value else [],
                policy_version=decision.policy_version,
            )
        return [
            Append(
                event.stream_id,
                [moderated, outcome],
                expected_version=len(history),
                actor=SYSTEM_ACTOR,
            )
        ]

    def _refuse_incomplete(
        self,
        event: RecordedEvent,
        history: Sequence[RecordedEvent],
        generation_id: str,
        requester: str,
    ) -> Append:
        """A request without a prompt (an older or hand-built event) cannot be judged."""
        version = load_default_policy().version
        moderated = PromptModerated(
            generation_id=generation_id,
            approved=False,
            reason_category="invalid_request",
            stage="request",
            prompt_decision={},
        )
        refused = GenerationRefused(
            generation_id=generation_id,
            requester_id=requester,
            reason_category="invalid_request",
            reason=GATE_REASONS["invalid_request"],
            stage="request",
            policy_version=version,
        )
        return Append(
            event.stream_id, [moderated, refused], expected_version=len(history), actor=SYSTEM_ACTOR
        )

    def _check_lineage(self, p: dict[str, Any], requester: str) -> dict[str, Any]:
        sources = [*([p["extends"]] if p.get("extends") else []), *(p.get("remix_of") or [])]
        checked: list[dict[str, Any]] = []
        ok = True
        for source in sources:
            # the source's publication is provenance's, on its own stream
            events = generation_history(self.services.store, source)
            approved = [e for e in events if e.type == "GenerationApproved"]
            owner = approved[-1].payload.get("requester_id") if approved else None
            published = any(e.type == "AssetPublished" for e in events)
            own = owner == requester
            usable = bool(approved) and (own if source == p.get("extends") else (own or published))
            checked.append(
                {
                    "generation_id": source,
                    "approved": bool(approved),
                    "own": own,
                    "published": published,
                }
            )
            ok = ok and usable
        return {"ok": ok, "sources": checked}

    def _check_upload(self, p: dict[str, Any], requester: str) -> dict[str, Any] | None:
        upload_id = p.get("upload_id")
        if not upload_id:
            return None
        from trust_safety.uploads.service import load_upload

        record = load_upload(self.services, str(upload_id))
        ok = (
            record is not None
            and record["owner_id"] == requester
            and bool(record["approved"])
            and str(record["decision"]["media_type"]).startswith("image/")
        )
        return {
            "ok": ok,
            "upload_id": upload_id,
            "found": record is not None,
            "reason_category": record["reason_category"] if record else None,
            "sha256": record["decision"]["sha256"] if record else None,
        }
