"""The prompt moderation pipeline: normalise, run the stages, apply the policy.

The decision keeps its evidence (which stage matched what, in which view, against which list
version) for reviewers and appeals; ``user_view()`` is the only part a requester sees: the
reason category and a fixed sentence, never a list entry or an exemplar.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.blas import numpy_blas_single_thread
from core.once import once
from trust_safety.classifiers.text_embedding import (
    MiniLMEmbedder,
    TextEmbedder,
    default_cache_dir,
    minilm_graph_path,
    shared_minilm,
    shared_multilingual,
)
from trust_safety.moderation.artists import ArtistStyleStage, load_default_artists
from trust_safety.moderation.blocklist import BlocklistStage, load_default_blocklist
from trust_safety.moderation.categories import (
    LANGUAGE_UNSUPPORTED,
    LANGUAGE_UNSUPPORTED_REASON,
    USER_FACING_REASON,
    Category,
)
from trust_safety.moderation.errors import DuplicateStage
from trust_safety.moderation.figures import PublicFigureStage, load_default_figures
from trust_safety.moderation.language import LanguageReading, identify
from trust_safety.moderation.minors import MinorsStage
from trust_safety.moderation.multilingual import default_gloss_stage, default_multilingual_stages
from trust_safety.moderation.normalise import NormalisedPrompt, normalise
from trust_safety.moderation.policy import Policy, load_default_policy
from trust_safety.moderation.private_names import private_name_stage
from trust_safety.moderation.semantic import SemanticStage, load_default_exemplars
from trust_safety.moderation.stages import (
    Evidence,
    ModerationContext,
    PromptStage,
    Rewrite,
    StageResult,
)

PIPELINE_VERSION = "2"

# Why a decision wants a second reader (the LLM filter, where one is configured).
REFERRAL_LANGUAGE = "language_unsupported"
REFERRAL_BORDERLINE = "borderline"


@dataclass(frozen=True, slots=True)
class ModerationDecision:
    approved: bool
    reason: Category | None
    refused_categories: tuple[Category, ...]
    policy_version: str
    stage_versions: dict[str, str]
    data_versions: dict[str, str]
    scores: dict[Category, float]
    minor_mode: bool
    evidence: tuple[Evidence, ...]
    # The prompt's rewrites as the pipeline chained them, each step's before being the
    # previous step's after; ``rewrite`` is all of them at once (first before, last after).
    rewrites: tuple[Rewrite, ...]
    # What the generator receives: the rewritten prompt when a rewrite applied.
    effective_prompt: str
    normalised_prompt: str
    language: LanguageReading
    # REFERRAL_LANGUAGE: the language is not covered (the decision is refused unless a
    # second reader approves it); REFERRAL_BORDERLINE: approved, but a score came within the
    # policy's referral margin of its threshold. None: nothing for a second reader.
    referral: str | None = None

    @property
    def rewrite(self) -> Rewrite | None:
        if not self.rewrites:
            return None
        if len(self.rewrites) == 1:
            return self.rewrites[0]
        return Rewrite(
            "+".join(r.kind for r in self.rewrites),
            self.rewrites[0].before,
            self.rewrites[-1].after,
            tuple(ref for r in self.rewrites for ref in r.refs),
        )

    @property
    def refusal_code(self) -> str | None:
        """What the requester is told was wrong: a category, or that the language is not
        supported yet; None when approved."""
        if self.approved:
            return None
        return self.reason.value if self.reason is not None else LANGUAGE_UNSUPPORTED

    def user_view(self) -> dict[str, Any]:
        if self.approved:
            return {
                "outcome": "approved",
                "prompt_rewritten": self.rewrite is not None,
            }
        return {
            "outcome": "refused",
            "reason_category": self.refusal_code,
            "reason": (
                USER_FACING_REASON[self.reason]
                if self.reason is not None
                else LANGUAGE_UNSUPPORTED_REASON
            ),
        }

    def to_record(self) -> dict[str, Any]:
        """The full decision, for the ``PromptModerated`` event and reviewers."""
        return {
            "approved": self.approved,
            "reason": self.refusal_code,
            "refused_categories": [c.value for c in self.refused_categories],
            "policy_version": self.policy_version,
            "pipeline_version": PIPELINE_VERSION,
            "stage_versions": dict(self.stage_versions),
            "data_versions": dict(self.data_versions),
            "scores": {c.value: round(s, 4) for c, s in sorted(self.scores.items())},
            "minor_mode": self.minor_mode,
            "evidence": [e.to_record() for e in self.evidence],
            "rewrite": self.rewrite.to_record() if self.rewrite else None,
            "rewrites": [r.to_record() for r in self.rewrites],
            "effective_prompt": self.effective_prompt,
            "normalised_prompt": self.normalised_prompt,
            "language": self.language.to_record(),
            "referral": self.referral,
        }


# Semantic evidence below this similarity says nothing a reviewer needs.
_EVIDENCE_FLOOR = 0.35


@once
def _stage_threads() -> ThreadPoolExecutor:
    """Where concurrent stages run (stages.py). Two threads: two requests decided at once on
    two threads each start one, as they did when every stage ran on the caller's thread."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="moderation-stage")


