"""Signing credentials for C2PA: a development CA made on first use, or the operator's chain.

c2pa only accepts a signing certificate issued by a CA (not self-signed) with
``basicConstraints=critical,CA:FALSE``, ``keyUsage=critical,digitalSignature``,
``extendedKeyUsage=emailProtection``, an authority key identifier, and a PKCS#8 key.

Development mode writes ``dev-root.pem``, ``dev-signer-chain.pem`` and ``dev-signer.key``
under the data directory and marks both certificates with an organisation name that
production refuses: a deployment can never sign real assets with a key that sits in a
laptop's data directory.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.errors import CertificateError

DEV_ORGANISATION = "Clearframe Development (NOT FOR PRODUCTION)"
DEV_ROOT_FILE = "dev-root.pem"
DEV_CHAIN_FILE = "dev-signer-chain.pem"
DEV_KEY_FILE = "dev-signer.key"
SIGNING_ALG = "es256"


@dataclass(frozen=True)
class SigningCredentials:
    """PEM chain (leaf first), PKCS#8 PEM key, and the trust anchors verifiers should use."""

    chain_pem: bytes
    key_pem: bytes
    trust_anchors_pem: bytes
    alg: str = SIGNING_ALG
    development: bool = False

    @property
    def leaf(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.chain_pem)[0]


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def create_development_credentials(
    directory: Path, *, valid_days: int = 3650
) -> SigningCredentials:
    """Create (or load, if present) the development root CA and signing certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    root_path, chain_path, key_path = (
        directory / DEV_ROOT_FILE,
        directory / DEV_CHAIN_FILE,
        directory / DEV_KEY_FILE,
    )
    if root_path.exists() and chain_path.exists() and key_path.exists():
        return SigningCredentials(
            chain_pem=chain_path.read_bytes(),
            key_pem=key_path.read_bytes(),
            trust_anchors_pem=root_path.read_bytes(),
            development=True,
        )
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=valid_days)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Clearframe Dev Root CA"))
        .issuer_name(_name("Clearframe Dev Root CA"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Clearframe Dev Content Signer"))
        .issuer_name(root.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    root_pem = root.public_bytes(serialization.Encoding.PEM)
    chain_pem = leaf.public_bytes(serialization.Encoding.PEM) + root_pem
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(key_path, key_pem)
    chain_path.write_bytes(chain_pem)
    root_path.write_bytes(root_pem)
    return SigningCredentials(chain_pem, key_pem, root_pem, development=True)


def is_development(cert: x509.Certificate) -> bool:
    """A certificate made by :func:`create_development_credentials` (production refuses it)."""
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    orgs += cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(a.value == DEV_ORGANISATION for a in orgs)


def validate_signing_certificate(cert: x509.Certificate) -> None:
    """Raise CertificateError unless ``cert`` has the profile c2pa requires of a signer."""
    problems: list[str] = []
    if cert.issuer == cert.subject:
        problems.append("is self-signed (it must be issued by a CA)")
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        if bc.value.ca or not bc.critical:
            problems.append("needs critical basicConstraints CA:FALSE")
    except x509.ExtensionNotFound:
        problems.append("lacks basicConstraints")
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        if not ku.value.digital_signature or not ku.critical:
            problems.append("needs critical keyUsage digitalSignature")
    except x509.ExtensionNotFound:
        problems.append("lacks keyUsage")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        if ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku.value:
            problems.append("needs extendedKeyUsage emailProtection")
    except x509.ExtensionNotFound:
        problems.append("lacks extendedKeyUsage")
    try:
        cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        problems.append("lacks an authority key identifier")
    if cert.not_valid_after_utc < dt.datetime.now(dt.UTC):
        problems.append("has expired")
    if problems:
        raise CertificateError("signing certificate " + "; ".join(problems))


def load_production_credentials(
    chain_path: Path, key_path: Path, trust_anchors_path: Path
) -> SigningCredentials:
    """Load the operator's chain and key; refuse development credentials and bad profiles."""
    try:
        chain_pem = chain_path.read_bytes()
        key_pem = key_path.read_bytes()
        anchors_pem = trust_anchors_path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read signing credentials: {exc}") from exc
    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
        anchors = x509.load_pem_x509_certificates(anchors_pem)
    except ValueError as exc:
        raise CertificateError(f"malformed PEM certificate: {exc}") from exc
    if not certs:
        raise CertificateError(f"{chain_path} holds no certificate")
    if any(is_development(c) for c in certs + anchors):
        raise CertificateError(
            "production refuses the development signing certificate or root; "
            "configure the operator's chain, key and trust anchors"
        )
    validate_signing_certificate(certs[0])
    if b"BEGIN PRIVATE KEY" not in key_pem:
        raise CertificateError(
            "the signing key must be an unencrypted PKCS#8 PEM ('BEGIN PRIVATE KEY')"
        )
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"cannot load the signing key: {exc}") from exc
    leaf_public = (
        certs[0]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    key_public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if leaf_public != key_public:
        raise CertificateError("the signing key does not match the leaf certificate")
    alg = _alg_for(key)
    return SigningCredentials(chain_pem, key_pem, anchors_pem, alg=alg, development=False)


def _alg_for(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(
            key.curve.name, "unsupported"
        )
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise CertificateError(f"unsupported signing key type {type(key).__name__}")
