"""The live moderation lists: the shipped data folded with the admins' edit events.

Each list has its own stream (``modlist-blocklist``, ``modlist-public_figures``, which also
carries the dated office table, since an office holder must be a listed figure); an edit is
validated against the folded list and appended with ``expected_version`` = the stream version
it was validated against, so two admins editing at once cannot both win. The list version a
decision records is the shipped version plus the number of edits, which the fold reproduces
exactly, so a decision can be replayed against the list it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from core.events import Actor, EventPayload, RecordedEvent, stream_id
from core.services import Services
from trust_safety.generation.events import (
    MODLIST,
    BlocklistTermAdded,
    BlocklistTermRemoved,
    OfficeHolderSet,
    OfficeTitleAdded,
    OfficeTitleRemoved,
    PublicFigureDelisted,
    PublicFigureListed,
)
from trust_safety.moderation.blocklist import Blocklist, load_default_blocklist
from trust_safety.moderation.categories import Category, parse_category
from trust_safety.moderation.errors import (
    InvalidBlocklistEdit,
    InvalidModerationData,
    StaleListVersion,
)
from trust_safety.moderation.figures import (
    PublicFigure,
    PublicFigureList,
    load_default_figures,
    parse_figure,
)
from trust_safety.moderation.offices import OfficeTable, load_default_offices

BLOCKLIST_STREAM = stream_id(MODLIST, "blocklist")
FIGURES_STREAM = stream_id(MODLIST, "public_figures")


def fold_blocklist(base: Blocklist, events: list[RecordedEvent]) -> Blocklist:
    current = base
    for event in events:
        if event.type == "BlocklistTermAdded":
            current = current.with_term(
                parse_category(event.payload["harm_category"]), event.payload["term"]
            )
        elif event.type == "BlocklistTermRemoved":
            current = current.without_term(
                parse_category(event.payload["harm_category"]), event.payload["term"]
            )
    return current


def fold_figures(base: PublicFigureList, events: list[RecordedEvent]) -> PublicFigureList:
    current = base
    for event in events:
        if event.type == "PublicFigureListed":
            p = event.payload
            current = current.with_figure(
                PublicFigure(p["figure_id"], p["name"], tuple(p["aliases"]), tuple(p["exclusions"]))
            )
        elif event.type == "PublicFigureDelisted":
            current = current.without_figure(event.payload["figure_id"])
    return current


def fold_offices(base: OfficeTable, events: list[RecordedEvent]) -> OfficeTable:
    current = base
    for event in events:
        p = event.payload
        if event.type == "OfficeHolderSet":
            current = current.with_holder(
                p["office_id"], p["figure_id"], date.fromisoformat(p["start"])
            )
        elif event.type == "OfficeTitleAdded":
            current = current.with_title(p["office_id"], p["language"], p["title"])
        elif event.type == "OfficeTitleRemoved":
            current, _ = current.without_title(p["office_id"], p["language"], p["title"])
    return current


@dataclass(frozen=True)
class LiveLists:
    blocklist: Blocklist
    blocklist_stream_version: int
    figures: PublicFigureList
    # the office table shares the figures' stream, so figures_stream_version covers it
    figures_stream_version: int
    offices: OfficeTable

    @property
    def key(self) -> tuple[int, int]:
        return (self.blocklist_stream_version, self.figures_stream_version)


def load_live_lists(services: Services) -> LiveLists:
    blocklist_events = services.store.read_stream(BLOCKLIST_STREAM)
    figure_events = services.store.read_stream(FIGURES_STREAM)
    return LiveLists(
        _live_blocklist(blocklist_events),
        len(blocklist_events),
        _live_figures(figure_events),
        len(figure_events),
        _live_offices(figure_events),
    )


class _VersionedList(Protocol):
    @property
    def version(self) -> int: ...


_L = TypeVar("_L", bound=_VersionedList)


def _edit(
    services: Services,
    stream: str,
    live: Callable[[list[RecordedEvent]], _L],
    change: Callable[[_L], tuple[_L, EventPayload]],
    actor: Actor,
    expected_list_version: int | None,
) -> _L:
    """Fold the list's stream, apply one admin edit, append its event at the version folded."""
    events = services.store.read_stream(stream)
    current = live(events)
    if expected_list_version is not None and expected_list_version != current.version:
        raise StaleListVersion(
            f"the list is at version {current.version}, the edit expected {expected_list_version}"
        )
    updated, event = change(current)
    services.store.append(stream, [event], expected_version=len(events), actor=actor)
    return updated


def _live_blocklist(events: list[RecordedEvent]) -> Blocklist:
    return fold_blocklist(load_default_blocklist(), events)


def _live_figures(events: list[RecordedEvent]) -> PublicFigureList:
    return fold_figures(load_default_figures(), events)


def _live_offices(events: list[RecordedEvent]) -> OfficeTable:
    return fold_offices(load_default_offices(), events)


