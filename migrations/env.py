"""Alembic environment bound to the models' metadata (every domain's tables included)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from core.db import Base, is_sqlite, make_engine
from core.modules import import_all_models
from core.settings import Settings

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

import_all_models()
target_metadata = Base.metadata
url = config.attributes.get("database_url") or Settings().effective_database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      compare_type=True, render_as_batch=is_sqlite(url))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata,
                              compare_type=True, render_as_batch=is_sqlite(url))
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
