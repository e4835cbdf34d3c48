"""Rebuilding projections by replay, and checking that a rebuild equals the live state.

:func:`rebuild` drops one projection's state and replays it from the store in one transaction.

:func:`replay_check` proves that each live projection equals a replay of the store, and it can
fail. It compares at one store position P, the store's head when it starts, so that lag is
never taken for divergence:

1. It waits (``wait_s``, bounded) until each projection has applied every event of its
   categories at or below P, by its tracking. One that has not by then is BEHIND: lag, said
   plainly and not compared (a worker is not running, or is slow).
2. It reads the projection's live tables and its live tracking in one read transaction, a
   snapshot (REPEATABLE READ on PostgreSQL, a WAL read transaction on SQLite).
3. It replays into a scratch database every event of the projection's categories at or below
   P, plus every later one that the snapshot's tracking says is applied: exactly what the live
   tables must reflect. An event the live side lost (tracked as applied, its effect missing) is
   therefore a difference.
4. It compares table by table, by primary key, and counts every row that differs (only live,
   only rebuilt, changed); a few examples are kept for printing. State a projection keeps
   outside the database is compared by the projection itself: it may define
   ``replay_diffs(live_services, *, max_examples) -> list[ReplayDiff]``, called on the scratch
   projection after its replay (the reverse-search indexer compares its FAISS index).

The scratch projections get scratch services (their own database and data directory) whose
``replay_source`` is the live services (:func:`replay_source`): a projection that reads inputs
from outside the event log (the reverse-search indexer reads signed videos from the blob store)
reads the live inputs, read-only, and keeps its own state in the scratch directory.

Processors keep no read model: they are not checked, and are listed as skipped.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tqdm import tqdm

from core.db import transaction
from core.events import RecordedEvent
from core.projections import (
    ConsumerWatermark,
    Projection,
    StreamTracking,
    Tracking,
    forget_tracking,
    load_tracking,
    track_everything_up_to,
)
from core.services import Services
from core.store import StoredEvent

IDENTICAL, DIFFERENT, BEHIND = "identical", "DIFFERENT", "BEHIND"
_EXAMPLE_CHARS = 400
_BATCH = 1000


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


def replay_source(services: Services) -> Services | None:
    """The live services that ``services`` replays for a replay-check, or None when
    ``services`` are live ones."""
    return services.replay_source


# -- comparing tables --------------------------------------------------------------------------


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # PostgreSQL: aware, in the session's time zone
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat()  # SQLite: naive UTC
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
    """One reason a replay-check did not pass: a table (or a part kept outside the database,
    such as a FAISS index) that differs, with full counts and a few examples; or, with
    ``behind`` set, a projection that had not applied the store up to the check's position."""

    projection: str
    table: str
    only_live: int = 0  # rows (by primary key) only the live side has
    only_rebuilt: int = 0  # rows only the replay has
    changed: int = 0  # rows both sides have, with different values
    unreadable: int = 0  # inputs the replay could not read (a blob), so nothing to compare
    examples: list[str] = field(default_factory=list)  # at most max_examples, for printing
    behind: str | None = None

    @property
    def state(self) -> str:
        return BEHIND if self.behind is not None else DIFFERENT

    @property
    def count(self) -> int:
        return self.only_live + self.only_rebuilt + self.changed + self.unreadable

    def summary(self) -> str:
        if self.behind is not None:
            return f"BEHIND {self.projection}: {self.behind}"
        parts = [
            f"{self.only_live} row(s) only live",
            f"{self.only_rebuilt} only rebuilt",
            f"{self.changed} changed",
        ]
        if self.unreadable:
            parts.append(f"{self.unreadable} unreadable")
        return f"DIFF {self.projection}.{self.table}: " + ", ".join(parts)


@dataclass
class ProjectionCheck:
    """The outcome for one projection."""

    projection: str
    state: str
    watermark: int
    replayed: int = 0  # events replayed into the scratch database
    beyond: int = 0  # of which after the check's position (the live side had applied them)
    replay_failures: list[str] = field(default_factory=list)  # handler errors in the replay
    diffs: list[ReplayDiff] = field(default_factory=list)


