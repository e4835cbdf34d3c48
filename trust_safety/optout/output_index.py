"""The reference media of every outputs-scoped opt-out, matched against generated outputs.

Like the likeness index (``trust_safety.likeness.index``), it is kept in process memory, one
per :class:`~core.services.Services`, and it follows the opt-out events *in the store*: before
every match it reads the ``OptOutFiled`` / ``OptOutAmended`` / ``OptOutWithdrawn`` events after
the last position it applied (the store's positions are gap-free in commit order, so nothing
committed is skipped), folds them with the registry's own ``apply``, and re-describes only the
opt-outs whose reference set changed. An opt-out filed a moment ago is therefore matched by the
next output in any process, without waiting for the registry projection.

The facts carry the reference media's address and hash, not the media: the loader reads it
and checks the hash. A reference that cannot be read is logged and skipped (the rest of the
registry still applies); it is matched once an amendment names media that can be read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.events import RecordedEvent
from core.services import Services
from trust_safety.optout.errors import InvalidOptOut
from trust_safety.optout.facts import OptOutFact, Scope
from trust_safety.optout.keypoints import (
    Described,
    KeypointDescriber,
    KeypointSettings,
    ReferenceBank,
)
from trust_safety.optout.reference_media import Frame, ReferenceMediaLoader, validate_frames
from trust_safety.optout.registry import OptOutRecord, RecordedOptOutFact, apply
from trust_safety.optout.stage import optout_ref
from trust_safety.optout.territories import applies_in

log = logging.getLogger(__name__)

FOLLOWED = ("OptOutFiled", "OptOutAmended", "OptOutWithdrawn")


@dataclass(frozen=True)
class MatchedFrame:
    """One sampled output frame that shows a reference frame."""

    frame: int  # position in the frames given to ``match``
    reference_sha256: str
    reference_frame: int  # which frame of the reference (0 for an image)
    mirrored: bool
    inliers: int
    score: float

    def evidence(self) -> dict[str, Any]:
        return {
            "reference_sha256": self.reference_sha256,
            "reference_frame": self.reference_frame,
            "mirrored": self.mirrored,
            "inliers": self.inliers,
            "score": self.score,
        }


@dataclass(frozen=True)
class OptOutOutputMatch:
    optout_id: str
    frames: tuple[MatchedFrame, ...]  # the best reference frame per matching output frame
    frames_checked: int

    @property
    def ref(self) -> str:
        return optout_ref(self.optout_id)

    @property
    def reference_sha256s(self) -> tuple[str, ...]:
        return tuple(sorted({f.reference_sha256 for f in self.frames}))


@dataclass(frozen=True)
class _Row:
    optout_id: str
    sha256: str
    reference_frame: int
    mirrored: bool


class OutputOptOutIndex:
    """The outputs-scoped opt-outs as of the store position it last read; thread-safe."""

    def __init__(
        self,
        services: Services,
        loader: ReferenceMediaLoader,
        *,
        settings: KeypointSettings | None = None,
        min_matching_frames: int = 2,
    ) -> None:
        if min_matching_frames < 1:
            raise InvalidOptOut("min_matching_frames must be at least 1")
        self.services = services
        self.loader = loader
        self.describer = KeypointDescriber(settings)
        self.min_matching_frames = min_matching_frames
        self.position = 0
        self.records: dict[str, OptOutRecord] = {}
        self._described: dict[str, list[tuple[_Row, Described]]] = {}
        self._bank: ReferenceBank | None = None
        self._rows: list[_Row] = []
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.describer.model_id

    @property
    def reference_count(self) -> int:
        return len({(r.optout_id, r.sha256) for r in self._rows})

    def catch_up(self) -> int:
        """Apply the opt-out events committed since the last read; returns how many."""
        with self._lock:
            store = self.services.store
            head = store.head_position()
            changed: set[str] = set()
            applied = 0
            while self.position < head:
                page = store.read_all(
                    after_position=self.position, up_to_position=head, types=FOLLOWED, limit=500
                )
                if not page:
                    break
                for event in page:
                    changed.add(self._fold(event))
                applied += len(page)
                self.position = page[-1].position
            self.position = head
            for optout_id in sorted(changed):
                self._describe(optout_id)
            if changed or self._bank is None:
                self._rebuild_bank()
            return applied

    def _fold(self, event: RecordedEvent) -> str:
        fact: OptOutFact = event.decode()  # type: ignore[assignment]
        current = self.records.get(fact.optout_id)
        recorded = RecordedOptOutFact(fact, event.occurred_at, event.actor.id)
        self.records[fact.optout_id] = apply(current, recorded)
        return fact.optout_id

    def _describe(self, optout_id: str) -> None:
        record = self.records[optout_id]
        wanted = {m.sha256 for m in record.reference_media}
        if not (record.active and Scope.OUTPUTS in record.scopes):
            self._described.pop(optout_id, None)
            return
        kept = [(r, d) for r, d in self._described.get(optout_id, []) if r.sha256 in wanted]
        have = {r.sha256 for r, _ in kept}
        for media in record.reference_media:
            if media.sha256 in have:
                continue  # an amendment that kept a file does not describe it again
            try:
                frames = validate_frames(self.loader.frames(media))
            except InvalidOptOut as exc:
                log.warning("opt-out %s: reference %s skipped: %s", optout_id, media.uri, exc)
                continue
            for k, frame in enumerate(frames):
                for mirrored, described in zip(
                    (False, True), self.describer.describe_with_mirror(frame), strict=True
                ):
                    kept.append((_Row(optout_id, media.sha256, k, mirrored), described))
        self._described[optout_id] = kept

    def _rebuild_bank(self) -> None:
        pairs = [
            pair for optout_id in sorted(self._described) for pair in self._described[optout_id]
        ]
        self._rows = [r for r, _ in pairs]
        self._bank = ReferenceBank([d for _, d in pairs], self.describer.settings)

    def match(
        self, frames: Sequence[Frame], *, territory: str | None = None
    ) -> list[OptOutOutputMatch]:
        """The opt-outs these (sampled) frames show, each with the frames that show it."""
        checked = validate_frames(frames)
        self.catch_up()
        with self._lock:
            bank, rows, records = self._bank, list(self._rows), dict(self.records)
        if bank is None or not len(bank) or not checked:
            return []
        by_optout: dict[str, list[MatchedFrame]] = {}
        for k, frame in enumerate(checked):
            best: dict[str, MatchedFrame] = {}
            for row, found in zip(rows, bank.match(self.describer.describe(frame)), strict=True):
                if found is None or not applies_in(records[row.optout_id].territories, territory):
                    continue
                current = best.get(row.optout_id)
                if current is None or found.inliers > current.inliers:
                    best[row.optout_id] = MatchedFrame(
                        k, row.sha256, row.reference_frame, row.mirrored, found.inliers, found.score
                    )
            for optout_id, hit in best.items():
                by_optout.setdefault(optout_id, []).append(hit)
        needed = min(self.min_matching_frames, len(checked))
        matches = [
            OptOutOutputMatch(optout_id, tuple(hits), len(checked))
            for optout_id, hits in by_optout.items()
            if len(hits) >= needed
        ]
        return sorted(matches, key=lambda m: (-len(m.frames), m.optout_id))
