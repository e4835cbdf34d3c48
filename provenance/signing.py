"""``provenance-signing``: sign allowed outputs (C2PA), make the download variant, publish.

Runs on ``OutputModerated`` (output stream, or the generation stream for a legacy history).
A ``block`` decision is never signed, so a blocked output never reaches its requester, unless
a reviewer releases it on appeal: an ``OutputReleased`` is signed as an ``allow`` is. The
request, approval and render it signs for are read from all of the generation's streams
(:func:`contracts.generation.generation_history`); what it writes goes on its own stream
``provenance-<generation_id>``, at the version it read there. For an ``allow``:

1. the master (invisible watermark, no visible mark) is signed as the canonical asset;
2. free tier: the master's frames get the visible animated watermark, are encoded once, and
   that file is signed separately as the download; paid tier downloads the canonical file;
3. ``AssetSigned`` and ``AssetPublished`` are appended together.

Ingredients: remixed sources and the video an extend continues are ``parentOf`` (their
signed files, from this domain's assets); an image-to-video request's upload is ``inputTo``
(its bytes from the ``generation_inputs`` port, as the render read them).

Signing is the last step for every file: nothing re-encodes a signed file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from contracts.generation import (
    GENERATION,
    OUTPUT,
    PROVENANCE,
    AssetPublished,
    AssetSigned,
    generation_history,
)
from contracts.output_review import OutputReleased, output_asset_id
from contracts.ports import BLOB_STORE, GENERATION_INPUTS
from core.blobs import BlobStore
from core.events import SYSTEM_ACTOR, RecordedEvent, stream_id
from core.ports import Resource
from core.projections import Append, Processor
from core.services import Services
from core.video import decode_frames, encode_mp4
from provenance.c2pa_manifest import (
    SOFT_BINDING_ALG,
    InputImage,
    ManifestFacts,
    RemixParent,
    read_manifest,
    sign_video,
)
from provenance.models import ProvAsset
from provenance.pki import SigningCredentials
from provenance.public import settings as provenance_settings
from provenance.visible import VisibleWatermarkStyle, apply_visible_watermark

MODERATED = "OutputModerated"
_PAID = frozenset({"paid", "pro", "plus", "premium"})


def _load_credentials(services: Services) -> SigningCredentials:
    return provenance_settings(services).credentials(
        services.settings.data_dir, development=services.settings.is_development
    )


# loaded once per process (production refuses development ones, see ProvenanceSettings)
CREDENTIALS = Resource[SigningCredentials]("provenance.credentials", _load_credentials)


def credentials(services: Services) -> SigningCredentials:
    return services.resource(CREDENTIALS)


def _request_fields(history: Sequence[RecordedEvent]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for e in history:
        if e.type in ("GenerationRequested", "GenerationApproved"):
            for key, value in e.payload.items():
                if value not in (None, ""):
                    fields[key] = value
            for nested in ("params", "parameters", "options"):
                inner = e.payload.get(nested)
                if isinstance(inner, Mapping):
                    for key, value in inner.items():
                        fields.setdefault(key, value)
    return fields


def _ids(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]
    return list(dict.fromkeys(str(v) for v in value))


class AssetSigning(Processor):
    name = "provenance-signing"
    categories = (OUTPUT, GENERATION)

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = provenance_settings(services)
        self.blobs = services.port(BLOB_STORE)
        self.inputs = services.port(GENERATION_INPUTS)

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        allowed = event.type == MODERATED and event.payload.get("decision") == "allow"
        if not (allowed or event.type == OutputReleased.event_type_name):
            return ()
        generation_id = str(event.payload.get("generation_id") or event.stream_key)
        history = generation_history(self.services.store, generation_id)
        if any(e.type == "AssetSigned" for e in history):
            return ()
        own = stream_id(PROVENANCE, generation_id)
        version = sum(1 for e in history if e.stream_id == own)
        completed = [e for e in history if e.type == "GenerationCompleted"]
        if not completed:
            raise LookupError(f"{generation_id}: OutputModerated without GenerationCompleted")
        done = completed[-1].payload
        request = _request_fields(history)
        requester = request.get("requester_id") or request.get("account_id")
        if requester is None:
            requested = [e for e in history if e.type == "GenerationRequested"]
            requester = requested[0].actor.id if requested else None
        tier = (
            "paid"
            if str(request.get("tier") or request.get("plan") or "free").lower() in _PAID
            else "free"
        )
        serial = int(str(done["watermark_serial"]), 16)
        creds = credentials(self.services)
        blobs = self.blobs
        master = blobs.path(str(event.payload.get("master_blob") or done["master_blob"]))
        # Remixed sources and the generation an extend continues are both parents.
        parent_ids = _ids(
            request.get("remix_of")
            or request.get("remix_parents")
            or request.get("parent_generation_ids")
        ) + _ids(request.get("extends"))
        parents = self._remix_parents(list(dict.fromkeys(parent_ids)), blobs)
        facts = ManifestFacts(
            generation_id=generation_id,
            title=f"Clearframe generation {generation_id}",
            software_name=self.settings.software_name,
            software_version=self.settings.software_version,
            model_backend=f"{done.get('backend')}:{done.get('model_id')}",
            watermark_serial=serial,
            visible_watermark=False,
            remix_parents=tuple(parents),
            input_images=tuple(self._input_images(request, requester)),
        )
        with tempfile.TemporaryDirectory(prefix="cf-sign-") as tmp_name:
            tmp = Path(tmp_name)
            signed = tmp / "asset.mp4"
            sign_video(master, signed, facts, creds)
            manifest_id = read_manifest(signed, None).active_manifest or ""
            size = signed.stat().st_size
            address = blobs.put_file(signed)
            download, download_manifest = address, manifest_id
            if tier == "free":
                frames, fps = decode_frames(master)
                style = VisibleWatermarkStyle(label=self.settings.visible_label)
                marked = encode_mp4(
                    apply_visible_watermark(frames, fps, style), fps, tmp / "visible.mp4"
                )
                visible_signed = tmp / "download.mp4"
                sign_video(marked, visible_signed, _with_visible(facts), creds)
                download_manifest = read_manifest(visible_signed, None).active_manifest or ""
                download = blobs.put_file(visible_signed)
        asset_id = output_asset_id(generation_id)
        signer = creds.leaf.subject.rfc4514_string()
        return [
            Append(
                own,
                [
                    AssetSigned(
                        generation_id=generation_id,
                        asset_id=asset_id,
                        requester_id=None if requester is None else str(requester),
                        tier=tier,  # type: ignore[arg-type]
                        blob_address=address,
                        bytes=size,
                        manifest_id=manifest_id,
                        download_blob_address=download,
                        download_manifest_id=download_manifest,
                        visible_watermark=tier == "free",
                        watermark_serial=f"{serial:016x}",
                        watermark_payload=f"{serial:016x}",
                        soft_binding_alg=SOFT_BINDING_ALG,
                        signer=signer,
                        development_signer=creds.development,
                        duration_s=float(done.get("duration_s") or 0.0),
                        width=int(done.get("width") or 0),
                        height=int(done.get("height") or 0),
                        fps=float(done.get("fps") or 0.0),
                        remix_parents=[p.generation_id or "" for p in parents],
                    ),
                    AssetPublished(
                        generation_id=generation_id,
                        asset_id=asset_id,
                        download_blob_address=download,
                        tier=tier,  # type: ignore[arg-type]
                    ),
                ],
                expected_version=version,
                actor=SYSTEM_ACTOR,
            )
        ]

    def _remix_parents(self, generation_ids: list[str], blobs: BlobStore) -> list[RemixParent]:
        if not generation_ids:
            return []
        with self.services.sessions() as s:
            rows = s.scalars(
                select(ProvAsset).where(ProvAsset.generation_id.in_(generation_ids))
            ).all()
        by_id = {r.generation_id: r for r in rows}
        missing = [g for g in generation_ids if g not in by_id]
        if missing:
            # A parent that was never signed here cannot be an ingredient with a manifest;
            # failing (and retrying) is better than signing a manifest that omits it.
            raise LookupError(f"remix parents not signed here (yet): {missing}")
        return [
            RemixParent(blobs.path(by_id[g].blob_address), f"Clearframe generation {g}", g)
            for g in generation_ids
        ]

    def _input_images(self, request: Mapping[str, Any], requester: Any) -> list[InputImage]:
        upload_id = request.get("upload_id")
        if not upload_id:
            return []
        data = (
            None if requester is None else self.inputs.upload_image(str(upload_id), str(requester))
        )
        if data is None:
            # The render read it through the same port; a manifest that leaves out what the
            # video was made from would misstate its origin, so wait (and retry) instead.
            raise LookupError(f"the input image {upload_id} is no longer available to sign with")
        return [InputImage(data, f"Clearframe upload {upload_id}", str(upload_id))]


def _with_visible(facts: ManifestFacts) -> ManifestFacts:
    from dataclasses import replace

    return replace(facts, visible_watermark=True)