def add_blocklist_term(
    services: Services,
    category: Category,
    term: str,
    actor: Actor,
    expected_list_version: int | None,
) -> Blocklist:
    def add(current: Blocklist) -> tuple[Blocklist, EventPayload]:
        updated = current.with_term(category, term)  # validates and normalises the term
        (added,) = updated.entries(category) - current.entries(category)
        return updated, BlocklistTermAdded(
            harm_category=category.value, term=added, list_version=updated.version
        )

    return _edit(services, BLOCKLIST_STREAM, _live_blocklist, add, actor, expected_list_version)


def remove_blocklist_term(
    services: Services,
    category: Category,
    term: str,
    actor: Actor,
    expected_list_version: int | None,
) -> Blocklist:
    def remove(current: Blocklist) -> tuple[Blocklist, EventPayload]:
        updated = current.without_term(category, term)
        (removed,) = current.entries(category) - updated.entries(category)
        return updated, BlocklistTermRemoved(
            harm_category=category.value, term=removed, list_version=updated.version
        )

    return _edit(services, BLOCKLIST_STREAM, _live_blocklist, remove, actor, expected_list_version)


def list_public_figure(
    services: Services, raw: Mapping[str, Any], actor: Actor, expected_list_version: int | None
) -> PublicFigureList:
    def put(current: PublicFigureList) -> tuple[PublicFigureList, EventPayload]:
        try:
            figure = parse_figure(raw)
        except InvalidModerationData as exc:  # shipped data is trusted; admin input is not
            raise InvalidBlocklistEdit(exc.detail) from exc
        updated = current.with_figure(figure)
        return updated, PublicFigureListed(
            figure_id=figure.figure_id,
            name=figure.name,
            aliases=list(figure.aliases),
            exclusions=list(figure.exclusions),
            list_version=updated.version,
        )

    return _edit(services, FIGURES_STREAM, _live_figures, put, actor, expected_list_version)


def delist_public_figure(
    services: Services, figure_id: str, actor: Actor, expected_list_version: int | None
) -> PublicFigureList:
    def delist(current: PublicFigureList) -> tuple[PublicFigureList, EventPayload]:
        updated = current.without_figure(figure_id)
        return updated, PublicFigureDelisted(figure_id=figure_id, list_version=updated.version)

    return _edit(services, FIGURES_STREAM, _live_figures, delist, actor, expected_list_version)


def _office_edit(
    services: Services,
    change: Callable[[OfficeTable, PublicFigureList], tuple[OfficeTable, EventPayload]],
    actor: Actor,
    expected_list_version: int | None,
) -> OfficeTable:
    """Fold the figures' stream (figures and offices), apply one office edit, append its event
    at the version folded: a holder is checked against the figures of the same version."""
    events = services.store.read_stream(FIGURES_STREAM)
    offices = _live_offices(events)
    if expected_list_version is not None and expected_list_version != offices.version:
        raise StaleListVersion(
            f"the office table is at version {offices.version}, the edit expected {expected_list_version}"
        )
    try:
        updated, event = change(offices, _live_figures(events))
    except InvalidModerationData as exc:  # shipped data is trusted; admin input is not
        raise InvalidBlocklistEdit(exc.detail) from exc
    services.store.append(FIGURES_STREAM, [event], expected_version=len(events), actor=actor)
    return updated


def set_office_holder(
    services: Services,
    office_id: str,
    figure_id: str,
    start: date,
    actor: Actor,
    expected_list_version: int | None,
) -> OfficeTable:
    def put(current: OfficeTable, figures: PublicFigureList) -> tuple[OfficeTable, EventPayload]:
        if figures.get(figure_id) is None:
            raise InvalidBlocklistEdit(f"no public figure with id {figure_id!r}; list them first")
        updated = current.with_holder(office_id, figure_id, start)
        return updated, OfficeHolderSet(
            office_id=office_id,
            figure_id=figure_id,
            start=start.isoformat(),
            list_version=updated.version,
        )

    return _office_edit(services, put, actor, expected_list_version)


def add_office_title(
    services: Services,
    office_id: str,
    language: str,
    title: str,
    actor: Actor,
    expected_list_version: int | None,
) -> OfficeTable:
    def add(current: OfficeTable, _figures: PublicFigureList) -> tuple[OfficeTable, EventPayload]:
        updated = current.with_title(office_id, language, title)  # validates the title
        return updated, OfficeTitleAdded(
            office_id=office_id, language=language, title=title, list_version=updated.version
        )

    return _office_edit(services, add, actor, expected_list_version)


def remove_office_title(
    services: Services,
    office_id: str,
    language: str,
    title: str,
    actor: Actor,
    expected_list_version: int | None,
) -> OfficeTable:
    def remove(
        current: OfficeTable, _figures: PublicFigureList
    ) -> tuple[OfficeTable, EventPayload]:
        updated, stored = current.without_title(office_id, language, title)
        return updated, OfficeTitleRemoved(
            office_id=office_id, language=language, title=stored, list_version=updated.version
        )

    return _office_edit(services, remove, actor, expected_list_version)
