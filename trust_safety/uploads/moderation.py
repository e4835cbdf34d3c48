"""Upload moderation: size, sniffed type, limits, NSFW, and faces of real people.

An upload is refused when it is sexual (NudeNet), or when it shows a face and the uploader has
not shown it to be their own registered cameo. Which cameo the face belongs to is decided by
the ``OwnCameoCheck`` seam (the consent ledger answers whether the uploader owns a verified
cameo; identity matching of the face itself plugs in there). Every decision carries its
evidence: sniffed and declared type, content hash, dimensions, scores and face boxes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from trust_safety.classifiers.faces import FaceBox
from trust_safety.classifiers.nsfw import NsfwResult
from trust_safety.uploads.errors import UploadTooLarge
from trust_safety.uploads.limits import UploadLimits
from trust_safety.uploads.media import DecodedMedia, Frame, decode_media
from trust_safety.uploads.sniffing import SNIFF_BYTES, MediaType, sniff_media_type

UPLOAD_POLICY_VERSION = "1"


class NsfwClassifier(Protocol):
    def classify(self, image_bgr: Any) -> NsfwResult: ...


class FaceDetector(Protocol):
    def detect(self, image_bgr: Any) -> list[FaceBox]: ...


# (uploader id, cameo id the uploader claims, the frames with faces) -> is it their own
# verified cameo? None for the cameo id means the uploader claimed none.
OwnCameoCheck = Callable[[str, str | None, Sequence[Frame]], bool]


class UploadRefusal(StrEnum):
    SEXUAL = "sexual"
    REAL_PERSON = "real_person"


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
    faces: tuple[FaceBox, ...]
    cameo_id: str | None
    policy_version: str = UPLOAD_POLICY_VERSION
    evidence: dict[str, Any] = field(default_factory=dict)

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
            "faces": [
                {"x": f.x, "y": f.y, "w": f.width, "h": f.height, "cascade": f.cascade}
                for f in self.faces
            ],
            "cameo_id": self.cameo_id,
            "policy_version": self.policy_version,
        }


class UploadModerator:
    def __init__(
        self,
        nsfw: NsfwClassifier,
        faces: FaceDetector,
        *,
        limits: UploadLimits | None = None,
        nsfw_threshold: float = 0.45,
    ) -> None:
        self.nsfw = nsfw
        self.faces = faces
        self.limits = limits or UploadLimits()
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
        declared_type: str | None = None,
        cameo_id: str | None = None,
        own_cameo: OwnCameoCheck | None = None,
    ) -> UploadDecision:
        # The absolute ceiling first, so a huge body is refused before it is parsed.
        if len(data) > max(self.limits.max_video_bytes, self.limits.max_image_bytes):
            raise UploadTooLarge(f"uploads are limited to {self.limits.max_video_bytes} bytes")
        media_type = sniff_media_type(data[:SNIFF_BYTES])
        self.check_size(len(data), media_type)
        decoded = decode_media(data, media_type, self.limits)
        return self._judge(data, decoded, uploader_id, declared_type, cameo_id, own_cameo)

    def _judge(
        self,
        data: bytes,
        decoded: DecodedMedia,
        uploader_id: str,
        declared_type: str | None,
        cameo_id: str | None,
        own_cameo: OwnCameoCheck | None,
    ) -> UploadDecision:
        nsfw_score = 0.0
        labels: set[str] = set()
        faces: list[FaceBox] = []
        face_frames: list[Frame] = []
        for frame in decoded.frames:
            result = self.nsfw.classify(frame)
            nsfw_score = max(nsfw_score, result.score)
            labels.update(result.explicit_labels)
            found = self.faces.detect(frame)
            if found:
                faces.extend(found)
                face_frames.append(frame)
        reason: UploadRefusal | None = None
        if nsfw_score >= self.nsfw_threshold:
            reason = UploadRefusal.SEXUAL
        elif faces:
            is_own = own_cameo is not None and own_cameo(uploader_id, cameo_id, face_frames)
            if not is_own:
                reason = UploadRefusal.REAL_PERSON
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
            faces=tuple(faces),
            cameo_id=cameo_id,
        )
