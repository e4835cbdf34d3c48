"""How domain packages plug into the core without the core knowing them.

Each domain declares a :class:`Domain` under the ``clearframe.modules`` entry-point group
(declared in pyproject.toml). A declaration is light: its CLI installers only build parsers,
and its settings classes only read the environment, so ``clearframe --help`` and the start-up
checks import no domain code. ``Domain.load`` imports the rest (routers, projections,
processors, model modules) and returns it as a :class:`Module`; :func:`load_modules` does
that for every domain, for the app, the workers and the commands that need them.

Domains meet synchronously only through ports (core/ports.py): a module lists the ports it
``provides`` (with the factory that builds the implementation from the services) and those it
``requires``. ``Services.wire`` checks them before a process starts work. This is the only
place in the code that imports modules by name.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    from core.ports import Port, PortFactory, Wiring
    from core.projections import Processor, Projection
    from core.services import Services
    from core.settings import DomainSettings

ConsumerFactory = Callable[["Services"], "Projection | Processor"]
CliInstaller = Callable[[Any], None]  # receives the argparse subparsers object
ErasureHook = Callable[[Any, Any, str, Any], Mapping[str, int]]


@dataclass
class Module:
    """What a domain contributes once its code is imported."""

    name: str
    routers: Sequence[APIRouter] = ()
    # name -> factory: projections keep read models, processors react (run as workers)
    projections: dict[str, ConsumerFactory] = field(default_factory=dict)
    processors: dict[str, ConsumerFactory] = field(default_factory=dict)
    # modules that declare SQLAlchemy models and event types (imported for metadata/registry)
    model_modules: Sequence[str] = ()
    startup: Sequence[Callable[[Services], None]] = ()
    # run by `serve` in a background thread: load models before the first request needs them
    warm: Sequence[Callable[[Services], None]] = ()
    # port -> factory building its implementation from the services (once per process)
    provides: Mapping[Port[Any], PortFactory] = field(default_factory=dict)
    # ports this module cannot run without: a process refuses to start when one is missing
    requires: Sequence[Port[Any]] = ()
    # run by core.privacy.erase_personal_data inside the erasure's transaction, with
    # (services, session, subject id, actor): delete what is wholly the person's (a face
    # template) and record it; each returns {table: rows deleted}
    erasure: Sequence[ErasureHook] = ()


@dataclass(frozen=True)
class Domain:
    """What the core may know of a domain without importing its code."""

    name: str
    load: Callable[[], Module]
    # installers that add subcommands; they import heavy code only inside the command function
    cli: Sequence[CliInstaller] = ()
    # validated by every process at start-up; their production_problems() refuse production
    settings: Sequence[type[DomainSettings]] = ()


@cache
def declared_domains() -> tuple[Domain, ...]:
    found: list[Domain] = []
    for ep in sorted(entry_points(group="clearframe.modules"), key=lambda e: e.name):
        declared = ep.load()
        if not isinstance(declared, Domain):
            raise TypeError(f"entry point {ep.name!r} must name a core.modules.Domain")
        found.append(declared)
    return tuple(found)


@cache
def load_modules() -> tuple[Module, ...]:
    found: list[Module] = []
    for domain in declared_domains():
        module = domain.load()
        for path in module.model_modules:
            importlib.import_module(path)
        found.append(module)
    return tuple(found)


def import_all_models() -> None:
    """Make Base.metadata and the event registry complete (Alembic, replay-check)."""
    import core.auth  # noqa: F401
    import core.browser_sessions  # noqa: F401
    import core.outbox  # noqa: F401
    import core.projections  # noqa: F401
    import core.store  # noqa: F401

    load_modules()


def check_wiring() -> Wiring:
    """Who provides each port among the loaded modules; a WiringError when a required port
    is missing or one is provided twice."""
    from core.ports import wire

    return wire(load_modules())


def _by_name(
    kind: str, declared: Callable[[Module], Mapping[str, ConsumerFactory]]
) -> dict[str, ConsumerFactory]:
    # Consumers are addressed by name (workers, watermarks, rebuild): a name is declared once.
    out: dict[str, ConsumerFactory] = {}
    for m in load_modules():
        for name, factory in declared(m).items():
            if name in out:
                raise ValueError(f"{kind} {name!r} declared twice")
            out[name] = factory
    return out


def all_projections() -> dict[str, ConsumerFactory]:
    return _by_name("projection", lambda m: m.projections)


def all_processors() -> dict[str, ConsumerFactory]:
    return _by_name("processor", lambda m: m.processors)


def all_erasure_hooks() -> list[ErasureHook]:
    return [hook for m in load_modules() for hook in m.erasure]


def all_domain_settings() -> list[type[DomainSettings]]:
    return [cls for d in declared_domains() for cls in d.settings]


def install_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for d in declared_domains():
        for installer in d.cli:
            installer(subparsers)
