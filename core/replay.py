"""Rebuilding projections by replay, and checking that a rebuild equals the live state."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from core.db import transaction
from core.events import RecordedEvent, utcnow
from core.log import SQL_SOURCE
from core.projections import Checkpoint, Projection
from core.services import Services
from core.store import OutboxEntry, StoredEvent, row_to_event


def _published_events(
    session: Session, settings: Any, categories: Iterable[str]
) -> Iterable[tuple[RecordedEvent, str, int, int]]:
    # published rows always carry their partition and offset (set in the same UPDATE)
    """Events already in Kafka with where they landed: (event, topic, partition, offset)."""
    stmt = (
        select(StoredEvent, OutboxEntry.partition, OutboxEntry.offset)
        .join(OutboxEntry, OutboxEntry.position == StoredEvent.position)
        .where(OutboxEntry.published_at.is_not(None), StoredEvent.category.in_(list(categories)))
        .order_by(StoredEvent.position)
        .execution_options(yield_per=1000)
    )
    for row, partition, offset in session.execute(stmt):
        assert partition is not None and offset is not None
        yield row_to_event(row), settings.topic_for(row.category), partition, offset


def rebuild(
    projection: Projection,
    services: Services,
    *,
    progress: bool = True,
    out: Callable[[str], None] = print,
) -> int:
    """Drop the projection's state and replay it from the event store, in one transaction.

    Holding the checkpoint rows' lock for the whole transaction keeps a live worker of the
    same projection from interleaving with the rebuild; it resumes from the new checkpoint.
    """
    name = projection.name
    settings = services.settings
    applied = 0
    with transaction(services.sessions) as s:
        s.execute(select(Checkpoint).where(Checkpoint.consumer == name).with_for_update()).all()
        projection.reset(s)
        s.query(Checkpoint).filter(Checkpoint.consumer == name).delete()
        total = services.store.count(projection.categories, session=s)
        bar = tqdm(total=total, desc=f"rebuild {name}", unit="ev", disable=not progress)
        now = utcnow()
        if settings.uses_kafka:
            marks: dict[tuple[str, int], tuple[int, int]] = {}
            for event, topic, partition, offset in _published_events(
                s, settings, projection.categories
            ):
                projection.apply(s, event)
                prev = marks.get((topic, partition), (-1, 0))
                marks[(topic, partition)] = (max(prev[0], offset), max(prev[1], event.position))
                applied += 1
                bar.update(1)
            for (topic, partition), (offset, position) in marks.items():
                s.add(
                    Checkpoint(
                        consumer=name,
                        source=topic,
                        partition=partition,
                        offset=offset,
                        last_position=position,
                        updated_at=now,
                    )
                )
        else:
            head = services.store.head_position(session=s)
            after = 0
            while True:
                page = services.store.read_all(
                    after_position=after,
                    limit=1000,
                    categories=projection.categories,
                    up_to_position=head,
                    session=s,
                )
                if not page:
                    break
                for event in page:
                    projection.apply(s, event)
                after = page[-1].position
                applied += len(page)
                bar.update(len(page))
            s.add(
                Checkpoint(
                    consumer=name,
                    source=SQL_SOURCE,
                    partition=0,
                    offset=head,
                    last_position=head,
                    updated_at=now,
                )
            )
        bar.close()
    projection.after_commit()
    out(f"rebuilt {name}: {applied} events applied")
    return applied


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, float):
        return round(value, 9)
    return value


def table_rows(session: Session, table: Table) -> list[tuple[Any, ...]]:
    rows = [tuple(_normalise(v) for v in row) for row in session.execute(select(table))]
    return sorted(rows, key=repr)


@dataclass
class ReplayDiff:
    projection: str
    table: str
    only_live: list[tuple[Any, ...]] = field(default_factory=list)
    only_rebuilt: list[tuple[Any, ...]] = field(default_factory=list)


def _covered_events(services: Services, projection: Projection) -> Iterable[RecordedEvent]:
    """The events the live projection has applied, by its checkpoints."""
    with services.sessions() as s:
        cps = {
            (c.source, c.partition): c
            for c in s.scalars(select(Checkpoint).where(Checkpoint.consumer == projection.name))
        }
    if not services.settings.uses_kafka:
        cp = cps.get((SQL_SOURCE, 0))
        if cp is None:
            return []
        return list(
            services.store.iter_all(
                categories=projection.categories, up_to_position=cp.last_position
            )
        )
    with services.sessions() as s:
        covered = []
        for event, topic, partition, _offset in _published_events(
            s, services.settings, projection.categories
        ):
            cp = cps.get((topic, partition))
            if cp is not None and event.position <= cp.last_position:
                covered.append(event)
        return covered


def replay_check(
    services: Services,
    factories: dict[str, Callable[[Services], Any]],
    scratch_url: str | None = None,
    *,
    progress: bool = True,
    out: Callable[[str], None] = print,
) -> list[ReplayDiff]:
    """Rebuild every projection into a scratch database and diff it against the live one.

    The scratch projections are built with scratch services (their own database and data
    directory), so a projection that keeps files (the FAISS index) never touches live files.
    """
    tmp = tempfile.TemporaryDirectory(prefix="clearframe-replay-")
    scratch_url = scratch_url or f"sqlite:///{Path(tmp.name) / 'scratch.db'}"
    scratch_settings = services.settings.model_copy(
        update={"database_url": scratch_url, "data_dir": Path(tmp.name) / "data"}
    )
    scratch_services = Services.from_settings(scratch_settings)
    diffs: list[ReplayDiff] = []
    try:
        for name, factory in sorted(factories.items()):
            live_projection = factory(services)
            if not isinstance(live_projection, Projection):
                continue
            projection = factory(scratch_services)
            tables = list(projection.tables)
            for table in reversed(tables):
                table.drop(scratch_services.engine, checkfirst=True)
            for table in tables:
                table.create(scratch_services.engine)
            events = list(_covered_events(services, live_projection))
            with transaction(scratch_services.sessions) as s:
                for event in tqdm(events, desc=f"replay {name}", unit="ev", disable=not progress):
                    projection.apply(s, event)
            projection.after_commit()
            with services.sessions() as live, scratch_services.sessions() as rebuilt:
                for table in tables:
                    a, b = table_rows(live, table), table_rows(rebuilt, table)
                    if a != b:
                        sa, sb = set(a), set(b)
                        diffs.append(
                            ReplayDiff(
                                name,
                                table.name,
                                sorted(sa - sb, key=repr)[:20],
                                sorted(sb - sa, key=repr)[:20],
                            )
                        )
            same = not any(d.projection == name for d in diffs)
            out(f"{name}: {len(events)} events replayed, {'identical' if same else 'DIFFERENT'}")
    finally:
        scratch_services.close()
        tmp.cleanup()
    return diffs
