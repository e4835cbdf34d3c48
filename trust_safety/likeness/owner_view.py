"""The cameo owner's likeness view: every video their face was found in, and every attempt
refused because of their cameo.

The ``likeness-matches`` projection keeps three tables, each from events alone (times from
the events, so a rebuild equals the live state):

* ``likeness_matches``: one row per ``LikenessMatched`` (cameo, generation), with its
  archive and report (``LikenessMatchArchived``, ``LikenessMatchReported``) and whether the
  owner removed the video (``CameoAppearanceRemoved`` on the cameo's stream);
* ``likeness_generations``: what became of each generation a match or refusal names: published
  (``AssetPublished``), removed and by whose holds (``AssetVisibilityChanged``). Those
  streams are ordered only within themselves, so a row may be written before its match;
* ``likeness_refusals``: requests the gate refused while a cameo named or @mentioned in them
  was not the requester's to use (``PromptModerated``: its consent decisions).

:func:`owner_view` joins them with the consent ledger's appearances (the videos that name the
cameo), so the owner sees one list: named, detected, or both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Table, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from contracts.assets import AssetVisibilityChanged, HoldKind
from contracts.consent import CameoAppearanceRemoved
from contracts.generation import AssetPublished, PromptModerated
from core.db import Base, utc
from core.events import RecordedEvent
from core.privacy import personal_column
from core.projections import Projection, handles
from core.store import JsonType
from trust_safety.likeness.matches import (
    LIKENESS_MATCH,
    LikenessMatchArchived,
    LikenessMatched,
    LikenessMatchReported,
)

CAMEO_HOLD_PREFIX = "cameo:"


class LikenessMatchRow(Base):
    __tablename__ = "likeness_matches"

    cameo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    creator_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    matched_as: Mapped[str] = mapped_column(String(16), nullable=False)
    public_figure_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    ranges: Mapped[list[dict[str, float]]] = mapped_column(JsonType, nullable=False)
    best_distance: Mapped[float] = mapped_column(Float, nullable=False)
    best_time_s: Mapped[float] = mapped_column(Float, nullable=False)
    frames_matched: Mapped[int] = mapped_column(Integer, nullable=False)
    frames_sampled: Mapped[int] = mapped_column(Integer, nullable=False)
    consented: Mapped[bool] = mapped_column(Boolean, nullable=False)
    consent_reason: Mapped[str] = mapped_column(String(40), nullable=False)
    output_blocked: Mapped[bool] = mapped_column(Boolean, nullable=False)
    blocked_categories: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    thumbnail_blob: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # The thumbnail's key is the owner's personal data: an erasure overwrites it.
    thumbnail_key: Mapped[str | None] = mapped_column(
        String(64), nullable=True, info=personal_column("owner_id")
    )
    matched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    report_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(260), nullable=True)
    removed_by_owner_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class LikenessGenerationRow(Base):
    __tablename__ = "likeness_generations"

    generation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    asset_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    removed_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # cameos whose owner's hold is on the video
    cameo_holds: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)


class LikenessRefusalRow(Base):
    __tablename__ = "likeness_refusals"

    cameo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requester_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(String(64), nullable=False)
    refused_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


def _generation(s: Session, generation_id: str) -> LikenessGenerationRow:
    row = s.get(LikenessGenerationRow, generation_id)
    if row is None:
        row = LikenessGenerationRow(
            generation_id=generation_id, published=False, removed=False, cameo_holds=[]
        )
        s.add(row)
    return row


class LikenessMatches(Projection):
    name = "likeness-matches"
    categories = (LIKENESS_MATCH, "consent", "generation", "provenance", "asset")
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        LikenessMatchRow.__table__,
        LikenessGenerationRow.__table__,
        LikenessRefusalRow.__table__,
    )

    @handles(LikenessMatched)
    def _matched(self, s: Session, event: RecordedEvent) -> None:
        m: LikenessMatched = event.payload_as(LikenessMatched)
        row = s.get(LikenessMatchRow, (m.cameo_id, m.generation_id))
        if row is None:
            row = LikenessMatchRow(cameo_id=m.cameo_id, generation_id=m.generation_id)
            s.add(row)
        row.owner_id = m.owner_id
        row.creator_id = m.creator_id
        row.matched_as = m.matched_as
        row.public_figure_id = m.public_figure_id
        row.ranges = [r.model_dump() for r in m.ranges]
        row.best_distance = m.best_distance
        row.best_time_s = m.best_time_s
        row.frames_matched = m.frames_matched
        row.frames_sampled = m.frames_sampled
        row.consented = m.consented
        row.consent_reason = m.consent_reason
        row.output_blocked = m.output_blocked
        row.blocked_categories = list(m.blocked_categories)
        row.thumbnail_blob = m.thumbnail_blob
        row.thumbnail_key = m.thumbnail_key
        row.matched_at = event.occurred_at
        _generation(s, m.generation_id)

    @handles(LikenessMatchArchived)
    def _archived(self, s: Session, event: RecordedEvent) -> None:
        a: LikenessMatchArchived = event.payload_as(LikenessMatchArchived)
        row = s.get(LikenessMatchRow, (a.cameo_id, a.generation_id))
        if row is not None:  # the match precedes it on the same stream
            row.archived_at = event.occurred_at

    @handles(LikenessMatchReported)
    def _reported(self, s: Session, event: RecordedEvent) -> None:
        r: LikenessMatchReported = event.payload_as(LikenessMatchReported)
        row = s.get(LikenessMatchRow, (r.cameo_id, r.generation_id))
        if row is not None:
            row.report_id, row.case_id = r.report_id, r.case_id

    @handles(CameoAppearanceRemoved)
    def _removed(self, s: Session, event: RecordedEvent) -> None:
        removal: CameoAppearanceRemoved = event.payload_as(CameoAppearanceRemoved)
        row = s.get(LikenessMatchRow, (removal.cameo_id, removal.generation_id))
        if row is not None:
            # The removal can only follow the match: the owner removes what the view shows
            # (a removal of a video that names the cameo, heard before any match, has no row).
            row.removed_by_owner_at = event.occurred_at

    @handles(AssetPublished)
    def _published(self, s: Session, event: RecordedEvent) -> None:
        published: AssetPublished = event.payload_as(AssetPublished)
        row = _generation(s, published.generation_id)
        row.asset_id = published.asset_id
        row.published = True

    @handles(AssetVisibilityChanged)
    def _visibility(self, s: Session, event: RecordedEvent) -> None:
        changed: AssetVisibilityChanged = event.payload_as(AssetVisibilityChanged)
        row = _generation(s, changed.generation_id)
        row.asset_id = row.asset_id or changed.asset_id
        row.removed = changed.removed
        removing = [h.reason for h in changed.holds if h.kind is HoldKind.REMOVED]
        row.removed_reason = (removing[0] or "removed")[:500] if removing else None
        row.cameo_holds = sorted(
            h.key[len(CAMEO_HOLD_PREFIX) :]
            for h in changed.holds
            if h.key.startswith(CAMEO_HOLD_PREFIX)
        )

    @handles(PromptModerated)
    def _prompt(self, s: Session, event: RecordedEvent) -> None:
        moderated: PromptModerated = event.payload_as(PromptModerated)
        if moderated.approved or not moderated.consent:
            return
        decisions = moderated.consent.get("decisions") or []
        for d in decisions:
            cameo_id = d.get("cameo_id") if isinstance(d, dict) else None
            if not cameo_id or d.get("allowed"):
                continue
            key = (str(cameo_id), moderated.generation_id)
            if s.get(LikenessRefusalRow, key) is not None:
                continue
            s.add(
                LikenessRefusalRow(
                    cameo_id=key[0],
                    generation_id=key[1],
                    requester_id=moderated.requester_id or d.get("principal_id"),
                    stage=moderated.stage,
                    reason=str(d.get("reason") or moderated.reason_category or "refused")[:64],
                    refused_at=event.occurred_at,
                )
            )
            s.flush()


# -- the owner's view --------------------------------------------------------------------------------


def thumbnail_path(cameo_id: str, generation_id: str) -> str:
    return f"/v1/cameos/{cameo_id}/likeness/{generation_id}/thumbnail"


def _status(match: LikenessMatchRow | None, gen: LikenessGenerationRow | None) -> str:
    if match is not None and match.output_blocked:
        return "blocked"
    if gen is not None and gen.removed:
        return "removed"
    if gen is not None and gen.published:
        return "published"
    return "draft"


def _video(
    cameo_id: str,
    generation_id: str,
    match: LikenessMatchRow | None,
    appearance: Any,
    gen: LikenessGenerationRow | None,
) -> dict[str, Any]:
    """One video of the view: ``match`` (detected) or ``appearance`` (named), or both."""
    status = _status(match, gen)
    if appearance is not None and appearance.status == "removed" and status != "blocked":
        status = "removed"
    asset_id = (gen.asset_id if gen else None) or (appearance.asset_id if appearance else None)
    video: dict[str, Any] = {
        "generation_id": generation_id,
        "status": status,
        "asset_id": asset_id,
        "named": appearance is not None,
        "detected": match is not None,
        "removed_by_you": gen is not None and cameo_id in gen.cameo_holds,
        "matched_as": None,
        "public_figure_id": None,
        "time_ranges": [],
        "best_distance": None,
        "consented": True,
        "consent_reason": "named",
        "thumbnail_url": None,
        "archived": False,
        "report_id": None,
        "case_id": None,
    }
    if appearance is not None:
        video["creator_id"] = appearance.creator_id
        video["seen_at"] = utc(appearance.first_seen_at).isoformat()
    if match is not None:
        video.update(
            creator_id=match.creator_id,
            matched_as=match.matched_as,
            public_figure_id=match.public_figure_id,
            time_ranges=list(match.ranges),
            best_distance=match.best_distance,
            consented=match.consented,
            consent_reason=match.consent_reason,
            thumbnail_url=(
                thumbnail_path(cameo_id, generation_id) if match.thumbnail_blob else None
            ),
            archived=match.archived_at is not None,
            report_id=match.report_id,
            case_id=match.case_id,
            seen_at=utc(match.matched_at).isoformat(),
        )
        video["removed_by_you"] = video["removed_by_you"] or match.removed_by_owner_at is not None
    return video


def owner_view(s: Session, cameo_id: str, *, include_archived: bool = False) -> dict[str, Any]:
    """Every video the cameo appears in (named, detected or both) and every refused attempt."""
    from trust_safety.consent.models import CameoAppearanceRow

    matches = {
        r.generation_id: r
        for r in s.scalars(select(LikenessMatchRow).where(LikenessMatchRow.cameo_id == cameo_id))
    }
    named = {
        r.generation_id: r
        for r in s.scalars(
            select(CameoAppearanceRow).where(CameoAppearanceRow.cameo_id == cameo_id)
        )
    }
    ids = sorted(set(matches) | set(named))
    gens = {
        r.generation_id: r
        for r in s.scalars(
            select(LikenessGenerationRow).where(LikenessGenerationRow.generation_id.in_(ids))
        )
    }
    videos = []
    for generation_id in ids:
        match = matches.get(generation_id)
        if match is not None and match.archived_at is not None and not include_archived:
            continue
        videos.append(
            _video(
                cameo_id, generation_id, match, named.get(generation_id), gens.get(generation_id)
            )
        )
    videos.sort(key=lambda v: (v["seen_at"], v["generation_id"]), reverse=True)
    refused = [
        {
            "generation_id": r.generation_id,
            "requester_id": r.requester_id,
            "stage": r.stage or "prompt",
            "reason": r.reason,
            "at": utc(r.refused_at).isoformat(),
        }
        for r in s.scalars(
            select(LikenessRefusalRow).where(LikenessRefusalRow.cameo_id == cameo_id)
        )
    ]
    refused += [
        {
            "generation_id": m.generation_id,
            "requester_id": m.creator_id,
            "stage": "output",
            "reason": m.consent_reason,
            "at": utc(m.matched_at).isoformat(),
        }
        for m in matches.values()
        if m.output_blocked and not m.consented
    ]
    refused.sort(key=lambda r: (r["at"], r["generation_id"]), reverse=True)
    return {"cameo_id": cameo_id, "videos": videos, "refused_attempts": refused}


def match_row(s: Session, cameo_id: str, generation_id: str) -> LikenessMatchRow | None:
    return s.get(LikenessMatchRow, (cameo_id, generation_id))


def generation_row(s: Session, generation_id: str) -> LikenessGenerationRow | None:
    return s.get(LikenessGenerationRow, generation_id)
