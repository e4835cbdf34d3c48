"""What provenance provides to other domains: the ``watermarker`` port (contracts/ports.py)."""

from __future__ import annotations

from numpy import uint8
from numpy.typing import NDArray

from core.ports import Resource
from core.services import Services
from provenance.serials import serial_for
from provenance.settings import ProvenanceSettings
from provenance.watermark import EmbedResult, InvisibleWatermark


def settings(services: Services) -> ProvenanceSettings:
    return services.settings.section(ProvenanceSettings)


def _build_watermark(services: Services) -> InvisibleWatermark:
    cfg = settings(services)
    key = cfg.checked_watermark_key(development=services.settings.is_development)
    return InvisibleWatermark(key, strength=cfg.watermark_strength)


# The deployment's invisible-watermark embedder/detector (refuses the dev key in production).
WATERMARK = Resource[InvisibleWatermark]("provenance.watermark", _build_watermark)


def watermarker(services: Services) -> InvisibleWatermark:
    return services.resource(WATERMARK)


class GenerationWatermarker:
    """The ``watermarker`` port: a generation's serial, embedded in its frames."""

    def __init__(self, services: Services) -> None:
        cfg = settings(services)
        self._key = cfg.checked_watermark_key(development=services.settings.is_development)
        self._mark = watermarker(services)

    def serial_for(self, generation_id: str) -> int:
        return serial_for(generation_id, self._key)

    def embed_verified(self, frames: NDArray[uint8], serial: int) -> EmbedResult:
        return self._mark.embed_verified(frames, serial)


def generation_for_serial(services: Services, serial: int) -> str | None:
    """The generation a detected watermark serial belongs to, if it was signed here."""
    from sqlalchemy import select

    from provenance.models import ProvAsset

    with services.sessions() as s:
        return s.scalar(select(ProvAsset.generation_id).where(ProvAsset.serial == f"{serial:016x}"))
