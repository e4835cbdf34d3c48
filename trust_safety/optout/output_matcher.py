"""Matching generated outputs against rights holders' reference media by global embeddings.

Output moderation does not use this index: an embedding of a whole frame misses a work that
is cropped, recoloured or pasted into part of a new scene, so it matches by local features
(``keypoints.py``, ``output_index.py``). This module keeps the frame types and checks both
share, and the seam for a global embedder (open_clip) where one is wanted.

The reverse-search package owns the real frame embedder (open_clip); this module owns what
the opt-out registry needs from any embedder and how a match is decided, so the embedder plugs
in without this code changing:

* ``FrameEmbedder``: ``embed(frames) -> (n, d)`` float32 rows, L2-normalised, so a dot
  product is a cosine similarity. Frames are ``H x W x 3`` uint8 RGB arrays.
* ``ReferenceMediaLoader``: turns a ``BlobRef`` into frames (decode an image; sample a clip).
* ``ReferenceMediaIndex``: the embedded reference frames of every outputs-scoped opt-out;
  ``match(frames)`` says which opt-outs an output resembles, with evidence.

An output matches an opt-out when at least ``min_matching_frames`` of its sampled frames (or
all of them, for shorter outputs) are within ``threshold`` cosine of one of that opt-out's
reference frames. Counting frames rather than taking one best frame keeps a single unlucky
frame (a flash of a similar colour or shape) from blocking an output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from trust_safety.optout.errors import EmbeddingMismatch, InvalidOptOut
from trust_safety.optout.facts import BlobRef, Scope
from trust_safety.optout.registry import OptOutRecord
from trust_safety.optout.territories import applies_in

Frame = npt.NDArray[np.uint8]
Vectors = npt.NDArray[np.float32]


@runtime_checkable
class FrameEmbedder(Protocol):
    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, frames: Sequence[Frame]) -> Vectors: ...


class ReferenceMediaLoader(Protocol):
    def frames(self, ref: BlobRef) -> Sequence[Frame]: ...


def validate_frames(frames: Sequence[Frame]) -> list[Frame]:
    out = list(frames)
    for index, frame in enumerate(out):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            raise InvalidOptOut(f"frame {index} must be a uint8 numpy array")
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 2 or frame.shape[1] < 2:
            raise InvalidOptOut(f"frame {index} must be H x W x 3 RGB, got {frame.shape}")
    return out


@dataclass(frozen=True)
class OutputMatch:
    optout_id: str
    reference_sha256: str
    best_similarity: float
    matching_frames: int
    frames_checked: int


@dataclass(frozen=True)
class _Reference:
    optout_id: str
    sha256: str
    territories: frozenset[str]


class ReferenceMediaIndex:
    """Reference frame vectors for the outputs-scoped opt-outs; updated incrementally."""

    def __init__(
        self,
        embedder: FrameEmbedder,
        loader: ReferenceMediaLoader,
        *,
        threshold: float = 0.9,
        min_matching_frames: int = 2,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise InvalidOptOut(f"threshold must be in (0, 1], got {threshold}")
        if min_matching_frames < 1:
            raise InvalidOptOut("min_matching_frames must be at least 1")
        self.embedder = embedder
        self.loader = loader
        self.threshold = threshold
        self.min_matching_frames = min_matching_frames
        self._vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        self._rows: list[_Reference] = []

    @property
    def reference_count(self) -> int:
        return len({(r.optout_id, r.sha256) for r in self._rows})

    def sync(self, records: Iterable[OptOutRecord]) -> None:
        """Make the index reflect these records: add new references, drop withdrawn ones.

        Only opt-outs whose reference set changed are re-embedded, so an amendment to one
        filing does not re-embed the whole registry.
        """
        wanted: dict[str, OptOutRecord] = {
            r.optout_id: r for r in records if r.active and Scope.OUTPUTS in r.scopes
        }
        indexed: dict[str, set[str]] = {}
        territories: dict[str, frozenset[str]] = {}
        for row in self._rows:
            indexed.setdefault(row.optout_id, set()).add(row.sha256)
            territories[row.optout_id] = row.territories
        for optout_id in set(indexed) - set(wanted):
            self.remove(optout_id)
        for optout_id, record in wanted.items():
            hashes = {m.sha256 for m in record.reference_media}
            if indexed.get(optout_id) != hashes or territories.get(optout_id) != (
                record.territories
            ):
                self.remove(optout_id)
                self.add(record)

    def add(self, record: OptOutRecord) -> None:
        blocks: list[Vectors] = []
        rows: list[_Reference] = []
        for media in record.reference_media:
            frames = validate_frames(self.loader.frames(media))
            if not frames:
                raise InvalidOptOut(f"reference {media.uri} decoded to no frames")
            vectors = self._embed(frames)
            blocks.append(vectors)
            rows += [_Reference(record.optout_id, media.sha256, record.territories)] * len(frames)
        if blocks:
            self._vectors = np.vstack([self._vectors, *blocks])
            self._rows += rows

    def remove(self, optout_id: str) -> None:
        keep = [i for i, row in enumerate(self._rows) if row.optout_id != optout_id]
        self._vectors = self._vectors[keep]
        self._rows = [self._rows[i] for i in keep]

    def _embed(self, frames: Sequence[Frame]) -> Vectors:
        vectors = np.asarray(self.embedder.embed(frames), dtype=np.float32)
        if vectors.shape != (len(frames), self.embedder.dim):
            raise EmbeddingMismatch(
                f"embedder {self.embedder.model_id} returned {vectors.shape}, "
                f"expected {(len(frames), self.embedder.dim)}"
            )
        norms = np.linalg.norm(vectors, axis=1)
        if not np.allclose(norms, 1.0, atol=1e-3):
            raise EmbeddingMismatch(f"embedder {self.embedder.model_id} must L2-normalise rows")
        return vectors

    def match(self, frames: Sequence[Frame], *, territory: str | None = None) -> list[OutputMatch]:
        checked = validate_frames(frames)
        if not checked or not self._rows:
            return []
        sims = self._embed(checked) @ self._vectors.T  # (output frames, reference frames)
        needed = min(self.min_matching_frames, len(checked))
        by_reference: dict[tuple[str, str], list[int]] = {}
        for column, row in enumerate(self._rows):
            if applies_in(row.territories, territory):
                by_reference.setdefault((row.optout_id, row.sha256), []).append(column)
        matches: list[OutputMatch] = []
        for (optout_id, sha256), columns in by_reference.items():
            per_frame = sims[:, columns].max(axis=1)
            hits = int((per_frame >= self.threshold).sum())
            if hits >= needed:
                matches.append(
                    OutputMatch(optout_id, sha256, float(per_frame.max()), hits, len(checked))
                )
        matches.sort(key=lambda m: (-m.matching_frames, -m.best_similarity, m.optout_id))
        return matches
