"""What other domains may ask the opt-out registry (the only module they may import).

* ``prompt_matcher(services)``: the compiled prompt matcher for the registry as projected now
  (recompiled only when an opt-out changed); ``optout_stage(services)`` wraps it as the
  moderation pipeline's ``ip`` stage, whose evidence cites ``optout:<id>``.
* ``output_matches(services, frames)``: the outputs-scoped opt-outs whose reference media
  these (sampled) output frames show, with the frames that show it (output moderation's
  ``ip`` category, trust_safety/output/classifiers.py). The index behind it follows the
  opt-out events in the store before every match (``output_index.py``).
* ``training_exclusions(services)``: opt-outs scoped to training, for dataset exports.
* ``territory_code(value)``: a request's territory, validated (ISO 3166-1 alpha-2 only).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import func, select

from core.ports import Resource
from core.services import Services
from trust_safety.classifiers.text_embedding import TextEmbedder
from trust_safety.optout.brands import BrandRewriter
from trust_safety.optout.facts import Scope
from trust_safety.optout.media_loader import LocalFileMediaLoader
from trust_safety.optout.models import OptOutRow
from trust_safety.optout.output_index import MatchedFrame, OptOutOutputMatch, OutputOptOutIndex
from trust_safety.optout.projection import record_from_row
from trust_safety.optout.prompt_matcher import OptOutPromptMatcher, PromptMatchResult
from trust_safety.optout.reference_media import Frame
from trust_safety.optout.registry import OptOutRecord
from trust_safety.optout.stage import OptOutStage, optout_id_from_ref, optout_ref
from trust_safety.optout.territories import UnknownTerritory, territory_code

__all__ = [
    "OUTPUT_INDEX",
    "MatchedFrame",
    "OptOutOutputMatch",
    "OptOutStage",
    "UnknownTerritory",
    "PromptMatchResult",
    "optout_id_from_ref",
    "optout_ref",
    "optout_stage",
    "output_matches",
    "prompt_matcher",
    "registry_records",
    "territory_code",
    "training_exclusions",
]


def registry_records(services: Services) -> tuple[int, list[OptOutRecord]]:
    """Every projected opt-out and the registry's position (highest event folded in)."""
    with services.read_sessions() as s:
        rows = list(s.scalars(select(OptOutRow).order_by(OptOutRow.optout_id)))
        position = int(s.scalar(select(func.coalesce(func.max(OptOutRow.position), 0))) or 0)
        return position, [record_from_row(r) for r in rows]


class _MatcherCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[int, int] | None = None
        self.matcher: OptOutPromptMatcher | None = None
        self.brands: BrandRewriter | None = None


def _default_embedder(_services: Services) -> TextEmbedder | None:
    from trust_safety.classifiers.text_embedding import shared_minilm

    return shared_minilm()


# The matcher's text embedder; None matches lexically only (tests override it so).
TEXT_EMBEDDER = Resource[TextEmbedder | None]("optout.text_embedder", _default_embedder)
MATCHER_CACHE = Resource[_MatcherCache]("optout.matcher_cache", lambda _services: _MatcherCache())


def prompt_matcher(services: Services) -> tuple[int, OptOutPromptMatcher]:
    """The matcher for the registry as it is now, and the registry position it was built at.

    Tests or deployments may override :data:`TEXT_EMBEDDER` with another text embedder (or
    None: lexical matching only) before the first call.
    """
    position, matcher, _brands = _compiled(services)
    return position, matcher


def _compiled(services: Services) -> tuple[int, OptOutPromptMatcher, BrandRewriter]:
    cache = services.resource(MATCHER_CACHE)
    embedder = services.resource(TEXT_EMBEDDER)
    position, records = registry_records(services)
    key = (position, len(records))
    with cache.lock:
        if cache.matcher is None or cache.brands is None or cache.key != key:
            cache.matcher = OptOutPromptMatcher(records, embedder)
            cache.brands = BrandRewriter(records)
            cache.key = key
        return position, cache.matcher, cache.brands


def optout_stage(services: Services) -> OptOutStage:
    position, matcher, brands = _compiled(services)
    return OptOutStage(matcher, registry_position=position, brands=brands)


def training_exclusions(services: Services) -> list[OptOutRecord]:
    return [r for r in registry_records(services)[1] if r.enforced(Scope.TRAINING)]


# One per process; tests may override it (another loader, another matching-frame count).
OUTPUT_INDEX = Resource[OutputOptOutIndex](
    "optout.output_index", lambda services: OutputOptOutIndex(services, LocalFileMediaLoader())
)


def output_matches(
    services: Services, frames: Sequence[Frame], *, territory: str | None = None
) -> list[OptOutOutputMatch]:
    return services.resource(OUTPUT_INDEX).match(frames, territory=territory)
