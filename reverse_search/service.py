"""Investigator search: a file or a text -> ranked generations with their records, audited.

Who sees what: investigators see every asset the index holds, removed, restricted, refused
at output (blocked) and cameo-removed ones included, each flagged with its state and its
history: those are often the videos they are looking for. Public lookups (the C2PA
soft-binding resolution endpoints) see only what the public may (``publicly_resolvable``).
Both read the state from the read model at search time (``rs_generations``, copied from the
assets domain's ``AssetVisibilityChanged``), never from the index.

A search whose best match scores below the cutoff (``CLEARFRAME_RS_MIN_SCORE``) answers
"no match" (``verdict``) with no results: calibrated scores (``ScoreCalibration``) mean the
same at every archive size, so below the cutoff a clip is not ours as far as the search can
tell, and an unrelated clip is never offered as if it were.

Every search appends one ``ReverseSearchPerformed`` event (the query's SHA-256, never its
content, and the results shown) to its own ``audit-<search_id>`` stream, after the results
are computed and before they are returned: a search whose audit event cannot be written
returns nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.assets import OUTPUT_HOLD, AssetVisibilityChanged, HoldKind, cameo_hold
from core.events import Actor, stream_id
from reverse_search.engine import SearchEngine, engine_for
from reverse_search.errors import ReverseSearchError
from reverse_search.events import AUDIT, ReverseSearchPerformed, SearchResultRef
from reverse_search.models import (
    AccountAction,
    AssetRecord,
    GenerationRecord,
    publicly_resolvable,
)
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


class UnknownSoftBindingAlg(ReverseSearchError):
    code = "reverse_search.soft_binding_alg_unknown"
    status = 400
    title = "Unknown soft-binding algorithm"


class InvalidSoftBindingValue(ReverseSearchError):
    code = "reverse_search.soft_binding_value_invalid"
    status = 400
    title = "Soft-binding value is not base64"


class Audience(StrEnum):
    """Who a lookup answers: investigators see every asset, the public only what it may."""

    INVESTIGATOR = "investigator"
    PUBLIC = "public"


def state_flags(holds: Sequence[dict[str, Any]]) -> list[str]:
    """What the holds on an asset say, as flags: each hold's kind (``removed``,
    ``restricted``, ...) and, for the two holds that are not enforcement, their cause
    (``cameo_removed``: its cameo owner removed it; ``blocked``: output moderation refused
    it). The holds and their kinds are the assets domain's; this only names them."""
    flags = {str(h["kind"]) for h in holds}
    if any(str(h["key"]).startswith(cameo_hold("")) for h in holds):
        flags.add("cameo_removed")
    if any(h["key"] == OUTPUT_HOLD for h in holds):
        flags.add("blocked")
    order = [k.value for k in HoldKind] + ["cameo_removed", "blocked"]
    return sorted(flags, key=lambda f: (order.index(f) if f in order else len(order), f))


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
            "visibility": self.record["visibility"],
            "flags": state_flags(self.record["holds"]),
            "history": self.record["history"],
            "record": self.record,
        }


