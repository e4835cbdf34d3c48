from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import c2pa
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from core.video import encode_mp4
from generator.backends.procedural import render_clip
from generator.similarity import frame_similarity
from provenance.c2pa_manifest import (
    SHA256_KEY,
    TRAINED_ALGORITHMIC_MEDIA,
    InputImage,
    ManifestFacts,
    RemixParent,
    read_manifest,
    sign_video,
    soft_binding_value,
)
from provenance.errors import CertificateError, InvalidPayload, SigningError, UnsupportedMedia
from provenance.pki import (
    DEV_CHAIN_FILE,
    DEV_KEY_FILE,
    DEV_ROOT_FILE,
    SigningCredentials,
    create_development_credentials,
    load_production_credentials,
)
from provenance.visible import apply_visible_watermark


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory) -> SigningCredentials:
    return create_development_credentials(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def clip_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames = render_clip("harbour at dawn", 4, 160, 96, 1.0, fps=12)
    return encode_mp4(frames, 12, tmp_path_factory.mktemp("clip") / "clip.mp4")


def facts(**overrides: object) -> ManifestFacts:
    base: dict[str, object] = {
        "generation_id": "gen-123",
        "title": "harbour at dawn",
        "software_name": "clearframe-generator",
        "software_version": "0.1.0",
        "model_backend": "procedural",
        "watermark_serial": 0xABCDEF,
        "visible_watermark": False,
    }
    base.update(overrides)
    return ManifestFacts(**base)  # type: ignore[arg-type]


def test_dev_credentials_have_the_c2pa_profile_and_persist(tmp_path: Path) -> None:
    made = create_development_credentials(tmp_path)
    leaf = made.leaf
    assert leaf.issuer != leaf.subject
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"BEGIN PRIVATE KEY" in made.key_pem
    assert (tmp_path / DEV_KEY_FILE).stat().st_mode & 0o077 == 0
    again = create_development_credentials(tmp_path)
    assert again.chain_pem == made.chain_pem and again.key_pem == made.key_pem


def test_signed_file_is_trusted_and_states_the_generation(
    creds: SigningCredentials, clip_mp4: Path, tmp_path: Path
) -> None:
    signed = tmp_path / "signed.mp4"
    sign_video(clip_mp4, signed, facts(), creds)
    report = read_manifest(signed, creds.trust_anchors_pem)
    assert report.state == "Trusted"
    assert report.generation_id == "gen-123"
    assert report.watermark_serial == 0xABCDEF
    assert report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert report.training_mining["cawg.ai_training"] == "notAllowed"
    # Without our root the signature still validates but is not trusted.
    assert read_manifest(signed, None).state == "Valid"
    with open(signed, "rb") as fh, c2pa.Reader("video/mp4", fh) as reader:
        data = json.loads(reader.json())
    manifest = data["manifests"][data["active_manifest"]]
    labels = {a["label"] for a in manifest["assertions"]}
    assert "c2pa.soft-binding" in labels
    binding = next(a for a in manifest["assertions"] if a["label"] == "c2pa.soft-binding")
    assert binding["data"]["blocks"][0]["value"] == soft_binding_value(0xABCDEF)
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    names = [a["action"] for a in actions["data"]["actions"]]
    assert names[0] == "c2pa.created" and "c2pa.watermarked" in names


def test_tampering_and_stripping_are_reported(
    creds: SigningCredentials, clip_mp4: Path, tmp_path: Path
) -> None:
    signed = tmp_path / "signed.mp4"
    sign_video(clip_mp4, signed, facts(), creds)
    data = bytearray(signed.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    report = read_manifest(tampered, creds.trust_anchors_pem)
    assert report.state == "Invalid"
    assert "assertion.bmffHash.mismatch" in report.status_codes
    assert read_manifest(clip_mp4, creds.trust_anchors_pem).state == "none"


def test_remix_parents_become_ingredients(
    creds: SigningCredentials, clip_mp4: Path, tmp_path: Path
) -> None:
    parent = tmp_path / "parent.mp4"
    sign_video(clip_mp4, parent, facts(generation_id="gen-parent"), creds)
    child = tmp_path / "child.mp4"
    sign_video(
        clip_mp4,
        child,
        facts(
            generation_id="gen-child",
            remix_parents=(RemixParent(parent, "the parent", "gen-parent"),),
        ),
        creds,
    )
    report = read_manifest(child, creds.trust_anchors_pem)
    assert report.state == "Trusted"
    assert report.ingredients == ("the parent",)


def test_a_remix_records_its_parent_as_trusted(
    creds: SigningCredentials, clip_mp4: Path, tmp_path: Path
) -> None:
    """The signer validates an ingredient with its own trust anchors: the validation result it
    embeds for a parent it signed says signingCredential.trusted, not .untrusted."""
    parent = tmp_path / "parent.mp4"
    sign_video(clip_mp4, parent, facts(generation_id="gen-parent"), creds)
    child = tmp_path / "child.mp4"
    sign_video(
        clip_mp4,
        child,
        facts(
            generation_id="gen-child",
            remix_parents=(RemixParent(parent, "the parent", "gen-parent"),),
        ),
        creds,
    )
    # what a reader without our anchors sees embedded: the result recorded at signing time
    with open(child, "rb") as fh, c2pa.Reader("video/mp4", fh) as reader:
        data = json.loads(reader.json())
    (ingredient,) = data["manifests"][data["active_manifest"]]["ingredients"]
    recorded = ingredient["validation_results"]["activeManifest"]
    codes = {
        bucket: {item["code"] for item in recorded.get(bucket, [])}
        for bucket in ("success", "informational", "failure")
    }
    assert "signingCredential.trusted" in codes["success"], codes
    assert "signingCredential.untrusted" not in codes["failure"], codes
    assert codes["failure"] == set(), codes


def test_signing_refuses_bad_requests(
    creds: SigningCredentials, clip_mp4: Path, tmp_path: Path
) -> None:
    with pytest.raises(SigningError):
        sign_video(clip_mp4, clip_mp4, facts(), creds)
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a")
    with pytest.raises(UnsupportedMedia):
        sign_video(gif, tmp_path / "b.gif", facts(), creds)
    broken = SigningCredentials(
        creds.chain_pem,
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        creds.trust_anchors_pem,
    )
    with pytest.raises(SigningError):
        sign_video(clip_mp4, tmp_path / "x.mp4", facts(), broken)
    assert not (tmp_path / "x.mp4").exists()


def _operator_chain(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A chain shaped like the dev one but issued by an 'operator' CA."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Operator Root")])
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Operator Signer")]))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(ca.public_bytes(pem))
    return chain, key_path, anchors


