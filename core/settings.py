"""One typed settings object, read from ``CLEARFRAME_*`` environment variables.

The root :class:`Settings` holds the core's own settings and one section per domain
(``settings.section(ProvenanceSettings)``), each read from its own variables. Every section
is read and validated once, when the process starts (``Services.from_settings`` and
``core/preflight.py``), never on a domain's first use.

The defaults run the embedded mode (SQLite file, SQL-tail event log, no broker). Production mode
refuses to start while any development secret is still in place: every process checks its
settings and every domain's section before it starts work (``core/preflight.py``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from pydantic import Field, PrivateAttr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
DEVELOPMENT_ADMIN_TOKEN = "cf_dev_admin_token_insecure"


class Environment(StrEnum):
    development = "development"
    production = "production"


MIN_SECRET_BITS = 128
SECRET_HINT = "e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
# Substrings of placeholders and of our own development values; a random secret holds none.
_PLACEHOLDER_MARKERS = (
    "development",
    "insecure",
    "not-for-production",
    "do-not-use",
    "changeme",
    "change-me",
    "placeholder",
    "example",
    "password",
)


class ConfigurationError(ValueError):
    """The settings cannot run this process; ``problems`` lists every reason, one a line."""

    heading = "the settings are invalid"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "".join(f"\n  - {p}" for p in self.problems)
        super().__init__(f"{self.heading} ({len(self.problems)} problem(s)):{lines}")


class InsecureConfiguration(ConfigurationError):
    """Production settings still carry a development secret (or are otherwise unfit)."""

    heading = "production refuses to start"


def _entropy_bits(symbols: Sequence[object]) -> float:
    n = len(symbols)
    if n == 0:
        return 0.0
    return -sum(c * math.log2(c / n) for c in Counter(symbols).values())


def secret_weakness(value: str, known: Iterable[str] = ()) -> str | None:
    """Why ``value`` is no production secret, or None when it looks random enough.

    Judged by strength, not length: the estimated entropy (the string's symbol entropy times
    its length, and the same over the steps between neighbouring characters, so that runs like
    ``abcdef...`` count for little) must reach MIN_SECRET_BITS. ``"a" * 36`` has none; 32
    random bytes in base64 or hex have about 200.
    """
    if not value:
        return "is empty"
    if value in set(known) or any(m in value.lower() for m in _PLACEHOLDER_MARKERS):
        return "is a development or placeholder value"
    period = (value + value).find(value, 1)
    if period < len(value):
        return (
            "is one character repeated" if period == 1 else f"repeats a {period}-character pattern"
        )
    steps = [ord(b) - ord(a) for a, b in zip(value, value[1:], strict=False)]
    bits = min(_entropy_bits(value), _entropy_bits(steps))
    if bits < MIN_SECRET_BITS:
        return f"is weak: about {bits:.0f} bits of estimated entropy, {MIN_SECRET_BITS} needed"
    return None


def describe(exc: ValidationError, cls: type[BaseSettings]) -> list[str]:
    """One line per error, naming the environment variable. Never the value: it may be a
    secret."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    lines = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        loc = error.get("loc") or ()
        if loc:
            lines.append(f"{prefix}{loc[0]}".upper() + f": {message}")
        else:
            lines.append(message)
    return lines


class DomainSettings(BaseSettings):
    """Base of each domain's settings section (``Domain.settings`` in core/modules.py).

    Every process reads and validates every section at start-up; in production it also
    refuses to start while ``production_problems`` names anything.
    """

    def production_problems(self, settings: Settings) -> list[str]:
        return []


S = TypeVar("S", bound=DomainSettings)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_", extra="ignore")

    env: Environment = Environment.development
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: sqlite file in data_dir
    kafka_bootstrap: str = ""  # empty: embedded mode, consumers tail the SQL event store
    kafka_topic_prefix: str = "clearframe"
    kafka_partitions: int = Field(default=6, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=10)
    kafka_client_id: str = "clearframe"
    secret_key: str = DEVELOPMENT_SECRET_KEY
    dev_admin_token: str = DEVELOPMENT_ADMIN_TOKEN
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    # console sign-in: how long a browser session lives, and whether its cookie is marked
    # Secure (sent over TLS only). Unset: Secure in production and on https requests.
    session_ttl_s: int = Field(default=8 * 3600, ge=60, le=30 * 24 * 3600)
    cookie_secure: bool | None = None
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    max_upload_bytes: int = Field(default=64 << 20, ge=1024)
    workers: str = "all"  # comma-separated worker names run in-process by `serve`, or all/none
    poll_interval_s: float = Field(default=0.05, gt=0, le=10)
    batch_size: int = Field(default=500, ge=1, le=100_000)
    relay_lease_s: float = Field(default=15.0, gt=0)
    # With Kafka, an event the broker has not delivered this long after it was stored is
    # applied from the store by the consumer's catch-up pass, run every catch_up_interval_s.
    catch_up_grace_s: float = Field(default=10.0, ge=0, le=3600)
    catch_up_interval_s: float = Field(default=2.0, gt=0, le=600)
    # Concurrent appends of one process share a transaction (one fsync); see core/store.py.
    group_commit: bool = True

    # The domain sections, read by load_sections (a new dict on every change: model_copy
    # shares private attributes with the original).
    _sections: dict[type[DomainSettings], DomainSettings] = PrivateAttr(default_factory=dict)

    def load_sections(self, classes: Iterable[type[DomainSettings]]) -> None:
        """Read every section in ``classes`` not read yet; a ConfigurationError listing the
        problems of all of them when any is invalid."""
        loaded = dict(self._sections)
        problems: list[str] = []
        for cls in classes:
            if cls in loaded:
                continue
            try:
                loaded[cls] = cls()
            except ValidationError as exc:
                problems += describe(exc, cls)
        if problems:
            raise ConfigurationError(problems)
        self._sections = loaded

    def section(self, cls: type[S]) -> S:
        """The domain's section, as read at start-up."""
        found = self._sections.get(cls)
        if not isinstance(found, cls):
            raise ConfigurationError(
                [f"the settings section {cls.__name__} was not read at start-up "
                 "(is it declared in its Domain's settings?)"]
            )
        return found

    @property
    def sections(self) -> list[DomainSettings]:
        return list(self._sections.values())

    def with_section(self, section: DomainSettings) -> Settings:
        """A copy of these settings holding ``section`` instead of the one read (tests)."""
        copy = self.model_copy()
        copy._sections = {**self._sections, type(section): section}
        return copy

    def production_problems(self) -> list[str]:
        """What production refuses in the core settings (see core/preflight.py)."""
        problems = []
        weak = secret_weakness(self.secret_key, known=(DEVELOPMENT_SECRET_KEY,))
        if weak:
            problems.append(f"CLEARFRAME_SECRET_KEY {weak}; set a random secret, {SECRET_HINT}")
        if self.dev_admin_token:
            problems.append(
                "CLEARFRAME_DEV_ADMIN_TOKEN must be empty in production "
                "(it makes an admin whose token is known)"
            )
        if not self.database_url:
            problems.append("CLEARFRAME_DATABASE_URL must be set in production (PostgreSQL)")
        return problems

    @property
    def is_development(self) -> bool:
        return self.env is Environment.development

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clearframe.db').resolve()}"

    @property
    def uses_kafka(self) -> bool:
        return bool(self.kafka_bootstrap)

    def topic_for(self, category: str) -> str:
        return f"{self.kafka_topic_prefix}.{category}"
