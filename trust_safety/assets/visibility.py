"""The one place an asset's visibility is decided (see ``contracts.assets``).

``AssetVisibility`` follows every reason an asset may go down or come back (enforcement and its
reversals, cameo owners, output moderation and a release of its block, and the legacy removal
events) and turns each into a hold placed or lifted on the generation's asset stream, decided on
the stream's folded state and appended at the version it read. ``AssetDirectory`` maps assets to generations for the one
case that needs it: enforcement events written before they carried ``generation_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.assets import (
    OUTPUT_HOLD,
    PIPELINE_HOLD,
    AssetRemoved,
    AssetRestored,
    AssetVisibilityChanged,
    Hold,
    HoldKind,
    cameo_hold,
    enforcement_hold,
    visibility_of,
)
from contracts.consent import CameoAppearanceRemoved
from contracts.enforcement import (
    ActionKind,
    EnforcementActionTaken,
    EnforcementReversed,
    TargetKind,
)
from contracts.generation import AssetSigned, OutputModerated
from contracts.output_review import OutputReleased
from core.aggregate import decide_append
from core.errors import NotFound
from core.events import EventPayload, RecordedEvent
from core.projections import Append, Processor, Projection, handles
from core.services import Services
from trust_safety.assets.models import AssetDirectoryRow


class AssetNotYetKnown(NotFound):
    """An enforcement event without ``generation_id`` names an asset the directory has not
    seen yet (it lags); only events written before enforcement carried the id need this."""

    code = "asset_not_yet_known"


# -- the aggregate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetHolds:
    asset_id: str | None = None
    holds: dict[str, Hold] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaceHold:
    generation_id: str
    hold: Hold
    asset_id: str | None = None


@dataclass(frozen=True)
class LiftHold:
    generation_id: str
    key: str
    source_event_id: str
    reason: str = ""
    asset_id: str | None = None


class AssetHoldsAggregate:
    """Stream ``asset-<generation_id>``: the holds on one generation's asset."""

    category = "asset"

    def initial(self) -> AssetHolds:
        return AssetHolds()

    def evolve(self, state: AssetHolds, event: RecordedEvent) -> AssetHolds:
        if event.type != AssetVisibilityChanged.event_type_name:
            return state
        fact = event.payload_as(AssetVisibilityChanged)
        return AssetHolds(
            asset_id=fact.asset_id or state.asset_id, holds={h.key: h for h in fact.holds}
        )

    def decide(self, state: AssetHolds, command: PlaceHold | LiftHold) -> list[EventPayload]:
        holds = dict(state.holds)
        if isinstance(command, PlaceHold):
            if command.hold.key in holds:
                return []  # the same reason again (a redelivery, a legacy duplicate)
            holds[command.hold.key] = command.hold
            change, hold = "placed", command.hold
        else:
            lifted = holds.pop(command.key, None)
            if lifted is None:
                return []  # nothing of that reason is in force
            change = "lifted"
            hold = replace_reason(lifted, command.reason, command.source_event_id)
        ordered = [holds[k] for k in sorted(holds)]
        return [
            AssetVisibilityChanged(
                generation_id=command.generation_id,
                asset_id=command.asset_id or state.asset_id,
                change=change,  # type: ignore[arg-type]
                hold=hold,
                holds=ordered,
                visibility=visibility_of(ordered),
            )
        ]


HOLDS = AssetHoldsAggregate()


def replace_reason(hold: Hold, reason: str, source_event_id: str) -> Hold:
    return hold.model_copy(
        update={"reason": (reason or hold.reason)[:500], "source_event_id": source_event_id}
    )


# -- projections and the processor -------------------------------------------------------------


class AssetDirectory(Projection):
    name = "asset-directory"
    categories = ("provenance", "generation")
    tables = (AssetDirectoryRow.__table__,)  # type: ignore[assignment]

    @handles(AssetSigned)
    def _signed(self, session: Session, event: RecordedEvent) -> None:
        signed: AssetSigned = event.payload_as(AssetSigned)
        if session.get(AssetDirectoryRow, signed.asset_id) is None:
            session.add(
                AssetDirectoryRow(asset_id=signed.asset_id, generation_id=signed.generation_id)
            )


