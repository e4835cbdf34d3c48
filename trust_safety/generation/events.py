"""Events of the moderation lists (category ``modlist``), which only the gate reads.

The gate's events on the generation stream are published contracts; import them from
``contracts.generation``.
"""

from __future__ import annotations

from pydantic import Field

from core.events import EventPayload, event_type

MODLIST = "modlist"


@event_type("BlocklistTermAdded", category=MODLIST)
class BlocklistTermAdded(EventPayload):
    harm_category: str
    term: str
    list_version: int


@event_type("BlocklistTermRemoved", category=MODLIST)
class BlocklistTermRemoved(EventPayload):
    harm_category: str
    term: str
    list_version: int


@event_type("PublicFigureListed", category=MODLIST)
class PublicFigureListed(EventPayload):
    """A figure added, or an existing one's names replaced."""

    figure_id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    exclusions: list[str] = Field(default_factory=list)
    list_version: int


@event_type("PublicFigureDelisted", category=MODLIST)
class PublicFigureDelisted(EventPayload):
    figure_id: str
    list_version: int


# The dated office table (``data/public_offices.json``) lives on the public-figure list's
# stream: a holder must be a listed figure, and one stream makes that check and the append
# one optimistic step. The table's version counts only these three events.


@event_type("OfficeHolderSet", category=MODLIST)
class OfficeHolderSet(EventPayload):
    """``figure_id`` holds ``office_id`` from ``start`` (an ISO date) on; entries from that day
    on are replaced and the previous holder's term ends that day."""

    office_id: str
    figure_id: str
    start: str
    list_version: int


@event_type("OfficeTitleAdded", category=MODLIST)
class OfficeTitleAdded(EventPayload):
    office_id: str
    language: str
    title: str
    list_version: int


@event_type("OfficeTitleRemoved", category=MODLIST)
class OfficeTitleRemoved(EventPayload):
    office_id: str
    language: str
    title: str
    list_version: int
