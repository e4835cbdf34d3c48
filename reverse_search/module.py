"""Registration of the reverse_search domain with the core (routers, projections, processors, CLI)."""

from core.modules import Module

module = Module(name="reverse_search")
