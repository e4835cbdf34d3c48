"""Typed keys for what one domain asks of another, and for a domain's own per-process objects.

A :class:`Port` names an interface (a Protocol or an ABC), declared once where the interface
is defined; a module that implements it lists it in ``Module.provides``, a module that needs it in
``Module.requires``. :func:`wire` checks, before a process starts work, that every required
port is provided by exactly one loaded module: a deployment that lacks the consent re-check
does not start, instead of rendering without it.

A :class:`Resource` is a domain's own lazily built, per-process object (a loaded model, a
cache), built once per :class:`~core.services.Services` from its ``build`` function.

The core knows no domain: the ports themselves are declared in the shared contracts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from core.errors import ClearframeError

if TYPE_CHECKING:
    from core.modules import Module
    from core.services import Services

T = TypeVar("T")


# eq=False: a port is its declaration, so two declarations with one name never alias.
@dataclass(frozen=True, eq=False)
class Port(Generic[T]):
    """What a module provides or requires; ``T`` is the type its implementation has.

    Declared with the type spelled out, ``Port[PickupPolicy]("pickup_policy", "...")``, so
    that ``services.port(PICKUP_POLICY)`` is typed (a Protocol cannot be passed as a value
    where mypy expects a concrete class)."""

    name: str
    description: str = ""

    def __repr__(self) -> str:
        return f"Port({self.name!r})"


@dataclass(frozen=True, eq=False)
class Resource(Generic[T]):
    """A per-process object of one domain, built on first use by ``build(services)``."""

    name: str
    build: Callable[[Services], T]

    def __repr__(self) -> str:
        return f"Resource({self.name!r})"


PortFactory = Callable[["Services"], Any]


class WiringError(ClearframeError):
    """The loaded modules do not fit together: a required port is missing or provided twice.

    Raised before a process starts work; it is a fault of the deployment, not of a request."""

    code, status, title = "wiring_failed", 500, "Modules do not fit together"


@dataclass(frozen=True)
class Provider:
    module: str
    factory: PortFactory


@dataclass(frozen=True)
class Wiring:
    """Which module provides each port, checked once by :func:`wire`."""

    providers: Mapping[Port[Any], Provider] = field(default_factory=dict)

    def provider(self, port: Port[Any]) -> Provider | None:
        return self.providers.get(port)


def wire(modules: Iterable[Module]) -> Wiring:
    """The wiring of ``modules``, or a WiringError naming every port that does not fit."""
    loaded = list(modules)
    providers: dict[Port[Any], Provider] = {}
    twice: dict[Port[Any], list[str]] = {}
    for module in loaded:
        for port, factory in module.provides.items():
            if port in providers:
                twice.setdefault(port, [providers[port].module]).append(module.name)
            else:
                providers[port] = Provider(module.name, factory)
    problems = [
        f"port {port.name!r} is provided by more than one module: {', '.join(mods)}"
        for port, mods in twice.items()
    ]
    for module in loaded:
        for port in module.requires:
            if port not in providers:
                problems.append(
                    f"module {module.name!r} requires port {port.name!r}"
                    + (f" ({port.description})" if port.description else "")
                    + ", and no loaded module provides it"
                )
    if problems:
        lines = "".join(f"\n  - {p}" for p in problems)
        raise WiringError(f"the modules cannot start ({len(problems)} problem(s)):{lines}")
    return Wiring(providers)

