"""Commands and queries of the generation gate."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from contracts.generation import (
    GENERATION,
    OUTPUT,
    GenerationRequested,
    generation_history,
    stage_of,
)
from core.errors import NotFound
from core.events import Actor, stream_id
from core.services import Services
from trust_safety.cases.output_blocks import primary_category
from trust_safety.generation.models import GenerationRequestRow, review_of
from trust_safety.generation.params import GenerationRequestIn
from trust_safety.uploads.service import require_usable_image


def request_generation(services: Services, body: GenerationRequestIn, requester: Actor) -> str:
    if body.upload_id is not None:
        # Fail fast on an unusable upload; the gate checks again when it decides.
        require_usable_image(services, body.upload_id, requester.id)
    generation_id = uuid.uuid4().hex
    extends, remix_of = body.lineage()
    services.store.append(
        stream_id(GENERATION, generation_id),
        [
            GenerationRequested(
                generation_id=generation_id,
                requester_id=requester.id,
                kind=body.kind,
                tier=body.tier,
                upload_id=body.upload_id,
                extends=extends,
                remix_of=remix_of,
                cameo_ids=list(dict.fromkeys(body.cameo_ids)),
                territory=body.territory.upper() if body.territory else None,
                **body.parameters().model_dump(),
            )
        ],
        expected_version=0,
        actor=requester,
    )
    return generation_id


_STATUS_BY_EVENT = {
    "GenerationRequested": "requested",
    "GenerationApproved": "approved",
    "GenerationRefused": "refused",
    "GenerationStarted": "rendering",
    "GenerationCompleted": "completed",
    "GenerationFailed": "failed",
    "AssetSigned": "signed",
    "AssetPublished": "published",
}


def generation_state(
    services: Services, generation_id: str, principal_id: str, *, sees_all: bool
) -> dict[str, Any]:
    """The requester's view. Read from the read model; while the projection has not caught up
    with a just-made request, folded from the generation's streams, so a poll never answers
    404 for it."""
    with services.read_sessions() as s:
        row = s.get(GenerationRequestRow, generation_id)
        # a row without a requester holds a follow-up heard before its request
        if row is not None and row.requester_id:
            if row.requester_id != principal_id and not sees_all:
                raise NotFound(f"no generation {generation_id!r}")
            return row.public()
    events = generation_history(services.store, generation_id)
    requested = [e for e in events if e.type == "GenerationRequested"]
    if not requested or (requested[0].payload["requester_id"] != principal_id and not sees_all):
        raise NotFound(f"no generation {generation_id!r}")
    p = requested[0].payload
    status, stage = "requested", 0
    reason = None
    for e in events:
        # the furthest stage wins, as in the read model
        if e.type in _STATUS_BY_EVENT and stage_of(e.type) >= stage:
            status, stage = _STATUS_BY_EVENT[e.type], stage_of(e.type)
        if e.type == "GenerationRefused":
            reason = e.payload["reason_category"]
        blocked = e.type == "OutputModerated" and e.payload.get("decision") == "block"
        if blocked and stage_of(e.type) >= stage:
            status, stage = "blocked", stage_of(e.type)
            reason = primary_category(e.payload.get("blocked_categories") or [])
    return {
        "generation_id": generation_id,
        "kind": p["kind"],
        "status": status,
        "prompt": p["prompt"],
        "duration_s": p["duration_s"],
        "width": p["width"],
        "height": p["height"],
        "aspect_ratio": p["aspect_ratio"],
        "tier": p["tier"],
        "seed": p.get("seed"),
        "upload_id": p.get("upload_id"),
        "extends": p.get("extends"),
        "remix_of": list(p.get("remix_of") or []),
        "cameo_ids": list(p.get("cameo_ids") or []),
        "reason_category": reason if status in ("refused", "blocked") else None,
        "review": review_of(generation_id, status),
        "prompt_rewritten": any(
            e.type == "GenerationApproved" and e.payload.get("prompt_rewritten") for e in events
        ),
        "asset_id": None,
        "requested_at": requested[0].occurred_at.isoformat(),
        "updated_at": events[-1].occurred_at.isoformat(),
    }


def list_generations(
    services: Services, principal_id: str, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    with services.read_sessions() as s:
        rows = s.scalars(
            select(GenerationRequestRow)
            .where(GenerationRequestRow.requester_id == principal_id)
            .order_by(GenerationRequestRow.position.desc())
            .limit(limit)
            .offset(offset)
        )
        return [r.public() for r in rows]


def moderation_record(services: Services, generation_id: str) -> dict[str, Any]:
    """The full decision with evidence: for reviewers, never for requesters."""
    events = services.store.read_stream(stream_id(GENERATION, generation_id))
    moderated = [e for e in events if e.type == "PromptModerated"]
    reviewed = [e for e in events if e.type == "PromptFilterReviewed"]
    if not events:
        raise NotFound(f"no generation {generation_id!r}")
    output = [
        e
        for e in services.store.read_stream(stream_id(OUTPUT, generation_id))
        if e.type == "OutputModerated"
    ]
    return {
        "generation_id": generation_id,
        "decided": bool(moderated),
        "decision": dict(moderated[-1].payload) if moderated else None,
        "filter_review": dict(reviewed[-1].payload) if reviewed else None,
        # the blob's address is storage detail, not evidence
        "output": {k: v for k, v in output[-1].payload.items() if k != "master_blob"}
        if output
        else None,
    }
