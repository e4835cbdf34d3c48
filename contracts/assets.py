"""Asset visibility: one decision, taken by the assets domain, that every reader follows.

Each reason an asset must not be shown as normal is a *hold* with a key and a kind: an
enforcement action (key = the action id, lifted by its reversal), a cameo owner removing their
appearance (``cameo:<cameo id>``), output moderation blocking the render (``output``). The
assets domain keeps every hold of a generation on stream ``asset-<generation_id>`` (its only
writer) and, for each hold placed or lifted, appends one :class:`AssetVisibilityChanged`
that carries the complete set of holds still in force and what they add up to. Readers (the
feed, reverse search, provenance, the consent ledger, the generator's downloads) copy that
state; none of them counts holds itself, so lifting one of two holds keeps the asset down
everywhere, and a restore is a restore everywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.events import EventPayload, event_type

ASSET = "asset"
GENERATION = "generation"  # the legacy events below were written on generation streams


class HoldKind(StrEnum):
    REMOVED = "removed"  # not shown or served to anyone but investigators
    RESTRICTED = "restricted"  # out of Recent and Featured, no new remixes
    AGE_RESTRICTED = "age_restricted"  # only for adult viewers
    LABELLED = "labelled"  # shown with a label


def enforcement_hold(action_id: str) -> str:
    return action_id


def cameo_hold(cameo_id: str) -> str:
    return f"cameo:{cameo_id}"


OUTPUT_HOLD = "output"  # output moderation blocked the render
PIPELINE_HOLD = "pipeline"  # a legacy removal that named no hold


class Hold(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    kind: HoldKind
    reason: str = Field(default="", max_length=500)
    label: str | None = Field(default=None, max_length=500)  # shown to viewers (labelled)
    source_event_id: str


class Visibility(StrEnum):
    """What the holds add up to, strongest first."""

    REMOVED = "removed"
    RESTRICTED = "restricted"
    AGE_RESTRICTED = "age_restricted"
    LABELLED = "labelled"
    VISIBLE = "visible"


_STRENGTH = [
    (HoldKind.REMOVED, Visibility.REMOVED),
    (HoldKind.RESTRICTED, Visibility.RESTRICTED),
    (HoldKind.AGE_RESTRICTED, Visibility.AGE_RESTRICTED),
    (HoldKind.LABELLED, Visibility.LABELLED),
]


def visibility_of(holds: list[Hold] | tuple[Hold, ...]) -> Visibility:
    kinds = {h.kind for h in holds}
    return next((v for kind, v in _STRENGTH if kind in kinds), Visibility.VISIBLE)


@event_type("AssetVisibilityChanged", category=ASSET)
class AssetVisibilityChanged(EventPayload):
    """One hold was placed or lifted; ``holds`` is every hold still in force, sorted by key."""

    generation_id: str
    asset_id: str | None = Field(default=None, description="None while the video is a draft")
    change: Literal["placed", "lifted"]
    hold: Hold
    holds: list[Hold]
    visibility: Visibility

    @property
    def removed(self) -> bool:
        return self.visibility is Visibility.REMOVED

    def has(self, kind: HoldKind) -> bool:
        return any(h.kind is kind for h in self.holds)

    @property
    def labels(self) -> list[str]:
        return [h.label for h in self.holds if h.label]


# Written on generation streams before visibility was decided in one place. They are still
# read (stored events are never edited): the assets domain turns each into holds on the
# asset stream, and no other reader follows them.
@event_type("AssetRemoved", category=GENERATION)
class AssetRemoved(EventPayload):
    generation_id: str
    asset_id: str | None = Field(default=None, description="None while the video is a draft")
    hold: str = Field(min_length=1, max_length=200, description="why: an action id or cameo:<id>")
    reason: str = Field(max_length=500)
    source_event_id: str


@event_type("AssetRestored", category=GENERATION)
class AssetRestored(EventPayload):
    generation_id: str
    asset_id: str | None = None
    hold: str = Field(min_length=1, max_length=200)
    reason: str = Field(max_length=500)
    source_event_id: str
