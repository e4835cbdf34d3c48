"""Watermark serials: 64 bits derived from the generation id with a keyed hash.

Deriving (rather than counting) means a retried generation embeds the same serial and no
counter has to be shared between generator workers; the key keeps serials unpredictable, so
nobody can mint a valid-looking serial for a generation they did not make. Collisions are a
birthday bound over 2**64 (about one in 10**8 at 600 million generations); the registry
(``prov_assets``) is what maps a detected serial back to its generation.
"""

from __future__ import annotations

import hashlib
import hmac


def serial_for(generation_id: str, key: bytes) -> int:
    mac = hmac.new(key, b"clearframe.serial.v1\x00" + generation_id.encode("utf-8"), hashlib.sha256)
    return int.from_bytes(mac.digest()[:8], "big")


def serial_hex(serial: int) -> str:
    return f"{serial:016x}"
