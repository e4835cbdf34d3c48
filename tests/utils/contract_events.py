"""Other domains' events for tests, built only from the published contracts.

Every builder returns a complete, valid instance of the producer's contract class with
sensible defaults, so a consumer's test breaks the moment a producer renames or drops a field,
exactly as production would. ``append`` writes one on the stream its producer writes to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from contracts.assets import (
    AssetVisibilityChanged,
    Hold,
    HoldKind,
    cameo_hold,
    visibility_of,
)
from contracts.consent import CameoAppearanceRemoved
from contracts.enforcement import (
    ActionKind,
    EnforcementActionTaken,
    EnforcementReversed,
    TargetKind,
)
from contracts.feed import UserFollowed, UserUnfollowed
from contracts.generation import (
    AssetPublished,
    AssetSigned,
    GenerationApproved,
    GenerationCompleted,
    GenerationFailed,
    GenerationRefused,
    GenerationRequested,
    GenerationStarted,
    OutputModerated,
    PromptModerated,
)
from core.events import SYSTEM_ACTOR, Actor, EventPayload, stream_id
from core.services import Services

SERIAL = "0123456789abcdef"
BLOB = "sha256:" + "a" * 64
STATEMENT = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
}


# -- generation stream -------------------------------------------------------------------------


def generation_requested(
    generation_id: str, requester_id: str, prompt: str = "a paper boat", **fields: Any
) -> GenerationRequested:
    defaults: dict[str, Any] = {
        "kind": "remix" if fields.get("remix_of") else "text_to_video",
        "duration_s": 1.0,
        "width": 160,
        "height": 96,
        "fps": 12,
        "tier": "free",
    }
    defaults.update(fields)
    defaults.setdefault("resolution", f"{defaults['width']}x{defaults['height']}")
    defaults.setdefault("aspect_ratio", "16:9")
    return GenerationRequested(
        generation_id=generation_id, requester_id=requester_id, prompt=prompt, **defaults
    )


def prompt_moderated(generation_id: str, requester_id: str, **fields: Any) -> PromptModerated:
    defaults: dict[str, Any] = {
        "approved": True,
        "reason_category": None,
        "stage": None,
        "prompt_decision": {"decision": "allow", "policy_version": "test"},
    }
    defaults.update(fields)
    return PromptModerated(generation_id=generation_id, requester_id=requester_id, **defaults)


def generation_approved(
    generation_id: str, requester_id: str, prompt: str = "a paper boat", **fields: Any
) -> GenerationApproved:
    defaults: dict[str, Any] = {"prompt_rewritten": False, "policy_version": "test"}
    defaults.update(fields)
    return GenerationApproved(
        generation_id=generation_id, requester_id=requester_id, prompt=prompt, **defaults
    )


def generation_refused(generation_id: str, requester_id: str, **fields: Any) -> GenerationRefused:
    defaults: dict[str, Any] = {
        "reason_category": "policy",
        "reason": "refused by the test",
        "stage": "prompt",
        "policy_version": "test",
    }
    defaults.update(fields)
    return GenerationRefused(generation_id=generation_id, requester_id=requester_id, **defaults)


def generation_started(generation_id: str, **fields: Any) -> GenerationStarted:
    defaults: dict[str, Any] = {
        "backend": "procedural",
        "model_id": "procedural-v1",
        "worker": "test",
        "pickup_check": {"ok": True},
    }
    defaults.update(fields)
    return GenerationStarted(generation_id=generation_id, **defaults)


def generation_failed(generation_id: str, **fields: Any) -> GenerationFailed:
    defaults: dict[str, Any] = {"reason": "backend_failed", "error": "test", "retryable": False}
    defaults.update(fields)
    return GenerationFailed(generation_id=generation_id, **defaults)


def generation_completed(generation_id: str, **fields: Any) -> GenerationCompleted:
    defaults: dict[str, Any] = {
        "master_blob": BLOB,
        "bytes": 1000,
        "width": 160,
        "height": 96,
        "fps": 12,
        "frames": 12,
        "duration_s": 1.0,
        "seed": 1,
        "backend": "procedural",
        "model_id": "procedural-v1",
        "watermark_serial": SERIAL,
        "render_ms": 1,
    }
    defaults.update(fields)
    return GenerationCompleted(generation_id=generation_id, **defaults)


def output_moderated(generation_id: str, decision: str = "allow", **fields: Any) -> OutputModerated:
    defaults: dict[str, Any] = {
        "policy_version": "test",
        "blocked_categories": [],
        "verdicts": [],
        "frame_scores": [],
        "classifiers": ["test"],
        "master_blob": BLOB,
    }
    defaults.update(fields)
    return OutputModerated(generation_id=generation_id, decision=decision, **defaults)


def asset_signed(
    generation_id: str,
    asset_id: str,
    requester_id: str | None,
    remix_parents: Sequence[str] = (),
    **fields: Any,
) -> AssetSigned:
    defaults: dict[str, Any] = {
        "tier": "paid",
        "blob_address": BLOB,
        "bytes": 1000,
        "manifest_id": f"urn:c2pa:{generation_id}",
        "download_blob_address": fields.get("blob_address", BLOB),
        "download_manifest_id": fields.get("manifest_id", f"urn:c2pa:{generation_id}"),
        "visible_watermark": False,
        "watermark_serial": SERIAL,
        "watermark_payload": SERIAL,
        "soft_binding_alg": "com.clearframe.dwtdct",
        "signer": "CN=test",
        "development_signer": True,
        "duration_s": 2.0,
        "width": 160,
        "height": 96,
        "fps": 12.0,
    }
    defaults.update(fields)
    return AssetSigned(
        generation_id=generation_id,
        asset_id=asset_id,
        requester_id=requester_id,
        remix_parents=list(remix_parents),
        **defaults,
    )


def asset_published(generation_id: str, asset_id: str, **fields: Any) -> AssetPublished:
    defaults: dict[str, Any] = {"download_blob_address": BLOB, "tier": "paid"}
    defaults.update(fields)
    return AssetPublished(generation_id=generation_id, asset_id=asset_id, **defaults)


# -- enforcement, consent, feed ----------------------------------------------------------------


def action_taken(
    action_id: str,
    kind: ActionKind | str,
    target_id: str,
    *,
    generation_id: str | None = None,
    affected_user_id: str = "maker",
    **fields: Any,
) -> EnforcementActionTaken:
    action = ActionKind(kind)
    defaults: dict[str, Any] = {
        "puid": f"puid-{action_id}",
        "statement_category": STATEMENT["category"],
        "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "automated_detection": False,
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "source_type": "SOURCE_TYPE_OTHER_NOTIFICATION",
        "decided_by": "reviewer",
        "statement": dict(STATEMENT),
    }
    defaults.update(fields)
    return EnforcementActionTaken(
        action_id=action_id,
        kind=action,
        target_kind=action.target_kind,
        target_id=target_id,
        generation_id=generation_id if action.target_kind is TargetKind.ASSET else None,
        affected_user_id=affected_user_id,
        **defaults,
    )


def reversed_(action: EnforcementActionTaken, reason: str = "appeal upheld") -> EnforcementReversed:
    """The reversal of ``action``, naming what the action named."""
    return EnforcementReversed(
        action_id=action.action_id,
        kind=action.kind,
        target_kind=action.target_kind,
        target_id=action.target_id,
        generation_id=action.generation_id,
        affected_user_id=action.affected_user_id,
        reason=reason,
        reversed_by="reviewer",
    )


def appearance_removed(cameo_id: str, generation_id: str, **fields: Any) -> CameoAppearanceRemoved:
    return CameoAppearanceRemoved(cameo_id=cameo_id, generation_id=generation_id, **fields)


def user_followed(follower_id: str, followee_id: str) -> UserFollowed:
    return UserFollowed(follower_id=follower_id, followee_id=followee_id)


def user_unfollowed(follower_id: str, followee_id: str) -> UserUnfollowed:
    return UserUnfollowed(follower_id=follower_id, followee_id=followee_id)


def hold(key: str, kind: HoldKind | str = HoldKind.REMOVED, **fields: Any) -> Hold:
    fields.setdefault("source_event_id", f"evt-{key}")
    return Hold(key=key, kind=HoldKind(kind), **fields)


def visibility(
    generation_id: str,
    holds: Iterable[Hold] = (),
    *,
    asset_id: str | None = None,
    changed: Hold | None = None,
) -> AssetVisibilityChanged:
    """What the assets domain publishes once ``holds`` are the holds in force (for readers'
    unit tests; end-to-end tests let the asset-visibility processor write it)."""
    ordered = sorted(holds, key=lambda h: h.key)
    placed = changed is None or any(h.key == changed.key for h in ordered)
    return AssetVisibilityChanged(
        generation_id=generation_id,
        asset_id=asset_id,
        change="placed" if placed else "lifted",
        hold=changed or (ordered[-1] if ordered else hold(cameo_hold("test"))),
        holds=ordered,
        visibility=visibility_of(ordered),
    )


# -- appending ---------------------------------------------------------------------------------


def stream_of(payload: EventPayload) -> str:
    """The stream its producer writes ``payload`` on."""
    key = {
        "generation": lambda p: p.generation_id,
        "render": lambda p: p.generation_id,
        "output": lambda p: p.generation_id,
        "provenance": lambda p: p.generation_id,
        "asset": lambda p: p.generation_id,
        "enforcement": lambda p: p.action_id,
        "consent": lambda p: p.cameo_id,
        "feed": lambda p: f"follows.{p.follower_id}",
    }[payload.category](payload)
    return stream_id(payload.category, key)


def append(services: Services, *payloads: EventPayload, actor: Actor = SYSTEM_ACTOR) -> None:
    for payload in payloads:
        services.store.append(stream_of(payload), [payload], expected_version=None, actor=actor)


REQUESTER = "requester"

# Builders by event type name, for helpers whose callers name the event (``emit``).
BUILDERS: dict[str, Callable[..., EventPayload]] = {
    "GenerationRequested": lambda **f: generation_requested(
        f.pop("generation_id"),
        f.pop("requester_id", REQUESTER),
        f.pop("prompt", "a paper boat"),
        **f,
    ),
    "PromptModerated": lambda **f: prompt_moderated(
        f.pop("generation_id"), f.pop("requester_id", REQUESTER), **f
    ),
    "GenerationApproved": lambda **f: generation_approved(
        f.pop("generation_id"),
        f.pop("requester_id", REQUESTER),
        f.pop("prompt", "a paper boat"),
        **f,
    ),
    "GenerationRefused": lambda **f: generation_refused(
        f.pop("generation_id"), f.pop("requester_id", REQUESTER), **f
    ),
    "GenerationStarted": lambda **f: generation_started(f.pop("generation_id"), **f),
    "GenerationFailed": lambda **f: generation_failed(f.pop("generation_id"), **f),
    "GenerationCompleted": lambda **f: generation_completed(f.pop("generation_id"), **f),
    "OutputModerated": lambda **f: output_moderated(f.pop("generation_id"), **f),
    "AssetSigned": lambda **f: asset_signed(
        f.pop("generation_id"), f.pop("asset_id"), f.pop("requester_id", REQUESTER), **f
    ),
    "AssetPublished": lambda **f: asset_published(f.pop("generation_id"), f.pop("asset_id"), **f),
    "UserFollowed": lambda **f: user_followed(**f),
    "UserUnfollowed": lambda **f: user_unfollowed(**f),
    "CameoAppearanceRemoved": lambda **f: appearance_removed(
        f.pop("cameo_id"), f.pop("generation_id"), **f
    ),
}


def build(type_name: str, **fields: Any) -> EventPayload:
    """The contract event ``type_name`` with ``fields`` over the builder's defaults."""
    try:
        builder = BUILDERS[type_name]
    except KeyError:
        raise KeyError(f"no contract builder for {type_name!r}: add one here") from None
    return builder(**fields)
