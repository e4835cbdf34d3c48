"""How domain packages plug into the core without the core knowing them.

Each domain exposes a :class:`Module` under the ``clearframe.modules`` entry-point group
(declared in pyproject.toml). The core collects their routers, projections, processors, CLI
commands and model modules from there.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    from core.projections import Processor, Projection
    from core.services import Services

ConsumerFactory = Callable[["Services"], "Projection | Processor"]
CliInstaller = Callable[[Any], None]  # receives the argparse subparsers object


@dataclass
class Module:
    name: str
    routers: Sequence[APIRouter] = ()
    # name -> factory: projections keep read models, processors react (run as workers)
    projections: dict[str, ConsumerFactory] = field(default_factory=dict)
    processors: dict[str, ConsumerFactory] = field(default_factory=dict)
    # modules that declare SQLAlchemy models and event types (imported for metadata/registry)
    model_modules: Sequence[str] = ()
    cli: Sequence[CliInstaller] = ()
    startup: Sequence[Callable[[Services], None]] = ()


@cache
def load_modules() -> tuple[Module, ...]:
    found: list[Module] = []
    for ep in sorted(entry_points(group="clearframe.modules"), key=lambda e: e.name):
        module = ep.load()
        if callable(module) and not isinstance(module, Module):
            module = module()
        for path in module.model_modules:
            importlib.import_module(path)
        found.append(module)
    return tuple(found)


def import_all_models() -> None:
    """Make Base.metadata and the event registry complete (Alembic, replay-check)."""
    import core.auth  # noqa: F401
    import core.outbox  # noqa: F401
    import core.projections  # noqa: F401
    import core.store  # noqa: F401

    load_modules()


def all_projections() -> dict[str, ConsumerFactory]:
    out: dict[str, ConsumerFactory] = {}
    for m in load_modules():
        for name, factory in m.projections.items():
            if name in out:
                raise ValueError(f"projection {name!r} declared twice")
            out[name] = factory
    return out


def all_processors() -> dict[str, ConsumerFactory]:
    out: dict[str, ConsumerFactory] = {}
    for m in load_modules():
        for name, factory in m.processors.items():
            if name in out:
                raise ValueError(f"processor {name!r} declared twice")
            out[name] = factory
    return out


def install_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for m in load_modules():
        for installer in m.cli:
            installer(subparsers)