class AssetVisibility(Processor):
    name = "asset-visibility"
    # generation: what legacy histories hold there (OutputModerated, AssetRemoved / -Restored)
    categories = ("enforcement", "consent", "output", "generation")
    # only legacy enforcement events wait for the directory; they may lag it by a cycle
    max_attempts: ClassVar[int] = 8

    def __init__(self, services: Services) -> None:
        self.services = services

    def _generation_of(self, asset_id: str) -> str:
        with self.services.read_sessions() as s:
            generation_id = s.scalar(
                select(AssetDirectoryRow.generation_id).where(
                    AssetDirectoryRow.asset_id == asset_id
                )
            )
        if generation_id is None:
            raise AssetNotYetKnown(f"asset {asset_id} is not in the asset directory yet")
        return str(generation_id)

    def _decide(self, command: PlaceHold | LiftHold) -> list[Append]:
        return decide_append(self.services.store, HOLDS, command.generation_id, command)

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        source = str(event.event_id)
        if event.type == EnforcementActionTaken.event_type_name:
            action: EnforcementActionTaken = event.payload_as(EnforcementActionTaken)
            kind = ActionKind(action.kind)
            if action.target_kind != TargetKind.ASSET or kind.hold_kind is None:
                return []
            reason = f"enforcement: {action.statement_category or action.kind}"
            hold = Hold(
                key=enforcement_hold(action.action_id),
                kind=kind.hold_kind,
                reason=reason[:500],
                label=action.label_text if kind.hold_kind is HoldKind.LABELLED else None,
                source_event_id=source,
            )
            generation_id = action.generation_id or self._generation_of(action.target_id)
            return self._decide(PlaceHold(generation_id, hold, asset_id=action.target_id))
        if event.type == EnforcementReversed.event_type_name:
            reversal: EnforcementReversed = event.payload_as(EnforcementReversed)
            lifts_a_hold = ActionKind(reversal.kind).hold_kind is not None
            if reversal.target_kind != TargetKind.ASSET or not lifts_a_hold:
                return []
            generation_id = reversal.generation_id or self._generation_of(reversal.target_id)
            lift = LiftHold(
                generation_id,
                enforcement_hold(reversal.action_id),
                source,
                f"enforcement reversed: {reversal.reason}",
                asset_id=reversal.target_id,
            )
            return self._decide(lift)
        if event.type == CameoAppearanceRemoved.event_type_name:
            removal: CameoAppearanceRemoved = event.payload_as(CameoAppearanceRemoved)
            hold = Hold(
                key=cameo_hold(removal.cameo_id),
                kind=HoldKind.REMOVED,
                reason=removal.reason[:500],
                source_event_id=source,
            )
            return self._decide(PlaceHold(removal.generation_id, hold))
        if event.type == OutputModerated.event_type_name:
            moderated: OutputModerated = event.payload_as(OutputModerated)
            if moderated.decision != "block":
                return []
            reason = "output moderation: " + ", ".join(moderated.blocked_categories)
            hold = Hold(
                key=OUTPUT_HOLD, kind=HoldKind.REMOVED, reason=reason[:500], source_event_id=source
            )
            return self._decide(PlaceHold(moderated.generation_id, hold))
        if event.type == OutputReleased.event_type_name:
            released: OutputReleased = event.payload_as(OutputReleased)
            reason = f"released on review: {released.reason}"
            return self._decide(LiftHold(released.generation_id, OUTPUT_HOLD, source, reason))
        if event.type == AssetRemoved.event_type_name:
            legacy: AssetRemoved = event.payload_as(AssetRemoved)
            hold = Hold(
                key=legacy.hold or PIPELINE_HOLD,
                kind=HoldKind.REMOVED,
                reason=legacy.reason,
                source_event_id=source,
            )
            return self._decide(PlaceHold(legacy.generation_id, hold, asset_id=legacy.asset_id))
        if event.type == AssetRestored.event_type_name:
            restored: AssetRestored = event.payload_as(AssetRestored)
            lift = LiftHold(
                restored.generation_id,
                restored.hold or PIPELINE_HOLD,
                source,
                restored.reason,
                restored.asset_id,
            )
            return self._decide(lift)
        return []
