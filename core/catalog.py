"""Who follows what: the table in docs/consumers.md, made from the consumers' own declarations.

``python -m core.catalog`` rewrites the page; a test fails when the page and the declarations
disagree, so the picture of which consumer follows which stream category cannot drift from
the code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from core.events import REGISTRY

PAGE = Path(__file__).resolve().parent.parent / "docs" / "consumers.md"

_INTRO = """# Consumers and the categories they follow

Made by `python -m core.catalog` from the consumers' declarations (a test checks that this
page matches them). A *projection* keeps a read model; a *processor* reacts by appending
events. Every category is one Kafka topic; each consumer is one consumer group. Who writes a
category is the domain that declares its event types (the right-hand table).
"""


def consumer_rows(services: Any) -> list[tuple[str, str, str, list[str]]]:
    """(kind, consumer, owning package, categories) for every declared consumer."""
    from core.modules import all_processors, all_projections

    rows = []
    for kind, factories in (("projection", all_projections()), ("processor", all_processors())):
        for name, factory in sorted(factories.items()):
            consumer = factory(services)
            package = type(consumer).__module__.split(".")[0]
            rows.append((kind, name, package, sorted(consumer.categories)))
    return rows


def writer_rows() -> list[tuple[str, str, list[str]]]:
    """(category, declaring modules, event types) for every registered event type."""
    by_category: dict[str, tuple[set[str], list[str]]] = {}
    for name in sorted(REGISTRY.names()):
        info = REGISTRY.info(name)
        if info.payload_class.__module__.startswith("tests."):
            continue
        modules, types = by_category.setdefault(info.category, (set(), []))
        modules.add(info.payload_class.__module__)
        types.append(name)
    return [(cat, ", ".join(sorted(m)), t) for cat, (m, t) in sorted(by_category.items())]


def render(services: Any) -> str:
    lines = [
        _INTRO,
        "## Consumers",
        "",
        "| kind | consumer | package | follows |",
        "|---|---|---|---|",
    ]
    for kind, name, package, categories in consumer_rows(services):
        lines.append(f"| {kind} | `{name}` | `{package}` | {', '.join(categories)} |")
    lines += ["", "## Categories", "", "| category | declared in | event types |", "|---|---|---|"]
    for category, modules, types in writer_rows():
        lines.append(f"| {category} | `{modules}` | {', '.join(types)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    import tempfile

    from core.migrate import upgrade
    from core.modules import import_all_models
    from core.services import Services
    from core.settings import Settings

    import_all_models()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(database_url=f"sqlite:///{scratch}/catalog.db", data_dir=Path(scratch))
        services = Services.from_settings(settings)
        upgrade(settings.effective_database_url)
        try:
            PAGE.write_text(render(services), encoding="utf-8")
        finally:
            services.close()
    print(f"wrote {PAGE.relative_to(PAGE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
