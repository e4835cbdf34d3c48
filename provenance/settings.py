"""Provenance settings, read from ``CLEARFRAME_PROVENANCE_*`` environment variables.

Light to import (cryptography and the PKI helpers load inside the methods that need them):
every process reads and checks this section at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from core.settings import SECRET_HINT, DomainSettings, Settings, secret_weakness
from provenance.errors import CertificateError

if TYPE_CHECKING:
    from provenance.pki import SigningCredentials

DEVELOPMENT_WATERMARK_KEY = "development-watermark-key-not-for-production"
_PREFIX = "CLEARFRAME_PROVENANCE_"
CHAIN_VAR, KEY_VAR, ANCHORS_VAR = (
    f"{_PREFIX}SIGNING_CHAIN",
    f"{_PREFIX}SIGNING_KEY",
    f"{_PREFIX}TRUST_ANCHORS",
)


class ProvenanceSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix=_PREFIX, extra="ignore")

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
        from provenance.pki import create_development_credentials, load_production_credentials

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
        return create_development_credentials(development_keys_dir(data_dir))

    def checked_watermark_key(self, *, development: bool) -> bytes:
        if not development and self.watermark_key == DEVELOPMENT_WATERMARK_KEY:
            raise CertificateError(
                "CLEARFRAME_PROVENANCE_WATERMARK_KEY must be set to a secret in production"
            )
        return self.watermark_key.encode("utf-8")

    def production_problems(self, settings: Settings) -> list[str]:
        problems = []
        weak = secret_weakness(self.watermark_key, known=(DEVELOPMENT_WATERMARK_KEY,))
        if weak:
            problems.append(f"{_PREFIX}WATERMARK_KEY {weak}; set a random secret, {SECRET_HINT}")
        return problems + _credential_problems(
            self.signing_chain,
            self.signing_key,
            self.trust_anchors,
            development_keys_dir(settings.data_dir),
        )


def development_keys_dir(data_dir: Path) -> Path:
    return data_dir / "provenance" / "keys"


def _credential_problems(
    chain: Path | None, key: Path | None, anchors: Path | None, dev_dir: Path
) -> list[str]:
    """Everything production refuses in the operator's C2PA credentials, each variable named."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from provenance.pki import DEV_CHAIN_FILE, is_development, validate_signing_certificate

    def spki(public_key: object) -> bytes:
        return public_key.public_bytes(  # type: ignore[attr-defined, no-any-return]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def certificates(var: str, path: Path) -> list[x509.Certificate] | None:
        try:
            certs = x509.load_pem_x509_certificates(path.read_bytes())
        except OSError as exc:
            problems.append(f"{var}: cannot read {path} ({exc.strerror or exc})")
            return None
        except ValueError:
            problems.append(f"{var}: {path} is not a PEM certificate file")
            return None
        return certs

    problems: list[str] = []
    unset = [
        var
        for var, value in ((CHAIN_VAR, chain), (KEY_VAR, key), (ANCHORS_VAR, anchors))
        if value is None
    ]
    if unset:
        names = ", ".join(unset[:-1]) + " and " + unset[-1] if len(unset) > 1 else unset[0]
        problems.append(
            f"{names} {'are' if len(unset) > 1 else 'is'} not set: production signs with the "
            "operator's C2PA chain, key and trust anchors, never with the development CA"
        )
    leaf = None
    if chain is not None and (certs := certificates(CHAIN_VAR, chain)) is not None:
        if not certs:
            problems.append(f"{CHAIN_VAR}: {chain} holds no certificate")
        elif any(is_development(c) for c in certs):
            problems.append(f"{CHAIN_VAR} holds the development signing certificate")
        else:
            leaf = certs[0]
            try:
                validate_signing_certificate(leaf)
            except CertificateError as exc:
                problems.append(f"{CHAIN_VAR}: {exc.message}")
    if anchors is not None and (roots := certificates(ANCHORS_VAR, anchors)) is not None:
        if not roots:
            problems.append(f"{ANCHORS_VAR}: {anchors} holds no certificate")
        elif any(is_development(c) for c in roots):
            problems.append(f"{ANCHORS_VAR} holds the development root")
    if key is not None:
        try:
            key_pem = key.read_bytes()
        except OSError as exc:
            problems.append(f"{KEY_VAR}: cannot read {key} ({exc.strerror or exc})")
            return problems
        if b"BEGIN PRIVATE KEY" not in key_pem:
            problems.append(f"{KEY_VAR} must be an unencrypted PKCS#8 PEM ('BEGIN PRIVATE KEY')")
            return problems
        try:
            public = spki(serialization.load_pem_private_key(key_pem, password=None).public_key())
        except (ValueError, TypeError):
            problems.append(f"{KEY_VAR}: {key} is not a readable private key")
            return problems
        dev_chain = dev_dir / DEV_CHAIN_FILE
        if dev_chain.is_file() and any(
            spki(c.public_key()) == public
            for c in x509.load_pem_x509_certificates(dev_chain.read_bytes())
        ):
            problems.append(f"{KEY_VAR} is the development signing key")
        elif leaf is not None and spki(leaf.public_key()) != public:
            problems.append(f"{KEY_VAR} does not match the leaf certificate of {CHAIN_VAR}")
    return problems
