"""Projections of the cases domain: the reviewers' queue, actions and statements, appeals, inboxes.

Handlers derive everything from the event (``occurred_at``, payload), never from the clock, so a
rebuild by replay equals the live tables. Claim expiry is not projected: the row keeps the
lease's ``claim_expires_at`` and queries compare it with the time of the query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from contracts.enforcement import (
    ENFORCEMENT,
    ActionKind,
    EnforcementActionTaken,
    EnforcementReversed,
)
from contracts.generation import (
    GENERATION,
    OUTPUT,
    PROVENANCE,
    AssetPublished,
    AssetSigned,
    OutputModerated,
)
from contracts.output_review import OutputReleased
from core.events import RecordedEvent
from core.projections import Projection, handles
from trust_safety.cases import events as ev
from trust_safety.cases.models import (
    ActionRow,
    AppealRow,
    AssetFactsRow,
    CaseRow,
    GenerationScoresRow,
    NotificationRow,
    OutputBlockRow,
    ReportRow,
)
from trust_safety.cases.recorded import parse_instant


def _instant(value: Any) -> datetime | None:
    return parse_instant(value) if value else None


class CaseQueueProjection(Projection):
    name = "cases-queue"
    categories = (ev.REPORT,)
    tables: ClassVar[tuple[Table, ...]] = (CaseRow.__table__, ReportRow.__table__)  # type: ignore[assignment]

    @handles(ev.ReportFiled)
    def _filed(self, s: Session, e: RecordedEvent) -> None:
        p = e.payload
        case = s.get(CaseRow, p["case_id"])
        if case is None:
            case = CaseRow(
                case_id=p["case_id"],
                target_kind=p["target"]["kind"],
                target_id=p["target"]["id"],
                status="pending_triage",
                priority=0.0,
                first_filed_at=e.occurred_at,
                categories=[],
                reporter_ids=[],
                report_ids=[],
                trusted_flagger=False,
                signals={},
                participants=[],
                action_ids=[],
            )
            s.add(case)
        # JSON columns are replaced, not mutated in place, so the ORM sees the change.
        case.categories = sorted({*case.categories, p["report_category"]})
        case.reporter_ids = sorted({*case.reporter_ids, p["reporter_id"]})
        if p["report_id"] not in case.report_ids:
            case.report_ids = [*case.report_ids, p["report_id"]]
        case.trusted_flagger = case.trusted_flagger or bool(p["trusted_flagger"])
        if s.get(ReportRow, p["report_id"]) is None:
            s.add(
                ReportRow(
                    report_id=p["report_id"],
                    case_id=p["case_id"],
                    reporter_id=p["reporter_id"],
                    trusted_flagger=bool(p["trusted_flagger"]),
                    target_kind=p["target"]["kind"],
                    target_id=p["target"]["id"],
                    category=p["report_category"],
                    explanation=p["explanation"],
                    at_seconds=p.get("at_seconds"),
                    filed_at=e.occurred_at,
                )
            )

    @handles(ev.ReportTriaged)
    def _triaged(self, s: Session, e: RecordedEvent) -> None:
        case = self._case(s, e)
        case.priority = float(e.payload["priority"])
        case.signals = dict(e.payload.get("signals", {}))
        case.status = "open"
        case.decided_at = None

    @handles(ev.ReportClaimed)
    def _claimed(self, s: Session, e: RecordedEvent) -> None:
        case = self._case(s, e)
        case.claim_reviewer_id = e.payload["reviewer_id"]
        case.claim_expires_at = _instant(e.payload["expires_at"])
        case.participants = sorted({*case.participants, e.payload["reviewer_id"]})

    @handles(ev.ReportClaimReleased)
    def _released(self, s: Session, e: RecordedEvent) -> None:
        case = self._case(s, e)
        if case.claim_reviewer_id == e.payload["reviewer_id"]:
            case.claim_reviewer_id = None
            case.claim_expires_at = None

    @handles(ev.ReportActioned, ev.ReportDismissed)
    def _closed(self, s: Session, e: RecordedEvent) -> None:
        case = self._case(s, e)
        actioned = e.type == ev.ReportActioned.event_type_name
        case.status = "actioned" if actioned else "dismissed"
        case.decided_at = e.occurred_at
        case.decided_by = e.payload["reviewer_id"]
        case.participants = sorted({*case.participants, e.payload["reviewer_id"]})
        case.claim_reviewer_id = None
        case.claim_expires_at = None
        if actioned:
            case.action_ids = [*case.action_ids, *e.payload["action_ids"]]
        s.execute(
            update(ReportRow)
            .where(ReportRow.case_id == case.case_id, ReportRow.outcome.is_(None))
            .values(outcome=case.status, decided_at=e.occurred_at)
        )

    @staticmethod
    def _case(s: Session, e: RecordedEvent) -> CaseRow:
        case = s.get(CaseRow, e.payload["case_id"])
        if case is None:
            raise LookupError(f"{e.type} for unknown case {e.payload['case_id']!r}")
        return case


class ActionsProjection(Projection):
    """Actions with their statements of reasons; the Transparency Database export reads it."""

    name = "cases-actions"
    categories = (ENFORCEMENT,)
    tables: ClassVar[tuple[Table, ...]] = (ActionRow.__table__,)  # type: ignore[assignment]

    @handles(EnforcementActionTaken)
    def _taken(self, s: Session, e: RecordedEvent) -> None:
        p = e.payload
        if s.get(ActionRow, p["action_id"]) is not None:
            return
        s.add(
            ActionRow(
                action_id=p["action_id"],
                puid=p["puid"],
                position=e.position,
                kind=p["kind"],
                target_kind=p["target_kind"],
                target_id=p["target_id"],
                affected_user_id=p["affected_user_id"],
                case_id=p.get("case_id"),
                category=p["statement_category"],
                ground=p["ground"],
                strike=bool(p.get("strike", False)),
                ends_at=_instant(p.get("ends_at")),
                taken_at=e.occurred_at,
                automated_decision=p["automated_decision"],
                decided_by=p["decided_by"],
                participants=list(p.get("participants", [])),
                notifier_ids=list(p.get("notifier_ids", [])),
                triggered_by=list(p.get("triggered_by", [])),
                evidence=dict(p.get("evidence", {})),
                statement=dict(p["statement"]),
            )
        )

    @handles(EnforcementReversed)
    def _reversed(self, s: Session, e: RecordedEvent) -> None:
        row = s.get(ActionRow, e.payload["action_id"])
        if row is None or row.reversed_at is not None:
            return
        row.reversed_at = e.occurred_at
        row.reversal_reason = e.payload["reason"]
        row.reversal_appeal_id = e.payload.get("appeal_id")


class AppealsProjection(Projection):
    name = "cases-appeals"
    categories = (ev.APPEAL,)
    tables: ClassVar[tuple[Table, ...]] = (AppealRow.__table__,)  # type: ignore[assignment]

    @handles(ev.AppealFiled)
    def _filed(self, s: Session, e: RecordedEvent) -> None:
        p = e.payload
        if s.get(AppealRow, p["appeal_id"]) is not None:
            return
        s.add(
            AppealRow(
                appeal_id=p["appeal_id"],
                decision_id=p["decision_id"],
                decision_kind=p["decision_kind"],
                appellant_id=p["appellant_id"],
                appellant_role=p["appellant_role"],
                statement=p["statement"],
                status="filed",
                filed_at=e.occurred_at,
                rights_holder_id=p.get("rights_holder_id"),
                rights_holder_due_at=_instant(p.get("rights_holder_due_at")),
            )
        )

    @handles(ev.AppealAssigned)
    def _assigned(self, s: Session, e: RecordedEvent) -> None:
        row = self._row(s, e)
        row.status = "assigned"
        row.reviewer_id = e.payload["reviewer_id"]
        row.assigned_at = e.occurred_at

    @handles(ev.RightsHolderResponded)
    def _responded(self, s: Session, e: RecordedEvent) -> None:
        row = self._row(s, e)
        row.rights_holder_response = e.payload["response"]
        row.rights_holder_responded_at = e.occurred_at

    @handles(ev.AppealDecided)
    def _decided(self, s: Session, e: RecordedEvent) -> None:
        row = self._row(s, e)
        row.status = "decided"
        row.outcome = e.payload["outcome"]
        row.reasons = e.payload["reasons"]
        row.decided_by = e.payload["decided_by"]
        row.decided_at = e.occurred_at

    @staticmethod
    def _row(s: Session, e: RecordedEvent) -> AppealRow:
        row = s.get(AppealRow, e.payload["appeal_id"])
        if row is None:
            raise LookupError(f"{e.type} for unknown appeal {e.payload['appeal_id']!r}")
        return row


class InboxProjection(Projection):
    name = "cases-inbox"
    categories = (ev.INBOX,)
    tables: ClassVar[tuple[Table, ...]] = (NotificationRow.__table__,)  # type: ignore[assignment]

    @handles(ev.UserNotified)
    def _notified(self, s: Session, e: RecordedEvent) -> None:
        p = e.payload
        if s.get(NotificationRow, p["notification_id"]) is not None:
            return
        s.add(
            NotificationRow(
                notification_id=p["notification_id"],
                recipient_id=p["recipient_id"],
                kind=p["kind"],
                subject=p["subject"][:500],
                body=p["body"],
                refs=dict(p.get("refs", {})),
                created_at=e.occurred_at,
            )
        )

    @handles(ev.NotificationRead)
    def _read(self, s: Session, e: RecordedEvent) -> None:
        row = s.get(NotificationRow, e.payload["notification_id"])
        if row is not None and row.read_at is None:
            row.read_at = e.occurred_at


class AssetFactsProjection(Projection):
    """Owners, generations and output-moderation scores of generated assets, read from the
    generation contract (``AssetSigned``, ``OutputModerated``, ``AssetPublished``).

    The output and provenance streams are not ordered with each other: scores heard first wait
    on their generation's row, an asset signed first picks them up when they come."""

    name = "cases-assets"
    categories = (OUTPUT, PROVENANCE, GENERATION)
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        AssetFactsRow.__table__,
        GenerationScoresRow.__table__,
    )

    @handles(OutputModerated)
    def _moderated(self, s: Session, e: RecordedEvent) -> None:
        moderated: OutputModerated = e.payload_as(OutputModerated)
        scores = {
            str(v["category"]): float(v["max_score"])
            for v in moderated.verdicts
            if v.get("max_score") is not None
        }
        row = s.get(GenerationScoresRow, moderated.generation_id)
        if row is None:
            row = GenerationScoresRow(generation_id=moderated.generation_id, classifier_scores={})
            s.add(row)
        row.classifier_scores = scores
        row.policy_version = moderated.policy_version
        for asset in s.scalars(
            select(AssetFactsRow).where(AssetFactsRow.generation_id == moderated.generation_id)
        ):
            asset.classifier_scores = scores
            asset.moderation_policy_version = row.policy_version

    @handles(AssetSigned)
    def _signed(self, s: Session, e: RecordedEvent) -> None:
        signed: AssetSigned = e.payload_as(AssetSigned)
        row = self._row(s, signed.asset_id)
        if row.owner_id is None and signed.requester_id:
            row.owner_id = signed.requester_id
        if row.generation_id is None:
            row.generation_id = signed.generation_id
            s.flush()
            scores = s.get(GenerationScoresRow, row.generation_id)
            if scores is not None:
                row.classifier_scores = dict(scores.classifier_scores)
                row.moderation_policy_version = scores.policy_version

    @handles(AssetPublished)
    def _published(self, s: Session, e: RecordedEvent) -> None:
        row = self._row(s, e.payload_as(AssetPublished).asset_id)
        if row.published_at is None:
            row.published_at = e.occurred_at

    @staticmethod
    def _row(s: Session, asset_id: str) -> AssetFactsRow:
        row = s.get(AssetFactsRow, asset_id)
        if row is None:
            row = AssetFactsRow(asset_id=asset_id, classifier_scores={})
            s.add(row)
        return row


