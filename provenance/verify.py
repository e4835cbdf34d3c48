"""One provenance report for a suspect file: C2PA state, invisible watermark, fingerprints.

The three signals fail differently: C2PA is cryptographic but stripped by any re-upload; the
watermark survives re-encoding, scaling and cropping but says only a serial; fingerprint
matches (reverse search) survive almost anything but are similarity, not proof. The report
keeps them apart and states a conclusion with the evidence behind it.

A file whose video cannot be decoded (not a video, truncated, corrupted) is ``unreadable``,
never ``tampered``: no frame can be checked, so nothing tells damage from tampering. That
holds even when a C2PA manifest in it still parses and fails its hash checks (a truncated
copy of a signed file does); the notes say what the manifest claims. Only a manifest that
validates (the file is byte for byte what was signed) outranks an undecodable video. The
HTTP API answers an unreadable file with 422 ``provenance.unreadable_media``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.media import MediaLimitExceeded, check_media_file
from provenance.c2pa_manifest import C2paReport, read_manifest
from provenance.errors import UnsupportedMedia
from provenance.watermark import InvisibleWatermark, WatermarkDetection

Conclusion = Literal[
    "unreadable",  # the video cannot be decoded and no manifest validates
    "signed_by_us",  # C2PA Trusted
    "signed_untrusted",  # C2PA Valid but not chained to our anchors
    "tampered",  # C2PA present and Invalid
    "watermarked_by_us",  # no (valid) manifest, our watermark found
    "fingerprint_match",  # only reverse search matched
    "no_evidence",
]

SerialResolver = Callable[[int], str | None]
FingerprintSearch = Callable[[Path], Sequence[dict[str, Any]]]


@dataclass(frozen=True)
class WatermarkFinding:
    serial: str | None  # 16 hex digits
    generation_id: str | None  # resolved through the serial registry
    pilot_score: float
    flipped: bool
    crop: tuple[float, float, float, float]
    error: str | None = None


@dataclass(frozen=True)
class ProvenanceReport:
    sha256: str
    size_bytes: int
    conclusion: Conclusion
    generation_id: str | None
    c2pa: C2paReport
    watermark: WatermarkFinding
    fingerprint_matches: tuple[dict[str, Any], ...] = ()
    consistent: bool = True  # False when the signals name different generations
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def decode_error(path: Path) -> str | None:
    """Why the video in ``path`` cannot be decoded (its first frame), or None when it can."""
    import av

    from core.media import video_open_options

    try:
        with av.open(str(path), options=video_open_options()) as container:
            if not container.streams.video:
                return "the file has no video stream"
            for _ in container.decode(container.streams.video[0]):
                return None
    except (av.FFmpegError, OSError, ValueError) as exc:
        # strerror rather than the exception's text, which names the (temporary) file
        return f"the video cannot be decoded: {getattr(exc, 'strerror', None) or exc}"
    return "the file contains no decodable video frame"


def verify_file(
    path: Path,
    *,
    trust_anchors_pem: bytes | None,
    watermark: InvisibleWatermark,
    resolve_serial: SerialResolver | None = None,
    fingerprint_search: FingerprintSearch | None = None,
) -> ProvenanceReport:
    if not path.is_file():
        raise UnsupportedMedia(f"{path} is not a file")
    # A decompression bomb is refused (MediaLimitExceeded, 422) before any reader decodes it.
    check_media_file(path)
    sha, size = _sha256(path)
    c2pa_report = read_manifest(path, trust_anchors_pem)
    notes: list[str] = []
    try:
        found: WatermarkDetection | None = watermark.detect_file(path)
        wm_error = None
    except MediaLimitExceeded:
        raise
    except Exception as exc:  # noqa: BLE001 - a file we cannot decode still gets a report
        found, wm_error = None, f"{type(exc).__name__}: {exc}"
        notes.append("the video could not be decoded for watermark detection")
    serial = found.serial if found else None
    wm_generation = resolve_serial(serial) if (serial is not None and resolve_serial) else None
    finding = WatermarkFinding(
        serial=None if serial is None else f"{serial:016x}",
        generation_id=wm_generation,
        pilot_score=round(found.pilot_score, 4) if found else 0.0,
        flipped=found.flipped if found else False,
        crop=tuple(round(c, 4) for c in found.crop) if found else (0.0, 0.0, 0.0, 0.0),  # type: ignore[arg-type]
        error=wm_error,
    )
    matches = tuple(fingerprint_search(path)) if fingerprint_search else ()

    candidates = {
        g
        for g in (
            c2pa_report.generation_id if c2pa_report.state in ("Trusted", "Valid") else None,
            wm_generation,
        )
        if g
    }
    consistent = len(candidates) <= 1
    if (
        c2pa_report.state in ("Trusted", "Valid")
        and serial is not None
        and c2pa_report.watermark_serial is not None
        and c2pa_report.watermark_serial != serial
    ):
        consistent = False
    if not consistent:
        notes.append("the manifest and the watermark name different generations")

    conclusion: Conclusion
    generation_id: str | None
    undecodable = None if c2pa_report.state in ("Trusted", "Valid") else decode_error(path)
    if undecodable is not None:
        conclusion, generation_id = "unreadable", None
        notes.append(undecodable)
        if c2pa_report.state == "Invalid":
            named = c2pa_report.generation_id
            claimed = f" naming generation {named}" if named else ""
            notes.append(
                f"a C2PA manifest{claimed} is present but does not validate "
                f"({', '.join(c2pa_report.status_codes)}); a damaged file and a tampered one "
                "cannot be told apart without decodable frames"
            )
    elif c2pa_report.state == "Trusted":
        conclusion, generation_id = "signed_by_us", c2pa_report.generation_id
    elif c2pa_report.state == "Invalid":
        conclusion, generation_id = "tampered", wm_generation
        notes.append(
            "a C2PA manifest is present but does not validate: "
            + ", ".join(c2pa_report.status_codes)
        )
    elif c2pa_report.state == "Valid":
        conclusion, generation_id = "signed_untrusted", wm_generation
        notes.append("the manifest validates but is not signed by a trusted certificate")
    elif serial is not None:
        conclusion, generation_id = "watermarked_by_us", wm_generation
        if wm_generation is None:
            notes.append("the watermark serial is not in this deployment's registry")
    elif matches:
        conclusion = "fingerprint_match"
        generation_id = (
            str(matches[0].get("generation_id")) if matches[0].get("generation_id") else None
        )
    else:
        conclusion, generation_id = "no_evidence", None
    return ProvenanceReport(
        sha256=sha,
        size_bytes=size,
        conclusion=conclusion,
        generation_id=generation_id,
        c2pa=c2pa_report,
        watermark=finding,
        fingerprint_matches=matches,
        consistent=consistent,
        notes=tuple(notes),
    )
