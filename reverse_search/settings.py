"""Settings of the reverse-search domain (``CLEARFRAME_RS_*`` environment variables)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings


class EmbedderKind(StrEnum):
    descriptor = "descriptor"
    clip = "clip"


class ReverseSearchSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_RS_", extra="ignore")

    embedder: EmbedderKind = EmbedderKind.descriptor
    clip_model: str = ""
    clip_checkpoint: Path | None = None
    # Where signed assets are read from: the content-addressed blob store (root/ab/abcd...).
    # Empty: <data_dir>/blobs, the generator's default.
    blob_root: Path | None = None
    # Empty: <data_dir>/reverse_search/index
    index_dir: Path | None = None
    reference_rate_fps: float = Field(default=2.0, gt=0, le=30)
    query_rate_fps: float = Field(default=2.0, gt=0, le=30)
    max_results: int = Field(default=10, ge=1, le=100)
    # Matches scoring below this are not reported (scores are the calibrated fraction of the
    # query explained by the match; distractors stay below about 0.1 in the benchmark).
    min_score: float = Field(default=0.15, ge=0, le=1)
    # Snapshots are throttled; what happened since the last one is reconciled from the
    # database on start, so a crash loses no work, only time.
    snapshot_interval_s: float = Field(default=30.0, ge=0)
    max_upload_bytes: int = Field(default=256 << 20, ge=1024)

    @model_validator(mode="after")
    def _clip_needs_a_checkpoint(self) -> ReverseSearchSettings:
        if self.embedder is EmbedderKind.clip and (not self.clip_model or not self.clip_checkpoint):
            raise ValueError(
                "CLEARFRAME_RS_EMBEDDER=clip needs CLEARFRAME_RS_CLIP_MODEL and "
                "CLEARFRAME_RS_CLIP_CHECKPOINT (a local weights file)"
            )
        return self

    def resolved_blob_root(self, data_dir: Path) -> Path:
        return self.blob_root or data_dir / "blobs"

    def resolved_index_dir(self, data_dir: Path) -> Path:
        return self.index_dir or data_dir / "reverse_search" / "index"