class PromptModerationPipeline:
    def __init__(
        self, stages: Sequence[PromptStage], policy: Policy, *, run_beside: bool = True
    ) -> None:
        names = [s.name for s in stages]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise DuplicateStage(f"stage names must be unique; repeated: {duplicates}")
        self.stages: tuple[PromptStage, ...] = tuple(stages)
        self.policy = policy
        # False: concurrent stages run on the caller's thread too (the benches' baseline).
        self.run_beside = run_beside

    def with_stage(self, stage: PromptStage) -> PromptModerationPipeline:
        return PromptModerationPipeline(
            (*self.stages, stage), self.policy, run_beside=self.run_beside
        )

    def replace_stage(self, stage: PromptStage) -> PromptModerationPipeline:
        """Swap the stage of the same name (e.g. after an admin edits a list)."""
        if stage.name not in {s.name for s in self.stages}:
            raise DuplicateStage(f"no stage named {stage.name!r} to replace")
        return PromptModerationPipeline(
            tuple(stage if s.name == stage.name else s for s in self.stages),
            self.policy,
            run_beside=self.run_beside,
        )

    def stage(self, name: str) -> PromptStage | None:
        return next((s for s in self.stages if s.name == name), None)

    def read(
        self, prompt: str, context: ModerationContext | None = None
    ) -> tuple[NormalisedPrompt, LanguageReading, list[StageResult]]:
        """Every stage's reading of the prompt, before the policy decides (the threshold fit
        replays policies over these)."""
        # numpy's BLAS threads would spin after the language identifier's and the
        # similarities' small products and take the cores from the encoders' own threads.
        with numpy_blas_single_thread():
            normalised = normalise(prompt)
            language = identify(prompt)
            context = replace(context or ModerationContext(), language=language.code)
            beside = {
                index: _stage_threads().submit(stage.evaluate, normalised, context)
                for index, stage in enumerate(self.stages)
                if self.run_beside and getattr(stage, "concurrent", False)
            }
            try:
                inline = {
                    index: stage.evaluate(normalised, context)
                    for index, stage in enumerate(self.stages)
                    if index not in beside
                }
            finally:
                # Collected even when an inline stage raised, so no reading outlives its
                # request; a concurrent stage's own error is raised here, as inline.
                collected = {index: future.result() for index, future in beside.items()}
        results = [inline[i] if i in inline else collected[i] for i in range(len(self.stages))]
        return normalised, language, results

    def moderate(self, prompt: str, context: ModerationContext | None = None) -> ModerationDecision:
        normalised, language, results = self.read(prompt, context)
        outcome = self.policy.decide(results)
        rewrites = chain_rewrites(prompt, [r.rewrite for r in results if r.rewrite is not None])
        evidence = tuple(
            e
            for r in results
            for e in r.evidence
            if e.kind != "exemplar" or e.score >= _EVIDENCE_FLOOR
        )
        data_versions: dict[str, str] = {}
        for r in results:
            data_versions.update(r.data_versions)
        # A harm the stages could read is refused for what it is; a prompt they could not
        # read is not approved on silence.
        approved = outcome.approved and language.covered
        referral: str | None = None
        if outcome.approved and not language.covered:
            referral = REFERRAL_LANGUAGE
        elif outcome.approved and self.policy.borderline(outcome):
            referral = REFERRAL_BORDERLINE
        return ModerationDecision(
            approved=approved,
            reason=outcome.primary,
            refused_categories=outcome.refused,
            policy_version=self.policy.version,
            stage_versions={r.stage: r.version for r in results},
            data_versions=data_versions,
            scores=dict(outcome.scores),
            minor_mode=outcome.minor_mode,
            evidence=evidence,
            rewrites=rewrites,
            effective_prompt=rewrites[-1].after if (rewrites and approved) else prompt,
            normalised_prompt=normalised.base,
            language=language,
            referral=referral,
        )


