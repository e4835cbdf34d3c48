"""Registration of the trust_safety domain with the core (routers, projections, processors, CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.modules import Domain, Module
from trust_safety.cases import cli as cases_cli
from trust_safety.consent.settings import EnrolmentSettings
from trust_safety.generation import cli as gate_cli
from trust_safety.hash_banks import cli as hash_banks_cli
from trust_safety.hash_banks.settings import HashBankSettings
from trust_safety.moderation.filter_settings import PromptFilterSettings
from trust_safety.optout import cli as optout_cli
from trust_safety.output.settings import OutputModerationSettings
from trust_safety.uploads.settings import UploadSettings

if TYPE_CHECKING:
    from core.services import Services


def warm(services: Services) -> None:
    """Load the text embedder, the exemplars, the opt-out matcher, the image classifiers and
    a local LLM filter, and decide one harmless prompt, so that the first real decision does
    not pay for them."""
    from trust_safety.generation.gate import PROMPT_FILTER, gate_pipeline
    from trust_safety.hash_banks.index import BANK_INDEX
    from trust_safety.moderation.llm_filter import LocalTransformersFilter, TimedFilter
    from trust_safety.moderation.stages import ModerationContext
    from trust_safety.output.processor import CLASSIFIERS
    from trust_safety.uploads.service import shared_moderator

    pipeline = gate_pipeline(services)
    pipeline.moderate("a watercolour of a lighthouse at dawn", ModerationContext())
    # A prompt in another language loads the multilingual encoder and the glossaries.
    pipeline.moderate("una acuarela de un faro al amanecer", ModerationContext())
    shared_moderator(services)
    services.resource(CLASSIFIERS)
    # the hash banks' match index, built from the bank events (every upload and output asks it)
    services.resource(BANK_INDEX).catch_up()
    prompt_filter = services.resource(PROMPT_FILTER)
    if isinstance(prompt_filter, TimedFilter) and isinstance(
        prompt_filter.inner, LocalTransformersFilter
    ):
        prompt_filter.inner.load()


def load() -> Module:
    from contracts.featured import FEATURED_POLICY
    from contracts.ports import BLOB_STORE, FOLLOW_GRAPH, GENERATION_INPUTS, PICKUP_POLICY
    from trust_safety.assets import registration as _assets
    from trust_safety.cases import registration as _cases
    from trust_safety.consent import registration as _consent
    from trust_safety.generation import registration as _gate
    from trust_safety.generation.inputs import UploadInputs
    from trust_safety.hash_banks import registration as _hash_banks
    from trust_safety.likeness import registration as _likeness
    from trust_safety.likeness.gallery_router import router as gallery_router
    from trust_safety.optout import registration as _optout
    from trust_safety.output import registration as _output
    from trust_safety.output.featured import ModeratedOutputs
    from trust_safety.public import PickupRecheck

    return Module(
        name="trust_safety",
        routers=[
            *_cases.ROUTERS,
            *_consent.ROUTERS,
            *_optout.ROUTERS,
            *_gate.ROUTERS,
            gallery_router,
            *_likeness.ROUTERS,
            *_hash_banks.ROUTERS,
        ],
        projections={
            **_cases.PROJECTIONS,
            **_consent.PROJECTIONS,
            **_optout.PROJECTIONS,
            **_gate.PROJECTIONS,
            **_assets.PROJECTIONS,
            **_likeness.PROJECTIONS,
            **_hash_banks.PROJECTIONS,
        },
        processors={
            **_output.PROCESSORS,
            **_gate.PROCESSORS,
            **_assets.PROCESSORS,
            **_cases.PROCESSORS,
        },
        model_modules=[
            *_cases.MODEL_MODULES,
            *_output.MODEL_MODULES,
            *_consent.MODEL_MODULES,
            *_optout.MODEL_MODULES,
            *_gate.MODEL_MODULES,
            *_assets.MODEL_MODULES,
            "trust_safety.likeness.events",
            "trust_safety.likeness.gallery",
            *_likeness.MODEL_MODULES,
            *_hash_banks.MODEL_MODULES,
        ],
        warm=[warm],
        erasure=[*_consent.ERASURE],
        provides={
            PICKUP_POLICY: PickupRecheck,
            GENERATION_INPUTS: UploadInputs,
            FEATURED_POLICY: ModeratedOutputs,
        },
        # output moderation reads the generated masters; the mutual-follows audience, the
        # feed's follows
        requires=[BLOB_STORE, FOLLOW_GRAPH],
    )


module = Domain(
    name="trust_safety",
    load=load,
    cli=[
        cases_cli.install_cli,
        optout_cli.install_cli,
        gate_cli.install_cli,
        hash_banks_cli.install_cli,
    ],
    settings=[
        EnrolmentSettings,
        OutputModerationSettings,
        UploadSettings,
        PromptFilterSettings,
        HashBankSettings,
    ],
)
