"""Matched media kept as evidence: encrypted, restricted, and shredded when retention ends.

The file is encrypted (AES-256-GCM, bound to its evidence id) under a data key made for it
alone, and written under ``<data_dir>/hash_banks/evidence/`` (read-only to the process
user). The data key travels in ``EvidencePreserved`` as a personal field whose subject is
the evidence's own key (``evidence:<id>``), so the event store seals it (core/privacy.py):
the database alone opens nothing, a user's erasure request does not destroy what the law
requires to be kept, and the purge at the end of the retention period erases that key and
deletes the file, after which no copy (backups included) can be opened.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from core.db import as_utc, transaction
from core.events import Actor, stream_id, utcnow
from core.privacy import ERASED, keyring_of
from core.projections import Append
from core.services import Services
from trust_safety.hash_banks.errors import EvidenceGone, UnknownEvidence
from trust_safety.hash_banks.events import (
    EVIDENCE,
    EvidenceAccessed,
    EvidencePreserved,
    EvidencePurged,
)
from trust_safety.hash_banks.settings import HashBankSettings

_NONCE = 12


def evidence_dir(services: Services) -> Path:
    return Path(services.settings.data_dir) / "hash_banks" / "evidence"


def key_subject(evidence_id: str) -> str:
    return f"evidence:{evidence_id}"


def _aad(evidence_id: str) -> bytes:
    return f"clearframe-evidence\0{evidence_id}".encode()


@dataclass(frozen=True)
class Preserved:
    event: EvidencePreserved

    def append(self) -> Append:
        return Append(stream_id(EVIDENCE, self.event.evidence_id), [self.event], expected_version=0)


def preserve(
    services: Services,
    *,
    evidence_id: str,
    match_id: str,
    data: bytes,
    md5: str,
    sha256: str,
    media_type: str,
    account_id: str | None,
    at: datetime,
) -> Preserved:
    """Encrypt ``data`` to the evidence directory; the event to append records it."""
    settings = services.settings.section(HashBankSettings)
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    ciphertext = nonce + AESGCM(key).encrypt(nonce, data, _aad(evidence_id))
    folder = evidence_dir(services)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{evidence_id}.bin"
    tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    tmp.write_bytes(ciphertext)
    os.chmod(tmp, 0o400)
    os.replace(tmp, folder / name)
    return Preserved(
        EvidencePreserved(
            evidence_id=evidence_id,
            match_id=match_id,
            key_subject=key_subject(evidence_id),
            data_key=base64.b64encode(key).decode(),
            file=name,
            sha256=sha256,
            md5=md5,
            size_bytes=len(data),
            media_type=media_type,
            account_id=account_id,
            preserved_at=at,
            retain_until=at + timedelta(days=settings.evidence_retention_days),
        )
    )


def preserved(services: Services, evidence_id: str) -> EvidencePreserved:
    events = services.store.read_stream(stream_id(EVIDENCE, evidence_id))
    found = [e for e in events if e.type == EvidencePreserved.event_type_name]
    if not found:
        raise UnknownEvidence(f"no evidence {evidence_id!r}")
    if any(e.type == EvidencePurged.event_type_name for e in events):
        raise EvidenceGone(f"evidence {evidence_id!r} was purged at the end of its retention")
    return found[0].payload_as(EvidencePreserved)


def open_evidence(services: Services, evidence_id: str) -> tuple[EvidencePreserved, bytes]:
    """The evidence's record and plaintext (no audit: callers that show it record why)."""
    record = preserved(services, evidence_id)
    if record.data_key == ERASED:
        raise EvidenceGone(f"the key of evidence {evidence_id!r} is shredded")
    path = evidence_dir(services) / record.file
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise EvidenceGone(f"the file of evidence {evidence_id!r} is gone") from None
    try:
        plain = AESGCM(base64.b64decode(record.data_key)).decrypt(
            blob[:_NONCE], blob[_NONCE:], _aad(evidence_id)
        )
    except InvalidTag:
        raise EvidenceGone(f"the file of evidence {evidence_id!r} does not open") from None
    return record, plain


def access_evidence(
    services: Services, evidence_id: str, actor: Actor, purpose: str
) -> tuple[EvidencePreserved, bytes]:
    """Open the evidence for a person, recording who and why first."""
    preserved(services, evidence_id)
    services.store.append(
        stream_id(EVIDENCE, evidence_id),
        [EvidenceAccessed(evidence_id=evidence_id, accessed_by=actor.id, purpose=purpose[:500])],
        expected_version=None,
        actor=actor,
    )
    return open_evidence(services, evidence_id)


def purge_expired(services: Services, actor: Actor, now: datetime | None = None) -> list[str]:
    """Shred every evidence whose retention ended: its key erased and its file deleted, in
    the transaction that records ``EvidencePurged``. Returns the evidence ids purged."""
    from trust_safety.hash_banks.models import EvidenceRow

    moment = now or utcnow()
    with services.read_sessions() as s:
        due = [
            row.evidence_id
            for row in s.scalars(select(EvidenceRow).where(EvidenceRow.purged_at.is_(None)))
            if (as_utc(row.retain_until) or moment) <= moment
        ]
    purged = []
    for evidence_id in due:
        with transaction(services.sessions) as session:
            keyring = keyring_of(session)
            if keyring is None:  # pragma: no cover - Services always attach one
                raise RuntimeError("the evidence purge needs the keyring")
            keyring.erase(session, key_subject(evidence_id))
            services.store.append(
                stream_id(EVIDENCE, evidence_id),
                [EvidencePurged(evidence_id=evidence_id, reason="retention period ended")],
                expected_version=None,
                actor=actor,
                session=session,
            )
        (evidence_dir(services) / f"{evidence_id}.bin").unlink(missing_ok=True)
        purged.append(evidence_id)
    return purged
