"""Verification as the API and the CLI run it: one report, one ``ProvenanceChecked`` event."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

from contracts.ports import FINGERPRINT_SEARCH
from core.events import Actor, stream_id
from core.services import Services
from provenance.events import ProvenanceChecked
from provenance.public import generation_for_serial, watermarker
from provenance.signing import credentials
from provenance.verify import ProvenanceReport, verify_file


def check_file(
    services: Services, path: Path, *, actor: Actor, channel: str, include_fingerprints: bool
) -> tuple[str, ProvenanceReport]:
    """Verify ``path``, record the check as an audit event, and return (check id, report)."""
    search = services.port(FINGERPRINT_SEARCH).find_matches if include_fingerprints else None
    report = verify_file(
        path,
        trust_anchors_pem=credentials(services).trust_anchors_pem,
        watermark=watermarker(services),
        resolve_serial=lambda serial: generation_for_serial(services, serial),
        fingerprint_search=search,
    )
    if not include_fingerprints:
        report = replace(report, fingerprint_matches=())
    check_id = str(uuid.uuid4())
    services.store.append(
        stream_id("audit", f"provcheck-{check_id}"),
        [
            ProvenanceChecked(
                check_id=check_id,
                channel=channel,  # type: ignore[arg-type]
                sha256=report.sha256,
                size_bytes=report.size_bytes,
                conclusion=report.conclusion,
                generation_id=report.generation_id,
                c2pa_state=report.c2pa.state,
                c2pa_status_codes=list(report.c2pa.status_codes),
                c2pa_generation_id=report.c2pa.generation_id,
                watermark_serial=report.watermark.serial,
                watermark_generation_id=report.watermark.generation_id,
                fingerprint_matches=[
                    {k: m.get(k) for k in ("generation_id", "asset_id", "score") if k in m}
                    for m in report.fingerprint_matches
                ],
                consistent=report.consistent,
            )
        ],
        expected_version=0,
        actor=actor,
    )
    return check_id, report
