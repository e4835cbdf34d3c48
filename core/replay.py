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
from core.events import RecordedEvent
from core.projections import (
    Projection,
    StreamTracking,
    forget_tracking,
    load_tracking,
    track_everything_up_to,
)
from core.services import Services


def rebuild(
    projection: Projection,
    services: Services,
    *,
    progress: bool = True,
    out: Callable[[str], None] = print,
) -> int:
    """Drop the projection's state and replay it from the event store, in one transaction.

    The rebuild locks the consumer's watermark row for the whole transaction, so a live worker
    of the same projection waits, then finds everything up to the store's head applied.
    """
    name = projection.name
    applied = 0
    with transaction(services.sessions) as s:
        load_tracking(s, name, (), lock=True)
        projection.reset(s)
        forget_tracking(s, name)
        head = services.store.head_position(session=s)
        total = services.store.count(projection.categories, session=s)
        bar = tqdm(total=total, desc=f"rebuild {name}", unit="ev", disable=not progress)
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
        track_everything_up_to(s, name, projection.categories, head)
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
    """The events the live projection has applied, by its tracking."""
    with services.read_sessions() as s:
        tracking = load_tracking(s, projection.name, (), lock=False)
        tracking.versions = dict(
            s.execute(
                select(StreamTracking.stream_id, StreamTracking.version).where(
                    StreamTracking.consumer == projection.name
                )
            ).all()
        )
    return [
        e for e in services.store.iter_all(categories=projection.categories) if tracking.applied(e)
    ]


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
