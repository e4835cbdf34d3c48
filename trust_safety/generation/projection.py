"""``generation-requests``: the state a requester polls, folded from the generation stream.

Statuses follow the stages: requested -> approved | refused -> rendering -> completed | failed
-> blocked (output moderation refused the render) | signed -> published; a blocked output a
reviewer releases goes on to signed and published. Events of other domains (render, output and
provenance streams) are read by type name and payload field. Those streams are not ordered with the gate's: a follow-up heard
before its request waits on a row of its own, and the status is the furthest stage seen.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from contracts.generation import FurthestStage, OutputModerated
from core.events import RecordedEvent
from core.projections import Projection, handles
from trust_safety.cases.output_blocks import primary_category
from trust_safety.generation.models import GenerationRequestRow

_FOLLOW_UPS = {
    "GenerationStarted": "rendering",
    "GenerationCompleted": "completed",
    "GenerationFailed": "failed",
    "AssetSigned": "signed",
    "AssetPublished": "published",
}


def _generation_id(event: RecordedEvent) -> str:
    return str(event.payload.get("generation_id") or event.stream_key)


_STATUS = FurthestStage(
    {
        "requested": "GenerationRequested",
        "approved": "GenerationApproved",
        "refused": "GenerationRefused",
        "blocked": "OutputModerated",
        **{status: event_type for event_type, status in _FOLLOW_UPS.items()},
    }
)


def _advance(row: GenerationRequestRow, event: RecordedEvent, status: str) -> None:
    row.status = _STATUS.status(row.status, event.type, status)
    if row.position is None or event.position > row.position:
        row.updated_at, row.position = event.occurred_at, event.position


def _waiting(event: RecordedEvent) -> GenerationRequestRow:
    """A row for a follow-up heard before its request; the request fills it in."""
    return GenerationRequestRow(
        generation_id=_generation_id(event),
        requester_id="",
        kind="",
        status="",
        prompt="",
        duration_s=0.0,
        width=0,
        height=0,
        aspect_ratio="",
        tier="",
        remix_of=[],
        cameo_ids=[],
        prompt_rewritten=False,
        requested_at=event.occurred_at,
        updated_at=event.occurred_at,
        position=event.position,
    )


class GenerationRequests(Projection):
    name = "generation-requests"
    categories = ("generation", "render", "output", "provenance")
    tables: ClassVar[tuple[Table, ...]] = (GenerationRequestRow.__table__,)  # type: ignore[assignment]

    @handles("GenerationRequested")
    def _requested(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        row = s.get(GenerationRequestRow, _generation_id(event))
        if row is None:
            row = GenerationRequestRow(generation_id=_generation_id(event), status="")
            s.add(row)
        # Older or foreign-built requests may lack optional parameters: show what is known.
        row.requester_id = str(p.get("requester_id") or event.actor.id)
        row.kind = str(p.get("kind") or "text_to_video")
        row.prompt = str(p.get("prompt") or "")
        row.duration_s = float(p.get("duration_s") or 0.0)
        row.width, row.height = int(p.get("width") or 0), int(p.get("height") or 0)
        row.aspect_ratio = str(p.get("aspect_ratio") or "")
        row.tier = str(p.get("tier") or "free")
        row.seed = p.get("seed")
        row.upload_id = p.get("upload_id")
        row.extends = p.get("extends")
        row.remix_of = list(p.get("remix_of") or [])
        row.cameo_ids = list(p.get("cameo_ids") or [])
        row.reason_category = None
        row.prompt_rewritten = False
        row.requested_at = event.occurred_at
        _advance(row, event, "requested")

    @handles("GenerationApproved")
    def _approved(self, s: Session, event: RecordedEvent) -> None:
        row = s.get(GenerationRequestRow, _generation_id(event))
        if row is None:
            return
        _advance(row, event, "approved")
        row.prompt_rewritten = bool(event.payload.get("prompt_rewritten"))
        row.cameo_ids = list(event.payload.get("cameo_ids") or row.cameo_ids)

    @handles("GenerationRefused")
    def _refused(self, s: Session, event: RecordedEvent) -> None:
        row = s.get(GenerationRequestRow, _generation_id(event))
        if row is None:
            return
        _advance(row, event, "refused")
        row.reason_category = str(event.payload.get("reason_category"))

    @handles(*_FOLLOW_UPS)
    def _follow_up(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        _advance(row, event, _FOLLOW_UPS[event.type])
        if event.payload.get("asset_id"):
            row.asset_id = str(event.payload["asset_id"])
        if row.status in ("signed", "published"):
            row.reason_category = None  # a released block is no longer a reason

    @handles(OutputModerated)
    def _moderated(self, s: Session, event: RecordedEvent) -> None:
        moderated: OutputModerated = event.payload_as(OutputModerated)
        if moderated.decision != "block":
            return  # an allowed render shows as completed until it is signed
        row = self._row(s, event)
        _advance(row, event, "blocked")
        if row.status == "blocked":
            row.reason_category = primary_category(moderated.blocked_categories)

    @staticmethod
    def _row(s: Session, event: RecordedEvent) -> GenerationRequestRow:
        row = s.get(GenerationRequestRow, _generation_id(event))
        if row is None:
            row = _waiting(event)
            s.add(row)
        return row
