"""Registration of the provenance domain with the core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.modules import Domain, Module
from provenance.cli import install_cli
from provenance.settings import ProvenanceSettings

if TYPE_CHECKING:
    from core.services import Services


def warm(services: Services) -> None:
    """Load the signing credentials and the watermarker before the first asset needs them."""
    from provenance.public import watermarker
    from provenance.signing import credentials

    credentials(services)
    watermarker(services)


def load() -> Module:
    from contracts.ports import BLOB_STORE, FINGERPRINT_SEARCH, GENERATION_INPUTS, WATERMARKER
    from provenance.projection import ProvenanceAssets
    from provenance.public import GenerationWatermarker
    from provenance.router import router
    from provenance.signing import AssetSigning

    return Module(
        name="provenance",
        routers=[router],
        projections={"provenance-assets": lambda services: ProvenanceAssets()},
        processors={"provenance-signing": lambda services: AssetSigning(services)},
        model_modules=["provenance.models", "provenance.events"],
        warm=[warm],
        provides={WATERMARKER: GenerationWatermarker},
        # Signed files live in the blob store; a verification report includes the
        # fingerprint matches of reverse search, which is required rather than optional so
        # that a report never silently lacks them; an image-to-video input is an ingredient.
        requires=[BLOB_STORE, FINGERPRINT_SEARCH, GENERATION_INPUTS],
    )


module = Domain(name="provenance", load=load, cli=[install_cli], settings=[ProvenanceSettings])
