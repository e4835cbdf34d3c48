"""What other domains may import from the generator (see core/READY.md: only public.py
crosses domain boundaries)."""

from __future__ import annotations

from generator.backends.procedural import render_clip
from generator.blobs import BlobStore, LocalBlobStore
from generator.encoding import decode_frames, encode_mp4, probe_fps

__all__ = [
    "BlobStore",
    "LocalBlobStore",
    "blob_store_for",
    "decode_frames",
    "encode_mp4",
    "probe_fps",
    "render_clip",
]


def blob_store_for(services: object) -> LocalBlobStore:
    """The deployment's blob store (where generated and signed videos live)."""
    from generator.settings import GeneratorSettings

    def build() -> LocalBlobStore:
        return LocalBlobStore(GeneratorSettings().blob_directory(services.settings.data_dir))  # type: ignore[attr-defined]

    return services.extra("generator.blobs", build)  # type: ignore[attr-defined, no-any-return]