def chain_rewrites(prompt: str, rewrites: Sequence[Rewrite]) -> tuple[Rewrite, ...]:
    """The stages' rewrites applied one after another, in stage order.

    Each stage rewrote the prompt as typed; here each change is made to the text the previous
    one left. A rewrite that cannot be replayed on that text (it had matched a repaired view,
    or has no ``apply``) starts from its own ``after``, with the earlier changes made again
    on top, so no change is lost.
    """
    steps: list[Rewrite] = []
    text = prompt
    for rewrite in rewrites:
        after = rewrite.apply(text) if rewrite.apply is not None else text
        if after == text:
            after = rewrite.after
            for earlier in steps:
                if earlier.apply is not None:
                    after = earlier.apply(after)
        if after == text:
            continue
        steps.append(replace(rewrite, before=text, after=after))
        text = after
    return tuple(steps)


def build_exemplar_cache(cache_dir: Path) -> list[Path]:
    """Export MiniLM's ONNX graph and embed the shipped exemplars for both semantic stages
    into ``cache_dir`` (or find them there), so that no request pays for it; the files
    written or found."""
    from trust_safety.moderation.multilingual import (
        MultilingualSemanticStage,
        load_default_multilingual_exemplars,
    )

    english = load_default_exemplars()
    minilm = MiniLMEmbedder(cache_dir=cache_dir)
    graphs = [minilm_graph_path(cache_dir)] if minilm.backend == "onnx" else []
    stages = (
        SemanticStage(minilm, english, cache_dir=cache_dir),
        MultilingualSemanticStage(
            shared_multilingual(), load_default_multilingual_exemplars(english), cache_dir=cache_dir
        ),
    )
    return graphs + [s.cache_file for s in stages if s.cache_file is not None]


def build_default_pipeline(
    *,
    embedder: TextEmbedder | None = None,
    multilingual_embedder: TextEmbedder | None = None,
    extra_stages: Sequence[PromptStage] = (),
    policy: Policy | None = None,
    cache_dir: Path | None = None,
) -> PromptModerationPipeline:
    """The shipped stages over the shipped data. ``extra_stages`` is where other packages'
    stages (the IP opt-out matcher) plug in."""
    embedder = embedder if embedder is not None else shared_minilm()
    cache_dir = cache_dir or default_cache_dir()
    english = load_default_exemplars()
    multilingual = (
        multilingual_embedder if multilingual_embedder is not None else shared_multilingual()
    )
    blocklist = BlocklistStage(load_default_blocklist())
    semantic = SemanticStage(embedder, english, cache_dir=cache_dir)
    figures = load_default_figures()
    artists = load_default_artists()
    stages: list[PromptStage] = [
        blocklist,
        MinorsStage(),
        PublicFigureStage.with_offices(figures),
        ArtistStyleStage(artists),
        private_name_stage(figures, artists),
        semantic,
        *default_multilingual_stages(multilingual, english, cache_dir=cache_dir),
        default_gloss_stage(blocklist, semantic),
        *extra_stages,
    ]
    return PromptModerationPipeline(stages, policy or load_default_policy())
