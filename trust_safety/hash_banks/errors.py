"""Typed hash bank errors, each with a stable machine code (problem+json at the edge)."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, ValidationFailed


class InvalidBank(ValidationFailed):
    code = "invalid_hash_bank"


class InvalidHash(ValidationFailed):
    code = "invalid_hash"


class InvalidHashFile(ValidationFailed):
    code = "invalid_hash_file"


class UnknownBank(NotFound):
    code = "unknown_hash_bank"


class BankExists(Conflict):
    code = "hash_bank_exists"


class UnknownMatch(NotFound):
    code = "unknown_hash_match"


class UnknownEvidence(NotFound):
    code = "unknown_evidence"


class EvidenceGone(NotFound):
    """The evidence was purged at the end of its retention (its key is shredded)."""

    code = "evidence_purged"


class UnknownHotlineReport(NotFound):
    code = "unknown_hotline_report"


class ReportState(Conflict):
    code = "hotline_report_state"


class ReportClientDisabled(ServiceUnavailable):
    code = "report_client_disabled"


class ExchangeNotConfigured(ValidationFailed):
    code = "exchange_not_configured"


class EvidenceRestricted(Forbidden):
    code = "evidence_restricted"
