"""The match index over every bank: PDQ and vPDQ frames in FAISS binary indexes, exact
digests in a dict.

PDQ hashes (256 bits) sit in a ``faiss.IndexBinaryIDMap2(IndexBinaryFlat(256))``: an exact
Hamming scan (about 32 bytes a hash), searched by range so that every bank hash within the
distance is found, however many are near. It takes removals in place, so a removed hash
stops matching at once and nothing is rebuilt or pickled. Two banks holding the same hash
share one vector. vPDQ clips put their distinct frame hashes in a second index of the same
kind; a query clip's frames are searched there and a banked clip matches with vPDQ's rule:
the share of the query's distinct (quality-filtered) frame hashes within the distance of one
of the clip's, and the share of the clip's within the distance of one of the query's, each
at least its threshold.

:class:`BankIndex` is a projection kept in process memory (a :class:`~core.ports.Resource`
per process): built from the bank events when first used and, before every match, brought
up to the store's head by reading the bank events after the last position it applied (the
store's positions are gap-free in commit order), so a hash added a moment ago matches the
next upload in any process, without a consumer's lag.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from core.events import RecordedEvent
from core.ports import Resource
from core.services import Services
from trust_safety.hash_banks.events import (
    BANK_EVENTS,
    BankHashesAdded,
    BankHashesRemoved,
    HashBankCreated,
    HashBankUpdated,
)
from trust_safety.hash_banks.signals import (
    EXACT_ALIASES,
    PDQ,
    VPDQ,
    MediaHashes,
    VpdqFeature,
    parse_vpdq,
)

BITS = 256


def codes_of(hexes: Sequence[str]) -> npt.NDArray[np.uint8]:
    if not hexes:
        return np.zeros((0, BITS // 8), np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), np.uint8).reshape(len(hexes), BITS // 8)


class HammingIndex:
    """Distinct 256-bit hashes, each with the keys holding it; exact range search.

    Per hash: its 32 bytes in FAISS (and FAISS's id maps), one dict entry from the raw bytes
    to its id, and one list slot for its holder (the key itself while it has one, a set
    only for a hash several keys share), so a million hashes cost a few hundred MB.
    """

    def __init__(self) -> None:
        self.faiss = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(BITS))
        self._id_of: dict[bytes, int] = {}
        self._holders: list[Any] = []  # by id: None (removed), a key, or a set of keys

    def __len__(self) -> int:
        return len(self._id_of)

    def add(self, items: Iterable[tuple[str, Any]]) -> None:
        new_codes: list[bytes] = []
        new_ids: list[int] = []
        for hex_, key in items:
            code = bytes.fromhex(hex_)
            hid = self._id_of.get(code)
            if hid is None:
                hid = len(self._holders)
                self._id_of[code] = hid
                self._holders.append(key)
                new_codes.append(code)
                new_ids.append(hid)
                continue
            held = self._holders[hid]
            if isinstance(held, set):
                held.add(key)
            elif held != key:
                self._holders[hid] = {held, key}
        if new_codes:
            codes = np.frombuffer(b"".join(new_codes), np.uint8).reshape(-1, BITS // 8)
            self.faiss.add_with_ids(codes, np.asarray(new_ids, np.int64))

    def remove(self, items: Iterable[tuple[str, Any]]) -> None:
        gone: list[int] = []
        for hex_, key in items:
            code = bytes.fromhex(hex_)
            hid = self._id_of.get(code)
            if hid is None:
                continue
            held = self._holders[hid]
            if isinstance(held, set):
                held.discard(key)
                if len(held) == 1:
                    self._holders[hid] = next(iter(held))
                continue
            if held != key:
                continue
            self._holders[hid] = None
            del self._id_of[code]
            gone.append(hid)
        if gone:
            ids = np.asarray(gone, np.int64)
            self.faiss.remove_ids(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids)))

    def holders(self, hid: int) -> tuple[Any, ...]:
        held = self._holders[hid] if 0 <= hid < len(self._holders) else None
        if held is None:
            return ()
        return tuple(sorted(held)) if isinstance(held, set) else (held,)

    def search(self, hexes: Sequence[str], distance: int) -> list[list[tuple[Any, int, int]]]:
        """For each query hash: (key, hash id, distance) of every held hash within
        ``distance`` bits."""
        if not hexes or not self._id_of:
            return [[] for _ in hexes]
        # faiss's binary range search keeps distances strictly below the radius.
        lims, dists, ids = self.faiss.range_search(codes_of(list(hexes)), distance + 1)
        out: list[list[tuple[Any, int, int]]] = []
        for q in range(len(hexes)):
            found = []
            for hid, d in zip(
                ids[lims[q] : lims[q + 1]], dists[lims[q] : lims[q + 1]], strict=True
            ):
                found += [(key, int(hid), int(d)) for key in self.holders(int(hid))]
            out.append(found)
        return out

    def nbytes(self) -> int:
        return int(self.faiss.ntotal) * BITS // 8


def distinct_frames(features: Iterable[VpdqFeature], quality: int) -> list[str]:
    return list(dict.fromkeys(f.pdq_hex for f in features if f.quality >= quality))


def vpdq_match_percents(
    query: Sequence[VpdqFeature], banked: Sequence[VpdqFeature], *, distance: int, quality: int
) -> tuple[float, float]:
    """vPDQ's rule by brute force: (share of the query's distinct frames matched, share of the
    banked clip's distinct frames matched), in percent."""
    q, b = distinct_frames(query, quality), distinct_frames(banked, quality)
    if not q or not b:
        return 0.0, 0.0
    qa = np.unpackbits(codes_of(q), axis=1).astype(bool)
    ba = np.unpackbits(codes_of(b), axis=1).astype(bool)
    d = (qa[:, None, :] != ba[None, :, :]).sum(axis=2)
    near = d <= distance
    return 100.0 * near.any(axis=1).mean(), 100.0 * near.any(axis=0).mean()


@dataclass(frozen=True, slots=True)
class BankInfo:
    bank_id: str
    name: str
    category: str
    action: str  # block | flag
    enabled: bool
    exchange: str | None


@dataclass(frozen=True, slots=True)
class SignalMatch:
    """One bank hash that a file's signal matched."""

    bank_id: str
    category: str
    action: str
    signal_type: str
    signal: str  # the bank's hash (for vPDQ: the banked clip's signal)
    distance: int | None = None  # PDQ bits
    query_match_pct: float | None = None  # vPDQ
    bank_match_pct: float | None = None

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bank_id": self.bank_id,
            "category": self.category,
            "action": self.action,
            "signal_type": self.signal_type,
            "signal": self.signal if self.signal_type != VPDQ else f"vpdq:{len(self.signal)}",
        }
        if self.distance is not None:
            out["distance"] = self.distance
        if self.query_match_pct is not None:
            out["query_match_pct"] = round(self.query_match_pct, 1)
            out["bank_match_pct"] = round(float(self.bank_match_pct or 0.0), 1)
        return out


