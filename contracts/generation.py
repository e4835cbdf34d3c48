"""A generation's four streams, one writing domain each, from a request to its signed asset.

* ``generation-<id>`` (the gate, trust_safety): ``GenerationRequested -> PromptModerated ->
  GenerationApproved | GenerationRefused``. The request is a fact the requester stated, the
  moderation decision a fact the gate reached (with its evidence), and the approval or
  refusal the outcome other domains act on. A decision referred to the LLM filter
  (``PromptModerated.referral`` set) has no outcome of its own: ``PromptFilterReviewed`` and
  the outcome follow it.
* ``render-<id>`` (the generator): ``GenerationStarted -> GenerationCompleted |
  GenerationFailed``. It reads ``GenerationApproved``'s ``prompt`` (the rewritten prompt when
  a rewrite applied) and ``cameo_ids``.
* ``output-<id>`` (output moderation, trust_safety): ``OutputModerated``.
* ``provenance-<id>`` (provenance): ``AssetSigned -> AssetPublished``.

Each stream is ordered only within itself: a reader may hear ``OutputModerated`` before the
``GenerationCompleted`` it follows, so read models keep the furthest stage seen
(:func:`stage_of`). Events stored before the split sit on ``generation-<id>`` with their old
types; readers dispatch by type, so following ``generation`` too keeps them readable, and
:func:`generation_history` reads the legacy stream with the others. The opt-out registry
counts refusals that cite ``optout_ids``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.events import EventPayload, PersonalData, RecordedEvent, event_type, stream_id

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.store import EventStore

GENERATION = "generation"  # the gate's stream, and where every stage wrote before the split
RENDER = "render"
OUTPUT = "output"
PROVENANCE = "provenance"
GENERATION_CATEGORIES = (GENERATION, RENDER, OUTPUT, PROVENANCE)

GenerationKind = Literal["text_to_video", "image_to_video", "extend", "remix"]
Tier = Literal["free", "paid"]


@event_type("GenerationRequested", category=GENERATION)
class GenerationRequested(EventPayload):
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="requester_id", fields=("prompt", "negative_prompt")
    )

    generation_id: str
    requester_id: str
    kind: GenerationKind
    prompt: str
    negative_prompt: str | None = None
    duration_s: float
    resolution: str
    aspect_ratio: str
    width: int
    height: int
    fps: int
    seed: int | None = None
    tier: Tier
    upload_id: str | None = None
    # Lineage: the generation an extend continues, or the generations a remix derives from.
    extends: str | None = None
    remix_of: list[str] = Field(default_factory=list)
    cameo_ids: list[str] = Field(default_factory=list)
    territory: str | None = None


@event_type("PromptModerated", category=GENERATION)
class PromptModerated(EventPayload):
    """The gate's full decision and evidence (reviewers and appeals read this).

    The requester's words in it (the normalised and effective prompt, a rewrite, evidence
    that quotes the prompt) are theirs; scores, categories and versions are the gate's.
    """

    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="requester_id",
        fields=(
            "prompt_decision.normalised_prompt",
            "prompt_decision.effective_prompt",
            "prompt_decision.rewrite",
            "prompt_decision.evidence[].detail",
        ),
    )

    generation_id: str
    approved: bool
    reason_category: str | None
    # which check refused: prompt, upload, consent, lineage; llm_filter when referred
    stage: str | None
    prompt_decision: dict[str, Any]
    upload: dict[str, Any] | None = None
    consent: dict[str, Any] | None = None
    lineage: dict[str, Any] | None = None
    requester_id: str | None = None  # whose prompt it is (None in events before erasure)
    # Why the decision was handed to the LLM filter (language_unsupported, borderline): then
    # approved is False, reason_category None, and PromptFilterReviewed brings the outcome.
    # None: the gate decided alone (every event before the filter existed).
    referral: str | None = None


@event_type("PromptFilterReviewed", category=GENERATION)
class PromptFilterReviewed(EventPayload):
    """The LLM filter's answer on a referred prompt, written with the outcome it led to.

    ``failure`` is set (timeout, unavailable, invalid_answer, busy, error) when the filter gave
    no verdict: the request was then refused (fail closed) and ``verdict`` is None. The
    rationale is the model's free text and may quote the prompt, so it is the requester's.
    """

    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="requester_id", fields=("rationale",)
    )

    generation_id: str
    requester_id: str
    referral: str
    verdict: Literal["allow", "refuse"] | None
    reason_category: str | None  # the harm category a refusal names (None: allow, or unnamed)
    rationale: str
    model_id: str
    elapsed_ms: int = Field(ge=0)
    failure: str | None = Field(default=None, pattern="^[a-z_]{1,64}$")


@event_type("GenerationApproved", category=GENERATION)
class GenerationApproved(EventPayload):
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="requester_id", fields=("prompt",)
    )

    generation_id: str
    requester_id: str
    prompt: str
    prompt_rewritten: bool
    cameo_ids: list[str] = Field(default_factory=list)
    remix_of: list[str] = Field(default_factory=list)
    policy_version: str


@event_type("GenerationRefused", category=GENERATION)
class GenerationRefused(EventPayload):
    generation_id: str
    requester_id: str
    reason_category: str
    reason: str
    stage: str
    optout_ids: list[str] = Field(default_factory=list)
    policy_version: str


@event_type("GenerationStarted", category=RENDER)
class GenerationStarted(EventPayload):
    generation_id: str
    backend: str
    model_id: str
    worker: str
    # What the consent / opt-out re-check at pick-up found (or that it could not run).
    pickup_check: dict[str, Any]


@event_type("GenerationFailed", category=RENDER)
class GenerationFailed(EventPayload):
    generation_id: str
    # consent_revoked, opted_out, pickup_check_unavailable, invalid_request,
    # backend_unavailable, backend_failed (the last after retries: dead_lettered)
    reason: str = Field(pattern="^[a-z_]{1,64}$")
    error: str = Field(max_length=4000)
    retryable: bool
    dead_lettered: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


@event_type("GenerationCompleted", category=RENDER)
class GenerationCompleted(EventPayload):
    """The raw output exists (invisible watermark embedded, not yet moderated or signed)."""

    generation_id: str
    master_blob: str
    bytes: int = Field(ge=0)
    width: int
    height: int
    fps: int
    frames: int
    duration_s: float
    seed: int
    backend: str
    model_id: str
    watermark_serial: str = Field(pattern="^[0-9a-f]{16}$")
    watermark_strength: float | None = None  # grey levels after informed embedding
    render_ms: int = Field(ge=0)


@event_type("OutputModerated", category=OUTPUT)
class OutputModerated(EventPayload):
    """The decision on a generated video, with the per-frame scores behind it. A ``block``
    means the output is never signed, published or shown to its requester."""

    generation_id: str
    decision: Literal["allow", "block"]
    policy_version: str
    blocked_categories: list[str]
    # Per category: status (evaluated / not_evaluated), outcome, max score, threshold,
    # classifiers that evaluated it, reason.
    verdicts: list[dict[str, Any]]
    # Per sampled frame (2 fps): index, time_s, scores {classifier: {category: score}}.
    frame_scores: list[dict[str, Any]]
    classifiers: list[str]
    master_blob: str


@event_type("AssetSigned", category=PROVENANCE)
class AssetSigned(EventPayload):
    """A generated video was signed (C2PA) and stored; nothing re-encodes it afterwards.

    ``blob_address`` is the canonical asset (invisible watermark, no visible mark).
    ``download_blob_address`` is what the requester downloads: the same file for the paid
    tier, a separately signed copy with the visible animated watermark for the free tier.
    """

    generation_id: str
    asset_id: str
    requester_id: str | None
    tier: Literal["free", "paid"]
    blob_address: str
    bytes: int = Field(ge=0)
    manifest_id: str
    download_blob_address: str
    download_manifest_id: str
    visible_watermark: bool
    watermark_serial: str = Field(pattern="^[0-9a-f]{16}$")
    # The same serial under the key reverse search reads.
    watermark_payload: str
    soft_binding_alg: str
    c2pa_state: Literal["signed"] = "signed"
    signer: str
    development_signer: bool
    duration_s: float
    width: int
    height: int
    fps: float
    remix_parents: list[str] = Field(default_factory=list)


@event_type("AssetPublished", category=PROVENANCE)
class AssetPublished(EventPayload):
    """The signed asset is available to its requester."""

    generation_id: str
    asset_id: str
    download_blob_address: str
    tier: Literal["free", "paid"]


class GenerationParameters(BaseModel):
    """What is to be rendered, as ``GenerationRequested`` carries it (flat, among its fields).

    The gate builds it once from the validated request and spreads it into the event; a reader
    of the request (the generator) can take it back with ``model_validate(payload)``, which
    ignores the event's other fields, instead of naming each one again.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    prompt: str
    negative_prompt: str | None = None
    duration_s: float
    resolution: str
    aspect_ratio: str
    width: int
    height: int
    fps: int
    seed: int | None = None


