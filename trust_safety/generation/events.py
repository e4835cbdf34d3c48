"""Events of the generation gate (stream category ``generation``) and of the moderation lists
(category ``modlist``).

``GenerationRequested -> PromptModerated -> GenerationApproved | GenerationRefused``: the
request is a fact the requester stated, the moderation decision a fact the gate reached (with
its evidence), and the approval or refusal the outcome other domains act on. The generator
reads ``GenerationApproved``'s ``prompt`` (the rewritten prompt when a rewrite applied) and
``cameo_ids``; the opt-out registry counts refusals that cite ``optout_ids``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from core.events import EventPayload, PersonalData, event_type

GENERATION = "generation"
MODLIST = "modlist"

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
    stage: str | None  # which check refused: prompt, upload, consent, lineage
    prompt_decision: dict[str, Any]
    upload: dict[str, Any] | None = None
    consent: dict[str, Any] | None = None
    lineage: dict[str, Any] | None = None
    requester_id: str | None = None  # whose prompt it is (None in events before erasure)


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


@event_type("BlocklistTermAdded", category=MODLIST)
class BlocklistTermAdded(EventPayload):
    harm_category: str
    term: str
    list_version: int


@event_type("BlocklistTermRemoved", category=MODLIST)
class BlocklistTermRemoved(EventPayload):
    harm_category: str
    term: str
    list_version: int


@event_type("PublicFigureListed", category=MODLIST)
class PublicFigureListed(EventPayload):
    """A figure added, or an existing one's names replaced."""

    figure_id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    exclusions: list[str] = Field(default_factory=list)
    list_version: int


@event_type("PublicFigureDelisted", category=MODLIST)
class PublicFigureDelisted(EventPayload):
    figure_id: str
    list_version: int
