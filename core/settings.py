"""One typed settings object, read from ``CLEARFRAME_*`` environment variables.

The defaults run the embedded mode (SQLite file, SQL-tail event log, no broker). Production mode
refuses to start while any development secret is still in place.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
DEVELOPMENT_ADMIN_TOKEN = "cf_dev_admin_token_insecure"


class Environment(StrEnum):
    development = "development"
    production = "production"


class InsecureConfiguration(ValueError):
    """Production settings still carry a development secret."""


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

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Settings:
        if self.env is Environment.production:
            problems = []
            if self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32:
                problems.append("CLEARFRAME_SECRET_KEY must be set to a random value of 32+ chars")
            if self.dev_admin_token:
                problems.append("CLEARFRAME_DEV_ADMIN_TOKEN must be empty in production")
            if not self.database_url:
                problems.append("CLEARFRAME_DATABASE_URL must be set in production")
            if problems:
                raise InsecureConfiguration("; ".join(problems))
        return self

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
