"""Registration of the reverse_search domain with the core (routers, projections, processors, CLI)."""

from core.modules import Module
from reverse_search.cli import install_cli
from reverse_search.indexer import make_indexer
from reverse_search.router import c2pa_router, router

module = Module(
    name="reverse_search",
    routers=[router, c2pa_router],
    projections={"reverse-search-indexer": make_indexer},
    model_modules=["reverse_search.models", "reverse_search.events"],
    cli=[install_cli],
)
