"""replay-check can fail: every projection's divergence is caught and counted in full, lag is
reported as BEHIND (not as a difference), events the live side lost are differences, and an
in-sync system is identical. Real SQLite and PostgreSQL, the real pipeline behind the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Enum, Table, delete, func, select, update

from contracts.generation import GENERATION_CATEGORIES
from core.app import create_app
from core.cli import EXIT_BEHIND, main
from core.modules import all_processors, all_projections
from core.projections import ConsumerWatermark, Runner, make_runner
from core.replay import BEHIND, DIFFERENT, IDENTICAL, ReplayReport, rebuild, replay_check
from core.services import Services
from core.settings import Settings
from reverse_search.engine import engine_for
from tests.core.fixtures import CounterAdded, CounterOpened, CounterProjection, test_metadata
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal
from tests.utils.enrolment import register_cameo
from trust_safety.optout.projection import OptOutRegistry

INDEXER = "reverse-search-indexer"
PROMPTS = ["a paper boat drifting down a rainy street", "a red kite over green hills"]
REFUSED = "captain comet flying over the harbour"
REMOVE = {
    "kind": "remove_asset",
    "category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "ground_reference": "Terms of Service 4.2 (likeness)",
    "ground_explanation": "Uses the likeness of a real person without their consent.",
    "facts": "The face at 0:03 matches a person who did not consent to appear.",
}
LABEL = {**REMOVE, "kind": "label_asset", "label_text": "Made with AI; shows a real person"}


def quiet(_line: str) -> None:
    pass


def check(services: Services, **kwargs: Any) -> ReplayReport:
    kwargs.setdefault("wait_s", 5.0)
    return replay_check(
        services,
        all_projections(),
        progress=False,
        out=quiet,
        skipped=sorted(all_processors()),
        **kwargs,
    )


def populate(services: Services) -> None:
    """Rows in every projection, made through the API and the real workers: two opt-outs, a
    cameo, follows, two generations that are published and one refused by the opt-out, a
    report on each published asset, an enforcement action on each (a removal, a label), an
    appeal of each, two outputs output moderation blocked, and two hash banks."""
    with TestClient(create_app(services), raise_server_exceptions=True) as c:
        maker, mh = make_principal(services, "user", name="Maker")
        fan, fh = make_principal(services, "user", name="Fan")
        _, holder = make_principal(services, "rights_holder", name="Studio")
        _, rev_a = make_principal(services, "reviewer", name="Reviewer A")
        make_principal(services, "reviewer", name="Reviewer B")  # takes the appeals
        for work, character in (("Captain Comet Adventures", "Captain Comet"), ("Moon", "Luna")):
            r = c.post(
                "/v1/optouts",
                headers=holder,
                json={
                    "rights_holder_name": "Comet Studios",
                    "terms": {"works": [work], "characters": [character]},
                    "scopes": ["prompts"],
                    "territories": ["*"],
                },
            )
            assert r.status_code == 201, r.text
        # Two hash banks with hashes no harmless output is near (flag only).
        _, admin = make_principal(services, "admin", name="Admin")
        for n in (1, 2):
            r = c.post(
                "/v1/hash-banks",
                headers=admin,
                json={"bank_id": f"bank-{n}", "name": f"Bank {n}", "category": "spam_media",
                      "action": "flag"},  # fmt: skip
            )
            assert r.status_code == 201, r.text
            r = c.post(
                f"/v1/hash-banks/bank-{n}/hashes",
                headers=admin,
                json={"entries": [{"signal_type": "pdq", "signal": f"{n:x}{k:x}" * 32}
                                  for k in (3, 5)]},  # fmt: skip
            )
            assert r.status_code == 200, r.text
        register_cameo(c, mh, "maker", audience="approved_people")  # from a real capture
        for who, whom in ((fh, maker), (mh, fan)):
            r = c.post("/v1/feed/follows", headers=who, json={"followee_id": whom})
            assert r.status_code == 204, r.text
        for prompt in [*PROMPTS, REFUSED]:
            r = c.post(
                "/v1/generations",
                headers=mh,
                json={"prompt": prompt, "duration_s": 1, "resolution": "360p", "fps": 8, "seed": 7},
            )
            assert r.status_code == 202, r.text
        drain(services)
        assets = [i["asset_id"] for i in c.get("/v1/feed/recent", headers=fh).json()["items"]]
        assert len(assets) == len(PROMPTS), [
            (e.stream_id, e.type) for e in services.store.iter_all(categories=GENERATION_CATEGORIES)
        ]
        for asset, action in zip(assets, (REMOVE, LABEL), strict=True):
            filed = c.post(
                "/v1/reports",
                headers=fh,
                json={
                    "target": {"kind": "asset", "id": asset},
                    "category": "hate_speech",
                    "explanation": "Shows a real person in a degrading scene",
                    "good_faith": True,
                },
            )
            assert filed.status_code == 201, filed.text
            case_id = filed.json()["case_id"]
            drain(services)
            assert c.post(f"/v1/cases/{case_id}/claim", headers=rev_a).status_code == 200
            acted = c.post(f"/v1/cases/{case_id}/actions", headers=rev_a, json=action)
            assert acted.status_code == 201, acted.text
            appeal = c.post(
                "/v1/appeals",
                headers=mh,
                json={"decision_id": acted.json()["action_id"], "statement": "It is me."},
            )
            assert appeal.status_code == 201, appeal.text
        # What output moderation records of a block (the shipped classifiers pass these
        # harmless prompts, so the blocked outputs' read model is fed its record directly),
        # on a master that was really rendered.
        master = next(
            e.payload["master_blob"]
            for e in services.store.iter_all(categories=("output",))
            if e.type == "OutputModerated"
        )
        for n, score in ((1, 0.91), (2, 0.97)):
            verdict = {"category": "sexual", "outcome": "block", "max_score": score,
                       "threshold": 0.5, "worst_frame_s": 0.5}  # fmt: skip
            blocked = ce.output_moderated(
                f"g-blocked-{n}",
                "block",
                blocked_categories=["sexual"],
                verdicts=[verdict],
                master_blob=master,
            )
            ce.append(services, blocked)
        drain(services)


# -- divergence ---------------------------------------------------------------------------------


def _simple(column: Any) -> type | None:
    if column.primary_key or column.foreign_keys:
        return None
    if isinstance(column.type, Enum):
        return None
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    return kind if kind in (bool, int, float, str, datetime) else None


def _other(kind: type, value: Any) -> Any:
    if kind is bool:
        return not value
    if kind is int:
        return (value or 0) + 1_000_003
    if kind is float:
        return (value or 0.0) + 1.5
    if kind is datetime:
        return (value or datetime(2020, 1, 1, tzinfo=UTC)) + timedelta(seconds=1)
    if not value:
        return "x"
    return value[:-1] + ("~" if value[-1] != "~" else "^")


def diverge(services: Services, tables: tuple[Table, ...]) -> str:
    """In the first table with two rows or more: change one row, delete another, by hand."""
    with services.sessions() as s, s.begin():
        for table in tables:
            pk = list(table.primary_key.columns)
            rows = s.execute(select(table).order_by(*pk).limit(2)).all()
            if len(rows) < 2:
                continue
            changed, deleted = rows[0]._mapping, rows[1]._mapping
            # a plain column if there is one, else an indexed one, else a unique one
            column = min(
                (c for c in table.columns if _simple(c) is not None),
                key=lambda c: (bool(c.unique), bool(c.index)),
            )
            kind = _simple(column)
            assert kind is not None
            s.execute(
                update(table)
                .where(*(c == changed[c.name] for c in pk))
                .values({column.name: _other(kind, changed[column.name])})
            )
            s.execute(delete(table).where(*(c == deleted[c.name] for c in pk)))
            return table.name
    raise AssertionError(f"no table of {[t.name for t in tables]} has two rows: extend populate()")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def populated(
    request: pytest.FixtureRequest,
    make_services: Callable[..., Services],
    monkeypatch: pytest.MonkeyPatch,
) -> Services:
    monkeypatch.setenv("CLEARFRAME_RS_SNAPSHOT_INTERVAL_S", "0")
    services = make_services(request.param)
    populate(services)
    return services


def test_each_projection_that_diverges_is_caught_with_its_full_count(populated: Services) -> None:
    services = populated
    factories = all_projections()
    report = check(services)
    assert report == [] and report.state == IDENTICAL, [d.summary() for d in report]
    assert sorted(report.checks) == sorted(factories)
    assert report.skipped == sorted(all_processors())
    assert all(c.replayed > 0 for c in report.checks.values()), "a projection saw no events"

    for name, factory in sorted(factories.items()):
        projection = factory(services)
        table = diverge(services, projection.tables)
        expected = [(name, table, 0, 1, 1)]
        if name == INDEXER:
            # ... and one asset taken out of the live FAISS index
            engine = engine_for(services)
            with engine.lock:
                assert engine.index.remove(sorted(engine.index.active_asset_ids())[0])
            expected.append((name, "faiss-index", 0, 0, 1))
        report = check(services)
        found = [(d.projection, d.table, d.only_live, d.only_rebuilt, d.changed) for d in report]
        assert sorted(found) == sorted(expected), [d.summary() for d in report]
        assert report.state == DIFFERENT and report.projections_in(DIFFERENT) == [name]
        assert all(d.examples for d in report)
        # an operator repairs it by rebuilding; then it is identical again
        rebuild(projection, services, progress=False, out=quiet)
        assert replay_check(services, {name: factory}, progress=False, out=quiet) == [], name
    assert check(services) == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    return make_services(request.param)


def test_a_projection_with_unapplied_events_is_behind_not_different(fresh: Services) -> None:
    services = fresh
    with TestClient(create_app(services)) as c:
        _, headers = make_principal(services, "user", name="Late")
        r = c.post(
            "/v1/generations",
            headers=headers,
            json={"prompt": "a lighthouse in the fog", "duration_s": 1, "resolution": "360p"},
        )
        assert r.status_code == 202, r.text
    lines: list[str] = []
    report = replay_check(services, all_projections(), progress=False, out=lines.append, wait_s=0.3)
    behind = report.projections_in(BEHIND)
    # the projections of the generation category have an event they have not applied: no worker
    # ran (embedded mode, nobody serving). That is lag, not a difference.
    assert "generation-requests" in behind and INDEXER in behind
    assert "cases-appeals" not in behind and report.checks["cases-appeals"].state == IDENTICAL
    assert report.state == BEHIND and all(d.behind for d in report)
    assert not report.projections_in(DIFFERENT)
    assert any(line.startswith("waiting up to 0.3 s") for line in lines)
    message = next(d.behind for d in report if d.projection == "generation-requests")
    assert message is not None and "is behind the store: watermark 0 < " in message
    assert "clearframe rebuild generation-requests" in message
    drain(services, sorted(all_projections()))  # their workers run: identical
    assert check(services) == []


# -- the counter projection: precise control over what the live side applied -------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def counters_svc(
    request: pytest.FixtureRequest, make_services: Callable[..., Services]
) -> Iterator[Services]:
    services = make_services(request.param)
    test_metadata.create_all(services.engine)
    yield services
    test_metadata.drop_all(services.engine)


def seed_counters(services: Services, streams: int, adds: int) -> None:
    from core.events import Actor

    actor = Actor(id="alice", role="user")
    for n in range(streams):
        sid = f"tcounter-c{n}-{services.store.head_position()}"
        services.store.append(sid, [CounterOpened(label="l")], expected_version=0, actor=actor)
        for i in range(adds):
            services.store.append(
                sid, [CounterAdded(amount=i + 1)], expected_version=i + 1, actor=actor
            )


def counter_runner(services: Services) -> Runner:
    return make_runner(CounterProjection(), services)


COUNTERS = {"test-counters": lambda _services: CounterProjection()}


def test_events_the_live_side_lost_are_counted_in_full(counters_svc: Services) -> None:
    services = counters_svc
    seed_counters(services, streams=3, adds=1)
    counter_runner(services).run_until_idle(idle_s=0.05)
    assert replay_check(services, COUNTERS, progress=False, out=quiet) == []
    # 136 more streams whose events the live side never applied, although its watermark says
    # it did (what a lost delivery looked like before): each one is a row only the replay has
    seed_counters(services, streams=136, adds=0)
    with services.sessions() as s, s.begin():
        s.execute(
            update(ConsumerWatermark)
            .where(ConsumerWatermark.consumer == "test-counters")
            .values(position=services.store.head_position(session=s))
        )
    report = replay_check(services, COUNTERS, progress=False, out=quiet, max_examples=4)
    assert [(d.table, d.only_live, d.only_rebuilt, d.changed) for d in report] == [
        ("test_counters", 0, 136, 0)
    ]
    assert len(report[0].examples) == 4 and report.state == DIFFERENT


def test_events_applied_past_the_check_position_are_replayed_too(counters_svc: Services) -> None:
    """The live side moves on while the check waits: what it applied past the check's position
    is in the replay as well, so moving on is not a difference."""
    services = counters_svc
    seed_counters(services, streams=2, adds=2)
    first = services.store.head_position()
    live = counter_runner(services)
    moved: list[int] = []

    def progress_line(line: str) -> None:
        if line.startswith("waiting") and not moved:
            seed_counters(services, streams=2, adds=1)  # past the check's position
            live.run_until_idle(idle_s=0.05)  # the worker catches up with all of it
            moved.append(services.store.head_position())

    report = replay_check(services, COUNTERS, progress=False, out=progress_line, wait_s=10)
    assert moved and moved[0] > first
    assert report == [] and report.position == first
    outcome = report.checks["test-counters"]
    assert outcome.beyond == moved[0] - first and outcome.replayed == moved[0]


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CLEARFRAME_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLEARFRAME_KAFKA_BOOTSTRAP", raising=False)
    assert main(["migrate"]) == 0
    services = Services.from_settings(Settings())
    yield services
    services.close()


def test_the_command_prints_full_counts_and_exits_1_on_a_difference_3_when_behind(
    cli_env: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    services = cli_env
    with TestClient(create_app(services)) as c:
        _, holder = make_principal(services, "rights_holder", name="Studio")
        for n in range(30):
            r = c.post(
                "/v1/optouts",
                headers=holder,
                json={
                    "rights_holder_name": "Comet Studios",
                    "terms": {"characters": [f"Captain Comet {n}"]},
                    "scopes": ["prompts"],
                    "territories": ["*"],
                },
            )
            assert r.status_code == 201, r.text
    capsys.readouterr()
    argv = ["replay-check", "--no-progress", "--wait-s", "0.2"]
    assert main(argv) == EXIT_BEHIND
    out, err = capsys.readouterr()
    assert "BEHIND: optout-registry" in out
    assert "projection optout-registry is behind the store: watermark 0 <" in err
    assert "not checked (processors keep no read model): asset-visibility" in out

    drain(services)
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    assert f"{len(all_projections())} projection(s) identical" in out

    with services.sessions() as s, s.begin():
        entries = next(t for t in OptOutRegistry.tables if t.name == "optout_entries")
        assert s.scalar(select(func.count()).select_from(entries)) == 30
        s.execute(delete(entries))
    assert main([*argv, "--only", "optout-registry", "--examples", "2"]) == 1
    out, err = capsys.readouterr()
    assert f"DIFF optout-registry.{entries.name}: 0 row(s) only live, 30 only rebuilt" in err
    assert err.count("  only rebuilt: ") == 2
    assert "replay-check at store position" in out and "DIFFERENT: optout-registry (30" in out
