"""Generator settings, read from ``CLEARFRAME_GENERATOR_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings


class GeneratorSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_GENERATOR_", extra="ignore")

    backend: Literal["procedural", "diffusers"] = "procedural"
    weights_dir: Path | None = None  # diffusers: a directory saved with save_pretrained
    # diffusers: an image-to-video pipeline's directory, for image_to_video and extend
    image_weights_dir: Path | None = None
    device: str = "cuda"
    dtype: Literal["float16", "bfloat16", "float32"] = "float16"
    inference_steps: int = Field(default=30, ge=1, le=500)
    guidance_scale: float = Field(default=7.5, ge=0.0, le=50.0)
    # Defaults for requests that leave them out, and the limits for those that do not.
    default_width: int = Field(default=480, ge=16, le=4096)
    default_height: int = Field(default=272, ge=16, le=4096)
    default_duration_s: float = Field(default=4.0, gt=0, le=300)
    default_fps: int = Field(default=24, ge=1, le=120)
    max_duration_s: float = Field(default=20.0, gt=0, le=300)
    max_pixels: int = Field(default=1920 * 1080, ge=256)
    crf: int = Field(default=20, ge=0, le=51)
    blob_root: Path | None = None  # empty: <data_dir>/blobs
    # Transient backend failures (GPU OOM, a driver hiccup) retried inside one attempt; the
    # worker runtime then retries the whole job and dead-letters it after its own attempts.
    backend_retries: int = Field(default=3, ge=1, le=10)
    backend_retry_wait_s: float = Field(default=0.5, ge=0, le=60)

    @model_validator(mode="after")
    def _diffusers_needs_weights(self) -> GeneratorSettings:
        if self.backend == "diffusers" and self.weights_dir is None:
            raise ValueError(
                "CLEARFRAME_GENERATOR_WEIGHTS_DIR is required with the diffusers backend"
            )
        if self.default_width % 2 or self.default_height % 2:
            raise ValueError("default width and height must be even (H.264 yuv420p)")
        return self

    def blob_directory(self, data_dir: Path) -> Path:
        return self.blob_root or data_dir / "blobs"
