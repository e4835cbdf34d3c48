"""Whose faces a generated video shows, and whether its request may show them.

:class:`RequestLikeness` is the :class:`~trust_safety.output.moderation.LikenessJudge` output
moderation runs for one generation. Each face is matched through the face index
(``trust_safety.likeness.index.match_faces``: every enrolled cameo and every public figure's
gallery); then, for the request as the gate approved it:

* a cameo's face is consented when the requester owns the cameo, or when the request named
  the cameo (``cameo_ids``) and the consent ledger lets the requester use it now (the cameo's
  own stream, as the generator's pick-up check reads it). A cameo the request did not name
  is refused even where the ledger would allow it: every video that shows a cameo names it,
  so its owner's ledger records the appearance;
* a public figure's face is handled the same way through the cameo an operator linked to the
  figure (the figure's own, verified cameo); a figure with no such cameo is never consented.

:func:`match_events` turns the faces of one moderated output into one ``LikenessMatched`` per
cameo found, with the time ranges, the best distance and an encrypted thumbnail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from contracts.generation import GENERATION, GenerationApproved, GenerationRequested
from core.blobs import BlobStore
from core.events import SYSTEM_ACTOR, stream_id
from core.projections import Append
from core.services import Services
from trust_safety.consent.ledger import CameoRecord
from trust_safety.output.moderation import FaceIdentity, OutputModerationResult, SampledFace


@dataclass(frozen=True)
class GenerationRequest:
    """What the gate approved: who asked, and which cameos the request brings in."""

    generation_id: str
    requester_id: str | None
    cameo_ids: tuple[str, ...]
    at: datetime


def request_of(services: Services, generation_id: str, at: datetime) -> GenerationRequest:
    events = services.store.read_stream(stream_id(GENERATION, generation_id))
    requester: str | None = None
    cameos: list[str] = []
    for e in events:
        if e.type == GenerationRequested.event_type_name:
            requested = e.payload_as(GenerationRequested)
            requester, cameos = requested.requester_id, list(requested.cameo_ids)
        elif e.type == GenerationApproved.event_type_name:
            approved = e.payload_as(GenerationApproved)
            # the approval's list wins over the request's (it resolves @mentions)
            requester, cameos = approved.requester_id, list(approved.cameo_ids)
    return GenerationRequest(generation_id, requester, tuple(dict.fromkeys(cameos)), at)


class RequestLikeness:
    def __init__(self, services: Services, request: GenerationRequest) -> None:
        self.services = services
        self.request = request
        self._consent: dict[str, tuple[bool, str]] = {}
        self._figure_cameo: dict[str, tuple[str, str] | None] = {}
        self._records: dict[str, CameoRecord | None] = {}

    def __call__(self, embeddings: npt.NDArray[np.float32]) -> list[list[FaceIdentity]]:
        from trust_safety.likeness.index import match_faces

        out: list[list[FaceIdentity]] = []
        for matches in match_faces(self.services, embeddings):
            cameos = [m.subject_id for m in matches if m.kind == "cameo"]
            identities = []
            for m in matches:
                if m.kind == "cameo":
                    owner = m.owner_id or ""
                    consented, reason = self._cameo(m.subject_id, owner)
                    identities.append(
                        FaceIdentity(
                            "cameo",
                            m.subject_id,
                            m.distance,
                            consented,
                            reason,
                            m.subject_id,
                            owner,
                        )
                    )
                    continue
                linked = self._linked_cameo(m.subject_id, cameos)
                if linked is None:
                    identities.append(
                        FaceIdentity(
                            "public_figure", m.subject_id, m.distance, False, "public_figure"
                        )
                    )
                    continue
                cameo_id, owner = linked
                consented, reason = self._cameo(cameo_id, owner)
                identities.append(
                    FaceIdentity(
                        "public_figure",
                        m.subject_id,
                        m.distance,
                        consented,
                        reason,
                        cameo_id,
                        owner,
                    )
                )
            out.append(identities)
        return out

    def _cameo(self, cameo_id: str, owner_id: str) -> tuple[bool, str]:
        if cameo_id not in self._consent:
            self._consent[cameo_id] = self._decide(cameo_id, owner_id)
        return self._consent[cameo_id]

    def _decide(self, cameo_id: str, owner_id: str) -> tuple[bool, str]:
        requester = self.request.requester_id
        if requester is None:
            return False, "no_requester"
        if owner_id == requester:
            return True, "owner"
        if cameo_id not in self.request.cameo_ids:
            return False, "not_named"
        from trust_safety.consent.public import recheck_cameos_at_pickup

        result = recheck_cameos_at_pickup(
            self.services, principal_id=requester, cameo_ids=[cameo_id], at=self.request.at
        )
        allowed = bool(result.decisions) and result.allowed
        return (True, "named_and_allowed") if allowed else (False, "consent_refused")

    def _linked_cameo(
        self, public_figure_id: str, matched_cameos: list[str]
    ) -> tuple[str, str] | None:
        """The active cameo an operator linked to the figure: first among the cameos the same
        face matched (their own streams, never behind), else the consent ledger's read model."""
        for cameo_id in matched_cameos:
            record = self._record(cameo_id)
            if record is not None and record.active and record.public_figure_id == public_figure_id:
                return record.cameo_id, record.owner_id
        if public_figure_id not in self._figure_cameo:
            from trust_safety.consent.store import SqlConsentLedger

            with self.services.read_sessions() as s:
                found = SqlConsentLedger(s).cameo_for_public_figure(public_figure_id)
            self._figure_cameo[public_figure_id] = (
                None if found is None else (found.cameo_id, found.owner_id)
            )
        return self._figure_cameo[public_figure_id]

    def _record(self, cameo_id: str) -> CameoRecord | None:
        if cameo_id not in self._records:
            from trust_safety.consent.errors import CameoNotFound
            from trust_safety.consent.service import load_cameo

            try:
                self._records[cameo_id] = load_cameo(self.services, cameo_id)[0]
            except CameoNotFound:
                self._records[cameo_id] = None
        return self._records[cameo_id]


