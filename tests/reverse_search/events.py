"""Other domains' events for the reverse-search suites, built from the published contracts."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from core.events import SYSTEM_ACTOR, Actor, EventPayload, stream_id
from core.services import Services
from tests.utils import contract_events as ce


def payload(name: str, category: str, /, **fields: Any) -> EventPayload:
    built = ce.build(name, **fields)
    assert built.category == category, f"{name} is written on {built.category} streams"
    return built


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


ALG = "org.clearframe.watermark.grid-ss.v1"
# A watermark serial per generation id (16 hex digits, as AssetSigned carries it).
SERIALS: dict[str, str] = {}


def sign_generation(
    services: Services, generation_id: str, video: Path, *, account: str, prompt: str
) -> str:
    """The generation stream of one generation, from request to signed asset."""
    asset_id = f"asset-{generation_id}"
    serial = SERIALS.setdefault(
        generation_id, hashlib.sha256(generation_id.encode()).hexdigest()[:16]
    )
    address = put_blob(services, video)
    ce.append(
        services,
        ce.generation_requested(generation_id, account, prompt),
        actor=Actor(id=account, role="user"),
    )
    ce.append(
        services,
        ce.prompt_moderated(generation_id, account),
        ce.generation_approved(generation_id, account, prompt),
        ce.generation_completed(generation_id),
        ce.output_moderated(generation_id, frame_scores=[{"index": 0, "scores": {}}] * 200),
        ce.asset_signed(
            generation_id,
            asset_id,
            account,
            blob_address=address,
            download_blob_address=address,
            bytes=video.stat().st_size,
            manifest_id=f"urn:uuid:manifest-{generation_id}",
            download_manifest_id=f"urn:uuid:manifest-{generation_id}",
            watermark_serial=serial,
            watermark_payload=serial,
            soft_binding_alg=ALG,
            duration_s=6.0,
            width=160,
            height=96,
            fps=24.0,
        ),
    )
    return asset_id
