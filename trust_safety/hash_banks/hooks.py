"""The seams uploads and output moderation call: hash, match, and record what follows.

Kept here so that the upload service and the output moderation processor each gain two
lines: :func:`screen_upload` before an upload's decision is recorded, :func:`screen_output`
before an output's ``OutputModerated`` is; both are matched against every enabled bank
that applies (every bank applies to both surfaces).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from core.projections import Append
from core.services import Services
from trust_safety.hash_banks.screening import (
    OUTPUT,
    UPLOAD,
    MatchRecord,
    Screening,
    commit,
    hash_output,
    hash_upload,
    match_appends,
    screen,
)
from trust_safety.hash_banks.settings import HashBankSettings
from trust_safety.hash_banks.signals import digests

if TYPE_CHECKING:
    from contracts.generation import OutputModerated
    from trust_safety.uploads.moderation import UploadDecision

HASH_BANKS = "hash-banks"


@dataclass(frozen=True)
class UploadScreening:
    screening: Screening
    media_type: str

    def apply(self, decision: UploadDecision) -> UploadDecision:
        """The decision with the banks' verdict: refused when a blocking bank matched."""
        from trust_safety.uploads.moderation import UploadRefusal

        changed = replace(decision, hash_match=self.screening.record())
        if self.screening.blocks:
            changed = replace(changed, approved=False, reason=UploadRefusal.KNOWN_MEDIA)
        return changed

    def appends(
        self, services: Services, upload_id: str, owner_id: str, data: bytes, at: datetime
    ) -> MatchRecord:
        return match_appends(
            services,
            self.screening,
            surface=UPLOAD,
            subject_id=upload_id,
            account_id=owner_id,
            data=data,
            media_type=self.media_type,
            occurred_at=at,
            detected_at=at,
        )


def screen_upload(services: Services, data: bytes, media_type: str) -> UploadScreening:
    settings = services.settings.section(HashBankSettings)
    return UploadScreening(screen(services, hash_upload(data, media_type, settings)), media_type)


def commit_match(services: Services, match: MatchRecord, session: Any) -> None:
    commit(services, match.appends, session)


@dataclass(frozen=True)
class OutputScreening:
    screening: Screening
    master: Path

    @property
    def withholds_frames(self) -> bool:
        """Known harmful media that blocks: no crop or frame of it is kept for anyone to see
        (the likeness thumbnails a cameo's owner is shown, for one); the evidence holds it."""
        return self.screening.blocks

    def verdict(self) -> dict[str, Any]:
        s = self.screening
        return {
            "category": s.refusal_category if s.blocks else "known_media",
            "status": "evaluated",
            "outcome": "block" if s.blocks else "record",
            "max_score": 1.0,
            "threshold": 1.0,
            "evaluated_by": [HASH_BANKS],
            "reason": "matched a hash bank: " + ", ".join(sorted({m.bank_id for m in s.matches})),
            "worst_frame_s": None,
            "subjects": sorted({f"hashbank:{m.bank_id}" for m in s.matches}),
            "matches": [m.record() for m in s.matches],
        }

    def apply(self, moderated: OutputModerated) -> OutputModerated:
        """``moderated`` with the banks' verdict added; a blocking match blocks it."""
        # Checked is recorded always (the classifiers list); a verdict only for a match, so
        # an output no bank knows keeps exactly the verdicts and scores it had.
        update: dict[str, Any] = {"classifiers": [*moderated.classifiers, HASH_BANKS]}
        if self.screening.matched:
            update["verdicts"] = [*moderated.verdicts, self.verdict()]
        if self.screening.blocks:
            update["decision"] = "block"
            update["blocked_categories"] = [
                *moderated.blocked_categories,
                self.screening.refusal_category,
            ]
        return moderated.model_copy(update=update)

    def appends(
        self,
        services: Services,
        generation_id: str,
        requester_id: str | None,
        occurred_at: datetime,
        detected_at: datetime,
    ) -> list[Append]:
        if not self.screening.matched:
            return []
        return match_appends(
            services,
            self.screening,
            surface=OUTPUT,
            subject_id=generation_id,
            account_id=requester_id,
            data=self.master.read_bytes(),
            media_type="video/mp4",
            occurred_at=occurred_at,
            detected_at=detected_at,
        ).appends


def screen_output(
    services: Services,
    master: Path,
    frames: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]],
    fps: float,
) -> OutputScreening:
    """A generated clip's hashes (from the frames already decoded) matched against the banks."""
    settings = services.settings.section(HashBankSettings)
    hashes = hash_output(None, frames, fps, settings, file_digests=digests(master.read_bytes()))
    return OutputScreening(screen(services, hashes), master)