class OutputBlocksProjection(Projection):
    """Blocked outputs with the frames and scores behind them, the action an appeal names and
    the release; the moderation, the action and the release come on three streams, in any
    order, and meet on the generation's row."""

    name = "cases-output-blocks"
    categories = (OUTPUT, ENFORCEMENT, GENERATION)
    tables: ClassVar[tuple[Table, ...]] = (OutputBlockRow.__table__,)  # type: ignore[assignment]

    @handles(OutputModerated)
    def _moderated(self, s: Session, e: RecordedEvent) -> None:
        moderated: OutputModerated = e.payload_as(OutputModerated)
        if moderated.decision != "block":
            return
        row = self._row(s, moderated.generation_id)
        row.policy_version = moderated.policy_version
        row.blocked_categories = list(moderated.blocked_categories)
        row.verdicts = list(moderated.verdicts)
        row.frames = list(moderated.frame_scores)
        row.blocked_at = e.occurred_at

    @handles(EnforcementActionTaken)
    def _taken(self, s: Session, e: RecordedEvent) -> None:
        taken: EnforcementActionTaken = e.payload_as(EnforcementActionTaken)
        if taken.kind is not ActionKind.BLOCK_OUTPUT or taken.generation_id is None:
            return
        row = self._row(s, taken.generation_id)
        row.action_id = taken.action_id
        row.requester_id = taken.affected_user_id

    @handles(OutputReleased)
    def _released(self, s: Session, e: RecordedEvent) -> None:
        released: OutputReleased = e.payload_as(OutputReleased)
        row = self._row(s, released.generation_id)
        row.released_at = e.occurred_at
        row.release_appeal_id = released.appeal_id

    @staticmethod
    def _row(s: Session, generation_id: str) -> OutputBlockRow:
        row = s.get(OutputBlockRow, generation_id)
        if row is None:
            row = OutputBlockRow(
                generation_id=generation_id, blocked_categories=[], verdicts=[], frames=[]
            )
            s.add(row)
        return row
