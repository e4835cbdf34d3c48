"""What other domains may import from the generator (see core/READY.md: only public.py
crosses domain boundaries). What they need at run time comes through ports instead: the
generator provides the ``blob_store`` port (``generator/module.py``)."""

from __future__ import annotations

from core.blobs import LocalBlobStore
from core.services import Services
from generator.backends.procedural import render_clip
from generator.settings import GeneratorSettings

__all__ = ["blob_store", "render_clip"]


def blob_store(services: Services) -> LocalBlobStore:
    """The ``blob_store`` port as the generator provides it: a local directory
    (``CLEARFRAME_GENERATOR_BLOB_ROOT``, default ``<data_dir>/blobs``)."""
    section = services.settings.section(GeneratorSettings)
    return LocalBlobStore(section.blob_directory(services.settings.data_dir))
