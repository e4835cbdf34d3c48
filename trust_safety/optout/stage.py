"""The opt-out registry as a stage of the prompt moderation pipeline (category ``ip``).

The matcher's own calibrated thresholds decide whether a prompt matches an opt-out, so the
stage reports ``ip`` = 1.0 on a match and nothing otherwise; the raw score and method go into
the evidence. Each evidence item's ``ref`` is ``optout:<id>``: a refusal cites the opt-out it
enforced, and the rights holder's blocked-request count is taken from those citations.
"""

from __future__ import annotations

from trust_safety.moderation.categories import Category
from trust_safety.moderation.language import NON_LATIN_LANGUAGES
from trust_safety.moderation.normalise import NormalisedPrompt
from trust_safety.moderation.stages import Evidence, ModerationContext, StageResult
from trust_safety.optout.brands import BRAND_REF_PREFIX, BrandRewriter
from trust_safety.optout.prompt_matcher import OptOutPromptMatcher

OPTOUT_REF_PREFIX = "optout:"


def optout_ref(optout_id: str) -> str:
    return f"{OPTOUT_REF_PREFIX}{optout_id}"


def optout_id_from_ref(ref: str) -> str | None:
    return ref[len(OPTOUT_REF_PREFIX) :] if ref.startswith(OPTOUT_REF_PREFIX) else None


class OptOutStage:
    name = "ip_optout"
    version = "1"

    def __init__(
        self,
        matcher: OptOutPromptMatcher,
        registry_position: int = 0,
        brands: BrandRewriter | None = None,
    ) -> None:
        self.matcher = matcher
        self.brands = brands
        # The registry's event position the matcher was compiled from, so a decision can be
        # replayed against exactly the opt-outs it saw.
        self.registry_position = registry_position

    def evaluate(self, prompt: NormalisedPrompt, context: ModerationContext) -> StageResult:
        # The request's territory, when the context carries one (unknown: every opt-out applies).
        territory = getattr(context, "territory", None)
        # The English embedder reads Latin-script text only; names still match in any prompt.
        by_meaning = context.language not in NON_LATIN_LANGUAGES
        result = self.matcher.match(prompt, territory=territory, by_meaning=by_meaning)
        evidence = [
            Evidence(
                Category.IP,
                f"optout_{match.method.value}",
                optout_ref(match.optout_id),
                match.score,
                view=match.view,
                detail=f"{match.matched!r} ~ {match.prompt_span!r}",
            )
            for match in result.best_by_optout().values()
        ]
        branded = self.brands.rewrite(prompt.original, territory) if self.brands else None
        if branded is not None:
            evidence += [
                Evidence(
                    None,
                    "optout_brand",
                    f"{BRAND_REF_PREFIX}{mention.optout_id}",
                    1.0,
                    detail=f"{mention.brand!r} -> {mention.generic!r}",
                )
                for mention in branded[1]
            ]
        return StageResult(
            stage=self.name,
            version=self.version,
            scores={Category.IP: 1.0} if result.matches else {},
            evidence=tuple(evidence),
            rewrite=branded[0] if branded is not None else None,
            data_versions={"optout_registry": str(self.registry_position)},
        )