class ReplayReport(list[ReplayDiff]):
    """Every difference found (empty iff every projection checked is identical), with the
    check's store position, each projection's outcome and the consumers not checked."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position
        self.checks: dict[str, ProjectionCheck] = {}
        self.skipped: list[str] = []

    @property
    def state(self) -> str:
        if any(d.behind is None for d in self):
            return DIFFERENT
        return BEHIND if self else IDENTICAL

    def projections_in(self, state: str) -> list[str]:
        return [name for name, check in self.checks.items() if check.state == state]


def _clip(text: str) -> str:
    return text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 1] + "…"


def interleave(groups: Sequence[Sequence[str]], limit: int) -> list[str]:
    """At most ``limit`` lines, taken in turn from each group (so every kind shows)."""
    out: list[str] = []
    for i in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if i < len(group) and len(out) < limit:
                out.append(_clip(group[i]))
    return out


def diff_rows(
    projection: str,
    table: Table,
    live: Sequence[tuple[Any, ...]],
    rebuilt: Sequence[tuple[Any, ...]],
    max_examples: int = 5,
) -> ReplayDiff | None:
    """Compare two sides of one table by primary key (whole rows without one); None if equal."""
    columns = [c.name for c in table.columns]
    pk = [i for i, c in enumerate(table.columns) if c.primary_key]
    if not pk:
        a, b = Counter(live), Counter(rebuilt)
        only_a, only_b = a - b, b - a
        if not only_a and not only_b:
            return None
        return ReplayDiff(
            projection,
            table.name,
            only_live=sum(only_a.values()),
            only_rebuilt=sum(only_b.values()),
            examples=interleave(
                [
                    [f"only live: {row}" for row in sorted(only_a, key=repr)[:max_examples]],
                    [f"only rebuilt: {row}" for row in sorted(only_b, key=repr)[:max_examples]],
                ],
                max_examples,
            ),
        )

    def key_of(row: tuple[Any, ...]) -> Any:
        key = tuple(row[i] for i in pk)
        return key[0] if len(key) == 1 else key

    by_live = {key_of(r): r for r in live}
    by_rebuilt = {key_of(r): r for r in rebuilt}
    only_live = sorted(by_live.keys() - by_rebuilt.keys(), key=repr)
    only_rebuilt = sorted(by_rebuilt.keys() - by_live.keys(), key=repr)
    changed = sorted(
        (k for k in by_live.keys() & by_rebuilt.keys() if by_live[k] != by_rebuilt[k]), key=repr
    )
    if not (only_live or only_rebuilt or changed):
        return None

    def change(key: Any) -> str:
        a, b = by_live[key], by_rebuilt[key]
        cols = [
            f"{columns[i]}: live {a[i]!r}, rebuilt {b[i]!r}" for i in range(len(a)) if a[i] != b[i]
        ]
        return f"changed {key!r}: " + "; ".join(cols)

    return ReplayDiff(
        projection,
        table.name,
        only_live=len(only_live),
        only_rebuilt=len(only_rebuilt),
        changed=len(changed),
        examples=interleave(
            [
                [f"only live: {by_live[k]}" for k in only_live[:max_examples]],
                [f"only rebuilt: {by_rebuilt[k]}" for k in only_rebuilt[:max_examples]],
                [change(k) for k in changed[:max_examples]],
            ],
            max_examples,
        ),
    )


# -- where a live projection stands ------------------------------------------------------------


@dataclass
class _Standing:
    watermark: int
    unapplied: int  # events of its categories at or below the check's position not applied


def _standing(
    session: Session, consumer: str, categories: Sequence[str], position: int
) -> _Standing:
    watermark = int(
        session.scalar(
            select(ConsumerWatermark.position).where(ConsumerWatermark.consumer == consumer)
        )
        or 0
    )
    unapplied = int(
        session.scalar(
            select(func.count())
            .select_from(StoredEvent)
            .outerjoin(
                StreamTracking,
                and_(
                    StreamTracking.consumer == consumer,
                    StreamTracking.stream_id == StoredEvent.stream_id,
                ),
            )
            .where(
                StoredEvent.category.in_(list(categories)),
                StoredEvent.position > watermark,
                StoredEvent.position <= position,
                or_(
                    StreamTracking.version.is_(None),
                    StoredEvent.version > StreamTracking.version,
                ),
            )
        )
        or 0
    )
    return _Standing(watermark, unapplied)


def _wait_until_applied(
    services: Services,
    projections: dict[str, Projection],
    position: int,
    wait_s: float,
    out: Callable[[str], None],
) -> dict[str, _Standing]:
    """Wait (at most ``wait_s``) until every projection has applied the store up to
    ``position``; returns where each stands then."""
    # The clock starts once the first standing is known: on a loaded machine reading it can
    # itself take longer than ``wait_s``, and the wait promised is a wait for the workers.
    start: float | None = None
    deadline = next_line = 0.0
    while True:
        with services.read_sessions() as s:
            standing = {
                key: _standing(s, p.name, p.categories, position) for key, p in projections.items()
            }
        behind = {key: st for key, st in standing.items() if st.unapplied}
        now = time.monotonic()
        if not behind or wait_s <= 0:
            return standing
        if start is None:
            start = next_line = now
            deadline = now + wait_s
        elif now >= deadline:
            return standing
        if now >= next_line:
            out(
                f"waiting up to {wait_s:g} s for {len(behind)} projection(s) to apply the store "
                f"up to position {position}: "
                + ", ".join(f"{k} ({st.unapplied} to go)" for k, st in sorted(behind.items()))
                + f" [{now - start:.0f} s]"
            )
            next_line = now + 5.0
        time.sleep(min(0.2, max(0.0, deadline - now)))


# -- one projection ----------------------------------------------------------------------------


@dataclass
class _Live:
    tracking: Tracking
    head: int  # the store's head in the snapshot
    rows: dict[str, list[tuple[Any, ...]]]


@contextmanager
def _snapshot(services: Services) -> Iterator[Session]:
    """One read transaction that sees one state of the database throughout."""
    engine = services.read_engine or services.engine
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        session = Session(bind=conn)
        try:
            with session.begin():
                yield session
        finally:
            session.close()


def _read_live(services: Services, projection: Projection) -> _Live:
    name = projection.name
    with _snapshot(services) as s:
        watermark = int(
            s.scalar(select(ConsumerWatermark.position).where(ConsumerWatermark.consumer == name))
            or 0
        )
        versions = {
            str(sid): int(v)
            for sid, v in s.execute(
                select(StreamTracking.stream_id, StreamTracking.version).where(
                    StreamTracking.consumer == name
                )
            )
        }
        head = services.store.head_position(session=s)
        rows = {table.name: table_rows(s, table) for table in projection.tables}
    return _Live(Tracking(name, watermark, versions), head, rows)


def _apply_batch(
    scratch: Services, projection: Projection, events: Sequence[RecordedEvent], failures: list[str]
) -> None:
    try:
        with transaction(scratch.sessions) as s:
            for event in events:
                projection.apply(s, event)
    except Exception:
        # As the live runner does: redo event by event, and note the events that fail.
        with transaction(scratch.sessions) as s:
            for event in events:
                try:
                    with s.begin_nested():
                        projection.apply(s, event)
                except Exception as exc:
                    failures.append(f"{event.type} at position {event.position}: {exc}")
    projection.after_commit()


def _check(
    key: str,
    projection: Projection,
    services: Services,
    scratch: Services,
    position: int,
    watermark: int,
    *,
    progress: bool,
    max_examples: int,
) -> ProjectionCheck:
    tables = list(projection.tables)
    for table in reversed(tables):
        table.drop(scratch.engine, checkfirst=True)
    for table in tables:
        table.create(scratch.engine)
    with transaction(scratch.sessions) as s:
        projection.reset(s)  # state kept outside the database, too (a FAISS index)
    projection.after_commit()

    live = _read_live(services, projection)
    check = ProjectionCheck(key, IDENTICAL, live.tracking.watermark or watermark)
    covered = (
        e
        for e in services.store.iter_all(
            categories=projection.categories, up_to_position=max(position, live.head)
        )
        if e.position <= position or live.tracking.applied(e)
    )
    batch: list[RecordedEvent] = []
    for event in tqdm(covered, desc=f"replay {key}", unit="ev", disable=not progress):
        batch.append(event)
        check.replayed += 1
        check.beyond += event.position > position
        if len(batch) >= _BATCH:
            _apply_batch(scratch, projection, batch, check.replay_failures)
            batch = []
    if batch:
        _apply_batch(scratch, projection, batch, check.replay_failures)

    with scratch.read_sessions() as rebuilt:
        for table in tables:
            diff = diff_rows(
                key, table, live.rows[table.name], table_rows(rebuilt, table), max_examples
            )
            if diff is not None:
                check.diffs.append(diff)
    outside = getattr(projection, "replay_diffs", None)
    if callable(outside):
        for diff in outside(services, max_examples=max_examples):
            diff.projection = key
            check.diffs.append(diff)
    if check.diffs:
        check.state = DIFFERENT
    return check


def _same_database(a: str, b: str) -> bool:
    try:
        ua, ub = make_url(a), make_url(b)
    except Exception:
        return a == b
    if ua.get_backend_name() == "sqlite" and ub.get_backend_name() == "sqlite":
        return (
            bool(ua.database)
            and Path(ua.database or "").resolve() == Path(ub.database or "").resolve()
        )
    return (ua.host, ua.port, ua.database) == (ub.host, ub.port, ub.database)


def replay_check(
    services: Services,
    factories: dict[str, Callable[[Services], Any]],
    scratch_url: str | None = None,
    *,
    progress: bool = True,
    out: Callable[[str], None] = print,
    wait_s: float = 60.0,
    max_examples: int = 5,
    skipped: Iterable[str] = (),
) -> ReplayReport:
    """Replay every projection of ``factories`` into a scratch database at one store position
    and diff it against the live one (see the module docstring).

    Returns a :class:`ReplayReport`, a list of :class:`ReplayDiff` that is empty iff every
    projection is identical. ``skipped`` names consumers that are not checked (processors),
    listed in the output; factories that build processors are skipped the same way.
    """
    if scratch_url and _same_database(scratch_url, services.settings.effective_database_url):
        raise ValueError("the scratch database must not be the live one")
    position = services.store.head_position()
    report = ReplayReport(position)
    tmp = tempfile.TemporaryDirectory(prefix="clearframe-replay-")
    scratch_url = scratch_url or f"sqlite:///{Path(tmp.name) / 'scratch.db'}"
    scratch_settings = services.settings.model_copy(
        update={"database_url": scratch_url, "data_dir": Path(tmp.name) / "data"}
    )
    scratch = Services.from_settings(scratch_settings)
    scratch.replay_source = services
    try:
        projections: dict[str, Projection] = {}
        for key, factory in sorted(factories.items()):
            consumer = factory(scratch)
            if isinstance(consumer, Projection):
                projections[key] = consumer
            else:
                report.skipped.append(key)
        report.skipped = sorted({*report.skipped, *skipped} - set(projections))
        standing = _wait_until_applied(services, projections, position, wait_s, out)
        for key, projection in projections.items():
            st = standing[key]
            if st.unapplied:
                message = (
                    f"projection {key} is behind the store: watermark {st.watermark} < "
                    f"{position}, {st.unapplied} of its event(s) at or below position "
                    f"{position} not applied after {wait_s:g} s; start its worker "
                    f"(`clearframe worker {key}`) or run `clearframe rebuild {key}`"
                )
                diff = ReplayDiff(key, "", behind=message)
                report.checks[key] = ProjectionCheck(key, BEHIND, st.watermark, diffs=[diff])
                report.append(diff)
                out(f"{key}: BEHIND, not compared (watermark {st.watermark} < {position})")
                continue
            check = _check(
                key,
                projection,
                services,
                scratch,
                position,
                st.watermark,
                progress=progress,
                max_examples=max_examples,
            )
            report.checks[key] = check
            report.extend(check.diffs)
            later = f" (and {check.beyond} later one(s) it had applied)" if check.beyond else ""
            out(
                f"{key}: {check.replayed} event(s) replayed at position {position}{later}, "
                f"{check.state}"
            )
            for failure in check.replay_failures[:max_examples]:
                out(f"  replay error (the live side dead-letters these too): {failure}")
        if report.skipped:
            out("not checked (processors keep no read model): " + ", ".join(report.skipped))
    finally:
        scratch.close()
        tmp.cleanup()
    return report
