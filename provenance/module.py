"""Registration of the provenance domain with the core."""

from __future__ import annotations

from typing import Any

from core.modules import Domain, Module
from provenance.cli import install_cli
from provenance.settings import ProvenanceSettings


def warm(services: Any) -> None:
    """Load the signing credentials and the watermarker before the first asset needs them."""
    from provenance.public import watermarker
    from provenance.signing import credentials

    credentials(services)
    watermarker(services)


def load() -> Module:
    from provenance.projection import ProvenanceAssets
    from provenance.router import router
    from provenance.signing import AssetSigning

    return Module(
        name="provenance",
        routers=[router],
        projections={"provenance-assets": lambda services: ProvenanceAssets()},
        processors={"provenance-signing": lambda services: AssetSigning(services)},
        model_modules=["provenance.models", "provenance.events"],
        warm=[warm],
    )


module = Domain(name="provenance", load=load, cli=[install_cli], settings=[ProvenanceSettings])
