"""Registration of the trust_safety domain with the core (routers, projections, processors, CLI)."""

from core.modules import Module
from trust_safety.cases import registration as _cases
from trust_safety.output import registration as _output

module = Module(
    name="trust_safety",
    routers=[*_cases.ROUTERS],
    projections={**_cases.PROJECTIONS},
    processors={**_output.PROCESSORS},
    model_modules=[*_cases.MODEL_MODULES, *_output.MODEL_MODULES],
    cli=[*_cases.CLI],
)
