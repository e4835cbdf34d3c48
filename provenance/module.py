"""Registration of the provenance domain with the core (routers, projections, processors, CLI)."""

from core.modules import Module

module = Module(name="provenance")
