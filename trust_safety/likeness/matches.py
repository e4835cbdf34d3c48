"""Likeness matches: a cameo's face found in a generated video, and what its owner does about it.

Output moderation matches every sampled face against every enrolled cameo (and public figure);
each cameo whose face it found in a generation gets one ``LikenessMatched`` on the match's own
stream ``likeness_match-<cameo_id>:<generation_id>``, whoever made the video and whether or
not it names the cameo: the matched time ranges (consecutive sampled frames merged), the best
distance, whether the request had consent, whether the output was blocked, and a thumbnail.

The thumbnail is a small JPEG crop of the owner's face. Face crops are biometric data, so the
blob store holds it encrypted (AES-256-GCM, a key of its own); the key travels in the event
as personal data of the owner (sealed by the store under the owner's subject key, gone with an
erasure), so only the owner's view can open it and an erasure leaves the blob unreadable.

The owner's actions, each an event:

* **archive** (``LikenessMatchArchived``, on the match stream): hide the match from the view;
* **report** (``LikenessMatchReported``, after the report filed through the cases domain's
  own ``file_report``, which appends its ``ReportFiled``);
* **remove**: ``CameoAppearanceRemoved`` on the cameo's consent stream, the same hold the
  consent ledger's removal places (``cameo:<cameo_id>`` on the generation's asset).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field

from core.errors import Conflict, InternalError, NotFound
from core.events import EventPayload, PersonalData, RecordedEvent, event_type, stream_id

LIKENESS_MATCH = "likeness_match"
THUMBNAIL_SIDE = 128
_NONCE = 12
_MAGIC = b"CFLT1"


class LikenessMatchNotFound(NotFound):
    """No match of this cameo in this generation (or not the caller's cameo)."""

    code = "likeness.match_not_found"


class LikenessMatchConflict(Conflict):
    """The match's state does not allow the action (a blocked output cannot be removed, a
    draft cannot be reported, a removed video cannot be removed again)."""

    code = "likeness.match_conflict"


class ThumbnailUnreadable(InternalError):
    """A thumbnail blob that does not open with the key its match recorded."""

    code = "likeness.thumbnail_unreadable"


def match_key(cameo_id: str, generation_id: str) -> str:
    return f"{cameo_id}:{generation_id}"


def match_stream(cameo_id: str, generation_id: str) -> str:
    return stream_id(LIKENESS_MATCH, match_key(cameo_id, generation_id))


class TimeRange(BaseModel):
    """Seconds from the start of the video: from the first sampled frame of a run of
    consecutive matched samples to one sampling period after its last (at most the end)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)


@event_type("LikenessMatched", category=LIKENESS_MATCH)
class LikenessMatched(EventPayload):
    """A cameo's face was found in a generated video (see the module's notes).

    ``matched_as``: ``cameo`` when the cameo's own template matched, ``public_figure`` when
    the public figure the cameo is linked to matched their gallery. ``consent_reason``: why
    the request may (``owner``, ``named_and_allowed``) or may not (``not_named``,
    ``consent_refused``) show this face."""

    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="owner_id", fields=("thumbnail_key",)
    )

    cameo_id: str = Field(min_length=1, max_length=64)
    owner_id: str = Field(min_length=1, max_length=128)
    generation_id: str = Field(min_length=1, max_length=64)
    creator_id: str | None = None
    matched_as: Literal["cameo", "public_figure"]
    public_figure_id: str | None = None
    ranges: list[TimeRange]
    best_distance: float = Field(ge=0)
    best_time_s: float = Field(ge=0)
    frames_matched: int = Field(ge=1)
    frames_sampled: int = Field(ge=1)
    consented: bool
    consent_reason: str = Field(pattern=r"^[a-z_]{1,40}$")
    output_blocked: bool
    blocked_categories: list[str] = Field(default_factory=list)
    thumbnail_blob: str | None = None
    thumbnail_key: str | None = None
    policy_version: str
    model_versions: dict[str, str] = Field(default_factory=dict)


@event_type("LikenessMatchArchived", category=LIKENESS_MATCH)
class LikenessMatchArchived(EventPayload):
    """The cameo's owner archived the match: it leaves their view's default list."""

    cameo_id: str
    generation_id: str


@event_type("LikenessMatchReported", category=LIKENESS_MATCH)
class LikenessMatchReported(EventPayload):
    """The cameo's owner reported the video; ``report_id`` and ``case_id`` are the report the
    cases domain filed (its ``ReportFiled`` is on the case's stream)."""

    cameo_id: str
    generation_id: str
    report_id: str
    case_id: str


# -- the match aggregate -----------------------------------------------------------------------


@dataclass(frozen=True)
class MatchState:
    matched: LikenessMatched | None = None
    archived: bool = False
    report_id: str | None = None


@dataclass(frozen=True)
class Archive:
    actor_id: str


@dataclass(frozen=True)
class RecordReport:
    actor_id: str
    report_id: str
    case_id: str


MatchCommand = Archive | RecordReport


class LikenessMatchAggregate:
    """Stream ``likeness_match-<cameo_id>:<generation_id>``: one match and its owner's acts."""

    category = LIKENESS_MATCH

    def initial(self) -> MatchState:
        return MatchState()

    def evolve(self, state: MatchState, event: RecordedEvent) -> MatchState:
        if event.type == LikenessMatched.event_type_name:
            return MatchState(event.payload_as(LikenessMatched), state.archived, state.report_id)
        if event.type == LikenessMatchArchived.event_type_name:
            return MatchState(state.matched, True, state.report_id)
        if event.type == LikenessMatchReported.event_type_name:
            reported = event.payload_as(LikenessMatchReported)
            return MatchState(state.matched, state.archived, reported.report_id)
        return state

    def decide(self, state: MatchState, command: MatchCommand) -> Sequence[EventPayload]:
        matched = state.matched
        if matched is None or matched.owner_id != command.actor_id:
            raise LikenessMatchNotFound("no such likeness match of your cameo")
        if isinstance(command, Archive):
            if state.archived:
                return []  # archiving twice changes nothing
            return [
                LikenessMatchArchived(
                    cameo_id=matched.cameo_id, generation_id=matched.generation_id
                )
            ]
        return [
            LikenessMatchReported(
                cameo_id=matched.cameo_id,
                generation_id=matched.generation_id,
                report_id=command.report_id,
                case_id=command.case_id,
            )
        ]


MATCHES = LikenessMatchAggregate()


# -- ranges and thumbnails ------------------------------------------------------------------------


def merge_ranges(
    sample_times: Sequence[float], matched: Sequence[bool], period_s: float, duration_s: float
) -> list[TimeRange]:
    """Runs of consecutive matched samples as time ranges (see :class:`TimeRange`)."""
    ranges: list[TimeRange] = []
    start: float | None = None
    last = 0.0
    for t, hit in zip(sample_times, matched, strict=True):
        if hit:
            start = t if start is None else start
            last = t
        elif start is not None:
            ranges.append(_range(start, last, period_s, duration_s))
            start = None
    if start is not None:
        ranges.append(_range(start, last, period_s, duration_s))
    return ranges


def _range(start: float, last: float, period_s: float, duration_s: float) -> TimeRange:
    end = last + period_s
    if duration_s > 0:
        end = min(end, duration_s)
    return TimeRange(start_s=round(start, 3), end_s=round(max(end, start), 3))


def _aad(cameo_id: str, generation_id: str) -> bytes:
    return f"likeness-thumbnail\0{cameo_id}\0{generation_id}".encode()


def face_thumbnail(frame: object, box: Sequence[int], side: int = THUMBNAIL_SIDE) -> bytes:
    """A JPEG of the face in ``box`` (x, y, w, h) with some margin, at most ``side`` px."""
    import numpy as np
    from PIL import Image

    image = np.asarray(frame)
    height, width = image.shape[:2]
    x, y, w, h = (int(v) for v in box)
    pad = round(max(w, h) * 0.3)
    left, top = max(0, x - pad), max(0, y - pad)
    right, bottom = min(width, x + w + pad), min(height, y + h + pad)
    crop = Image.fromarray(np.ascontiguousarray(image[top:bottom, left:right]))
    crop.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=85)
    return out.getvalue()


def seal_thumbnail(jpeg: bytes, cameo_id: str, generation_id: str) -> tuple[bytes, str]:
    """(what the blob store keeps, the key as the event records it): AES-256-GCM under a
    fresh key, bound to the match it belongs to."""
    import base64

    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    sealed = _MAGIC + nonce + AESGCM(key).encrypt(nonce, jpeg, _aad(cameo_id, generation_id))
    return sealed, base64.b64encode(key).decode()


def open_thumbnail(blob: bytes, key_b64: str, cameo_id: str, generation_id: str) -> bytes:
    import base64
    import binascii

    try:
        key = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ThumbnailUnreadable("the thumbnail's key is not readable (erased?)") from None
    if not blob.startswith(_MAGIC) or len(key) != 32:
        raise ThumbnailUnreadable("the thumbnail blob is not a sealed thumbnail")
    body = blob[len(_MAGIC) :]
    try:
        return AESGCM(key).decrypt(body[:_NONCE], body[_NONCE:], _aad(cameo_id, generation_id))
    except InvalidTag:
        raise ThumbnailUnreadable("the thumbnail does not open with its key") from None
