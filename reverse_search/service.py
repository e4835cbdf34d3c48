"""Investigator search: a file or a text -> ranked generations with their records, audited.

Every search appends one ``ReverseSearchPerformed`` event (the query's SHA-256, never its
content, and the results shown) to its own ``audit-<search_id>`` stream, after the results
are computed and before they are returned: a search whose audit event cannot be written
returns nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.events import Actor, stream_id
from reverse_search.engine import SearchEngine, engine_for
from reverse_search.errors import ReverseSearchError
from reverse_search.events import AUDIT, ReverseSearchPerformed, SearchResultRef
from reverse_search.models import AccountAction, AssetRecord, GenerationRecord, matchable
from reverse_search.sampling import sample_query
from reverse_search.search import GenerationMatch

_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


class TextSearchUnavailable(ReverseSearchError):
    code = "reverse_search.text_search_unavailable"
    status = 409
    title = "Text search needs a CLIP checkpoint"


class UnknownGeneration(ReverseSearchError):
    code = "reverse_search.generation_unknown"
    status = 404
    title = "Unknown generation"


@dataclass(frozen=True)
class SearchHit:
    match: GenerationMatch
    generation_id: str | None
    manifest_id: str | None
    record: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        m = self.match
        return {
            "asset_id": m.asset_id,
            "generation_id": self.generation_id,
            "manifest_id": self.manifest_id,
            "score": m.score,
            "speed": m.speed,
            "query_range_s": [m.query_start_s, m.query_end_s],
            "generation_range_s": [m.generation_start_s, m.generation_end_s],
            "matched_frames": m.matched_frames,
            "record": self.record,
        }


@dataclass(frozen=True)
class SearchReport:
    search_id: str
    query_sha256: str
    query_kind: str
    embedder: str
    hits: list[SearchHit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "query_sha256": self.query_sha256,
            "query_kind": self.query_kind,
            "embedder": self.embedder,
            "matches": [h.to_dict() for h in self.hits],
        }


def sha256_of_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def generation_record(s: Session, asset: AssetRecord) -> dict[str, Any]:
    generation = s.get(GenerationRecord, asset.generation_id) if asset.generation_id else None
    account_id = generation.account_id if generation else None
    account_actions = (
        [
            {
                "action_id": a.action_id,
                "kind": a.kind,
                "category": a.category,
                "puid": a.puid,
                "taken_at": _iso(a.taken_at),
                "reversed_at": _iso(a.reversed_at),
                "target": "account",
            }
            for a in s.scalars(
                select(AccountAction)
                .where(AccountAction.account_id == account_id)
                .order_by(AccountAction.taken_at, AccountAction.action_id)
            )
        ]
        if account_id
        else []
    )
    return {
        "generation_id": asset.generation_id,
        "asset_id": asset.asset_id,
        "prompt": generation.prompt if generation else None,
        "account_id": account_id,
        "status": generation.status if generation else None,
        "requested_at": _iso(generation.requested_at) if generation else None,
        "completed_at": _iso(generation.completed_at) if generation else None,
        "signed_at": _iso(asset.signed_at),
        # the asset's state as the assets domain decided it, so investigators see why it is down
        "visibility": generation.visibility if generation else "visible",
        "holds": generation.holds if generation else [],
        "published_at": _iso(asset.published_at),
        "moderation": generation.moderation if generation else [],
        "timeline": generation.timeline if generation else [],
        "enforcement": [{**e, "target": "asset"} for e in asset.enforcement] + account_actions,
        "c2pa": {"manifest_id": asset.manifest_id, **asset.c2pa},
        "watermark_payload": asset.watermark_payload,
        "blob_address": asset.blob_address,
    }


def _matchable(asset: AssetRecord | None, visibility: str | None) -> bool:
    return asset is not None and matchable(visibility)


class InvestigatorSearch:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.engine: SearchEngine = engine_for(services)

    # ------------------------------------------------------------------ queries
    def matches_for_file(self, path: Path, max_results: int | None = None) -> list[SearchHit]:
        """Matches of a clip or image with records; no audit (callers record their own)."""
        self.engine.refresh()
        sampled = sample_query(path, self.engine.settings.query_rate_fps)
        # Describing needs no index, so concurrent searches only queue for matching.
        query = self.engine.searcher.describe(sampled)
        with self.engine.lock:
            outcome = self.engine.searcher.match(query)
        return self._hits(outcome.matches, max_results)

    def matches_for_text(self, text: str, max_results: int | None = None) -> list[SearchHit]:
        embed_text = getattr(self.engine.embedder, "embed_text", None)
        if embed_text is None:
            raise TextSearchUnavailable(
                "text queries need the CLIP embedder (CLEARFRAME_RS_EMBEDDER=clip and a checkpoint)"
            )
        self.engine.refresh()
        vector = embed_text(text)
        limit = max_results or self.engine.settings.max_results
        with self.engine.lock:
            index = self.engine.index
            neighbours = index.search(vector[None, :], min(max(limit * 20, 50), 2000))
            best: dict[int, tuple[float, float]] = {}
            for sim, slot, t in zip(
                neighbours.similarities[0], neighbours.slots[0], neighbours.times[0], strict=True
            ):
                if slot >= 0 and (slot not in best or sim > best[slot][0]):
                    best[int(slot)] = (float(sim), float(t))
            step = 1.0 / self.engine.settings.reference_rate_fps
            matches = [
                GenerationMatch(
                    asset_id=index.asset_id_of(slot),
                    score=round(sim, 6),
                    speed=1.0,
                    query_start_s=0.0,
                    query_end_s=0.0,
                    generation_start_s=round(t, 3),
                    generation_end_s=round(min(t + step, index.duration_of(slot)), 3),
                    matched_frames=1,
                )
                for slot, (sim, t) in sorted(best.items(), key=lambda kv: -kv[1][0])
            ]
        return self._hits(matches, max_results)

    def _hits(self, matches: Sequence[GenerationMatch], max_results: int | None) -> list[SearchHit]:
        limit = max_results or self.engine.settings.max_results
        if not matches:
            return []
        hits: list[SearchHit] = []
        with self.services.sessions() as s:
            rows = {
                asset.asset_id: (asset, visibility)
                for asset, visibility in s.execute(
                    select(AssetRecord, GenerationRecord.visibility)
                    .outerjoin(
                        GenerationRecord,
                        GenerationRecord.generation_id == AssetRecord.generation_id,
                    )
                    .where(AssetRecord.asset_id.in_([m.asset_id for m in matches]))
                )
            }
            for match in matches:
                asset, visibility = rows.get(match.asset_id, (None, None))
                # The read model decides: a removal projected a moment ago is already here,
                # whatever snapshot of the index this process searched.
                if asset is None or not _matchable(asset, visibility):
                    continue
                hits.append(
                    SearchHit(
                        match, asset.generation_id, asset.manifest_id, generation_record(s, asset)
                    )
                )
                if len(hits) >= limit:
                    break
        return hits

    # ------------------------------------------------------------------ audited searches
    def search_file(
        self, path: Path, actor: Actor, endpoint: str, max_results: int | None = None
    ) -> SearchReport:
        digest, size = sha256_of_file(path)
        hits = self.matches_for_file(path, max_results)
        kind = "image" if _looks_like_image(path) else "video"
        return self._audit(digest, size, kind, endpoint, actor, hits)

    def search_text(
        self, text: str, actor: Actor, endpoint: str, max_results: int | None = None
    ) -> SearchReport:
        data = text.encode()
        hits = self.matches_for_text(text, max_results)
        return self._audit(
            hashlib.sha256(data).hexdigest(), len(data), "text", endpoint, actor, hits
        )

    def _audit(
        self, digest: str, size: int, kind: str, endpoint: str, actor: Actor, hits: list[SearchHit]
    ) -> SearchReport:
        search_id = uuid.uuid4().hex
        event = ReverseSearchPerformed(
            search_id=search_id,
            query_sha256=digest,
            query_kind=kind,
            query_bytes=size,
            endpoint=endpoint,
            embedder=self.engine.embedder.name,
            results=[
                SearchResultRef(
                    asset_id=h.match.asset_id,
                    generation_id=h.generation_id,
                    score=h.match.score,
                    speed=h.match.speed,
                    query_start_s=h.match.query_start_s,
                    query_end_s=h.match.query_end_s,
                    generation_start_s=h.match.generation_start_s,
                    generation_end_s=h.match.generation_end_s,
                )
                for h in hits
            ],
        )
        self.services.store.append(
            stream_id(AUDIT, search_id), [event], expected_version=0, actor=actor
        )
        return SearchReport(search_id, digest, kind, self.engine.embedder.name, hits)

    # ------------------------------------------------------------------ records
    def record(self, generation_id: str) -> dict[str, Any]:
        with self.services.sessions() as s:
            assets = list(
                s.scalars(
                    select(AssetRecord)
                    .where(AssetRecord.generation_id == generation_id)
                    .order_by(AssetRecord.asset_id)
                )
            )
            if not assets:
                generation = s.get(GenerationRecord, generation_id)
                if generation is None:
                    raise UnknownGeneration(
                        f"no generation {generation_id!r} is known to reverse search"
                    )
                return {
                    "generation_id": generation_id,
                    "prompt": generation.prompt,
                    "account_id": generation.account_id,
                    "status": generation.status,
                    "moderation": generation.moderation,
                    "timeline": generation.timeline,
                    "assets": [],
                }
            records = [generation_record(s, a) for a in assets]
        first = records[0]
        return {
            **{
                k: first[k]
                for k in (
                    "generation_id",
                    "prompt",
                    "account_id",
                    "status",
                    "moderation",
                    "timeline",
                )
            },
            "assets": [
                {k: v for k, v in r.items() if k not in ("prompt", "moderation", "timeline")}
                for r in records
            ],
        }

    def asset_by_manifest(self, manifest_id: str) -> AssetRecord:
        with self.services.sessions() as s:
            asset = s.scalar(
                select(AssetRecord).where(
                    (AssetRecord.manifest_id == manifest_id) | (AssetRecord.asset_id == manifest_id)
                )
            )
            if asset is None or asset.blob_address is None:
                raise UnknownGeneration(f"no signed asset has manifest {manifest_id!r}")
            s.expunge(asset)
            return asset

    def manifests_by_watermark(self, value: str) -> list[str]:
        with self.services.sessions() as s:
            rows = s.execute(
                select(AssetRecord, GenerationRecord.visibility)
                .outerjoin(
                    GenerationRecord, GenerationRecord.generation_id == AssetRecord.generation_id
                )
                .where(AssetRecord.watermark_payload == value)
                .order_by(AssetRecord.asset_id)
            ).all()
            return [a.manifest_id or a.asset_id for a, vis in rows if _matchable(a, vis)]


def _looks_like_image(path: Path) -> bool:
    if path.suffix.lower() in _IMAGE_SUFFIXES:
        return True
    from reverse_search.sampling import _is_still_image

    return _is_still_image(path)


def similarity_score(score: float) -> int:
    """C2PA soft-binding ``similarityScore`` (0-100) from our calibrated score."""
    return int(np.clip(round(score * 100), 0, 100))