# -- the match events ------------------------------------------------------------------------------


def match_events(
    result: OutputModerationResult,
    frames: npt.NDArray[np.uint8],
    request: GenerationRequest,
    blobs: BlobStore,
) -> list[Append]:
    """One ``LikenessMatched`` per cameo whose face the output shows (its own template, or the
    gallery of the public figure it is linked to), each on its match stream."""
    from trust_safety.likeness.matches import (
        LikenessMatched,
        face_thumbnail,
        match_stream,
        merge_ranges,
        seal_thumbnail,
    )

    by_cameo: dict[str, list[tuple[SampledFace, FaceIdentity]]] = {}
    for face in result.faces:
        for identity in face.identities:
            if identity.cameo_id is not None and identity.owner_id:
                by_cameo.setdefault(identity.cameo_id, []).append((face, identity))
    if not by_cameo:
        return []
    times = [f.time_s for f in result.frames]
    period = 1.0 / result.sample_rate_hz
    versions: dict[str, str] = {}
    for name, models in result.model_versions.items():
        if any(face.classifier == name for face in result.faces):
            versions.update(models)
    appends = []
    for cameo_id, found in sorted(by_cameo.items()):
        hit_frames = {face.frame_index for face, _ in found}
        face, best = min(found, key=lambda pair: pair[1].distance)
        jpeg = face_thumbnail(frames[face.frame_index], face.face.box.as_list())
        sealed, key = seal_thumbnail(jpeg, cameo_id, request.generation_id)
        thumbnail = blobs.put_bytes(sealed)
        consent_reason = next((i.reason for _, i in found if not i.consented), best.reason)
        matched = LikenessMatched(
            cameo_id=cameo_id,
            owner_id=best.owner_id or "",
            generation_id=request.generation_id,
            creator_id=request.requester_id,
            matched_as="cameo" if any(i.kind == "cameo" for _, i in found) else "public_figure",
            public_figure_id=next(
                (i.subject_id for _, i in found if i.kind == "public_figure"), None
            ),
            ranges=merge_ranges(
                times, [f.index in hit_frames for f in result.frames], period, result.duration_s
            ),
            best_distance=round(best.distance, 4),
            best_time_s=face.time_s,
            frames_matched=len(hit_frames),
            frames_sampled=len(result.frames),
            consented=all(i.consented for _, i in found),
            consent_reason=consent_reason,
            output_blocked=result.blocked,
            blocked_categories=list(result.blocked_categories),
            thumbnail_blob=thumbnail,
            thumbnail_key=key,
            policy_version=result.policy_version,
            model_versions=versions,
        )
        appends.append(
            Append(
                match_stream(cameo_id, request.generation_id),
                [matched],
                expected_version=0,
                actor=SYSTEM_ACTOR,
            )
        )
    return appends
