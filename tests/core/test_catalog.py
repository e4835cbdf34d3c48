"""docs/consumers.md is made from the consumers' declarations and must match them."""

from __future__ import annotations

from collections.abc import Callable

from core.catalog import PAGE, consumer_rows, render
from core.modules import import_all_models
from core.services import Services


def test_the_consumers_page_matches_the_declarations(make_services: Callable[..., Services]) -> None:
    import_all_models()
    services = make_services("sqlite")
    assert PAGE.read_text(encoding="utf-8") == render(services), (
        "docs/consumers.md is out of date: run `python -m core.catalog`"
    )


def test_every_consumer_follows_only_categories_someone_declares(
    make_services: Callable[..., Services],
) -> None:
    from core.events import REGISTRY

    import_all_models()
    declared = {REGISTRY.info(n).category for n in REGISTRY.names()}
    for _kind, name, _package, categories in consumer_rows(make_services("sqlite")):
        assert set(categories) <= declared, (name, set(categories) - declared)
