"""What people are told, and their inbox.

Every message is composed here from the decision and appended as a ``UserNotified`` event, so
what a user was told is part of the record. Texts follow DSA Art. 17(3): what was done, on which
facts and ground, whether automation was involved, and how to contest it and until when.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from contracts.enforcement import ActionKind
from contracts.statement_of_reasons import AutomatedDecision, DecisionGround
from core.aggregate import Transaction, execute
from core.auth import Principal
from core.errors import NotFound
from core.events import EventPayload, require_utc
from core.folds import Fold, FoldAggregate
from core.services import Services
from trust_safety.cases import events as ev
from trust_safety.cases.errors import Forbidden, UnknownCase
from trust_safety.cases.events import AppealOutcome
from trust_safety.cases.recorded import Fact

if TYPE_CHECKING:
    from trust_safety.cases.enforcement import EnforcementDecision


class NotificationKind(StrEnum):
    ENFORCEMENT = "enforcement"
    ENFORCEMENT_REVERSED = "enforcement_reversed"
    REPORT_OUTCOME = "report_outcome"
    APPEAL_RECEIVED = "appeal_received"
    APPEAL_DECIDED = "appeal_decided"
    RIGHTS_HOLDER_INVITED = "rights_holder_invited"
    APPEARANCE_REMOVED = "appearance_removed"


@dataclass(frozen=True, slots=True)
class Message:
    recipient_id: str
    kind: NotificationKind
    subject: str
    body: str
    refs: Mapping[str, str] = field(default_factory=dict)

    def to_payload(self, notification_id: str) -> dict[str, Any]:
        return {
            "notification_id": notification_id,
            "recipient_id": self.recipient_id,
            "kind": self.kind.value,
            "subject": self.subject,
            "body": self.body,
            "refs": dict(self.refs),
        }


_ACTION_WORDS: Mapping[ActionKind, str] = {
    ActionKind.REMOVE_ASSET: "Your video {target} was removed",
    ActionKind.RESTRICT_ASSET: "Your video {target} was restricted: it no longer appears in "
    "Recent or Featured and cannot be remixed",
    ActionKind.LABEL_ASSET: "A label was added to your video {target}",
    ActionKind.AGE_RESTRICT_ASSET: "Your video {target} is now shown to adults only",
    ActionKind.BLOCK_OUTPUT: "Your video {target} was blocked before it was shown to you",
    ActionKind.SUSPEND_ACCOUNT: "Your account is suspended until {until}",
    ActionKind.BAN_ACCOUNT: "Your account was terminated",
}

_AUTOMATION_WORDS: Mapping[AutomatedDecision, str] = {
    AutomatedDecision.FULLY: "This decision was taken by automated means.",
    AutomatedDecision.PARTIALLY: "Automated tools helped, and a person took this decision.",
    AutomatedDecision.NOT_AUTOMATED: "A person took this decision.",
}


def enforcement_message(
    action_id: str,
    puid: str,
    decision: EnforcementDecision,
    decided_at: datetime,
    appeal_deadline: datetime,
) -> Message:
    decided_at = require_utc(decided_at)
    until = decision.ends_at(decided_at)
    headline = _ACTION_WORDS[decision.kind].format(
        target=decision.target_id, until=until.isoformat() if until else ""
    )
    ground = (
        f"It breaks the law: {decision.ground_reference}."
        if decision.ground is DecisionGround.ILLEGAL_CONTENT
        else f"It breaks our terms: {decision.ground_reference}."
    )
    lines = [
        headline + ".",
        f"What we found: {decision.facts}",
        ground + " " + decision.ground_explanation,
        ("The content was detected by automated means. " if decision.automated_detection else "")
        + _AUTOMATION_WORDS[decision.automated_decision],
    ]
    if decision.label_text:
        lines.append(f"Label shown to viewers: {decision.label_text}")
    if decision.strike:
        lines.append("This decision adds a strike to your account.")
    lines.append(
        "You can appeal this decision free of charge until "
        f"{require_utc(appeal_deadline).date().isoformat()}; a person who was not involved will "
        "review it. You may also use an out-of-court dispute settlement body or go to court."
    )
    if decision.kind is ActionKind.BLOCK_OUTPUT:
        lines.append(
            f"To ask for a human review, appeal decision {action_id}; if the reviewer releases "
            "the video, it is signed and delivered to you as usual."
        )
    lines.append(f"Reference: {puid}")
    return Message(
        recipient_id=decision.affected_user_id,
        kind=NotificationKind.ENFORCEMENT,
        subject=headline,
        body="\n".join(lines),
        refs={"action_id": action_id, "puid": puid, "target_id": decision.target_id},
    )


def reversal_message(recipient_id: str, action_id: str, target_id: str, reason: str) -> Message:
    return Message(
        recipient_id=recipient_id,
        kind=NotificationKind.ENFORCEMENT_REVERSED,
        subject=f"A decision about {target_id} was reversed",
        body=f"We reversed our decision about {target_id} and restored it. Why: {reason}",
        refs={"action_id": action_id, "target_id": target_id},
    )


def appearance_removed_message(creator_id: str, generation_id: str, cameo_id: str) -> Message:
    """The creator learns that a person in their video took their likeness out of it."""
    return Message(
        recipient_id=creator_id,
        kind=NotificationKind.APPEARANCE_REMOVED,
        subject=f"A person in your video {generation_id} removed themselves from it",
        body=(
            f"The owner of cameo {cameo_id} used their right to take their likeness out of your "
            f"video {generation_id}. It is no longer shown, remixable or downloadable. This is "
            "their choice about their own likeness, not a finding against you, and adds no "
            "strike to your account."
        ),
        refs={"generation_id": generation_id, "cameo_id": cameo_id},
    )


def report_outcome_message(
    reporter_id: str,
    report_id: str,
    case_id: str,
    decision_id: str,
    actioned: bool,
    summary: str,
    appeal_deadline: datetime,
) -> Message:
    """Art. 16(5): the notifier learns the decision and how to contest it.

    ``decision_id`` is what an appeal names: the action taken, or the case when none was.
    """
    result = "We took action on" if actioned else "We did not take action on"
    return Message(
        recipient_id=reporter_id,
        kind=NotificationKind.REPORT_OUTCOME,
        subject=f"{result} what you reported",
        body=(
            f"{result} the content you reported. {summary}\n"
            f"If you disagree you can appeal decision {decision_id} until "
            f"{require_utc(appeal_deadline).date().isoformat()}."
        ),
        refs={"report_id": report_id, "case_id": case_id, "decision_id": decision_id},
    )


def appeal_received_message(recipient_id: str, appeal_id: str) -> Message:
    return Message(
        recipient_id=recipient_id,
        kind=NotificationKind.APPEAL_RECEIVED,
        subject="We received your appeal",
        body="A reviewer who was not involved in the decision will look at it and answer with "
        "reasons.",
        refs={"appeal_id": appeal_id},
    )


def rights_holder_invitation(
    rights_holder_id: str, appeal_id: str, decision_id: str, due_at: datetime
) -> Message:
    return Message(
        recipient_id=rights_holder_id,
        kind=NotificationKind.RIGHTS_HOLDER_INVITED,
        subject="A decision based on your opt-out is under appeal",
        body=(
            "A user appealed a decision we took because of your opt-out. You may send us your "
            f"view until {require_utc(due_at).isoformat()}; the reviewer decides after that."
        ),
        refs={"appeal_id": appeal_id, "decision_id": decision_id},
    )


def appeal_decided_message(
    recipient_id: str, appeal_id: str, outcome: AppealOutcome, reasons: str
) -> Message:
    verdict = (
        "We reversed the decision"
        if outcome is AppealOutcome.REVERSED
        else "We upheld the decision"
    )
    return Message(
        recipient_id=recipient_id,
        kind=NotificationKind.APPEAL_DECIDED,
        subject=f"Your appeal: {verdict.lower()}",
        body=f"{verdict}. Reasons: {reasons}",
        refs={"appeal_id": appeal_id, "outcome": outcome.value},
    )


@dataclass(slots=True)
class Notification:
    notification_id: str
    recipient_id: str
    kind: NotificationKind
    subject: str
    body: str
    refs: dict[str, str]
    created_at: datetime
    read_at: datetime | None = None


@dataclass(slots=True)
class Inboxes(Fold):
    """Fold of ``UserNotified`` and ``NotificationRead`` into each person's inbox."""

    by_id: dict[str, Notification] = field(default_factory=dict)

    def apply(self, event: Fact) -> None:
        p = event.payload
        if event.type == ev.UserNotified.event_type_name:
            nid = str(p["notification_id"])
            self.by_id.setdefault(
                nid,
                Notification(
                    notification_id=nid,
                    recipient_id=str(p["recipient_id"]),
                    kind=NotificationKind(p["kind"]),
                    subject=str(p["subject"]),
                    body=str(p["body"]),
                    refs={str(k): str(v) for k, v in dict(p.get("refs", {})).items()},
                    created_at=require_utc(event.occurred_at),
                ),
            )
        elif event.type == ev.NotificationRead.event_type_name:
            note = self.by_id.get(str(p["notification_id"]))
            if note is not None and note.read_at is None:
                note.read_at = require_utc(event.occurred_at)

    def inbox(self, recipient_id: str, *, unread_only: bool = False) -> list[Notification]:
        notes = [
            n
            for n in self.by_id.values()
            if n.recipient_id == recipient_id and (not unread_only or n.read_at is None)
        ]
        return sorted(notes, key=lambda n: (n.created_at, n.notification_id), reverse=True)

    def check_can_read(self, notification_id: str, reader_id: str) -> Notification:
        note = self.by_id.get(notification_id)
        if note is None:
            raise UnknownCase(f"notification {notification_id!r} does not exist")
        if note.recipient_id != reader_id:
            raise Forbidden("a notification is readable by its recipient only")
        return note