def test_production_loads_operator_chain_and_refuses_dev(
    creds: SigningCredentials, clip_mp4: Path, tmp_path: Path
) -> None:
    chain, key, anchors = _operator_chain(tmp_path)
    prod = load_production_credentials(chain, key, anchors)
    assert not prod.development and prod.alg == "es256"
    signed = tmp_path / "prod.mp4"
    sign_video(clip_mp4, signed, facts(), prod)
    assert read_manifest(signed, prod.trust_anchors_pem).state == "Trusted"
    # Our root does not vouch for the operator's signer.
    assert read_manifest(signed, creds.trust_anchors_pem).state == "Valid"

    dev_dir = tmp_path / "dev"
    create_development_credentials(dev_dir)
    with pytest.raises(CertificateError, match="development"):
        load_production_credentials(
            dev_dir / DEV_CHAIN_FILE, dev_dir / DEV_KEY_FILE, dev_dir / DEV_ROOT_FILE
        )
    other_key = tmp_path / "other.pem"
    other_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(CertificateError, match="does not match"):
        load_production_credentials(chain, other_key, anchors)
    with pytest.raises(CertificateError, match="self-signed"):
        load_production_credentials(anchors, key, anchors)
    with pytest.raises(CertificateError):
        load_production_credentials(tmp_path / "missing.pem", key, anchors)


