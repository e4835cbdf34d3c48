"""Hash bank events.

Streams:

* ``hashbank-<bank_id>``: a bank's life and contents. ``HashBankCreated``, ``HashBankUpdated``,
  ``BankHashesAdded`` / ``BankHashesRemoved`` (one event per batch, at most
  ``MAX_BATCH`` hashes, each naming the import it belongs to, if any), and
  ``BankImportCompleted`` closing an import with its counts and the exchange's checkpoint.
* ``hashmatch-<match_id>``: ``KnownMediaMatched``, one per upload or output whose hashes
  matched a bank, with what was done (refused/blocked or flagged), the evidence, the ban and
  the report it led to; ``KnownMediaConfirmed`` when a reviewer confirms it, and ``HashContributed`` per hash
  given back to an exchange.
* ``evidence-<evidence_id>``: ``EvidencePreserved`` (the file's data key is sealed under a key
  of the evidence's own, so the retention purge shreds it and a user's erasure does not),
  ``EvidenceAccessed`` (every download), ``EvidencePurged``.
* ``hotline-<report_id>``: ``HotlineReportPrepared`` / ``Submitted`` / ``SubmissionFailed`` /
  ``Acknowledged``: the report record and its states.
* ``audit-unblur-<match_id>``: ``MatchedMediaUnblurred``, each time a reviewer unblurs an item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from core.events import EventPayload, PersonalData, event_type

BANK = "hashbank"
MATCH = "hashmatch"
EVIDENCE = "evidence"
HOTLINE = "hotline"
AUDIT = "audit"
MAX_BATCH = 5000


class BankEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    signal_type: str
    signal: str
    # the exchange's record key this hash came from (an import), for its later updates
    source_key: str | None = None
    note: str | None = None


@event_type("HashBankCreated", category=BANK)
class HashBankCreated(EventPayload):
    bank_id: str
    name: str
    harm_category: str  # csam | ncii | terrorism | an operator-defined name
    action: str  # block | flag
    enabled: bool = True
    exchange: str | None = None  # the exchange that fills it (an import's default)
    description: str = ""


@event_type("HashBankUpdated", category=BANK)
class HashBankUpdated(EventPayload):
    bank_id: str
    enabled: bool | None = None
    action: str | None = None
    reason: str = ""


@event_type("BankHashesAdded", category=BANK)
class BankHashesAdded(EventPayload):
    bank_id: str
    source: str  # manual | file | an exchange name | confirmed-match
    import_id: str | None = None
    entries: list[BankEntry] = Field(max_length=MAX_BATCH)


@event_type("BankHashesRemoved", category=BANK)
class BankHashesRemoved(EventPayload):
    bank_id: str
    source: str
    import_id: str | None = None
    reason: str = ""
    entries: list[BankEntry] = Field(max_length=MAX_BATCH)


@event_type("BankImportCompleted", category=BANK)
class BankImportCompleted(EventPayload):
    bank_id: str
    import_id: str
    exchange: str
    source: str  # the file or the collaboration it read
    added: int
    removed: int
    unchanged: int
    invalid: int
    checkpoint: dict[str, Any] | None = None


BANK_EVENTS = (
    HashBankCreated.event_type_name,
    HashBankUpdated.event_type_name,
    BankHashesAdded.event_type_name,
    BankHashesRemoved.event_type_name,
)


@event_type("KnownMediaMatched", category=MATCH)
class KnownMediaMatched(EventPayload):
    match_id: str
    surface: str  # upload | output
    subject_id: str  # the upload id or the generation id
    account_id: str | None
    media_type: str
    sha256: str
    size_bytes: int
    hashes: list[dict[str, Any]]  # every signal of the file (md5, sha256, pdq/vpdq)
    matches: list[dict[str, Any]]  # SignalMatch.record() of each bank hash matched
    categories: list[str]
    outcome: str  # refused | blocked | flagged
    evidence_id: str | None = None
    action_id: str | None = None  # the ban, for a CSAM match
    report_id: str | None = None
    thumbnail: str | None = None  # blob address of the (sealed) preview, see exposure.py


@event_type("KnownMediaConfirmed", category=MATCH)
class KnownMediaConfirmed(EventPayload):
    """A reviewer confirmed the match (from the blurred preview, or after one unblur)."""

    match_id: str
    reviewer_id: str
    note: str = ""


@event_type("HashContributed", category=MATCH)
class HashContributed(EventPayload):
    match_id: str
    exchange: str
    bank_id: str
    signal_type: str
    signal: str
    status: str  # contributed | not_supported | failed
    detail: str = ""


@event_type("EvidencePreserved", category=EVIDENCE)
class EvidencePreserved(EventPayload):
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="key_subject", fields=("data_key",)
    )

    evidence_id: str
    match_id: str
    key_subject: str  # evidence:<id>: the key the data key is sealed with
    data_key: str  # base64 AES-256 key of the file (sealed in the store)
    file: str  # name under the evidence directory (ciphertext)
    sha256: str
    md5: str
    size_bytes: int
    media_type: str
    account_id: str | None
    preserved_at: datetime
    retain_until: datetime


@event_type("EvidenceAccessed", category=EVIDENCE)
class EvidenceAccessed(EventPayload):
    evidence_id: str
    accessed_by: str
    purpose: str


@event_type("EvidencePurged", category=EVIDENCE)
class EvidencePurged(EventPayload):
    evidence_id: str
    reason: str


@event_type("HotlineReportPrepared", category=HOTLINE)
class HotlineReportPrepared(EventPayload):
    report_id: str
    match_id: str
    authority: str  # ncmec | a hotline's name
    format: str  # cybertipline | generic
    payload: dict[str, Any]


@event_type("HotlineReportSubmitted", category=HOTLINE)
class HotlineReportSubmitted(EventPayload):
    report_id: str
    remote_id: str
    submitted_by: str
    files: list[str] = []


@event_type("HotlineReportSubmissionFailed", category=HOTLINE)
class HotlineReportSubmissionFailed(EventPayload):
    report_id: str
    error: str


@event_type("HotlineReportAcknowledged", category=HOTLINE)
class HotlineReportAcknowledged(EventPayload):
    report_id: str
    remote_id: str
    acknowledged_by: str
    detail: str = ""


@event_type("MatchedMediaUnblurred", category=AUDIT)
class MatchedMediaUnblurred(EventPayload):
    match_id: str
    reviewer_id: str
    reason: str
