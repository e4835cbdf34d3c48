"""Other domains' events as they are stored: appended here by type name with loose payloads.

The reverse-search indexer reads these events by type name and payload fields only (domains
meet through events), so the tests write exactly that: stored events of those names with the
fields docs/reverse_search.md says the indexer reads.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ConfigDict

from core.events import REGISTRY, SYSTEM_ACTOR, Actor, EventPayload, stream_id
from core.services import Services


class _Loose(EventPayload):
    model_config = ConfigDict(frozen=True, extra="allow")


_CLASSES: dict[str, type[EventPayload]] = {}


def payload(name: str, category: str, /, **fields: Any) -> EventPayload:
    cls = _CLASSES.get(name)
    if cls is None:
        attrs: dict[str, Any] = {
            "__annotations__": {"event_type_name": ClassVar[str], "category": ClassVar[str]},
            "event_type_name": name,
            "category": category,
        }
        cls = type(f"Stored{name}", (_Loose,), attrs)
        _CLASSES[name] = cls
    return cls(**fields)


def emit(
    services: Services,
    stream_category: str,
    key: str,
    name: str,
    actor: Actor = SYSTEM_ACTOR,
    /,
    **fields: Any,
) -> None:
    services.store.append(
        stream_id(stream_category, key),
        [payload(name, stream_category, **fields)],
        expected_version=None,
        actor=actor,
    )


def put_blob(services: Services, path: Path) -> str:
    """Place a file in the blob store layout the generator uses (root/ab/abcdef...)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    target = Path(services.settings.data_dir) / "blobs" / digest[:2] / digest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    return f"sha256:{digest}"


def sign_generation(
    services: Services, generation_id: str, video: Path, *, account: str, prompt: str
) -> str:
    """The generation stream of one generation, from request to signed asset."""
    user = Actor(id=account, role="user")
    emit(
        services,
        "generation",
        generation_id,
        "GenerationRequested",
        user,
        generation_id=generation_id,
        requester_id=account,
        prompt=prompt,
    )
    emit(
        services,
        "generation",
        generation_id,
        "PromptModerated",
        generation_id=generation_id,
        decision="allow",
        policy_version="2026.11",
    )
    emit(services, "generation", generation_id, "GenerationApproved", generation_id=generation_id)
    emit(services, "generation", generation_id, "GenerationCompleted", generation_id=generation_id)
    emit(
        services,
        "generation",
        generation_id,
        "OutputModerated",
        generation_id=generation_id,
        decision="allow",
        frame_scores=[[0.01] * 4] * 200,
    )
    asset_id = f"asset-{generation_id}"
    address = put_blob(services, video)
    signed: dict[str, Any] = {
        "generation_id": generation_id,
        "asset_id": asset_id,
        "blob_address": address,
        "manifest_id": f"urn:uuid:manifest-{generation_id}",
        "watermark_payload": f"serial-{generation_id}",
        "c2pa_state": "signed",
    }
    if REGISTRY.known("AssetSigned"):
        # The provenance domain's own schema: the real payload proves the fields line up.
        real = REGISTRY.info("AssetSigned").payload_class(
            **signed,
            requester_id=account,
            tier="paid",
            bytes=video.stat().st_size,
            download_blob_address=address,
            download_manifest_id=signed["manifest_id"],
            visible_watermark=False,
            watermark_serial="0123456789abcdef",
            soft_binding_alg="com.clearframe.dwtdct",
            signer="test",
            development_signer=True,
            duration_s=6.0,
            width=160,
            height=96,
            fps=24.0,
        )
        services.store.append(
            stream_id("generation", generation_id),
            [real],
            expected_version=None,
            actor=SYSTEM_ACTOR,
        )
    else:
        emit(services, "generation", generation_id, "AssetSigned", **signed)
    return asset_id
