"""The event store contract, run against every adapter (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import make_session_factory, transaction
from core.errors import ConcurrencyConflict, ValidationFailed
from core.events import Actor, NewEvent
from core.privacy import ERASED, Keyring, PersonalDataUnreadable, attach_keyring, factory_keyring
from core.services import Services
from core.store import EventStore, OutboxEntry, StoredEvent
from tests.core.fixtures import CounterAdded, CounterOpened, NoteTaken

ALICE = Actor(id="alice", role="user")


def sid() -> str:
    return f"tcounter-{uuid.uuid4().hex}"


class EventStoreContract:
    """What any event store must do; subclasses only say how to build one."""

    backend: str
    group_commit: bool = True

    @pytest.fixture
    def svc(self, make_services: Callable[..., Services]) -> Services:
        return make_services(self.backend, group_commit=self.group_commit)

    def test_append_and_read_back(self, svc: Services) -> None:
        s = sid()
        recorded = svc.store.append(
            s, [CounterOpened(label="a"), CounterAdded(amount=2)], expected_version=0, actor=ALICE
        )
        assert [e.stream_version for e in recorded] == [1, 2]
        read = svc.store.read_stream(s)
        assert [e.event_id for e in read] == [e.event_id for e in recorded]
        assert read[1].decode() == CounterAdded(amount=2)
        assert read[0].actor == ALICE and read[0].occurred_at.tzinfo is not None
        assert read[1].correlation_id == read[0].correlation_id

    def test_expected_version_conflict_is_typed(self, svc: Services) -> None:
        s = sid()
        svc.store.append(s, [CounterOpened(label="a")], expected_version=0, actor=ALICE)
        with pytest.raises(ConcurrencyConflict) as err:
            svc.store.append(s, [CounterAdded(amount=1)], expected_version=0, actor=ALICE)
        assert err.value.status == 409 and err.value.extra["actual_version"] == 1
        svc.store.append(s, [CounterAdded(amount=1)], expected_version=None, actor=ALICE)
        assert svc.store.stream_version(s) == 2

    def test_retried_append_with_same_ids_is_a_noop(self, svc: Services) -> None:
        s = sid()
        batch = [NewEvent(CounterOpened(label="a")), NewEvent(CounterAdded(amount=5))]
        first = svc.store.append(s, batch, expected_version=0, actor=ALICE)
        again = svc.store.append(s, batch, expected_version=0, actor=ALICE)
        assert [e.position for e in again] == [e.position for e in first]
        assert svc.store.stream_version(s) == 2
        assert svc.store.head_position() == 2

    def test_wrong_category_and_bad_stream_ids_are_rejected(self, svc: Services) -> None:
        with pytest.raises(ValidationFailed):
            svc.store.append(
                "consent-x", [CounterOpened(label="a")], expected_version=0, actor=ALICE
            )
        with pytest.raises(ValidationFailed):
            svc.store.append(
                "no category here", [CounterOpened(label="a")], expected_version=0, actor=ALICE
            )
        with pytest.raises(ValidationFailed):
            svc.store.append(sid(), [], expected_version=0, actor=ALICE)
        assert svc.store.head_position() == 0

    def test_global_positions_are_gap_free_across_streams_and_failures(self, svc: Services) -> None:
        streams = [sid() for _ in range(3)]
        for s in streams:
            svc.store.append(s, [CounterOpened(label="x")], expected_version=0, actor=ALICE)
        with pytest.raises(ConcurrencyConflict):  # a failed append must not burn positions
            svc.store.append(streams[0], [CounterAdded(amount=1)], expected_version=7, actor=ALICE)
        for s in streams:
            svc.store.append(
                s, [CounterAdded(amount=1), CounterAdded(amount=2)], expected_version=1, actor=ALICE
            )
        positions = [e.position for e in svc.store.read_all(limit=100)]
        assert positions == list(range(1, 10))
        assert [e.position for e in svc.store.read_all(after_position=4, limit=2)] == [5, 6]
        cats = svc.store.read_all(categories=["tcounter"], limit=100)
        assert len(cats) == 9

    def test_outbox_row_written_with_each_event(self, svc: Services) -> None:
        svc.store.append(
            sid(),
            [CounterOpened(label="a"), CounterAdded(amount=1)],
            expected_version=0,
            actor=ALICE,
        )
        with svc.sessions() as s:
            outbox = s.scalars(select(OutboxEntry.position).order_by(OutboxEntry.position)).all()
            events = s.scalars(select(StoredEvent.position).order_by(StoredEvent.position)).all()
        assert outbox == events == [1, 2]

    def test_rolled_back_transaction_leaves_neither_event_nor_outbox(self, svc: Services) -> None:
        s_id = sid()
        with pytest.raises(RuntimeError), svc.sessions() as s, s.begin():
            svc.store.append(
                s_id, [CounterOpened(label="a")], expected_version=0, actor=ALICE, session=s
            )
            raise RuntimeError("caller fails after appending")
        with svc.sessions() as s:
            assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        assert svc.store.read_stream(s_id) == []

    def test_concurrent_appends_never_both_succeed_at_one_version(self, svc: Services) -> None:
        s = sid()
        svc.store.append(s, [CounterOpened(label="a")], expected_version=0, actor=ALICE)
        results: list[str] = []
        barrier = threading.Barrier(6)

        def contender(i: int) -> None:
            barrier.wait()
            try:
                svc.store.append(s, [CounterAdded(amount=i)], expected_version=1, actor=ALICE)
                results.append("ok")
            except ConcurrencyConflict:
                results.append("conflict")

        threads = [threading.Thread(target=contender, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["conflict"] * 5 + ["ok"]
        assert [e.stream_version for e in svc.store.read_stream(s)] == [1, 2]
        assert [e.position for e in svc.store.read_all(limit=10)] == [1, 2]

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(st.lists(st.integers(min_value=0, max_value=3), min_size=2, max_size=6))
    def test_property_racing_writers_with_stale_versions(
        self, svc: Services, expectations: list[int]
    ) -> None:
        # Writers racing with arbitrary expected versions: exactly those whose expectation was
        # current at their turn succeed, versions stay 1..n, positions stay gap-free.
        s = sid()
        outcomes: list[int] = []
        lock = threading.Lock()

        def writer(expected: int) -> None:
            try:
                recorded = svc.store.append(
                    s,
                    [CounterAdded(amount=1)] if expected else [CounterOpened(label="p")],
                    expected_version=expected,
                    actor=ALICE,
                )
                with lock:
                    outcomes.append(recorded[0].stream_version)
            except ConcurrencyConflict:
                pass

        threads = [threading.Thread(target=writer, args=(e,)) for e in expectations]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        versions = [e.stream_version for e in svc.store.read_stream(s)]
        assert versions == list(range(1, len(versions) + 1))
        assert sorted(outcomes) == versions  # no version was granted twice
        positions = [e.position for e in svc.store.read_all(limit=10_000)]
        assert positions == list(range(1, len(positions) + 1))

    # -- personal data (crypto-shredding) ---------------------------------------------------

    def _note(self, svc: Services, author: str | None, text: str) -> str:
        s = f"tnote-{uuid.uuid4().hex}"
        svc.store.append(
            s,
            [
                NoteTaken(
                    author_id=author,
                    text=text,
                    place={"name": f"{text} place", "x": 1},
                    mentions=[f"{text} friend"],
                    stars=4,
                )
            ],
            expected_version=0,
            actor=ALICE,
        )
        return s

    def _raw(self, svc: Services, stream: str) -> StoredEvent:
        with svc.sessions() as session:
            row = session.scalars(select(StoredEvent).where(StoredEvent.stream_id == stream)).one()
            session.expunge(row)
            return row

    def test_personal_fields_are_sealed_at_rest_and_open_on_read(self, svc: Services) -> None:
        s = sid().replace("tcounter", "tnote")
        returned = svc.store.append(
            s,
            [
                NoteTaken(
                    author_id="ann",
                    text="dear diary",
                    place={"name": "Ann's flat", "x": 1},
                    mentions=["Bob Example"],
                    stars=5,
                )
            ],
            expected_version=0,
            actor=ALICE,
        )
        row = self._raw(svc, s)
        raw = json.dumps(row.payload)
        for plain in ("dear diary", "Ann's flat", "Bob Example"):
            assert plain not in raw
        assert row.personal_subject == "ann"
        assert row.payload["stars"] == 5 and row.payload["place"]["x"] == 1  # the rest as is
        expected = {
            "author_id": "ann",
            "text": "dear diary",
            "place": {"name": "Ann's flat", "x": 1},
            "mentions": ["Bob Example"],
            "stars": 5,
        }
        assert returned[0].payload == expected
        assert svc.store.read_stream(s)[0].payload == expected
        assert [e.payload for e in svc.store.read_all(categories=["tnote"])] == [expected]
        # The same values seal differently each time: a ciphertext says nothing about equality.
        other = self._note(svc, "ann", "dear diary")
        assert self._raw(svc, other).payload["text"] != row.payload["text"]

    def test_erased_subject_reads_as_placeholders_in_every_read(self, svc: Services) -> None:
        ann, bob = self._note(svc, "ann", "ann writes"), self._note(svc, "bob", "bob writes")
        keyring = factory_keyring(svc.sessions)
        assert keyring is not None
        with transaction(svc.sessions) as session:
            assert keyring.erase(session, "ann") == 1
        erased = svc.store.read_stream(ann)[0]
        assert erased.payload == {
            "author_id": "ann",
            "text": ERASED,
            "place": {"name": ERASED, "x": 1},
            "mentions": [ERASED],
            "stars": 4,
        }
        assert erased.decode() == NoteTaken.model_validate(erased.payload)
        assert svc.store.read_stream(bob)[0].payload["text"] == "bob writes"
        # Data the subject gives after the erasure gets a new key: readable, until erased too.
        later = self._note(svc, "ann", "ann again")
        assert svc.store.read_stream(later)[0].payload["text"] == "ann again"
        assert svc.store.read_stream(ann)[0].payload["text"] == ERASED
        with transaction(svc.sessions) as session:
            assert keyring.erase(session, "ann") == 1
            assert keyring.erase(session, "ann") == 0
        assert svc.store.read_stream(later)[0].payload["text"] == ERASED

    def test_personal_data_is_never_written_in_the_clear(self, svc: Services) -> None:
        before = svc.store.head_position()
        # no keyring: refused, nothing written and no position taken
        bare = EventStore(make_session_factory(svc.engine))
        with pytest.raises(RuntimeError, match="keyring"):
            bare.append(
                "tnote-x",
                [NoteTaken(author_id="ann", text="t")],
                expected_version=None,
                actor=ALICE,
            )
        with pytest.raises(RuntimeError, match="keyring"):
            self._note(svc, "ann", "sealed")  # fine with one...
            bare.read_all(categories=["tnote"])  # ...but a bare session cannot open it
        # personal values need a subject; none given: refused
        with pytest.raises(ValidationFailed, match="subject"):
            self._note(svc, None, "whose?")
        assert svc.store.head_position() == before + 1  # positions stay gap-free
        with svc.sessions() as session:
            assert session.scalar(select(func.count()).select_from(StoredEvent)) == before + 1

    def test_another_secret_key_cannot_open_sealed_fields(self, svc: Services) -> None:
        s = self._note(svc, "ann", "secret")
        other = make_session_factory(svc.engine)
        attach_keyring(other, Keyring("another-secret-key-" + "x" * 40))
        with pytest.raises(PersonalDataUnreadable, match="CLEARFRAME_SECRET_KEY"):
            EventStore(other).read_stream(s)


class TestSQLiteEventStore(EventStoreContract):
    backend = "sqlite"


@pytest.mark.postgres
class TestPostgresEventStore(EventStoreContract):
    backend = "postgres"


@pytest.mark.postgres
class TestPostgresEventStoreOneTransactionPerAppend(EventStoreContract):
    backend = "postgres"
    group_commit = False
