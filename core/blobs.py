"""Content-addressed blob store.

A blob's address is ``sha256:<hex>`` of its bytes, so the same asset stored twice is stored
once, a reference in an event can be checked against what it points to, and a corrupted file
is detected on read. :class:`LocalBlobStore` keeps blobs in a directory fanned out by the
first two hex digits; an object store adapter only has to implement :class:`BlobStore`.

Shared by every domain that stores or reads media (the generator writes masters, provenance
signed files, output moderation and reverse search read them); which store a deployment
uses is the ``blob_store`` port (contracts/ports.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from core.errors import InternalError, NotFound, ValidationFailed

_ADDRESS = re.compile(r"^sha256:([0-9a-f]{64})$")
_CHUNK = 1 << 20


class BlobNotFound(NotFound):
    """No blob is stored under the requested content address."""

    code = "blob_not_found"


class BlobCorrupted(InternalError):
    """A stored blob's bytes no longer hash to its address."""

    code, title = "blob_corrupted", "Stored file corrupted"


class InvalidBlobAddress(ValidationFailed):
    code = "invalid_blob_address"


def address_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def parse_address(address: str) -> str:
    """Return the hex digest of a valid address, else raise InvalidBlobAddress."""
    match = _ADDRESS.match(address) if isinstance(address, str) else None
    if not match:
        raise InvalidBlobAddress(f"not a blob address (want 'sha256:<64 hex>'): {address!r}")
    return match.group(1)


@runtime_checkable
class BlobStore(Protocol):
    """Where generated assets live. Addresses are ``sha256:<hex>`` of the content."""

    def put_file(self, path: Path) -> str: ...

    def put_bytes(self, data: bytes) -> str: ...

    def open(self, address: str) -> BinaryIO: ...

    def path(self, address: str) -> Path:
        """A local file holding the blob (adapters for remote stores download to a cache)."""
        ...

    def exists(self, address: str) -> bool: ...

    def size(self, address: str) -> int: ...

    def delete(self, address: str) -> bool: ...


class LocalBlobStore:
    """Blobs as read-only files under ``root/ab/abcdef...``; writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _file(self, address: str) -> Path:
        digest = parse_address(address)
        return self.root / digest[:2] / digest

    def _commit(self, tmp: Path, digest: str) -> str:
        target = self.root / digest[:2] / digest
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            tmp.unlink(missing_ok=True)
        else:
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        return f"sha256:{digest}"

    def _tmp(self) -> Path:
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        os.close(fd)
        return Path(name)

    def put_file(self, path: Path) -> str:
        tmp = self._tmp()
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        return self._commit(tmp, digest.hexdigest())

    def put_bytes(self, data: bytes) -> str:
        tmp = self._tmp()
        tmp.write_bytes(data)
        return self._commit(tmp, hashlib.sha256(data).hexdigest())

    def open(self, address: str) -> BinaryIO:
        try:
            return open(self._file(address), "rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(f"no blob {address}") from exc

    def path(self, address: str) -> Path:
        target = self._file(address)
        if not target.exists():
            raise BlobNotFound(f"no blob {address}")
        return target

    def exists(self, address: str) -> bool:
        return self._file(address).exists()

    def size(self, address: str) -> int:
        return self.path(address).stat().st_size

    def verify(self, address: str) -> None:
        """Raise BlobCorrupted when the stored bytes do not hash to ``address``."""
        if address_of_file(self.path(address)) != address:
            raise BlobCorrupted(f"blob {address} does not match its content")

    def copy_to(self, address: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(address), dest)
        return dest

    def delete(self, address: str) -> bool:
        target = self._file(address)
        try:
            os.chmod(target, 0o644)
            target.unlink()
            return True
        except FileNotFoundError:
            return False
