"""What other domains may import from provenance (see core/READY.md)."""

from __future__ import annotations

from typing import Any

from provenance.serials import serial_for
from provenance.settings import ProvenanceSettings
from provenance.watermark import InvisibleWatermark


def settings(services: Any) -> ProvenanceSettings:
    return services.extra("provenance.settings", ProvenanceSettings)  # type: ignore[no-any-return]


def watermarker(services: Any) -> InvisibleWatermark:
    """The deployment's invisible-watermark embedder/detector (refuses the dev key in production)."""

    def build() -> InvisibleWatermark:
        cfg = settings(services)
        key = cfg.checked_watermark_key(development=services.settings.is_development)
        return InvisibleWatermark(key, strength=cfg.watermark_strength)

    return services.extra("provenance.watermarker", build)  # type: ignore[no-any-return]


def serial_for_generation(services: Any, generation_id: str) -> int:
    cfg = settings(services)
    return serial_for(
        generation_id, cfg.checked_watermark_key(development=services.settings.is_development)
    )


def generation_for_serial(services: Any, serial: int) -> str | None:
    """The generation a detected watermark serial belongs to, if it was signed here."""
    from sqlalchemy import select

    from provenance.models import ProvAsset

    with services.sessions() as s:
        return s.scalar(select(ProvAsset.generation_id).where(ProvAsset.serial == f"{serial:016x}"))
