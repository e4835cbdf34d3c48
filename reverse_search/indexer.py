"""The indexer projection: generation records and the fingerprint index, from events.

Database side (one transaction with the checkpoint, like every projection): the record of
each generation (prompt, account, moderation decisions, enforcement, C2PA state, watermark
payload, and its asset's holds and visibility as the assets domain published them) and each
signed asset. Investigators see every asset, flagged with that state; an asset matches public
lookups only while its generation's visibility is not ``removed`` (decided at search time).
The indexer never counts holds itself: ``AssetVisibilityChanged`` carries every hold still in force.

A render output moderation blocked is never signed, so it has no asset; investigators still
need to find it (refused at output). Its master becomes a record of its own,
``blocked_render_id(generation_id)``, with no manifest, until the generation is signed after
all (a reviewer released it): the signed asset then replaces it.

FAISS side (after the commit): the assets touched by the batch are synced into the index:
fingerprinted once signed (or blocked), and kept whatever their visibility; a record gone
from the read model (a replaced blocked render) leaves the index.
Reading the desired state back from the database after the commit makes the FAISS side
idempotent, so a batch that was retried event by event, or a crash between the commit and
the next snapshot, is repaired by the next sync (``reconcile`` on start does all assets).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, ClassVar, cast

import numpy as np
from sqlalchemy import Table, inspect, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from contracts.assets import AssetVisibilityChanged, Visibility
from contracts.enforcement import EnforcementActionTaken, EnforcementReversed, TargetKind
from contracts.generation import (
    AssetPublished,
    AssetSigned,
    FurthestStage,
    GenerationApproved,
    GenerationCompleted,
    GenerationFailed,
    GenerationRefused,
    GenerationRequested,
    GenerationStarted,
    OutputModerated,
    PromptModerated,
)
from core.events import RecordedEvent
from core.privacy import redacted_payload
from core.projections import Projection, handles
from core.replay import ReplayDiff, interleave
from reverse_search.engine import AssetState, SearchEngine, engine_for, live_index
from reverse_search.errors import ReverseSearchError
from reverse_search.index import FingerprintIndex
from reverse_search.models import AccountAction, AssetRecord, GenerationRecord

log = logging.getLogger(__name__)

_MAX_SUMMARY_VALUE = 2000


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


class ReverseSearchIndexer(Projection):
    name = "reverse-search-indexer"
    categories = ("generation", "render", "output", "provenance", "asset", "enforcement")
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
    def _generation(self, s: Session, generation_id: str) -> GenerationRecord:
        row = s.get(GenerationRecord, generation_id)
        if row is None:
            row = GenerationRecord(
                generation_id=generation_id,
                status="unknown",
                moderation=[],
                timeline=[],
                holds=[],
                visibility=Visibility.VISIBLE.value,
            )
            s.add(row)
        return row

    _status: ClassVar[FurthestStage] = FurthestStage(
        {
            "requested": "GenerationRequested",
            "approved": "GenerationApproved",
            "refused": "GenerationRefused",
            "started": "GenerationStarted",
            "completed": "GenerationCompleted",
            "failed": "GenerationFailed",
            "signed": "AssetSigned",
        }
    )

    def _asset(self, s: Session, asset_id: str) -> AssetRecord:
        row = s.get(AssetRecord, asset_id)
        if row is None:
            # Enforcement can arrive before the signing it refers to (different streams).
            row = AssetRecord(asset_id=asset_id, c2pa={}, enforcement=[])
            s.add(row)
        return row

    def _step(
        self, s: Session, generation_id: str, event: RecordedEvent, status: str | None
    ) -> GenerationRecord:
        row = self._generation(s, generation_id)
        row.timeline = [*row.timeline, summarise(event, drop=("prompt",))]
        # a stage heard late fills the timeline but does not move the status back
        if status is not None:
            row.status = self._status.status(row.status, event.type, status)
        return row

    # ------------------------------------------------------------------ generation stream
    @handles(GenerationRequested)
    def _requested(self, s: Session, event: RecordedEvent) -> None:
        requested: GenerationRequested = event.payload_as(GenerationRequested)
        row = self._step(s, requested.generation_id, event, "requested")
        row.prompt = requested.prompt
        row.account_id = requested.requester_id
        row.requested_at = event.occurred_at

    @handles(PromptModerated)
    def _prompt_moderated(self, s: Session, event: RecordedEvent) -> None:
        moderated: PromptModerated = event.payload_as(PromptModerated)
        row = self._generation(s, moderated.generation_id)
        row.moderation = [*row.moderation, summarise(event, drop=("prompt",))]

    @handles(OutputModerated)
    def _output_moderated(self, s: Session, event: RecordedEvent) -> None:
        moderated: OutputModerated = event.payload_as(OutputModerated)
        row = self._generation(s, moderated.generation_id)
        row.moderation = [*row.moderation, summarise(event, drop=("prompt",))]
        signed = s.scalar(
            select(AssetRecord.asset_id).where(
                AssetRecord.generation_id == moderated.generation_id,
                AssetRecord.manifest_id.is_not(None),
            )
        )
        if moderated.decision == "block" and moderated.master_blob and signed is None:
            render = self._asset(s, blocked_render_id(moderated.generation_id))
            render.generation_id = moderated.generation_id
            render.blob_address = moderated.master_blob
            render.c2pa = {"c2pa_state": "unsigned"}
            self._touched.add(render.asset_id)

    @handles(GenerationApproved)
    def _approved(self, s: Session, event: RecordedEvent) -> None:
        approved: GenerationApproved = event.payload_as(GenerationApproved)
        self._step(s, approved.generation_id, event, "approved")

    @handles(GenerationRefused)
    def _refused(self, s: Session, event: RecordedEvent) -> None:
        refused: GenerationRefused = event.payload_as(GenerationRefused)
        self._step(s, refused.generation_id, event, "refused")

    @handles(GenerationStarted)
    def _started(self, s: Session, event: RecordedEvent) -> None:
        started: GenerationStarted = event.payload_as(GenerationStarted)
        self._step(s, started.generation_id, event, "started")

    @handles(GenerationFailed)
    def _failed(self, s: Session, event: RecordedEvent) -> None:
        failed: GenerationFailed = event.payload_as(GenerationFailed)
        self._step(s, failed.generation_id, event, "failed")

    @handles(GenerationCompleted)
    def _completed(self, s: Session, event: RecordedEvent) -> None:
        completed: GenerationCompleted = event.payload_as(GenerationCompleted)
        row = self._step(s, completed.generation_id, event, "completed")
        row.completed_at = event.occurred_at

    @handles(AssetSigned)
    def _signed(self, s: Session, event: RecordedEvent) -> None:
        signed: AssetSigned = event.payload_as(AssetSigned)
        self._step(s, signed.generation_id, event, "signed")
        asset = self._asset(s, signed.asset_id)
        asset.generation_id = signed.generation_id
        asset.blob_address = signed.blob_address
        asset.manifest_id = signed.manifest_id
        asset.watermark_payload = signed.watermark_payload
        asset.c2pa = {
            "c2pa_state": signed.c2pa_state,
            "manifest_id": signed.manifest_id,
            "download_manifest_id": signed.download_manifest_id,
            "soft_binding_alg": signed.soft_binding_alg,
            "signer": signed.signer,
            "development_signer": signed.development_signer,
            "tier": signed.tier,
            "visible_watermark": signed.visible_watermark,
        }
        asset.signed_at = event.occurred_at
        asset.duration_s = signed.duration_s
        self._touched.add(signed.asset_id)
        blocked = s.get(AssetRecord, blocked_render_id(signed.generation_id))
        if blocked is not None:
            s.delete(blocked)
            self._touched.add(blocked.asset_id)

    @handles(AssetPublished)
    def _published(self, s: Session, event: RecordedEvent) -> None:
        asset = self._asset(s, event.payload_as(AssetPublished).asset_id)
        asset.published_at = event.occurred_at

    # ------------------------------------------------------------------ asset stream
    @handles(AssetVisibilityChanged)
    def _visibility(self, s: Session, event: RecordedEvent) -> None:
        fact: AssetVisibilityChanged = event.payload_as(AssetVisibilityChanged)
        # Kept on the generation: a cameo removal of a draft names no asset yet, and the
        # asset signed later joins its generation's state.
        generation = self._generation(s, fact.generation_id)
        generation.holds = [h.model_dump(mode="json") for h in fact.holds]
        generation.visibility = fact.visibility.value
        generation.timeline = [
            *generation.timeline,
            {
                "event": event.type,
                "at": event.occurred_at.isoformat(),
                "change": fact.change,
                "hold": fact.hold.key,
                "kind": fact.hold.kind.value,
                "reason": fact.hold.reason,
                "visibility": fact.visibility.value,
            },
        ]
        self._touched_generations.add(fact.generation_id)

    # ------------------------------------------------------------------ enforcement stream
    @handles(EnforcementActionTaken)
    def _action(self, s: Session, event: RecordedEvent) -> None:
        action: EnforcementActionTaken = event.payload_as(EnforcementActionTaken)
        if action.target_kind is TargetKind.ASSET:
            asset = self._asset(s, action.target_id)
            entry = {
                "action_id": action.action_id,
                "kind": action.kind.value,
                "category": action.statement_category,
                "puid": action.puid,
                "taken_at": event.occurred_at.isoformat(),
                "reversed_at": None,
            }
            asset.enforcement = [*asset.enforcement, entry]
        elif s.get(AccountAction, action.action_id) is None:
            s.add(
                AccountAction(
                    action_id=action.action_id,
                    account_id=action.affected_user_id,
                    kind=action.kind.value,
                    category=action.statement_category,
                    taken_at=event.occurred_at,
                    puid=action.puid,
                )
            )

    @handles(EnforcementReversed)
    def _reversed(self, s: Session, event: RecordedEvent) -> None:
        reversal: EnforcementReversed = event.payload_as(EnforcementReversed)
        if reversal.target_kind is TargetKind.ASSET:
            asset = self._asset(s, reversal.target_id)
            asset.enforcement = [
                {**e, "reversed_at": event.occurred_at.isoformat()}
                if e["action_id"] == reversal.action_id
                else e
                for e in asset.enforcement
            ]
        else:
            row = s.get(AccountAction, reversal.action_id)
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
            engine.forget(touched - {state.asset_id for state in states})
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


def blocked_render_id(generation_id: str) -> str:
    """The record of a render output moderation blocked (it has no asset id of its own)."""
    return f"blocked-render-{generation_id}"


def asset_states(s: Session, asset_ids: set[str] | None) -> list[AssetState]:
    """Desired index state of assets (all when ``asset_ids`` is None), from the read model."""
    stmt = select(AssetRecord)
    if asset_ids is not None:
        if not asset_ids:
            return []
        stmt = stmt.where(AssetRecord.asset_id.in_(asset_ids))
    stmt = stmt.order_by(AssetRecord.asset_id)
    return [AssetState(asset.asset_id, asset.blob_address) for asset in s.scalars(stmt)]


def make_indexer(services: Any) -> ReverseSearchIndexer:
    indexer = ReverseSearchIndexer(services)
    # Before the first migration there is nothing to reconcile with.
    if inspect(services.engine).has_table(AssetRecord.__tablename__):
        indexer.reconcile()
    return indexer
