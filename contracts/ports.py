"""The synchronous seams between domains: one typed port per need, wired at start-up.

Each port says what the caller may ask and what it gets back; the module that implements it
lists it in ``Module.provides``, the modules that need it in ``Module.requires``, and a process
whose modules leave a required port unprovided does not start (core/ports.py). Nothing here
imports a domain.

=====================  =============  =========================================
port                   provided by    required by
=====================  =============  =========================================
``pickup_policy``      trust_safety   generator
``watermarker``        provenance     generator
``fingerprint_search`` reverse_search provenance
``blob_store``         generator      provenance, trust_safety (output)
``follow_graph``       feed           trust_safety (consent)
``generation_inputs``  trust_safety   generator, provenance
``featured_policy``    trust_safety   feed (declared in ``contracts.featured``)
=====================  =============  =========================================

Decoding and encoding video is no port: it holds no deployment state, so every domain calls
:mod:`core.video` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from core.blobs import BlobStore
from core.ports import Port

__all__ = [
    "BLOB_STORE",
    "FINGERPRINT_SEARCH",
    "FOLLOW_GRAPH",
    "GENERATION_INPUTS",
    "PICKUP_POLICY",
    "WATERMARKER",
    "BlobStore",
    "FingerprintSearch",
    "FollowGraph",
    "GenerationInputs",
    "PickupAnswer",
    "PickupPolicy",
    "PickupRequest",
    "WatermarkEmbedding",
    "Watermarker",
]


@dataclass(frozen=True)
class PickupRequest:
    """A job about to render, as the generator read it from its stream."""

    generation_id: str
    requester_id: str | None
    prompt: str
    cameo_ids: Sequence[str]
    at: datetime


@dataclass(frozen=True)
class PickupAnswer:
    allowed: bool
    # why a job was refused; None when allowed
    reason: Literal["consent_revoked", "opted_out"] | None = None
    details: dict[str, Any] = field(default_factory=dict)


class PickupPolicy(Protocol):
    """The second look before rendering: consent for every cameo and the opt-out registry as
    they are now, so that a revocation or an opt-out filed after approval stops the job."""

    def recheck(self, request: PickupRequest) -> PickupAnswer: ...


class WatermarkEmbedding(Protocol):
    @property
    def frames(self) -> NDArray[np.uint8]: ...

    @property
    def strength(self) -> float: ...


class Watermarker(Protocol):
    """The invisible watermark a generated video carries from its first frame."""

    def serial_for(self, generation_id: str) -> int: ...

    def embed_verified(self, frames: NDArray[np.uint8], serial: int) -> WatermarkEmbedding: ...


class FingerprintSearch(Protocol):
    """Generations whose frames a file copies, best first, each with its record."""

    def find_matches(self, path: Path, max_results: int = 5) -> list[dict[str, Any]]: ...


class FollowGraph(Protocol):
    """Who follows whom, as the feed (the one writer of follows) has projected it."""

    def are_mutual_follows(self, a: str, b: str) -> bool: ...


class GenerationInputs(Protocol):
    """The media a request renders from (an image-to-video upload, the video an extend
    continues), as the domain that received and moderated it keeps it.

    ``upload_image`` returns the upload's stored bytes when ``upload_id`` is an approved image
    upload of ``requester_id`` (the gate approved the request on that basis), else None: a
    render never reads someone else's or a refused upload.

    ``source_video`` returns the MP4 bytes of generation ``generation_id`` as it was signed
    when it is ``requester_id``'s own and not removed, else None (not theirs, not finished,
    blocked at output, or removed)."""

    def upload_image(self, upload_id: str, requester_id: str) -> bytes | None: ...

    def source_video(self, generation_id: str, requester_id: str) -> bytes | None: ...


PICKUP_POLICY = Port[PickupPolicy](
    "pickup_policy", "the consent and opt-out re-check a job passes before it renders"
)
WATERMARKER = Port[Watermarker](
    "watermarker", "embeds the invisible watermark serial of a generation"
)
FINGERPRINT_SEARCH = Port[FingerprintSearch](
    "fingerprint_search", "the reverse-search matches a provenance report includes"
)
BLOB_STORE = Port[BlobStore]("blob_store", "where generated and signed videos are stored")
FOLLOW_GRAPH = Port[FollowGraph](
    "follow_graph", "whether two accounts follow each other, for the mutual-follows audience"
)
GENERATION_INPUTS = Port[GenerationInputs](
    "generation_inputs",
    "the approved upload an image-to-video request renders from, the video an extend continues",
)
