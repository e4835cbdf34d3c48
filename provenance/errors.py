"""Typed errors of the provenance package, each with a stable machine code."""

from __future__ import annotations


class ProvenanceError(Exception):
    """Base of every error the provenance package raises on purpose."""

    code: str = "provenance.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidPayload(ProvenanceError, ValueError):
    """A watermark payload is out of range or frames cannot carry one."""

    code = "provenance.invalid_payload"


class SigningError(ProvenanceError):
    """A C2PA manifest could not be built or signed."""

    code = "provenance.signing_failed"


class CertificateError(ProvenanceError):
    """The signing certificate chain or key is missing, malformed or not allowed here."""

    code = "provenance.certificate_invalid"


class UnsupportedMedia(ProvenanceError, ValueError):
    """The file is not a media type provenance can sign or verify."""

    code = "provenance.unsupported_media"
