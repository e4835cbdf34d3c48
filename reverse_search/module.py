"""Registration of the reverse_search domain with the core (routers, projections, CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.modules import Domain, Module
from reverse_search.cli import install_cli
from reverse_search.settings import ReverseSearchSettings

if TYPE_CHECKING:
    from core.services import Services


def warm(services: Services) -> None:
    """Open the index and load the embedder before the first search needs them."""
    from reverse_search.engine import engine_for

    engine_for(services)


def load() -> Module:
    from contracts.ports import FINGERPRINT_SEARCH
    from reverse_search.indexer import make_indexer
    from reverse_search.public import FileMatches
    from reverse_search.router import c2pa_router, router

    return Module(
        name="reverse_search",
        routers=[router, c2pa_router],
        projections={"reverse-search-indexer": make_indexer},
        model_modules=["reverse_search.models", "reverse_search.events"],
        warm=[warm],
        provides={FINGERPRINT_SEARCH: FileMatches},
    )


module = Domain(
    name="reverse_search", load=load, cli=[install_cli], settings=[ReverseSearchSettings]
)
