"""Matching every upload and every generated output against the banks, and what follows.

:func:`hash_upload` / :func:`hash_output` compute a file's signals (exact digests; PDQ of an
image; vPDQ of a clip, one frame a second); :func:`screen` matches them against every
enabled bank (index.py). A match is recorded by :func:`match_appends` as the events the
caller commits with its own decision, in the same transaction:

* ``KnownMediaMatched`` on ``hashmatch-<match_id>``: the file's hashes, the bank hashes it
  matched, the outcome (``refused`` / ``blocked`` when a matched bank blocks, ``flagged``
  when every matched bank only flags) and the references below;
* the file preserved as encrypted evidence (``EvidencePreserved``, evidence.py), for the
  retention period the operator set;
* for a CSAM bank: the account's ban with its statement of reasons (actions.py) and the
  prepared report for NCMEC (reports.py).

Ids are derived from the surface and subject (the upload id, the generation id), so a
retried output moderation appends nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from core.events import SYSTEM_ACTOR, stream_id
from core.projections import Append
from core.services import Services
from trust_safety.hash_banks.actions import ban_appends, standing_ban
from trust_safety.hash_banks.banks import BankAction, KnownCategory
from trust_safety.hash_banks.events import MATCH, KnownMediaMatched
from trust_safety.hash_banks.evidence import preserve
from trust_safety.hash_banks.index import BANK_INDEX, MatchPolicy, SignalMatch
from trust_safety.hash_banks.reports import Incident, prepare
from trust_safety.hash_banks.settings import HashBankSettings
from trust_safety.hash_banks.signals import (
    MediaHashes,
    digests,
    frames_every,
    hash_image,
    hash_video,
    vpdq_features,
)

UPLOAD = "upload"
OUTPUT = "output"


def policy_of(settings: HashBankSettings) -> MatchPolicy:
    return MatchPolicy(
        pdq_distance=settings.pdq_distance,
        pdq_quality=settings.pdq_quality,
        vpdq_query_match_pct=settings.vpdq_query_match_pct,
        vpdq_bank_match_pct=settings.vpdq_bank_match_pct,
    )


@dataclass(frozen=True)
class Screening:
    hashes: MediaHashes
    matches: tuple[SignalMatch, ...] = ()
    # banks the index knew when it matched (the evidence of "checked against")
    banks_checked: tuple[str, ...] = field(default=())

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    @property
    def blocks(self) -> bool:
        return any(m.action == BankAction.BLOCK for m in self.matches)

    @property
    def csam(self) -> bool:
        return any(m.category == KnownCategory.CSAM for m in self.matches)

    @property
    def categories(self) -> list[str]:
        return sorted({m.category for m in self.matches})

    @property
    def refusal_category(self) -> str:
        """The category a refusal or block is recorded under (``known_<bank category>``)."""
        blocking = sorted({m.category for m in self.matches if m.action == BankAction.BLOCK})
        first = KnownCategory.CSAM.value if KnownCategory.CSAM.value in blocking else blocking[0]
        return f"known_{first}"

    def record(self) -> dict[str, Any]:
        """What the upload's decision record and output moderation's verdict carry."""
        return {
            "banks_checked": list(self.banks_checked),
            "matched": self.matched,
            "categories": self.categories,
            "matches": [m.record() for m in self.matches],
            "frames_hashed": self.hashes.frames,
        }


def hash_upload(data: bytes, media_type: str, settings: HashBankSettings) -> MediaHashes:
    if media_type.startswith("video/"):
        return hash_video(data, settings.vpdq_seconds_per_hash)
    return hash_image(data)


def hash_output(
    master: bytes | None,
    frames: npt.NDArray[np.uint8] | Sequence[npt.NDArray[np.uint8]],
    fps: float,
    settings: HashBankSettings,
    *,
    file_digests: tuple[str, str] | None = None,
) -> MediaHashes:
    """A generated clip's signals, from the frames output moderation decoded already."""
    md5, sha = file_digests if file_digests is not None else digests(master or b"")
    picked, times = frames_every(list(frames), fps, settings.vpdq_seconds_per_hash)
    return MediaHashes(md5, sha, vpdq=vpdq_features(picked, times), frames=len(picked))


