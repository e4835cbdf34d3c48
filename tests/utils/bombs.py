"""Decompression bombs, made here and tiny: media whose headers promise far more than the bytes.

- ``bomb_png``: a PNG header claiming 100000x100000 (about 100 bytes);
- ``huge_frame_mp4``: a real H.264 clip of 64x64 frames whose sequence header is rewritten to
  claim 16000x16000: the decoder conceals the missing macroblocks and hands out frames of
  256 million pixels (about 1.5 KB on disk);
- ``endless_mp4``: five frames that each claim to last 21.8 hours (the sample durations);
- ``many_frames_mp4``: 40 000 frames of 64x64 (one keyframe and a skipped frame repeated).
"""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _baseline_mp4(path: Path, frames: int = 5, fps: int = 10, black: bool = False) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=Fraction(fps), options={"profile": "baseline", "preset": "ultrafast"}
        )
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(frames):
            rgb = np.full((64, 64, 3), 0 if black else 30 * i, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path


# -- MP4 boxes -----------------------------------------------------------------------------------

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
_FRAME_TICKS = 0x30000000  # at 10240 ticks a second: 21.8 hours a frame


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    out, i = [], 0
    while i < len(data):
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        out.append((kind, data[i + 8 : i + size]))
        i += size
    return out


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _rewrite(data: bytes, edit: dict[bytes, object]) -> bytes:
    """Rebuild the box tree, passing each leaf box named in ``edit`` through its function.
    The moov box follows the media data in files PyAV writes, so no chunk offset moves."""
    out = b""
    for kind, body in _boxes(data):
        if kind in _CONTAINERS:
            body = _rewrite(body, edit)
        elif kind == b"stsd":
            body = body[:8] + _rewrite(body[8:], edit)
        elif kind == b"avc1":
            body = edit[kind](body[:78]) + _rewrite(body[78:], edit) if kind in edit else body  # type: ignore[operator]
        elif kind in edit:
            body = edit[kind](body)  # type: ignore[operator]
        if body is None:
            continue  # the edit drops the box
        out += _box(kind, body)
    return out


# -- H.264 sequence parameter set ------------------------------------------------------------------


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            bit = (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
            value, self.pos = (value << 1) | bit, self.pos + 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)


class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits += [(value >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, value: int) -> None:
        value += 1
        self.u(value.bit_length() - 1, 0)
        self.u(value.bit_length(), value)

    def rbsp(self) -> bytes:
        bits = self.bits + [1]
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def _unescape(data: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in data:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _escape(data: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in data:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _resize_sps(nal: bytes, width: int, height: int) -> bytes:
    """A baseline-profile SPS with the frame size replaced (and no cropping or VUI)."""
    reader, writer = _BitReader(_unescape(nal[1:])), _BitWriter()
    profile = reader.u(8)
    assert profile == 66, "expects a baseline-profile stream"
    writer.u(8, profile)
    writer.u(8, reader.u(8))  # constraint flags
    writer.u(8, reader.u(8))  # level
    writer.ue(reader.ue())  # seq_parameter_set_id
    writer.ue(reader.ue())  # log2_max_frame_num_minus4
    poc_type = reader.ue()
    assert poc_type in (0, 2)
    writer.ue(poc_type)
    if poc_type == 0:
        writer.ue(reader.ue())
    writer.ue(reader.ue())  # max_num_ref_frames
    writer.u(1, reader.u(1))  # gaps_in_frame_num_allowed
    reader.ue(), reader.ue()
    writer.ue(width // 16 - 1)
    writer.ue(height // 16 - 1)
    frame_mbs_only = reader.u(1)
    assert frame_mbs_only
    writer.u(1, 1)
    writer.u(1, reader.u(1))  # direct_8x8_inference
    writer.u(1, 0)  # no cropping
    writer.u(1, 0)  # no VUI
    return nal[:1] + _escape(writer.rbsp())


def huge_frame_mp4(path: Path, width: int = 16_000, height: int = 16_000) -> Path:
    source = _baseline_mp4(path.with_suffix(".src.mp4"))

    def avc1(head: bytes) -> bytes:
        return head[:24] + struct.pack(">HH", width, height) + head[28:]

    def avcc(body: bytes) -> bytes:
        assert body[5] & 0x1F == 1
        (length,) = struct.unpack(">H", body[6:8])
        sps = _resize_sps(body[8 : 8 + length], width, height)
        return body[:6] + struct.pack(">H", len(sps)) + sps + body[8 + length :]

    def tkhd(body: bytes) -> bytes:
        return body[:-8] + struct.pack(">II", width << 16, height << 16)

    path.write_bytes(_rewrite(source.read_bytes(), {b"avc1": avc1, b"avcC": avcc, b"tkhd": tkhd}))
    source.unlink()
    return path


def endless_mp4(path: Path) -> Path:
    source = _baseline_mp4(path.with_suffix(".src.mp4"))
    frames = 5

    def stts(body: bytes) -> bytes:
        return body[:4] + struct.pack(">III", 1, frames, _FRAME_TICKS)

    def mdhd(body: bytes) -> bytes:
        assert body[0] == 0
        return body[:16] + struct.pack(">I", frames * _FRAME_TICKS) + body[20:]

    edit = {b"stts": stts, b"mdhd": mdhd, b"edts": lambda body: None}
    path.write_bytes(_rewrite(source.read_bytes(), edit))
    source.unlink()
    return path


def many_frames_mp4(path: Path, frames: int = 40_000, fps: int = 100) -> Path:
    source = _baseline_mp4(path.with_suffix(".src.mp4"), frames=2, fps=fps, black=True)
    with av.open(str(source)) as src, av.open(str(path), "w", format="mp4") as out:
        template = src.streams.video[0]
        stream = out.add_stream_from_template(template)
        packets = [p for p in src.demux(template) if p.size]
        key, skip = bytes(packets[0]), bytes(packets[1])
        step = int(packets[1].pts - packets[0].pts)
        for n in range(frames):
            packet = av.Packet(key if n == 0 else skip)
            packet.pts = packet.dts = n * step
            packet.time_base = template.time_base
            packet.stream = stream
            packet.is_keyframe = n == 0
            out.mux(packet)
    source.unlink()
    return path
