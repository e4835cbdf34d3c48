"""Registration of the console with the core (its own ``clearframe.modules`` entry point)."""

from __future__ import annotations

from core.modules import Domain, Module


def load() -> Module:
    from console.router import router

    return Module(name="console", routers=[router])


module = Domain(name="console", load=load)
