"""Registration of the reverse_search domain with the core (routers, projections, CLI)."""

from __future__ import annotations

from typing import Any

from core.modules import Domain, Module
from reverse_search.cli import install_cli
from reverse_search.settings import ReverseSearchSettings


def warm(services: Any) -> None:
    """Open the index and load the embedder before the first search needs them."""
    from reverse_search.engine import engine_for

    engine_for(services)


def load() -> Module:
    from reverse_search.indexer import make_indexer
    from reverse_search.router import c2pa_router, router

    return Module(
        name="reverse_search",
        routers=[router, c2pa_router],
        projections={"reverse-search-indexer": make_indexer},
        model_modules=["reverse_search.models", "reverse_search.events"],
        warm=[warm],
    )


module = Domain(
    name="reverse_search", load=load, cli=[install_cli], settings=[ReverseSearchSettings]
)
