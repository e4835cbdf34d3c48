"""C2PA manifests for generated videos: build, sign (last step), read and validate.

Nothing may re-encode a file after :func:`sign_video`: the manifest hashes the MP4 boxes
(``c2pa.hash.bmff``), so any later change makes a reader report ``Invalid``.

Ingredients: a video this one derives from (a remixed source, the video an extend
continues) is ``parentOf``; an image it was rendered from (image-to-video) is ``inputTo``.
Each records its title, an ``instance_id`` naming what it is here, and, in its ``metadata``,
the SHA-256 of the exact bytes (``org.clearframe.sha256``): the builder stores a thumbnail,
not a hash, of an ingredient without a manifest of its own.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import c2pa

from provenance.errors import SigningError, UnsupportedMedia
from provenance.pki import SigningCredentials

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SOFT_BINDING_ALG = "org.clearframe.watermark.grid-ss.v1"
GENERATION_ASSERTION = "org.clearframe.generation"
MP4_MIME = "video/mp4"

C2paState = Literal["Trusted", "Valid", "Invalid", "none"]


@dataclass(frozen=True)
class RemixParent:
    """A source video this generation remixes; recorded as a ``parentOf`` ingredient."""

    path: Path
    title: str
    generation_id: str | None = None


@dataclass(frozen=True)
class InputImage:
    """An image this generation was rendered from; recorded as an ``inputTo`` ingredient."""

    data: bytes
    title: str
    upload_id: str | None = None

    @property
    def mime(self) -> str:
        return image_mime(self.data)


def image_mime(data: bytes) -> str:
    """The MIME type of image bytes, by their signature (the formats C2PA ingredients take)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise UnsupportedMedia("an input image must be PNG, JPEG or WebP to be an ingredient")


SHA256_KEY = "org.clearframe.sha256"


@dataclass(frozen=True)
class ManifestFacts:
    """Everything a generated asset's manifest states about it."""

    generation_id: str
    title: str
    software_name: str
    software_version: str
    model_backend: str
    watermark_serial: int | None
    visible_watermark: bool
    remix_parents: Sequence[RemixParent] = field(default_factory=tuple)
    input_images: Sequence[InputImage] = field(default_factory=tuple)


def soft_binding_value(serial: int) -> str:
    """The soft-binding value of a watermark serial: its 8 big-endian bytes, base64."""
    return base64.b64encode(serial.to_bytes(8, "big")).decode("ascii")


def build_manifest(facts: ManifestFacts) -> dict[str, Any]:
    agent = {"name": facts.software_name, "version": facts.software_version}
    actions: list[dict[str, Any]] = [
        {
            "action": "c2pa.created",
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": agent,
            "parameters": {
                "org.clearframe.generation_id": facts.generation_id,
                "org.clearframe.model_backend": facts.model_backend,
            },
        }
    ]
    assertions: list[dict[str, Any]] = [
        {
            "label": "cawg.training-mining",
            "data": {
                "entries": {
                    "cawg.ai_generative_training": {"use": "notAllowed"},
                    "cawg.ai_inference": {"use": "notAllowed"},
                    "cawg.ai_training": {"use": "notAllowed"},
                    "cawg.data_mining": {"use": "notAllowed"},
                }
            },
        },
        {
            "label": GENERATION_ASSERTION,
            "data": {
                "generation_id": facts.generation_id,
                "model_backend": facts.model_backend,
                "visible_watermark": facts.visible_watermark,
                "watermark_serial": (
                    None if facts.watermark_serial is None else f"{facts.watermark_serial:016x}"
                ),
            },
        },
    ]
    if facts.watermark_serial is not None:
        actions.append(
            {
                "action": "c2pa.watermarked",
                "softwareAgent": agent,
                "parameters": {"org.clearframe.soft_binding_alg": SOFT_BINDING_ALG},
            }
        )
        assertions.append(
            {
                "label": "c2pa.soft-binding",
                "data": {
                    "alg": SOFT_BINDING_ALG,
                    "blocks": [{"scope": {}, "value": soft_binding_value(facts.watermark_serial)}],
                    "pad": [],
                },
            }
        )
    assertions.insert(0, {"label": "c2pa.actions.v2", "data": {"actions": actions}})
    return {
        "claim_generator_info": [agent],
        "title": facts.title,
        "format": MP4_MIME,
        "assertions": assertions,
    }


_SIGN_LOCK = threading.Lock()


