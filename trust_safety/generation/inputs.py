"""The ``generation_inputs`` port as trust_safety provides it: an image-to-video request's
upload, read back from where upload moderation stored its approved bytes.

Only an approved image upload of the requester is handed out, which is what the gate checked
before approving the request; the generator never learns where or how uploads are kept.
"""

from __future__ import annotations

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
