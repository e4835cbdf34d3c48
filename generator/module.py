"""Registration of the generator domain with the core."""

from core.modules import Module
from generator.projection import GenerationJobs
from generator.router import router
from generator.worker import GeneratorWorker

module = Module(
    name="generator",
    routers=[router],
    projections={"generation-jobs": lambda services: GenerationJobs()},
    processors={"generator": lambda services: GeneratorWorker(services)},
    model_modules=["generator.models", "generator.events"],
)