def is_mp4(path: Path) -> bool:
    """ISO BMFF with an ``ftyp`` box first: what MP4 files (and blobs of them) start with."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[4:8] == b"ftyp"


def sign_video(
    source: Path, dest: Path, facts: ManifestFacts, credentials: SigningCredentials
) -> bytes:
    """Embed a signed manifest for ``facts`` into a copy of MP4 ``source`` at ``dest``.

    Returns the manifest bytes. ``dest`` is written atomically (temp file + rename).
    """
    if not is_mp4(source):
        raise UnsupportedMedia(f"only MP4 can be signed here; {source.name} is not an MP4 file")
    if source.resolve() == dest.resolve():
        raise SigningError("sign into a new file: the source must stay untouched")
    manifest = build_manifest(facts)
    tmp = dest.with_name(dest.name + ".signing")
    try:
        info = c2pa.C2paSignerInfo(
            credentials.alg, credentials.chain_pem, credentials.key_pem, None
        )
        # The native signer is not documented as thread-safe; signing is short, so serialise.
        # The builder validates each ingredient as it embeds it, and records the result in
        # the ingredient: with our own anchors a parent we signed is recorded as trusted
        # (without them, as signingCredential.untrusted).
        with (
            _SIGN_LOCK,
            c2pa.Signer.from_info(info) as signer,
            _reader_context(credentials.trust_anchors_pem) as ctx,
            c2pa.Builder(manifest, context=ctx) as builder,
        ):
            for parent in facts.remix_parents:
                with open(parent.path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                    fh.seek(0)
                    ingredient = _ingredient(parent.title, "parentOf", digest)
                    if parent.generation_id:
                        ingredient["instance_id"] = f"clearframe:generation:{parent.generation_id}"
                    builder.add_ingredient(ingredient, MP4_MIME, fh)
            for image in facts.input_images:
                digest = hashlib.sha256(image.data).hexdigest()
                ingredient = _ingredient(image.title, "inputTo", digest)
                if image.upload_id:
                    ingredient["instance_id"] = f"clearframe:upload:{image.upload_id}"
                builder.add_ingredient(ingredient, image.mime, io.BytesIO(image.data))
            with open(source, "rb") as src, open(tmp, "w+b") as out:
                manifest_bytes = builder.sign(signer, MP4_MIME, src, out)
        tmp.replace(dest)
    except c2pa.C2paError as exc:
        tmp.unlink(missing_ok=True)
        raise SigningError(f"C2PA signing of {source.name} failed: {exc}") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SigningError(f"C2PA signing of {source.name} failed: {exc}") from exc
    return bytes(manifest_bytes)


def _ingredient(title: str, relationship: str, sha256: str) -> dict[str, Any]:
    return {"title": title, "relationship": relationship, "metadata": {SHA256_KEY: sha256}}


@dataclass(frozen=True)
class C2paReport:
    """What a C2PA reader concluded about a file."""

    state: C2paState
    status_codes: tuple[str, ...]
    active_manifest: str | None
    generation_id: str | None
    watermark_serial: int | None
    digital_source_type: str | None
    signer: str | None
    ingredients: tuple[str, ...]
    training_mining: dict[str, str]


def _reader_context(trust_anchors_pem: bytes | None) -> c2pa.Context:
    settings: dict[str, Any] = {"verify": {"verify_trust": trust_anchors_pem is not None}}
    if trust_anchors_pem is not None:
        settings["trust"] = {"trust_anchors": trust_anchors_pem.decode("ascii")}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def _status_codes(data: dict[str, Any]) -> tuple[str, ...]:
    codes: list[str] = []
    results = data.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    for bucket in ("failure", "informational"):
        codes += [str(item.get("code")) for item in active.get(bucket, []) if item.get("code")]
    for item in data.get("validation_status") or []:
        code = str(item.get("code"))
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def read_manifest(path: Path, trust_anchors_pem: bytes | None) -> C2paReport:
    """Read and validate the C2PA manifest of ``path``; ``state='none'`` when there is none."""
    empty = C2paReport("none", (), None, None, None, None, None, (), {})
    if not is_mp4(path):
        return C2paReport("none", ("media.notIsoBmff",), None, None, None, None, None, (), {})
    try:
        with (
            _reader_context(trust_anchors_pem) as ctx,
            open(path, "rb") as fh,
            c2pa.Reader(MP4_MIME, fh, context=ctx) as reader,
        ):
            data = json.loads(reader.json())
            state = reader.get_validation_state() or "Invalid"
    except c2pa.C2paError.ManifestNotFound:
        return empty
    except c2pa.C2paError as exc:
        # A manifest that cannot even be parsed is a failed validation, not an absent one.
        return C2paReport(
            "Invalid", (f"reader.error: {exc}",), None, None, None, None, None, (), {}
        )
    label = data.get("active_manifest")
    manifest = (data.get("manifests") or {}).get(label, {})
    generation_id = serial = source_type = None
    mining: dict[str, str] = {}
    for assertion in manifest.get("assertions", []):
        body = assertion.get("data") or {}
        name = assertion.get("label", "")
        if name == GENERATION_ASSERTION:
            generation_id = body.get("generation_id")
            if body.get("watermark_serial"):
                serial = int(body["watermark_serial"], 16)
        elif name.startswith("c2pa.actions"):
            for action in body.get("actions", []):
                if action.get("action") == "c2pa.created":
                    source_type = action.get("digitalSourceType")
        elif name == "cawg.training-mining":
            mining = {k: str(v.get("use")) for k, v in (body.get("entries") or {}).items()}
    signer = (manifest.get("signature_info") or {}).get("issuer")
    normalised: C2paState = state if state in ("Trusted", "Valid", "Invalid") else "Invalid"  # type: ignore[assignment]
    return C2paReport(
        state=normalised,
        status_codes=_status_codes(data),
        active_manifest=label,
        generation_id=generation_id,
        watermark_serial=serial,
        digital_source_type=source_type,
        signer=signer,
        ingredients=tuple(i.get("title", "") for i in manifest.get("ingredients", [])),
        training_mining=mining,
    )
