"""Typed errors of the provenance package, each with a stable machine code."""

from __future__ import annotations

from core.errors import InternalError, ValidationFailed
from core.errors import UnsupportedMedia as _UnsupportedMedia


class ProvenanceError(InternalError):
    """Base of every error the provenance package raises on purpose."""

    code = "provenance.error"
    title = "Provenance failed"


class InvalidPayload(ValidationFailed, ProvenanceError, ValueError):
    """A watermark payload is out of range or frames cannot carry one."""

    code = "provenance.invalid_payload"


class SigningError(ProvenanceError):
    """A C2PA manifest could not be built or signed."""

    code = "provenance.signing_failed"
    title = "Signing failed"


class CertificateError(ProvenanceError):
    """The signing certificate chain or key is missing, malformed or not allowed here."""

    code = "provenance.certificate_invalid"
    title = "Signing credentials invalid"


class UnsupportedMedia(_UnsupportedMedia, ProvenanceError, ValueError):
    """The file is not a media type provenance can sign or verify."""

    code = "provenance.unsupported_media"


class UnreadableMedia(ValidationFailed, ProvenanceError):
    """The file's video cannot be decoded, so it cannot be verified (conclusion
    ``unreadable``): neither evidence of ours nor of tampering."""

    code = "provenance.unreadable_media"
    title = "Unreadable media"
