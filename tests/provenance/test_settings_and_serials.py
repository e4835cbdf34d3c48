from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import CertificateError
from provenance.serials import serial_for
from provenance.settings import DEVELOPMENT_WATERMARK_KEY, ProvenanceSettings


def test_serials_are_keyed_and_deterministic() -> None:
    a = serial_for("gen-1", b"key-one-0123456789")
    assert a == serial_for("gen-1", b"key-one-0123456789")
    assert a != serial_for("gen-2", b"key-one-0123456789")
    assert a != serial_for("gen-1", b"key-two-0123456789")
    assert 0 <= a < 2**64


def test_development_makes_a_local_ca_production_refuses_it(tmp_path: Path) -> None:
    settings = ProvenanceSettings()
    creds = settings.credentials(tmp_path, development=True)
    assert creds.development and (tmp_path / "provenance" / "keys" / "dev-signer.key").exists()
    with pytest.raises(CertificateError, match="production needs"):
        settings.credentials(tmp_path, development=False)
    keys = tmp_path / "provenance" / "keys"
    pointed_at_dev = ProvenanceSettings(
        signing_chain=keys / "dev-signer-chain.pem",
        signing_key=keys / "dev-signer.key",
        trust_anchors=keys / "dev-root.pem",
    )
    with pytest.raises(CertificateError, match="development"):
        pointed_at_dev.credentials(tmp_path, development=False)
    with pytest.raises(CertificateError, match="or none"):
        ProvenanceSettings(signing_chain=keys / "dev-signer-chain.pem").credentials(
            tmp_path, development=True
        )


def test_production_refuses_the_development_watermark_key() -> None:
    assert (
        ProvenanceSettings().checked_watermark_key(development=True)
        == DEVELOPMENT_WATERMARK_KEY.encode()
    )
    with pytest.raises(CertificateError, match="WATERMARK_KEY"):
        ProvenanceSettings().checked_watermark_key(development=False)
    secret = "a-real-secret-of-sufficient-length"
    assert (
        ProvenanceSettings(watermark_key=secret).checked_watermark_key(development=False)
        == secret.encode()
    )
