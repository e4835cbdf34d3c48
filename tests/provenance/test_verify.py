from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.video import decode_frames, encode_mp4
from generator.public import render_clip
from provenance.c2pa_manifest import ManifestFacts, sign_video
from provenance.errors import UnsupportedMedia
from provenance.pki import SigningCredentials, create_development_credentials
from provenance.verify import verify_file
from provenance.watermark import InvisibleWatermark

KEY = b"verify-test-key-0123456789abcdef"
SERIAL = 0x00FF_00FF_1234_ABCD


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningCredentials, Path, Path]:
    root = tmp_path_factory.mktemp("verify")
    creds = create_development_credentials(root / "keys")
    wm = InvisibleWatermark(KEY)
    frames = wm.embed(render_clip("river", 8, 256, 144, 2.0, fps=12), SERIAL)
    plain = encode_mp4(frames, 12, root / "plain.mp4")
    signed = root / "signed.mp4"
    facts = ManifestFacts("gen-9", "river", "clearframe", "0.1.0", "procedural", SERIAL, False)
    sign_video(plain, signed, facts, creds)
    return creds, plain, signed


def resolver(serial: int) -> str | None:
    return "gen-9" if serial == SERIAL else None


def test_signed_file_is_ours(setup: tuple[SigningCredentials, Path, Path]) -> None:
    creds, _, signed = setup
    report = verify_file(
        signed,
        trust_anchors_pem=creds.trust_anchors_pem,
        watermark=InvisibleWatermark(KEY),
        resolve_serial=resolver,
    )
    assert report.conclusion == "signed_by_us"
    assert report.generation_id == "gen-9"
    assert report.watermark.serial == f"{SERIAL:016x}"
    assert report.watermark.generation_id == "gen-9"
    assert report.consistent


def test_reuploaded_copy_is_found_by_watermark(
    setup: tuple[SigningCredentials, Path, Path], tmp_path: Path
) -> None:
    creds, _, signed = setup
    frames, fps = decode_frames(signed)
    small = np.stack([cv2.resize(f, (128, 72), interpolation=cv2.INTER_AREA) for f in frames])
    reupload = encode_mp4(small, fps, tmp_path / "reupload.mp4", bitrate=100_000)
    report = verify_file(
        reupload,
        trust_anchors_pem=creds.trust_anchors_pem,
        watermark=InvisibleWatermark(KEY),
        resolve_serial=resolver,
    )
    assert report.c2pa.state == "none"
    assert report.conclusion == "watermarked_by_us"
    assert report.generation_id == "gen-9"


def test_tampered_unknown_and_fingerprint_only(
    setup: tuple[SigningCredentials, Path, Path], tmp_path: Path
) -> None:
    creds, _, signed = setup
    data = bytearray(signed.read_bytes())
    data[len(data) // 3] ^= 0x55
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    report = verify_file(
        tampered, trust_anchors_pem=creds.trust_anchors_pem, watermark=InvisibleWatermark(KEY)
    )
    assert report.conclusion == "tampered"
    assert "assertion.bmffHash.mismatch" in report.c2pa.status_codes

    stranger = encode_mp4(render_clip("other", 1, 128, 72, 1.0, fps=12), 12, tmp_path / "x.mp4")
    nothing = verify_file(
        stranger, trust_anchors_pem=creds.trust_anchors_pem, watermark=InvisibleWatermark(KEY)
    )
    assert nothing.conclusion == "no_evidence" and nothing.generation_id is None
    matched = verify_file(
        stranger,
        trust_anchors_pem=creds.trust_anchors_pem,
        watermark=InvisibleWatermark(KEY),
        fingerprint_search=lambda p: [{"generation_id": "gen-5", "score": 0.9}],
    )
    assert matched.conclusion == "fingerprint_match" and matched.generation_id == "gen-5"

    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 100)
    broken = verify_file(junk, trust_anchors_pem=None, watermark=InvisibleWatermark(KEY))
    assert broken.watermark.error is not None
    with pytest.raises(UnsupportedMedia):
        verify_file(tmp_path, trust_anchors_pem=None, watermark=InvisibleWatermark(KEY))


def test_an_undecodable_file_is_unreadable_not_tampered(
    setup: tuple[SigningCredentials, Path, Path], tmp_path: Path
) -> None:
    """Junk, a header on garbage and a truncated copy of a signed file cannot be decoded:
    each is ``unreadable``, even where a manifest in it still parses and fails its hashes."""
    creds, _, signed = setup
    data = signed.read_bytes()
    files = {
        "zeros.mp4": b"\x00" * 100,
        "header.mp4": data[:32] + bytes(range(256)) * 20,
        "truncated.mp4": data[: len(data) // 2],
    }
    reports = {}
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        reports[name] = verify_file(
            path, trust_anchors_pem=creds.trust_anchors_pem, watermark=InvisibleWatermark(KEY)
        )
    assert {n: r.conclusion for n, r in reports.items()} == dict.fromkeys(files, "unreadable")
    assert all(r.generation_id is None for r in reports.values())
    # The truncated copy still carries our manifest; the report says so without calling it
    # tampering.
    truncated = reports["truncated.mp4"]
    assert truncated.c2pa.state == "Invalid"
    assert any("naming generation gen-9" in note for note in truncated.notes), truncated.notes
    # A decodable file whose bytes were changed after signing is still tampered.
    flipped = bytearray(data)
    flipped[len(flipped) // 3] ^= 0x55
    (tmp_path / "flipped.mp4").write_bytes(bytes(flipped))
    report = verify_file(
        tmp_path / "flipped.mp4",
        trust_anchors_pem=creds.trust_anchors_pem,
        watermark=InvisibleWatermark(KEY),
    )
    assert report.conclusion == "tampered"