def screen(services: Services, hashes: MediaHashes) -> Screening:
    settings = services.settings.section(HashBankSettings)
    index = services.resource(BANK_INDEX)
    matches = index.match(hashes, policy_of(settings))
    banks = tuple(sorted(b for b, info in index.banks().items() if info.enabled))
    return Screening(hashes, tuple(matches), banks)


def match_id_for(surface: str, subject_id: str) -> str:
    return hashlib.sha256(f"hash-match\x1f{surface}\x1f{subject_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class MatchRecord:
    match_id: str
    outcome: str
    evidence_id: str | None
    action_id: str | None
    report_id: str | None
    appends: list[Append]


def match_appends(
    services: Services,
    screening: Screening,
    *,
    surface: str,
    subject_id: str,
    account_id: str | None,
    data: bytes,
    media_type: str,
    occurred_at: datetime,
    detected_at: datetime,
) -> MatchRecord:
    """The events that record a match and its consequences (nothing when nothing matched).
    Writes the encrypted evidence file; the caller commits the appends."""
    if not screening.matched:
        return MatchRecord("", "none", None, None, None, [])
    settings = services.settings.section(HashBankSettings)
    match_id = match_id_for(surface, subject_id)
    outcome = ("refused" if surface == UPLOAD else "blocked") if screening.blocks else "flagged"
    evidence_id = match_id
    kept = preserve(
        services,
        evidence_id=evidence_id,
        match_id=match_id,
        data=data,
        md5=screening.hashes.md5,
        sha256=screening.hashes.sha256,
        media_type=media_type,
        account_id=account_id,
        at=detected_at,
    )
    appends: list[Append] = [kept.append()]
    action_id = report_id = None
    if screening.csam:
        csam = [m for m in screening.matches if m.category == KnownCategory.CSAM]
        if account_id:
            action_id = standing_ban(services, account_id)
            if action_id is None:
                action_id, bans = ban_appends(
                    match_id, account_id, surface, subject_id, csam, detected_at
                )
                appends += bans
        prepared = prepare(
            Incident(
                match_id=match_id,
                surface=surface,
                subject_id=subject_id,
                account_id=account_id,
                occurred_at=occurred_at,
                detected_at=detected_at,
                media_type=media_type,
                size_bytes=len(data),
                hashes=screening.hashes.signals(),
                matches=[m.record() for m in csam],
                evidence_id=evidence_id,
                file_name=f"{subject_id}{_extension(media_type)}",
            ),
            settings,
            "ncmec",
        )
        report_id = prepared.report_id
        appends.append(Append(stream_id("hotline", report_id), [prepared], expected_version=0))
    matched = KnownMediaMatched(
        match_id=match_id,
        surface=surface,
        subject_id=subject_id,
        account_id=account_id,
        media_type=media_type,
        sha256=screening.hashes.sha256,
        size_bytes=len(data),
        hashes=screening.hashes.signals(),
        matches=[m.record() for m in screening.matches],
        categories=screening.categories,
        outcome=outcome,
        evidence_id=evidence_id,
        action_id=action_id,
        report_id=report_id,
    )
    appends.insert(0, Append(stream_id(MATCH, match_id), [matched], expected_version=0))
    return MatchRecord(match_id, outcome, evidence_id, action_id, report_id, appends)


def _extension(media_type: str) -> str:
    return {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "video/mp4": ".mp4",
        "video/quicktime": ".mov",
        "video/webm": ".webm",
    }.get(media_type, ".bin")


def commit(services: Services, appends: Sequence[Append], session: Any) -> None:
    """Append ``appends`` in the caller's transaction (a synchronous command, not a
    processor: the runner commits a processor's)."""
    for a in appends:
        services.store.append(
            a.stream_id,
            list(a.events),
            expected_version=a.expected_version,
            actor=a.actor or SYSTEM_ACTOR,
            session=session,
        )
