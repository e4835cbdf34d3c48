"""Registration of the trust_safety domain with the core (routers, projections, processors, CLI)."""

from core.modules import Module

module = Module(name="trust_safety")
