"""Shared set-up for the hash bank tests: a bank filled from a local hash file, and an upload
moderator whose classifiers see nothing (the banks are what these tests are about)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.events import Actor
from core.services import Services
from tests.trust_safety.hash_banks.media import encoded, hash_file, scene
from trust_safety.classifiers.nsfw import NsfwResult
from trust_safety.hash_banks.banks import CreateBank
from trust_safety.hash_banks.exchanges import import_file
from trust_safety.hash_banks.service import create_bank
from trust_safety.hash_banks.signals import bank_signals, hash_image, rgb_of_image_bytes
from trust_safety.uploads.moderation import UploadModerator
from trust_safety.uploads.service import ReceivedUpload, receive_upload

ADMIN = Actor(id="test-admin", role="admin")


class NothingNsfw:
    def classify(self, image_bgr: Any) -> NsfwResult:
        return NsfwResult(0.0, ())


class NoFaces:
    model_versions = {"detector": "none", "embedding": "none-v0", "age": "none"}

    def analyze(self, frame: Any, *, embed: bool = True, estimate_age: bool = True) -> list[Any]:
        return []


def moderator() -> UploadModerator:
    return UploadModerator(NothingNsfw(), NoFaces())


def banked_bank(
    services: Services, tmp: Path, bank_id: str, category: str, seeds: list[int], **bank: Any
) -> Path:
    """A bank holding the PDQ (with crop variants) and MD5 of ``scene(seed)`` for each seed,
    imported from a local hash file through threatexchange's file exchange."""
    create_bank(services, CreateBank(bank_id, bank_id, category, **bank), ADMIN)
    lines: list[tuple[str, str]] = []
    for seed in seeds:
        data = encoded(scene(seed))
        lines += bank_signals([rgb_of_image_bytes(data)])
        lines.append(("md5", hash_image(data).md5))
    path = hash_file(tmp / f"{bank_id}.txt", lines)
    import_file(services, bank_id, path, actor=ADMIN)
    return path


def upload(services: Services, data: bytes, owner: str) -> ReceivedUpload:
    return receive_upload(
        services,
        data=data,
        owner=Actor(id=owner, role="user"),
        declared_type=None,
        moderator=moderator(),
    )
