"""The ``generation_inputs`` port as trust_safety provides it: the media a request renders
from, handed out only on the terms the gate approved the request on.

* an image-to-video request's upload, read back from where upload moderation stored its
  approved bytes: only an approved image upload of the requester;
* an extend's source video: the requester's own generation, as it was signed (the canonical
  asset: invisible watermark, no visible mark), unless its visibility is ``removed``.

The generator never learns where or how uploads and assets are kept.
"""

from __future__ import annotations

from contracts.assets import ASSET
from contracts.generation import generation_history
from contracts.ports import BLOB_STORE
from core.events import stream_id
from core.services import Services


class UploadInputs:
    def __init__(self, services: Services) -> None:
        self.services = services

    def upload_image(self, upload_id: str, requester_id: str) -> bytes | None:
        from trust_safety.uploads.service import load_upload, uploads_dir

        record = load_upload(self.services, upload_id)
        if record is None or record.get("owner_id") != requester_id:
            return None
        decision = record.get("decision") or {}
        blob = record.get("blob")
        if not record.get("approved") or not blob:
            return None
        if not str(decision.get("media_type", "")).startswith("image/"):
            return None
        root = uploads_dir(self.services).resolve()
        path = (root / str(blob)).resolve()
        if path.parent != root:  # a blob name is a file name; anything else is not ours
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def source_video(self, generation_id: str, requester_id: str) -> bytes | None:
        store = self.services.store
        history = generation_history(store, generation_id)
        approved = [e for e in history if e.type == "GenerationApproved"]
        signed = [e for e in history if e.type == "AssetSigned"]
        # The same rule as the gate's lineage check: only one's own video is extended.
        if not approved or approved[-1].payload.get("requester_id") != requester_id:
            return None
        if not signed:
            return None  # not finished, or blocked at output: nothing to continue
        visibility = [
            e.payload.get("visibility")
            for e in store.read_stream(stream_id(ASSET, generation_id))
            if e.type == "AssetVisibilityChanged"
        ]
        if visibility and visibility[-1] == "removed":
            return None
        address = str(signed[-1].payload["blob_address"])
        blobs = self.services.port(BLOB_STORE)
        if not blobs.exists(address):
            return None
        with blobs.open(address) as fh:
            return fh.read()
