"""Registration of the trust_safety domain with the core (routers, projections, processors, CLI)."""

from core.modules import Module
from trust_safety.cases import registration as _cases

try:  # the feed rides along until pyproject gives it its own package and entry point
    from feed.module import embedded_parts
except ModuleNotFoundError:  # an install that predates the feed package
    _feed = Module(name="feed-missing")
else:
    _feed = embedded_parts()

module = Module(
    name="trust_safety",
    routers=[*_cases.ROUTERS, *_feed.routers],
    projections={**_cases.PROJECTIONS, **_feed.projections},
    model_modules=[*_cases.MODEL_MODULES, *_feed.model_modules],
)