# -- the inbox aggregate: ``inbox-<recipient_id>`` --------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkRead:
    notification_id: str
    reader_id: str


class Inbox(FoldAggregate[Inboxes]):
    category = ev.INBOX

    def initial(self) -> Inboxes:
        return Inboxes()

    def decide(self, state: Inboxes, command: MarkRead) -> list[EventPayload]:
        note = state.by_id.get(command.notification_id)
        if note is None or note.recipient_id != command.reader_id:
            # Someone else's notification is reported as missing, not as forbidden, so ids
            # cannot be probed.
            raise NotFound(f"no notification {command.notification_id!r}")
        if note.read_at is not None:
            return []
        return [ev.NotificationRead(notification_id=command.notification_id)]


INBOX = Inbox()


def notice(message: Message, notification_id: str) -> ev.UserNotified:
    return ev.UserNotified(**message.to_payload(notification_id))


def notify(tx: Transaction, message: Message) -> str:
    """Tell someone, in the command's transaction, so nobody is acted against without the
    notice being on record. Notices never contradict each other: any inbox version will do."""
    nid = uuid.uuid4().hex
    tx.append(INBOX, message.recipient_id, [notice(message, nid)], expected_version=None)
    return nid


def mark_read(services: Services, reader: Principal, notification_id: str) -> None:
    execute(
        services.store, INBOX, reader.id, MarkRead(notification_id, reader.id), actor=reader.actor()
    )