@dataclass(frozen=True)
class MatchPolicy:
    pdq_distance: int = 31
    pdq_quality: int = 50
    vpdq_query_match_pct: float = 80.0
    vpdq_bank_match_pct: float = 0.0


@dataclass
class _Clip:
    frames: list[str]
    banks: set[str] = field(default_factory=set)


class BankContents:
    """Every bank's hashes, indexed for matching (the pure part of :class:`BankIndex`)."""

    def __init__(self) -> None:
        self.banks: dict[str, BankInfo] = {}
        self.pdq = HammingIndex()
        self.frames = HammingIndex()  # vPDQ frame hashes -> clip keys
        self.exact: dict[tuple[str, str], set[str]] = {}
        self.clips: dict[str, _Clip] = {}  # vPDQ signal -> its distinct frames and banks
        self.count = 0

    # -- events

    def apply(self, event: RecordedEvent) -> None:
        if event.type == HashBankCreated.event_type_name:
            p = event.payload_as(HashBankCreated)
            self.banks[p.bank_id] = BankInfo(
                p.bank_id, p.name, p.harm_category, p.action, p.enabled, p.exchange
            )
        elif event.type == HashBankUpdated.event_type_name:
            u = event.payload_as(HashBankUpdated)
            old = self.banks.get(u.bank_id)
            if old is not None:
                self.banks[u.bank_id] = BankInfo(
                    old.bank_id,
                    old.name,
                    old.category,
                    u.action if u.action is not None else old.action,
                    u.enabled if u.enabled is not None else old.enabled,
                    old.exchange,
                )
        elif event.type == BankHashesAdded.event_type_name:
            a = event.payload_as(BankHashesAdded)
            self.add(a.bank_id, [(e.signal_type, e.signal) for e in a.entries])
        elif event.type == BankHashesRemoved.event_type_name:
            r = event.payload_as(BankHashesRemoved)
            self.remove(r.bank_id, [(e.signal_type, e.signal) for e in r.entries])

    def add(self, bank_id: str, entries: Sequence[tuple[str, str]]) -> None:
        pdq: list[tuple[str, str]] = []
        for signal_type, signal in entries:
            self.count += 1
            if signal_type == PDQ:
                pdq.append((signal, bank_id))
            elif signal_type == VPDQ:
                clip = self.clips.get(signal)
                if clip is None:
                    frames = distinct_frames(parse_vpdq(signal), 0)
                    clip = self.clips[signal] = _Clip(frames)
                    self.frames.add((h, signal) for h in frames)
                clip.banks.add(bank_id)
            else:
                self.exact.setdefault((signal_type, signal), set()).add(bank_id)
        self.pdq.add(pdq)

    def remove(self, bank_id: str, entries: Sequence[tuple[str, str]]) -> None:
        pdq: list[tuple[str, str]] = []
        for signal_type, signal in entries:
            self.count -= 1
            if signal_type == PDQ:
                pdq.append((signal, bank_id))
            elif signal_type == VPDQ:
                clip = self.clips.get(signal)
                if clip is None:
                    continue
                clip.banks.discard(bank_id)
                if not clip.banks:
                    self.frames.remove((h, signal) for h in clip.frames)
                    del self.clips[signal]
            else:
                holders = self.exact.get((signal_type, signal))
                if holders is not None:
                    holders.discard(bank_id)
                    if not holders:
                        del self.exact[(signal_type, signal)]
        self.pdq.remove(pdq)

    # -- matching

    def _live(self, bank_id: str) -> BankInfo | None:
        info = self.banks.get(bank_id)
        return info if info is not None and info.enabled else None

    def match(self, hashes: MediaHashes, policy: MatchPolicy) -> list[SignalMatch]:
        found: dict[tuple[str, str, str], SignalMatch] = {}

        def keep(m: SignalMatch) -> None:
            key = (m.bank_id, m.signal_type, m.signal)
            old = found.get(key)
            if old is None or (m.distance or 0) < (old.distance or 0):
                found[key] = m

        for kind, digest in (("md5", hashes.md5), ("sha256", hashes.sha256)):
            for stored_type in EXACT_ALIASES[kind]:
                for bank_id in self.exact.get((stored_type, digest), ()):
                    if info := self._live(bank_id):
                        keep(SignalMatch(bank_id, info.category, info.action, stored_type, digest))
        if hashes.pdq is not None and hashes.pdq[1] >= policy.pdq_quality:
            for bank_id, hid, d in self.pdq.search([hashes.pdq[0]], policy.pdq_distance)[0]:
                if info := self._live(bank_id):
                    keep(
                        SignalMatch(
                            bank_id, info.category, info.action, PDQ, self._hex(hid), distance=d
                        )
                    )
        if hashes.vpdq:
            for m in self._match_clip(hashes.vpdq, policy):
                keep(m)
        return sorted(found.values(), key=lambda m: (m.bank_id, m.signal_type, m.signal))

    def _hex(self, hid: int) -> str:
        code = self.pdq.faiss.reconstruct(hid)
        return bytes(np.asarray(code, np.uint8)).hex()

    def _match_clip(
        self, features: Sequence[VpdqFeature], policy: MatchPolicy
    ) -> list[SignalMatch]:
        query = distinct_frames(features, policy.pdq_quality)
        if not query:
            return []
        hits = self.frames.search(query, policy.pdq_distance)
        query_hit: dict[str, set[int]] = {}
        clip_hit: dict[str, set[int]] = {}
        for qi, per in enumerate(hits):
            for clip_key, hid, _ in per:
                query_hit.setdefault(clip_key, set()).add(qi)
                clip_hit.setdefault(clip_key, set()).add(hid)
        out = []
        for clip_key, qs in query_hit.items():
            clip = self.clips.get(clip_key)
            if clip is None:
                continue
            q_pct = 100.0 * len(qs) / len(query)
            b_pct = 100.0 * len(clip_hit[clip_key]) / max(1, len(clip.frames))
            if q_pct < policy.vpdq_query_match_pct or b_pct < policy.vpdq_bank_match_pct:
                continue
            for bank_id in clip.banks:
                if info := self._live(bank_id):
                    out.append(
                        SignalMatch(
                            bank_id,
                            info.category,
                            info.action,
                            VPDQ,
                            clip_key,
                            query_match_pct=q_pct,
                            bank_match_pct=b_pct,
                        )
                    )
        return out


class BankIndex:
    """:class:`BankContents` equal to the bank events up to the store position it last read."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.contents = BankContents()
        self.position = 0
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        with self._lock:
            store = self.services.store
            head = store.head_position()
            applied = 0
            while self.position < head:
                page = store.read_all(
                    after_position=self.position, up_to_position=head, types=BANK_EVENTS, limit=200
                )
                if not page:
                    break
                for event in page:
                    self.contents.apply(event)
                applied += len(page)
                self.position = page[-1].position
            self.position = head
            return applied

    def match(self, hashes: MediaHashes, policy: MatchPolicy) -> list[SignalMatch]:
        self.catch_up()
        with self._lock:
            return self.contents.match(hashes, policy)

    def banks(self) -> dict[str, BankInfo]:
        self.catch_up()
        with self._lock:
            return dict(self.contents.banks)


BANK_INDEX = Resource[BankIndex]("hash_banks.index", BankIndex)