# How far a generation got, by the event that shows it; alternatives of one stage share a rank.
_STAGES = {
    "GenerationRequested": 0,
    "PromptModerated": 0,
    "PromptFilterReviewed": 0,
    "GenerationApproved": 1,
    "GenerationRefused": 1,
    "GenerationStarted": 2,
    "GenerationCompleted": 3,
    "GenerationFailed": 3,
    "OutputModerated": 4,
    "AssetSigned": 5,
    "AssetPublished": 6,
}


def stage_of(event_type: str) -> int:
    """The stage ``event_type`` marks (-1 for other events). A status taken from an event of a
    lower stage than the one already shown came from another stream late and must not win."""
    return _STAGES.get(event_type, -1)


@dataclass(frozen=True)
class FurthestStage:
    """The rule every status view of a generation follows: the status shown is the one of the
    furthest stage seen, since the stages' streams are ordered only within themselves.

    ``shown_by`` names each status a read model shows after the event type it is taken from;
    a status it does not name (a row's placeholder) is behind every stage."""

    shown_by: Mapping[str, str]

    def status(self, current: str, event_type: str, status: str) -> str:
        """The status after ``event_type``, which shows ``status``, is heard on a row showing
        ``current``. The same stage moves it too: a later event of the same stream (each
        stream keeps its own order), or an alternative of that stage that came after."""
        behind = stage_of(event_type) < stage_of(self.shown_by.get(current, ""))
        return current if behind else status


def generation_streams(generation_id: str) -> tuple[str, ...]:
    return tuple(stream_id(category, generation_id) for category in GENERATION_CATEGORIES)


def generation_history(
    store: EventStore, generation_id: str, *, session: Session | None = None
) -> list[RecordedEvent]:
    """Every stored event of one generation, from all its streams (the legacy generation
    stream included), in store position order: for status views and lookups of another
    stage's fact, never for a writer's expected version."""
    events = [
        e
        for sid in generation_streams(generation_id)
        for e in store.read_stream(sid, session=session)
    ]
    return sorted(events, key=lambda e: e.position)
