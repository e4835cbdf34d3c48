"""Registration of the provenance domain with the core."""

from core.modules import Module
from provenance.cli import install_cli
from provenance.projection import ProvenanceAssets
from provenance.router import router
from provenance.signing import AssetSigning

module = Module(
    name="provenance",
    routers=[router],
    projections={"provenance-assets": lambda services: ProvenanceAssets()},
    processors={"provenance-signing": lambda services: AssetSigning(services)},
    model_modules=["provenance.models", "provenance.events"],
    cli=[install_cli],
)
