"""The indexer projection: generation records and the fingerprint index, from events.

Database side (one transaction with the checkpoint, like every projection): the record of
each generation (prompt, account, moderation decisions, enforcement, C2PA state, watermark
payload) and each signed asset with its *holds*. A hold is one reason the asset must not
match: the pipeline's own ``AssetRemoved``, each enforcement action that removed it (keyed
by action id so each reversal lifts exactly its own), a cameo owner removing their
appearance. An asset matches only while it has no hold.

FAISS side (after the commit): the assets touched by the batch are synced into the index:
fingerprinted once signed, excluded while held, re-included when the last hold is lifted.
Reading the desired state back from the database after the commit makes the FAISS side
idempotent, so a batch that was retried event by event, or a crash between the commit and
the next snapshot, is repaired by the next sync (``reconcile`` on start does all assets).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, inspect, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from core.events import RecordedEvent
from core.privacy import redacted_payload
from core.projections import Projection, handles
from core.replay import ReplayDiff, interleave
from reverse_search import events as ev
from reverse_search.engine import AssetState, SearchEngine, engine_for, live_index
from reverse_search.errors import ReverseSearchError
from reverse_search.index import FingerprintIndex
from reverse_search.models import AccountAction, AssetRecord, GenerationRecord

log = logging.getLogger(__name__)

PIPELINE_HOLD = "pipeline"
_ASSET_REMOVAL_ACTIONS = frozenset({"remove_asset"})
_ACCOUNT_ACTIONS = frozenset({"suspend_account", "ban_account", "strike", "warn_account"})
# Payload keys other domains use for the same fact; the first present wins.
_ACCOUNT_KEYS = ("account_id", "requester_id", "user_id", "owner_id", "creator_id")
_BLOB_KEYS = ("blob_address", "signed_blob", "asset_address", "blob", "address")
_MANIFEST_KEYS = ("manifest_id", "manifest_label", "c2pa_manifest_label")
_WATERMARK_KEYS = ("watermark_payload", "watermark_serial", "serial")
_C2PA_KEY_PARTS = ("c2pa", "manifest", "soft_binding", "signer", "tier", "visible_watermark")
_MAX_SUMMARY_VALUE = 2000


def first(payload: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = payload.get(key)
        if value not in (None, ""):
            return value
    return None


def summarise(event: RecordedEvent, drop: Iterable[str] = ()) -> dict[str, Any]:
    """A compact copy of a payload for a record: scalars and small values, big ones elided."""
    dropped = set(drop)
    out: dict[str, Any] = {"event": event.type, "at": event.occurred_at.isoformat()}
    # The requester's words stay out of summaries (their placeholders go in): the record's
    # ``prompt`` column is where they are, and what an erasure scrubs.
    for key, value in redacted_payload(event).items():
        if key in dropped:
            continue
        if (
            isinstance(value, str | int | float | bool)
            or value is None
            or len(repr(value)) <= _MAX_SUMMARY_VALUE
        ):
            out[key] = value
        else:
            out[key] = f"<{type(value).__name__} elided>"
    return out


def _generation_id(event: RecordedEvent) -> str:
    return str(event.payload.get("generation_id") or event.stream_key)


class ReverseSearchIndexer(Projection):
    name = "reverse-search-indexer"
    categories = ("generation", "enforcement", "consent")
    tables = (
        cast(Table, GenerationRecord.__table__),
        cast(Table, AssetRecord.__table__),
        cast(Table, AccountAction.__table__),
    )

    def __init__(self, services: Any, *, progress: bool = False) -> None:
        self.services = services
        self.engine: SearchEngine = engine_for(services)
        self.engine.is_writer = True
        self.progress = progress
        self._touched: set[str] = set()
        self._touched_generations: set[str] = set()
        self._reset_pending = False

    # ------------------------------------------------------------------ helpers
    def _generation(self, s: Session, generation_id: str, at: datetime) -> GenerationRecord:
        row = s.get(GenerationRecord, generation_id)
        if row is None:
            row = GenerationRecord(
                generation_id=generation_id, status="unknown", moderation=[], timeline=[], holds={}
            )
            s.add(row)
        return row

    def _asset(self, s: Session, asset_id: str) -> AssetRecord:
        row = s.get(AssetRecord, asset_id)
        if row is None:
            # Removals can arrive before the signing they refer to (different streams).
            row = AssetRecord(asset_id=asset_id, c2pa={}, holds={}, enforcement=[])
            s.add(row)
        return row

    def _step(self, s: Session, event: RecordedEvent, status: str | None) -> GenerationRecord:
        row = self._generation(s, _generation_id(event), event.occurred_at)
        row.timeline = [*row.timeline, summarise(event, drop=("prompt",))]
        if status is not None:
            row.status = status
        return row

    # ------------------------------------------------------------------ generation stream
    @handles(ev.GENERATION_REQUESTED)
    def _requested(self, s: Session, event: RecordedEvent) -> None:
        row = self._step(s, event, "requested")
        p = event.payload
        row.prompt = p.get("prompt")
        account = first(p, _ACCOUNT_KEYS)
        row.account_id = str(account) if account is not None else event.actor.id
        row.requested_at = event.occurred_at

    @handles(ev.PROMPT_MODERATED, ev.OUTPUT_MODERATED)
    def _moderated(self, s: Session, event: RecordedEvent) -> None:
        row = self._generation(s, _generation_id(event), event.occurred_at)
        row.moderation = [*row.moderation, summarise(event, drop=("prompt",))]

    @handles(ev.GENERATION_APPROVED)
    def _approved(self, s: Session, event: RecordedEvent) -> None:
        self._step(s, event, "approved")

    @handles(ev.GENERATION_REFUSED)
    def _refused(self, s: Session, event: RecordedEvent) -> None:
        self._step(s, event, "refused")

    @handles(ev.GENERATION_STARTED)
    def _started(self, s: Session, event: RecordedEvent) -> None:
        self._step(s, event, "started")

    @handles(ev.GENERATION_FAILED)
    def _failed(self, s: Session, event: RecordedEvent) -> None:
        self._step(s, event, "failed")

    @handles(ev.GENERATION_COMPLETED)
    def _completed(self, s: Session, event: RecordedEvent) -> None:
        row = self._step(s, event, "completed")
        row.completed_at = event.occurred_at

    @handles(ev.ASSET_SIGNED)
    def _signed(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        generation_id = _generation_id(event)
        asset_id = str(p.get("asset_id") or generation_id)
        generation = self._step(s, event, "signed")
        asset = self._asset(s, asset_id)
        asset.generation_id = generation_id
        address = first(p, _BLOB_KEYS)
        asset.blob_address = str(address) if address is not None else None
        manifest = first(p, _MANIFEST_KEYS)
        asset.manifest_id = str(manifest) if manifest is not None else None
        watermark = first(p, _WATERMARK_KEYS)
        asset.watermark_payload = str(watermark) if watermark is not None else None
        asset.c2pa = {
            k: v for k, v in summarise(event).items() if any(part in k for part in _C2PA_KEY_PARTS)
        }
        asset.signed_at = event.occurred_at
        duration = p.get("duration_s")
        asset.duration_s = float(duration) if isinstance(duration, int | float) else None
        self._touched.add(asset_id)
        del generation

    @handles(ev.ASSET_PUBLISHED)
    def _published(self, s: Session, event: RecordedEvent) -> None:
        asset = self._asset(s, str(event.payload.get("asset_id") or _generation_id(event)))
        asset.published_at = event.occurred_at

    @handles(ev.ASSET_REMOVED)
    def _removed(self, s: Session, event: RecordedEvent) -> None:
        asset_id = str(event.payload.get("asset_id") or _generation_id(event))
        reason = str(event.payload.get("reason") or "removed by the generation pipeline")
        # Keyed by the hold (an action id, cameo:<id>), the same keys the enforcement and cameo
        # handlers below use, so one reason never counts twice and a lift ends only its own.
        self._hold(s, asset_id, str(event.payload.get("hold") or PIPELINE_HOLD), reason)

    @handles(ev.ASSET_RESTORED)
    def _restored(self, s: Session, event: RecordedEvent) -> None:
        self._lift(
            s,
            str(event.payload.get("asset_id") or _generation_id(event)),
            str(event.payload.get("hold") or PIPELINE_HOLD),
        )

    def _hold(self, s: Session, asset_id: str, key: str, reason: str) -> None:
        asset = self._asset(s, asset_id)
        asset.holds = {**asset.holds, key: reason}
        self._touched.add(asset_id)

    def _lift(self, s: Session, asset_id: str, key: str) -> None:
        asset = self._asset(s, asset_id)
        asset.holds = {k: v for k, v in asset.holds.items() if k != key}
        self._touched.add(asset_id)

    # ------------------------------------------------------------------ consent stream
    @handles(ev.CAMEO_APPEARANCE_REMOVED)
    def _appearance_removed(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        generation = self._generation(s, str(p["generation_id"]), event.occurred_at)
        key = f"cameo:{p.get('cameo_id', event.stream_key)}"
        generation.holds = {
            **generation.holds,
            key: str(p.get("reason") or "cameo appearance removed"),
        }
        generation.timeline = [*generation.timeline, summarise(event)]
        self._touched_generations.add(generation.generation_id)

    # ------------------------------------------------------------------ enforcement stream
    @handles(ev.ENFORCEMENT_ACTION_TAKEN)
    def _action(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        action_id = str(p["action_id"])
        kind = str(p.get("kind", ""))
        entry = {
            "action_id": action_id,
            "kind": kind,
            "category": p.get("statement_category") or p.get("category"),
            "puid": p.get("puid"),
            "taken_at": event.occurred_at.isoformat(),
            "reversed_at": None,
        }
        if p.get("target_kind") == "asset":
            asset = self._asset(s, str(p["target_id"]))
            asset.enforcement = [*asset.enforcement, entry]
            if kind in _ASSET_REMOVAL_ACTIONS:
                asset.holds = {**asset.holds, action_id: f"enforcement {kind}"}
            self._touched.add(asset.asset_id)
        elif p.get("affected_user_id") and s.get(AccountAction, action_id) is None:
            s.add(
                AccountAction(
                    action_id=action_id,
                    account_id=str(p["affected_user_id"]),
                    kind=kind,
                    category=p.get("statement_category") or p.get("category"),
                    taken_at=event.occurred_at,
                    puid=p.get("puid"),
                )
            )

    @handles(ev.ENFORCEMENT_REVERSED)
    def _reversed(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        action_id = str(p["action_id"])
        if p.get("target_kind") == "asset":
            asset = self._asset(s, str(p["target_id"]))
            asset.enforcement = [
                {**e, "reversed_at": event.occurred_at.isoformat()}
                if e["action_id"] == action_id
                else e
                for e in asset.enforcement
            ]
            self._lift(s, asset.asset_id, action_id)
        else:
            row = s.get(AccountAction, action_id)
            if row is not None:
                row.reversed_at = event.occurred_at

    # ------------------------------------------------------------------ FAISS side
    def reset(self, session: Session) -> None:
        super().reset(session)
        self._reset_pending = True
        self._touched.clear()
        self._touched_generations.clear()

    def after_commit(self) -> None:
        engine = self.engine
        if self._reset_pending:
            self._reset_pending = False
            previous = engine.index
            engine.reset()
            self.reconcile(reuse=previous)
            return
        touched, generations = set(self._touched), set(self._touched_generations)
        self._touched.clear()
        self._touched_generations.clear()
        if touched or generations:
            with self.services.sessions() as s:
                if generations:
                    touched.update(
                        s.scalars(
                            select(AssetRecord.asset_id).where(
                                AssetRecord.generation_id.in_(generations)
                            )
                        )
                    )
                states = asset_states(s, touched)
            engine.sync(states)
        engine.save()

    def on_idle(self) -> None:
        # Snapshots are throttled while events stream in; once they stop, save what is pending
        # so that API processes (and replay-check) see the index as the read model has it.
        self.engine.save(force=True)

    def reconcile(self, reuse: Any = None) -> int:
        """Sync every asset of the read model into the index (start-up, rebuild)."""
        with self.services.sessions() as s:
            states = asset_states(s, None)
        self.engine.forget_except({state.asset_id for state in states})
        bar = tqdm(
            total=len(states), desc="fingerprint assets", unit="asset", disable=not self.progress
        )
        try:
            added = self.engine.sync(states, progress=bar.update, reuse=reuse)
        finally:
            bar.close()
        self.engine.save(force=True)
        return added

    # ------------------------------------------------------------------ replay-check
    def replay_diffs(self, live: Any, *, max_examples: int = 5) -> list[ReplayDiff]:
        """replay-check, called on the scratch indexer after its replay: its FAISS side against
        the live one (asset membership, removals, searchable vectors, fingerprints), and every
        blob it could not read: that is a difference too, not a warning."""
        diffs: list[ReplayDiff] = []
        failed = sorted(self.engine.failed.items())
        if failed:
            diffs.append(
                ReplayDiff(
                    self.name,
                    "blobs",
                    unreadable=len(failed),
                    examples=interleave(
                        [[f"cannot fingerprint {a}: {why}" for a, why in failed]], max_examples
                    ),
                )
            )
        try:
            with live_index(live, self.engine) as (index, where):
                diff = compare_indexes(self.name, index, self.engine.index, max_examples)
        except ReverseSearchError as exc:
            diff = ReplayDiff(
                self.name,
                "faiss-index",
                only_rebuilt=self.engine.index.asset_count,
                examples=[f"the live index cannot be read: {exc.detail}"],
            )
            where = ""
        if diff is not None:
            if where:
                diff.examples.insert(0, f"live side: {where}")
            diffs.append(diff)
        return diffs


def compare_indexes(
    projection: str,
    live: FingerprintIndex,
    rebuilt: FingerprintIndex,
    max_examples: int = 5,
    *,
    atol: float = 1e-3,
) -> ReplayDiff | None:
    """Assets only one index holds, and shared assets whose removal state, searchable vectors
    or fingerprints (raw vectors, frame times, duration; within ``atol``) differ."""
    live_ids, rebuilt_ids = set(live.asset_ids()), set(rebuilt.asset_ids())
    only_live = sorted(live_ids - rebuilt_ids)
    only_rebuilt = sorted(rebuilt_ids - live_ids)
    live_found, rebuilt_found = live.searchable_counts(), rebuilt.searchable_counts()
    changed: list[str] = []
    for asset_id in sorted(live_ids & rebuilt_ids):
        a, b = live.entry(asset_id), rebuilt.entry(asset_id)
        why: list[str] = []
        if a.removed != b.removed:
            why.append(f"removed: live {a.removed}, rebuilt {b.removed}")
        if live_found.get(asset_id, 0) != rebuilt_found.get(asset_id, 0):
            why.append(
                f"searchable vectors: live {live_found.get(asset_id, 0)}, "
                f"rebuilt {rebuilt_found.get(asset_id, 0)}"
            )
        raw_a, times_a, duration_a = live.vectors_of(asset_id)
        raw_b, times_b, duration_b = rebuilt.vectors_of(asset_id)
        if raw_a.shape != raw_b.shape:
            why.append(f"fingerprint shape: live {raw_a.shape}, rebuilt {raw_b.shape}")
        elif not (
            np.allclose(raw_a, raw_b, rtol=0, atol=atol)
            and np.allclose(times_a, times_b, rtol=0, atol=atol)
            and abs(duration_a - duration_b) <= atol
        ):
            delta = float(np.max(np.abs(raw_a - raw_b))) if raw_a.size else 0.0
            why.append(f"fingerprint differs (max |delta| {delta:.3g})")
        if why:
            changed.append(f"changed {asset_id}: " + "; ".join(why))
    if not (only_live or only_rebuilt or changed):
        return None

    def described(index: FingerprintIndex, found: dict[str, int], asset_id: str) -> str:
        entry = index.entry(asset_id)
        state = "removed" if entry.removed else "matchable"
        return f"{asset_id} ({state}, {found.get(asset_id, 0)}/{len(entry.vector_ids)} searchable)"

    return ReplayDiff(
        projection,
        "faiss-index",
        only_live=len(only_live),
        only_rebuilt=len(only_rebuilt),
        changed=len(changed),
        examples=interleave(
            [
                [f"only live: {described(live, live_found, a)}" for a in only_live[:max_examples]],
                [
                    f"only rebuilt: {described(rebuilt, rebuilt_found, a)}"
                    for a in only_rebuilt[:max_examples]
                ],
                changed[:max_examples],
            ],
            max_examples,
        ),
    )


def asset_states(s: Session, asset_ids: set[str] | None) -> list[AssetState]:
    """Desired index state of assets (all when ``asset_ids`` is None), from the read model."""
    stmt = select(AssetRecord, GenerationRecord.holds).outerjoin(
        GenerationRecord, GenerationRecord.generation_id == AssetRecord.generation_id
    )
    if asset_ids is not None:
        if not asset_ids:
            return []
        stmt = stmt.where(AssetRecord.asset_id.in_(asset_ids))
    stmt = stmt.order_by(AssetRecord.asset_id)
    return [
        AssetState(
            asset.asset_id,
            asset.blob_address,
            matchable=not asset.holds and not generation_holds,
        )
        for asset, generation_holds in s.execute(stmt)
    ]


def make_indexer(services: Any) -> ReverseSearchIndexer:
    indexer = ReverseSearchIndexer(services)
    # Before the first migration there is nothing to reconcile with.
    if inspect(services.engine).has_table(AssetRecord.__tablename__):
        indexer.reconcile()
    return indexer
