"""What every process checks before it starts work.

Every settings section is read and validated: the core's and each domain's
(``Domain.settings``, gathered through the module registry). In production every section's
``production_problems`` must be empty too: no development secret, no development signing
credentials. All problems are gathered before anything is refused, so an operator reads them
in one message instead of fixing one per restart.

Importing this module loads no domain code: the declarations and the settings classes are
light, so a refusal comes before the models, the routers and the database are touched.
"""

from __future__ import annotations

from pydantic import ValidationError

from core.modules import all_domain_settings
from core.settings import (
    ConfigurationError,
    Environment,
    InsecureConfiguration,
    Settings,
    describe,
)

__all__ = ["checked_settings", "describe", "problems", "refuse", "refuse_insecure_production"]


def problems(settings: Settings) -> list[str]:
    """Every problem of the domain sections, and in production every insecure setting.

    Reads the sections ``settings`` does not hold yet, and keeps them: the process runs with
    the sections that were checked."""
    production = settings.env is Environment.production
    found = settings.production_problems() if production else []
    try:
        settings.load_sections(all_domain_settings())
    except ConfigurationError as exc:
        return found + exc.problems
    if production:
        for section in settings.sections:
            found += section.production_problems(settings)
    return found


def checked_settings() -> Settings:
    """The settings of a process about to start, every section read, or a ConfigurationError
    listing every problem (InsecureConfiguration in production)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        # The core section is broken: still report the domains' own validation problems.
        found = describe(exc, Settings)
        for cls in all_domain_settings():
            try:
                cls()
            except ValidationError as domain_exc:
                found += describe(domain_exc, cls)
        raise ConfigurationError(found) from None
    refuse(settings)
    return settings


def refuse(settings: Settings) -> None:
    """Raise when ``settings`` (and the domain sections) may not run a process."""
    found = problems(settings)
    if found:
        error = (
            InsecureConfiguration if settings.env is Environment.production else ConfigurationError
        )
        raise error(found)


def refuse_insecure_production(settings: Settings) -> None:
    """For processes built in code (``Services.from_settings``): fail closed in production;
    a no-op in development."""
    if settings.env is Environment.production:
        refuse(settings)
