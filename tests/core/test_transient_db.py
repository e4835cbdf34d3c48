"""PostgreSQL connections killed under the app (``pg_terminate_backend``): 201 or 503, never a
500; every report answered 201 is in the store exactly once, and no report is half written."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from core.app import create_app
from core.services import Services
from core.transient import is_transient
from tests.conftest import POSTGRES_ADMIN_URL, free_port
from tests.utils import make_principal

REPORT_FILED, REPORT_TRIAGED = "ReportFiled", "ReportTriaged"
# a client thread that dies of a reset connection (no answer at all) fails the test
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


@dataclass
class Served:
    services: Services
    base_url: str
    database: str
    admin: Engine

    def terminate_connections(self) -> int:
        """Kill every server process of the app's database (its pool, its writer thread)."""
        with self.admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": self.database},
            ).scalar()
        return int(killed or 0)


@pytest.fixture
def served(make_services: Callable[..., Services]) -> Iterator[Served]:
    import uvicorn

    services = make_services("postgres")
    database = services.engine.url.database
    assert database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(services, f"http://127.0.0.1:{port}", database, admin)
    finally:
        server.should_exit = True
        thread.join(10)
        admin.dispose()


def _report(n: int) -> dict[str, object]:
    return {
        "target": {"kind": "account", "id": f"acct-{n % 4}"},
        "category": "spam",
        "explanation": f"report number {n}, plainly spam",
        "good_faith": True,
    }


def _check_the_store(served: Served, accepted: list[str]) -> None:
    filed: collections.Counter[str] = collections.Counter()
    triaged_by_correlation: set[object] = set()
    filed_correlations: dict[str, object] = {}
    for event in served.services.store.iter_all(categories=["report"]):
        if event.type == REPORT_FILED:
            filed[event.payload["report_id"]] += 1
            filed_correlations[event.payload["report_id"]] = event.correlation_id
        elif event.type == REPORT_TRIAGED:
            triaged_by_correlation.add(event.correlation_id)
    missing = [r for r in accepted if filed[r] != 1]
    assert missing == [], f"accepted reports not recorded exactly once: {missing[:5]}"
    assert max(filed.values(), default=1) == 1, "a report was recorded twice"
    # one command, one transaction: a filing never lacks its triage
    half = [r for r, c in filed_correlations.items() if c not in triaged_by_correlation]
    assert half == [], f"reports written without their triage: {half[:5]}"


def test_reports_survive_connections_killed_between_requests(served: Served) -> None:
    _, headers = make_principal(served.services, "user")
    accepted: list[str] = []
    statuses: collections.Counter[int] = collections.Counter()
    killed = 0
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as client:
        for n in range(30):
            response = client.post("/v1/reports", json=_report(n))
            statuses[response.status_code] += 1
            assert response.status_code in (201, 503), response.text
            if response.status_code == 201:
                accepted.append(response.json()["report_id"])
            else:
                assert response.headers["retry-after"]
                assert response.json()["code"] == "database_unavailable"
            killed += served.terminate_connections()
        mine = client.get("/v1/reports/mine")
        assert mine.status_code in (200, 503), mine.text
    assert killed >= 30  # the app had connections to lose after every request
    assert statuses[201] >= 25, statuses
    _check_the_store(served, accepted)


def test_reports_survive_connections_killed_while_requests_run(served: Served) -> None:
    """Four clients file reports and read their own while every connection of the app is
    killed five times a second: the kills land mid-transaction and mid-commit too."""
    _, headers = make_principal(served.services, "user")
    accepted: list[str] = []
    statuses: collections.Counter[int] = collections.Counter()
    bad: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + 12

    def clients(k: int) -> None:
        with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as client:
            n = 0
            while time.monotonic() < stop:
                response = (
                    client.get("/v1/reports/mine")
                    if n % 5 == 4
                    else client.post("/v1/reports", json=_report(100 * k + n))
                )
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code not in (200, 201, 503):
                        bad.append(f"{response.status_code} {response.text[:200]}")
                    elif response.status_code == 201:
                        accepted.append(response.json()["report_id"])
                n += 1

    def killer() -> None:
        while time.monotonic() < stop:
            time.sleep(0.2)
            served.terminate_connections()

    threads = [threading.Thread(target=clients, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert bad == [], bad[:5]
    assert statuses[201] > 20, statuses
    _check_the_store(served, accepted)


def test_what_counts_as_transient() -> None:
    from sqlalchemy import exc

    class FakeOrig(Exception):
        def __init__(self, sqlstate: str | None) -> None:
            super().__init__("boom")
            self.sqlstate = sqlstate

    def wrapped(cls: type[exc.DBAPIError], sqlstate: str | None) -> exc.DBAPIError:
        return cls("SELECT 1", None, FakeOrig(sqlstate))

    assert is_transient(wrapped(exc.OperationalError, "40001"))  # serialization failure
    assert is_transient(wrapped(exc.OperationalError, "40P01"))  # deadlock
    assert is_transient(wrapped(exc.OperationalError, "57P01"))  # terminated by the admin
    assert is_transient(wrapped(exc.OperationalError, "08006"))  # connection failure
    assert is_transient(wrapped(exc.OperationalError, None))  # lost mid-statement (psycopg)
    assert not is_transient(wrapped(exc.DataError, "22003"))  # bigint out of range
    assert not is_transient(wrapped(exc.IntegrityError, "23505"))
    assert not is_transient(ValueError("no"))
    import sqlite3

    # The pool's pre-ping meets a killed connection, and psycopg then refuses to restore
    # autocommit on it: a ProgrammingError whose context is the lost connection.
    import psycopg

    def failed_ping() -> exc.DBAPIError:
        try:
            raise psycopg.OperationalError("connection socket closed")
        except psycopg.OperationalError:
            try:
                raise psycopg.ProgrammingError("can't change 'autocommit' now")  # noqa: B904
            except psycopg.ProgrammingError as driver:
                return exc.ProgrammingError("ping", None, driver)

    assert is_transient(failed_ping())
    bad_sql = exc.ProgrammingError("x", None, psycopg.ProgrammingError("syntax error"))
    assert not is_transient(bad_sql)

    locked = exc.OperationalError("x", None, sqlite3.OperationalError("database is locked"))
    missing = exc.OperationalError("x", None, sqlite3.OperationalError("no such table: events"))
    assert is_transient(locked) and not is_transient(missing)


def test_a_retried_read_hands_the_request_over_once_so_a_file_response_finishes(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    # A FileResponse waits on receive() for the client's disconnect; answering it with the
    # request message again (as a replaying wrapper could) spins forever instead.
    from fastapi import FastAPI
    from fastapi.responses import FileResponse
    from fastapi.testclient import TestClient

    from core.transient import RetryReads

    blob = tmp_path / "clip.mp4"
    blob.write_bytes(b"\0" * 300_000)
    inner = FastAPI()

    @inner.get("/file")
    def file() -> FileResponse:
        return FileResponse(blob, media_type="video/mp4")

    done: list[bytes] = []

    def fetch() -> None:
        with TestClient(RetryReads(inner)) as client:
            done.append(client.get("/file").content)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(20)
    assert done == [blob.read_bytes()]
