"""Registration of the trust_safety domain with the core (routers, projections, processors, CLI)."""

from core.modules import Module
from trust_safety.assets import registration as _assets
from trust_safety.cases import registration as _cases
from trust_safety.consent import registration as _consent
from trust_safety.generation import registration as _gate
from trust_safety.optout import registration as _optout
from trust_safety.output import registration as _output

module = Module(
    name="trust_safety",
    routers=[*_cases.ROUTERS, *_consent.ROUTERS, *_optout.ROUTERS, *_gate.ROUTERS],
    projections={**_cases.PROJECTIONS, **_consent.PROJECTIONS, **_optout.PROJECTIONS, **_gate.PROJECTIONS,
                 **_assets.PROJECTIONS},
    processors={**_output.PROCESSORS, **_gate.PROCESSORS, **_assets.PROCESSORS},
    model_modules=[
        *_cases.MODEL_MODULES,
        *_output.MODEL_MODULES,
        *_consent.MODEL_MODULES,
        *_optout.MODEL_MODULES,
        *_gate.MODEL_MODULES,
        *_assets.MODEL_MODULES,
    ],
    cli=[*_cases.CLI, *_optout.CLI, *_gate.CLI],
)
