"""Registration of the generator domain with the core."""

from __future__ import annotations

from core.modules import Domain, Module
from generator.settings import GeneratorSettings


def load() -> Module:
    from contracts.ports import BLOB_STORE, GENERATION_INPUTS, PICKUP_POLICY, WATERMARKER
    from generator.projection import GenerationJobs
    from generator.public import blob_store
    from generator.router import assets_router, router
    from generator.worker import GeneratorWorker

    return Module(
        name="generator",
        routers=[router, assets_router],
        projections={"generation-jobs": lambda services: GenerationJobs()},
        processors={"generator": lambda services: GeneratorWorker(services)},
        model_modules=["generator.models", "generator.events"],
        provides={BLOB_STORE: blob_store},
        # no job renders without the re-check at pick-up, nor without its watermark; an
        # image-to-video job reads its upload through the inputs port
        requires=[PICKUP_POLICY, WATERMARKER, GENERATION_INPUTS],
    )


module = Domain(name="generator", load=load, settings=[GeneratorSettings])
