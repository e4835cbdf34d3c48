from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from core.blobs import (
    BlobCorrupted,
    BlobNotFound,
    BlobStore,
    InvalidBlobAddress,
    LocalBlobStore,
    address_of_file,
)


def test_put_get_is_content_addressed(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    assert isinstance(store, BlobStore)
    data = b"some video bytes" * 1000
    address = store.put_bytes(data)
    assert address == "sha256:" + hashlib.sha256(data).hexdigest()
    with store.open(address) as fh:
        assert fh.read() == data
    assert store.size(address) == len(data)
    src = tmp_path / "a.bin"
    src.write_bytes(data)
    assert store.put_file(src) == address  # stored once
    assert address_of_file(store.path(address)) == address
    assert not list((tmp_path / "blobs").glob(".incoming-*"))


def test_missing_and_malformed_addresses(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    missing = "sha256:" + "0" * 64
    assert not store.exists(missing)
    with pytest.raises(BlobNotFound):
        store.open(missing)
    with pytest.raises(BlobNotFound):
        store.path(missing)
    for bad in ("md5:abc", "sha256:XYZ", "sha256:" + "a" * 63, "../../etc/passwd"):
        with pytest.raises(InvalidBlobAddress):
            store.exists(bad)


def test_corruption_is_detected_and_delete_works(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    address = store.put_bytes(b"original")
    store.verify(address)
    target = store.path(address)
    os.chmod(target, 0o644)
    target.write_bytes(b"tampered")
    with pytest.raises(BlobCorrupted):
        store.verify(address)
    assert store.delete(address)
    assert not store.delete(address)
