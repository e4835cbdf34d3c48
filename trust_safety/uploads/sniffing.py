"""Media type from the file's own bytes (magic numbers), never from the client's header.

A client-declared ``Content-Type`` is recorded next to the sniffed type so a mismatch is
visible to reviewers, but only the sniffed type decides how the bytes are parsed.
"""

from __future__ import annotations

from enum import StrEnum

from trust_safety.uploads.errors import UnsupportedMediaType


class MediaType(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    GIF = "image/gif"
    WEBP = "image/webp"
    MP4 = "video/mp4"
    QUICKTIME = "video/quicktime"
    WEBM = "video/webm"

    @property
    def is_video(self) -> bool:
        return self.value.startswith("video/")


# ISO base media brands that are MP4 (or close enough that PyAV's mp4 demuxer reads them).
_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"dash",
        b"M4V ",
        b"mmp4",
        b"MSNV",
    }
)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"})

SNIFF_BYTES = 64


def sniff_media_type(head: bytes) -> MediaType:
    """Identify the container from the first bytes; raises for anything not accepted."""
    if len(head) < 12:
        raise UnsupportedMediaType("the upload is too short to identify")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaType.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.WEBP
    if head[:4] == b"\x1a\x45\xdf\xa3":
        # Matroska and WebM share EBML; only WebM's doctype is accepted.
        if b"webm" in head[:SNIFF_BYTES]:
            return MediaType.WEBM
        raise UnsupportedMediaType("Matroska uploads are not accepted; use WebM or MP4")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return MediaType.QUICKTIME
        if brand in _MP4_BRANDS:
            return MediaType.MP4
        if brand in _HEIF_BRANDS:
            raise UnsupportedMediaType("HEIF/AVIF images are not accepted; use JPEG, PNG or WebP")
        raise UnsupportedMediaType(f"unsupported ISO media brand {brand!r}")
    raise UnsupportedMediaType("the upload is not a JPEG, PNG, GIF, WebP, MP4, MOV or WebM file")