def test_visible_watermark_moves_and_marks_every_frame() -> None:
    frames = render_clip("meadow", 9, 320, 180, 6.0, fps=12)
    marked = apply_visible_watermark(frames, 12)
    assert marked.shape == frames.shape
    diff = np.abs(marked.astype(np.int16) - frames).sum(axis=3) > 10
    assert diff.any(axis=(1, 2)).all()
    # Where the badge is changes over the clip (it hops between corners).
    centres = [np.argwhere(d).mean(axis=0) for d in diff]
    spread = np.ptp(np.array(centres), axis=0)
    assert spread[0] > 60 and spread[1] > 40
    # It stays a small part of the frame.
    assert diff.mean() < 0.08
    with pytest.raises(InvalidPayload):
        apply_visible_watermark(frames.astype(np.float32), 12)  # type: ignore[arg-type]


def test_an_input_image_is_an_inputto_ingredient_and_a_parent_is_parentof(
    creds: SigningCredentials, clip_mp4: Path, tmp_path: Path
) -> None:
    """Read back with c2pa's own Reader: each ingredient's relationship, its instance id, the
    SHA-256 of the exact input bytes, and the image's thumbnail that the manifest hashes."""
    photo = Image.open(Path(__file__).parents[1] / "data" / "faces" / "kit_harington_2.jpg")
    frame = np.asarray(photo.convert("RGB").resize((192, 114)), dtype=np.uint8)
    png = io.BytesIO()
    Image.fromarray(frame).save(png, format="PNG")
    image = png.getvalue()
    parent = tmp_path / "parent.mp4"
    sign_video(clip_mp4, parent, facts(generation_id="gen-parent"), creds)
    child = tmp_path / "child.mp4"
    sign_video(
        clip_mp4,
        child,
        facts(
            generation_id="gen-child",
            remix_parents=(RemixParent(parent, "the source", "gen-parent"),),
            input_images=(InputImage(image, "Clearframe upload up-1", "up-1"),),
        ),
        creds,
    )
    assert read_manifest(child, creds.trust_anchors_pem).state == "Trusted"
    with open(child, "rb") as fh, c2pa.Reader("video/mp4", fh) as reader:
        data = json.loads(reader.json())
        manifest = data["manifests"][data["active_manifest"]]
        by_relationship = {i["relationship"]: i for i in manifest["ingredients"]}
        assert set(by_relationship) == {"parentOf", "inputTo"}
        source, upload = by_relationship["parentOf"], by_relationship["inputTo"]
        thumbnail = io.BytesIO()
        reader.resource_to_stream(upload["thumbnail"]["identifier"], thumbnail)
    assert (source["title"], source["instance_id"]) == (
        "the source",
        "clearframe:generation:gen-parent",
    )
    assert source["metadata"][SHA256_KEY] == hashlib.sha256(parent.read_bytes()).hexdigest()
    assert (upload["title"], upload["instance_id"], upload["format"]) == (
        "Clearframe upload up-1",
        "clearframe:upload:up-1",
        "image/png",
    )
    assert upload["metadata"][SHA256_KEY] == hashlib.sha256(image).hexdigest()
    # The thumbnail the manifest hashes is of this image, not of another.
    thumb = np.asarray(Image.open(io.BytesIO(thumbnail.getvalue())).convert("RGB"))
    other = render_clip("a harbour at dawn", 8, 192, 114, 0.2, fps=5)[0]
    ours, theirs = frame_similarity(frame, thumb), frame_similarity(other, thumb)
    assert ours > 0.8 and theirs < 0.4, (ours, theirs)
    with pytest.raises(UnsupportedMedia, match="PNG, JPEG or WebP"):
        _ = InputImage(b"GIF89a....", "a gif").mime