@dataclass(frozen=True)
class SearchReport:
    search_id: str
    query_sha256: str
    query_kind: str
    embedder: str
    min_score: float
    hits: list[SearchHit] = field(default_factory=list)

    @property
    def verdict(self) -> Literal["match", "no_match"]:
        return "match" if self.hits else "no_match"

    @property
    def message(self) -> str:
        if self.query_kind == "text":
            # CLIP's text-to-frame similarities are not calibrated; no cutoff applies to them.
            return f"{len(self.hits)} generation(s) ranked by similarity to the text"
        if self.hits:
            return f"{len(self.hits)} generation(s) match above the score cutoff {self.min_score:g}"
        return (
            f"no match: no generation of ours scores above the cutoff {self.min_score:g} "
            "for this query"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "query_sha256": self.query_sha256,
            "query_kind": self.query_kind,
            "embedder": self.embedder,
            "verdict": self.verdict,
            "min_score": self.min_score,
            "message": self.message,
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


def visibility_history(timeline: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every hold placed or lifted on the asset, oldest first (from the record's timeline)."""
    name = AssetVisibilityChanged.event_type_name
    return [dict(entry) for entry in timeline if entry.get("event") == name]


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
        "history": visibility_history(generation.timeline) if generation else [],
        "published_at": _iso(asset.published_at),
        "moderation": generation.moderation if generation else [],
        "timeline": generation.timeline if generation else [],
        "enforcement": [{**e, "target": "asset"} for e in asset.enforcement] + account_actions,
        "c2pa": {"manifest_id": asset.manifest_id, **asset.c2pa},
        "watermark_payload": asset.watermark_payload,
        "blob_address": asset.blob_address,
    }


def _shown(asset: AssetRecord | None, visibility: str | None, audience: Audience) -> bool:
    # An asset the read model does not know (an index snapshot older than a rebuild of the
    # read model) is shown to no one.
    if asset is None:
        return False
    return audience is Audience.INVESTIGATOR or publicly_resolvable(visibility)


class InvestigatorSearch:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.engine: SearchEngine = engine_for(services)

    # ------------------------------------------------------------------ queries
    def matches_for_file(
        self,
        path: Path,
        max_results: int | None = None,
        audience: Audience = Audience.INVESTIGATOR,
    ) -> list[SearchHit]:
        """Matches of a clip or image above the cutoff, with records; no audit (callers
        record their own)."""
        self.engine.refresh()
        sampled = sample_query(path, self.engine.settings.query_rate_fps)
        # Describing needs no index, so concurrent searches only queue for matching.
        query = self.engine.searcher.describe(sampled)
        with self.engine.lock:
            outcome = self.engine.searcher.match(query)
        return self._hits(outcome.matches, max_results, audience)

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
        return self._hits(matches, max_results, Audience.INVESTIGATOR)

    def _hits(
        self, matches: Sequence[GenerationMatch], max_results: int | None, audience: Audience
    ) -> list[SearchHit]:
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
                if not _shown(asset, visibility, audience):
                    continue
                assert asset is not None
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
        self,
        path: Path,
        actor: Actor,
        endpoint: str,
        max_results: int | None = None,
        audience: Audience = Audience.INVESTIGATOR,
    ) -> SearchReport:
        digest, size = sha256_of_file(path)
        hits = self.matches_for_file(path, max_results, audience)
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
        return SearchReport(
            search_id,
            digest,
            kind,
            self.engine.embedder.name,
            self.engine.settings.min_score,
            hits,
        )

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

    def asset_by_manifest(
        self, manifest_id: str, audience: Audience = Audience.PUBLIC
    ) -> AssetRecord:
        with self.services.sessions() as s:
            row = s.execute(
                select(AssetRecord, GenerationRecord.visibility)
                .outerjoin(
                    GenerationRecord, GenerationRecord.generation_id == AssetRecord.generation_id
                )
                .where(
                    (AssetRecord.manifest_id == manifest_id) | (AssetRecord.asset_id == manifest_id)
                )
            ).first()
            asset, visibility = row if row is not None else (None, None)
            # A manifest the public may not see is answered as one that does not exist.
            if (
                asset is None
                or asset.blob_address is None
                or not _shown(asset, visibility, audience)
            ):
                raise UnknownGeneration(f"no signed asset has manifest {manifest_id!r}")
            s.expunge(asset)
            return asset

    def manifests_by_watermark(
        self, payload: str, audience: Audience = Audience.PUBLIC, alg: str | None = None
    ) -> list[str]:
        """Manifests of the assets whose watermark payload (the serial, hex) is ``payload``,
        bound with ``alg`` if given."""
        with self.services.sessions() as s:
            rows = s.execute(
                select(AssetRecord, GenerationRecord.visibility)
                .outerjoin(
                    GenerationRecord, GenerationRecord.generation_id == AssetRecord.generation_id
                )
                .where(AssetRecord.watermark_payload == payload)
                .order_by(AssetRecord.asset_id)
            ).all()
            return [
                a.manifest_id or a.asset_id
                for a, vis in rows
                if _shown(a, vis, audience)
                and (alg is None or a.c2pa.get("soft_binding_alg") == alg)
            ]

    def known_soft_binding_algs(self) -> set[str]:
        """The soft-binding algorithms our signed assets are bound with (as provenance
        published them in ``AssetSigned``)."""
        with self.services.sessions() as s:
            return {
                str(c2pa["soft_binding_alg"])
                for c2pa in s.scalars(select(AssetRecord.c2pa))
                if c2pa.get("soft_binding_alg")
            }

    def manifests_by_binding(
        self, alg: str, value: str, audience: Audience = Audience.PUBLIC
    ) -> list[str]:
        """The C2PA soft-binding resolution by binding: ``value`` is the base64 the file's
        ``c2pa.soft-binding`` assertion holds for ``alg`` (the binding's bytes; our read
        model keeps them as the watermark payload, in hex)."""
        if alg not in self.known_soft_binding_algs():
            raise UnknownSoftBindingAlg(
                f"soft-binding algorithm {alg!r} is not one our assets are bound with"
            )
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSoftBindingValue(
                "value must be the base64 of the soft binding, as the c2pa.soft-binding "
                "assertion writes it"
            ) from None
        return self.manifests_by_watermark(raw.hex(), audience, alg=alg)


def _looks_like_image(path: Path) -> bool:
    if path.suffix.lower() in _IMAGE_SUFFIXES:
        return True
    from reverse_search.sampling import _is_still_image

    return _is_still_image(path)


def similarity_score(score: float) -> int:
    """C2PA soft-binding ``similarityScore`` (0-100) from our calibrated score."""
    return int(np.clip(round(score * 100), 0, 100))
