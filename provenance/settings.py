"""Provenance settings, read from ``CLEARFRAME_PROVENANCE_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from provenance.errors import CertificateError
from provenance.pki import (
    SigningCredentials,
    create_development_credentials,
    load_production_credentials,
)

DEVELOPMENT_WATERMARK_KEY = "development-watermark-key-not-for-production"


class ProvenanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_PROVENANCE_", extra="ignore")

    # Secret: who knows it can read and forge serials. Production refuses the default.
    watermark_key: str = Field(default=DEVELOPMENT_WATERMARK_KEY, min_length=16)
    watermark_strength: float = Field(default=4.0, ge=0.5, le=12.0)
    # Operator's C2PA chain (leaf first), PKCS#8 key and trust anchors; empty = development CA.
    signing_chain: Path | None = None
    signing_key: Path | None = None
    trust_anchors: Path | None = None
    visible_label: str = Field(default="AI-generated - Clearframe", min_length=1, max_length=60)
    software_name: str = "clearframe"
    software_version: str = "0.1.0"

    def credentials(self, data_dir: Path, *, development: bool) -> SigningCredentials:
        """Development: a local CA under ``data_dir/provenance/keys``. Production: the
        operator's files, refusing the development ones (and refusing to run without them)."""
        configured = [self.signing_chain, self.signing_key, self.trust_anchors]
        if all(configured):
            return load_production_credentials(*configured)  # type: ignore[arg-type]
        if any(configured):
            raise CertificateError(
                "set all of CLEARFRAME_PROVENANCE_SIGNING_CHAIN, _SIGNING_KEY and _TRUST_ANCHORS, or none"
            )
        if not development:
            raise CertificateError(
                "production needs the operator's C2PA chain, key and trust anchors "
                "(CLEARFRAME_PROVENANCE_SIGNING_CHAIN, _SIGNING_KEY, _TRUST_ANCHORS)"
            )
        return create_development_credentials(data_dir / "provenance" / "keys")

    def checked_watermark_key(self, *, development: bool) -> bytes:
        if not development and self.watermark_key == DEVELOPMENT_WATERMARK_KEY:
            raise CertificateError(
                "CLEARFRAME_PROVENANCE_WATERMARK_KEY must be set to a secret in production"
            )
        return self.watermark_key.encode("utf-8")
