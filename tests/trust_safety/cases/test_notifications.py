from __future__ import annotations

import pytest

from tests.trust_safety.cases.builders import at, decision, fact
from trust_safety.cases import events as ev
from trust_safety.cases.errors import Forbidden, UnknownCase
from trust_safety.cases.events import AppealOutcome
from trust_safety.cases.inbox import (
    Inboxes,
    NotificationKind,
    appeal_decided_message,
    enforcement_message,
    report_outcome_message,
)


def test_enforcement_message_says_what_why_automation_and_how_to_appeal() -> None:
    d = decision(kind="suspend_account", duration_days=7, target_id="user-owner")
    msg = enforcement_message("a1", "clearframe-sor-a1", d, at(0), at(days=365))
    assert msg.recipient_id == "user-owner"
    assert msg.kind is NotificationKind.ENFORCEMENT
    assert "suspended until 2026-03-09" in msg.subject
    assert d.facts in msg.body
    assert "Terms of Service 4.2" in msg.body
    assert "A person took this decision." in msg.body
    assert "detected by automated means" in msg.body
    assert "appeal this decision free of charge until 2027-03-02" in msg.body
    assert "clearframe-sor-a1" in msg.body
    label = enforcement_message(
        "a2", "p2", decision(kind="label_asset", label_text="AI parody"), at(0), at(days=365)
    )
    assert "AI parody" in label.body


def test_inbox_is_per_recipient_newest_first_and_tracks_reads() -> None:
    m1 = report_outcome_message("reporter", "r1", "c1", "a1", True, "We removed it.", at(days=365))
    assert m1.refs["decision_id"] == "a1" and "appeal decision a1 until 2027-03-02" in m1.body
    m2 = appeal_decided_message("owner", "ap1", AppealOutcome.REVERSED, "The clip is satire.")
    m3 = appeal_decided_message("reporter", "ap2", AppealOutcome.UPHELD, "Still hateful.")
    events = [
        fact(ev.UserNotified, at(1), **m1.to_payload("n1")),
        fact(ev.UserNotified, at(2), **m2.to_payload("n2")),
        fact(ev.UserNotified, at(3), **m3.to_payload("n3")),
        fact(ev.UserNotified, at(3), **m3.to_payload("n3")),  # redelivered
        fact(ev.NotificationRead, at(4), notification_id="n1"),
    ]
    boxes = Inboxes().apply_all(events)
    assert [n.notification_id for n in boxes.inbox("reporter")] == ["n3", "n1"]
    assert [n.notification_id for n in boxes.inbox("reporter", unread_only=True)] == ["n3"]
    assert [n.notification_id for n in boxes.inbox("owner")] == ["n2"]
    assert boxes.check_can_read("n2", "owner").subject.startswith("Your appeal")
    with pytest.raises(Forbidden):
        boxes.check_can_read("n2", "reporter")
    with pytest.raises(UnknownCase):
        boxes.check_can_read("n9", "owner")
