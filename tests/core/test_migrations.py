"""Migrating an empty database gives exactly the models' schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import Base, make_engine
from core.migrate import alembic_config, downgrade, upgrade
from core.modules import import_all_models


def diff_against_models(url: str) -> list[object]:
    import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def test_single_head() -> None:
    # `alembic upgrade head` (singular) must work: branches are merged before they land.
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several heads, add a merge revision: {heads}"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_head_on_empty_database_equals_models(
    backend: str,
    tmp_path,
    pg_database_url: Callable[[], str],  # type: ignore[no-untyped-def]
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else pg_database_url()
    upgrade(url, "heads")
    assert diff_against_models(url) == []
    downgrade(url, "base")
    upgrade(url, "heads")
    assert diff_against_models(url) == []
