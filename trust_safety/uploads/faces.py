"""Whose faces an upload shows, and whether the uploader may show each of them.

Every face found in the image (or in the sampled frames of a clip) is embedded and matched
against every enrolled cameo's face template and every public figure's gallery. Then:

* a face estimated under ``adult_age + age_margin`` is refused as ``minor``, whoever it
  matches and whoever the uploader says it is;
* a face that matches a public figure's gallery is refused as ``public_figure`` unless its
  nearest cameo is that figure's own (linked by an operator) and the uploader may use it;
* any other face must match a cameo the uploader may use for this request (their own, or
  one named in the request that the consent ledger lets them use), at least as closely as
  it matches any cameo they may not use; else ``real_person``. So a face within the
  distance of the uploader's cameo that matches a stranger's better is refused.

Matching goes through the likeness index alone (``trust_safety.likeness.index.match_faces``:
every active cameo template and public figure gallery, as of the last committed edit), the
consent answers through the cameos' own streams (:class:`LedgerLikeness`). Neither an
embedding nor a template ever enters a decision record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from core.services import Services
from trust_safety.classifiers.face_model import MATCH_DISTANCE
from trust_safety.classifiers.faces import Face
from trust_safety.likeness.index import FaceMatch, match_faces

# -- who may be shown --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsableCameo:
    cameo_id: str
    public_figure_id: str | None  # the figure this cameo is verified to be, if any


@dataclass(frozen=True)
class CameoPermissions:
    """The consent ledger's answer for the cameos an upload may show."""

    usable: Mapping[str, UsableCameo]
    evidence: list[dict[str, Any]] = field(default_factory=list)


class LikenessCheck(Protocol):
    """What upload moderation asks about faces: whose they are, and who may be shown."""

    def match(
        self, embeddings: npt.NDArray[np.float32], *, model_version: str
    ) -> list[list[FaceMatch]]: ...

    def permissions(self, uploader_id: str, cameo_ids: Iterable[str]) -> CameoPermissions: ...


class LedgerLikeness:
    """The real answers: the tables for matching, the cameos' own streams for consent."""

    def __init__(self, services: Services, at: datetime) -> None:
        self.services = services
        self.at = at

    def match(
        self, embeddings: npt.NDArray[np.float32], *, model_version: str
    ) -> list[list[FaceMatch]]:
        return match_faces(self.services, embeddings, model_version=model_version)

    def permissions(self, uploader_id: str, cameo_ids: Iterable[str]) -> CameoPermissions:
        from trust_safety.consent.errors import CameoNotFound
        from trust_safety.consent.public import recheck_cameos_at_pickup
        from trust_safety.consent.service import load_cameo

        wanted = list(dict.fromkeys(cameo_ids))
        if not wanted:
            return CameoPermissions({})
        # Folded from the cameos' own streams: a revocation a moment ago is already seen.
        result = recheck_cameos_at_pickup(
            self.services, principal_id=uploader_id, cameo_ids=wanted, at=self.at
        )
        usable: dict[str, UsableCameo] = {}
        for d in result.decisions:
            if not d.decision.allowed:
                continue
            try:
                record = load_cameo(self.services, d.decision.cameo_id)[0]
            except CameoNotFound:  # pragma: no cover - allowed implies it exists
                continue
            usable[record.cameo_id] = UsableCameo(record.cameo_id, record.public_figure_id)
        evidence = [
            {
                "cameo_id": d.decision.cameo_id,
                "allowed": d.decision.allowed,
                "reason": d.decision.reason.value,
            }
            for d in result.decisions
        ]
        return CameoPermissions(usable, evidence)


# -- the policy --------------------------------------------------------------------------------


class FaceVerdict(StrEnum):
    ACCEPTED = "accepted"
    MINOR = "minor"
    PUBLIC_FIGURE = "public_figure"
    REAL_PERSON = "real_person"


@dataclass(frozen=True, slots=True)
class FacePolicy:
    adult_age: int = 18
    age_margin: float = 7.0  # as UploadSettings (trust_safety/uploads/settings.py)

    @property
    def minimum_age(self) -> float:
        return self.adult_age + self.age_margin

    def evidence(self) -> dict[str, Any]:
        return {
            "adult_age": self.adult_age,
            "age_margin": self.age_margin,
            "minimum_estimated_age": self.minimum_age,
            "match_distance": MATCH_DISTANCE,
        }


@dataclass(frozen=True)
class FaceFinding:
    """One face in one frame, what it matched and what the policy made of it."""

    frame: int
    time_s: float | None
    face: Face
    matches: tuple[FaceMatch, ...]
    verdict: FaceVerdict
    cameo_id: str | None  # the usable cameo it was accepted as, if any

    def evidence(self) -> dict[str, Any]:
        record = {"frame": self.frame, **self.face.evidence()}
        if self.time_s is not None:
            record["time_s"] = round(self.time_s, 3)
        record["matches"] = [m.evidence() for m in self.matches]
        record["verdict"] = self.verdict.value
        record["cameo_id"] = self.cameo_id
        return record


def judge_face(
    face: Face,
    matches: Sequence[FaceMatch],
    usable: Mapping[str, UsableCameo],
    policy: FacePolicy,
) -> tuple[FaceVerdict, str | None]:
    """The verdict on one face, and the usable cameo it was accepted as."""
    # An age the model could not estimate clears nothing: it is refused like a minor.
    if face.age is None or face.age < policy.minimum_age:
        return FaceVerdict.MINOR, None
    cameos = [m for m in matches if m.kind == "cameo"]
    nearest: UsableCameo | None = None
    if cameos:
        # Matches come nearest first; among equally near cameos a usable one counts.
        best = [m for m in cameos if m.distance <= cameos[0].distance]
        nearest = next((usable[m.subject_id] for m in best if m.subject_id in usable), None)
    for figure in (m for m in matches if m.kind == "public_figure"):
        if nearest is None or nearest.public_figure_id != figure.subject_id:
            return FaceVerdict.PUBLIC_FIGURE, None
    if nearest is None:
        return FaceVerdict.REAL_PERSON, None
    return FaceVerdict.ACCEPTED, nearest.cameo_id


# The order in which one refused face outweighs another for the upload's reason.
SEVERITY = (FaceVerdict.MINOR, FaceVerdict.PUBLIC_FIGURE, FaceVerdict.REAL_PERSON)
