"""Clearframe as an operator runs it, for the fault tests and ``bench/faults.py``.

PostgreSQL, a Kafka-protocol broker (Tansu), the API with no in-process workers
(``clearframe serve --workers none``), the relay and each worker group as its own process
(``clearframe worker NAMES``), and a steady load of reports and generation requests from
concurrent HTTP clients. After a fault, :func:`account` compares every accepted command with
the event store and the read models.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text

from core.auth import assure_age, create_principal, issue_token
from core.identity import AgeAssuranceSource
from core.migrate import upgrade
from core.services import Services
from core.settings import Settings
from tests.utils import TEST_OPERATOR
from tests.utils.tansu import TansuBroker, free_port

CLEARFRAME = str(Path(sys.executable).parent / "clearframe")

# worker process -> the workers it runs; the cases queue and the generation read model are what
# a fault must not thin out, the prompt gate is a processor reacting to every request.
WORKER_PROCESSES = {
    "relay": "relay",
    "cases": "cases-queue",
    "generations": "generation-requests,prompt-moderation",
}
CHECKED_PROJECTIONS = ("cases-queue", "generation-requests")


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated; dropped afterwards."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"cf_faults_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_until_serving(
    url: str, proc: subprocess.Popen[bytes], timeout_s: float, log_tail: Callable[[], str]
) -> None:
    """Wait for ``clearframe serve`` at ``url`` to answer /healthz; fail at once if it exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"clearframe serve exited: {log_tail()}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"clearframe serve did not answer at {url} in {timeout_s} s")


class Deployment:
    """The API and the worker processes, restartable one by one."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        broker: TansuBroker,
        *,
        workers: dict[str, str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.broker = broker
        self.workers = dict(WORKER_PROCESSES if workers is None else workers)
        self.port = free_port()
        self.topic_prefix = f"f{uuid.uuid4().hex[:8]}"
        self.extra_env = dict(extra_env or {})
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: Counter[str] = Counter()
        (workdir / "logs").mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARFRAME_")}
        env.update(
            {
                "CLEARFRAME_DATABASE_URL": self.database_url,
                "CLEARFRAME_KAFKA_BOOTSTRAP": self.broker.bootstrap,
                "CLEARFRAME_KAFKA_TOPIC_PREFIX": self.topic_prefix,
                "CLEARFRAME_KAFKA_PARTITIONS": "3",
                "CLEARFRAME_DATA_DIR": str(self.workdir / "data"),
                "CLEARFRAME_CATCH_UP_GRACE_S": "3",
                "CLEARFRAME_CATCH_UP_INTERVAL_S": "1",
                "CLEARFRAME_RELAY_LEASE_S": "6",
                "PYTHONUNBUFFERED": "1",
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            kafka_bootstrap=self.broker.bootstrap,
            kafka_topic_prefix=self.topic_prefix,
            data_dir=self.workdir / "data",
        )

    def _spawn(self, key: str, argv: list[str]) -> None:
        self.starts[key] += 1
        log = open(self.workdir / "logs" / f"{key}-{self.starts[key]}.log", "wb")  # noqa: SIM115
        self.procs[key] = subprocess.Popen(
            argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
        )
        log.close()

    def start_api(self, timeout_s: float = 120) -> None:
        self._spawn(
            "api",
            [CLEARFRAME, "serve", "--workers", "none", "--no-migrate", "--port", str(self.port)],
        )
        wait_until_serving(self.url, self.procs["api"], timeout_s, lambda: self.log_tail("api"))

    def start_worker(self, key: str) -> None:
        self._spawn(key, [CLEARFRAME, "worker", self.workers[key]])

    def start_workers(self) -> None:
        for key in self.workers:
            self.start_worker(key)

    def stop(self, key: str, sig: int = signal.SIGTERM, timeout_s: float = 20) -> int | None:
        proc = self.procs.pop(key, None)
        if proc is None:
            return None
        proc.send_signal(sig)
        try:
            return proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            raise RuntimeError(f"{key} ignored signal {sig} for {timeout_s} s") from None

    def stop_workers(self) -> None:
        for key in list(self.workers):
            self.stop(key)

    def log_tail(self, key: str, chars: int = 3000) -> str:
        path = self.workdir / "logs" / f"{key}-{self.starts[key]}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def check_alive(self) -> None:
        for key, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{key} exited with {proc.returncode}: {self.log_tail(key)}")

    def close(self) -> None:
        for key in list(self.procs):
            with suppress(RuntimeError):
                self.stop(key, timeout_s=10)


@dataclass
class Accepted:
    reports: list[str] = field(default_factory=list)
    generations: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0

    @property
    def commands(self) -> int:
        return len(self.reports) + len(self.generations)


class Load:
    """Concurrent clients filing reports (on a few shared targets, so case streams grow long)
    and requesting generations, until stopped."""

    def __init__(
        self, url: str, token: str, *, clients: int = 4, rate: float = 10.0, targets: int = 12
    ) -> None:
        self.url = url
        self.interval_s = clients / rate  # rate: requests per second over all clients
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clients = clients
        self.targets = [f"acct-{uuid.uuid4().hex[:10]}" for _ in range(targets)]
        self.accepted = Accepted()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _client(self, n: int) -> None:
        i = 0
        next_at = time.monotonic()
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=15) as http:
            while not self._stop.wait(max(0.0, next_at - time.monotonic())):
                next_at += self.interval_s
                i += 1
                try:
                    if i % 3:
                        target = self.targets[(n * 7 + i) % len(self.targets)]
                        r = http.post(
                            "/v1/reports",
                            json={
                                "target": {"kind": "account", "id": target},
                                "category": "spam",
                                "explanation": f"spam run {n}-{i}, the same link again",
                                "good_faith": True,
                            },
                        )
                        key, kind = "report_id", "reports"
                    else:
                        r = http.post(
                            "/v1/generations",
                            json={
                                "prompt": f"a paper boat drifting down a rainy street, take {i}",
                                "duration_s": 2,
                                "resolution": "360p",
                                "tier": "paid",
                                "seed": i,
                            },
                        )
                        key, kind = "generation_id", "generations"
                except httpx.HTTPError:
                    with self._lock:
                        self.accepted.transport_errors += 1
                    self._stop.wait(0.2)
                    continue
                with self._lock:
                    self.accepted.statuses[r.status_code] += 1
                    if r.status_code in (201, 202):
                        getattr(self.accepted, kind).append(r.json()[key])
                if r.status_code >= 500:
                    self._stop.wait(0.2)

    def start(self) -> Load:
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> Accepted:
        self._stop.set()
        for t in self._threads:
            t.join(30)
        return self.accepted


def make_token(services: Services, *roles: str) -> str:
    pid = create_principal(services.sessions, "Load client", list(roles or ("user",)))
    # generating needs an account whose age was assured
    assure_age(services.sessions, pid, AgeAssuranceSource.OPERATOR, actor=TEST_OPERATOR)
    _, token = issue_token(services.sessions, services.settings, pid, "faults")
    return token


@dataclass
class Account:
    """Every accepted command against the store and the read models."""

    accepted: int
    stored: int
    present: dict[str, int]
    lost: int
    duplicated: int
    dead_letters: int
    gated: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "stored": self.stored,
            "present": self.present,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "dead_letters": self.dead_letters,
            "gated": self.gated,
        }


def account(services: Services, accepted: Accepted) -> Account:
    from core.projections import DeadLetter
    from core.store import StoredEvent
    from trust_safety.cases.models import CaseRow, ReportRow
    from trust_safety.generation.models import GenerationRequestRow

    reports, generations = set(accepted.reports), set(accepted.generations)
    with services.read_sessions() as s:
        filed = Counter(
            p["report_id"]
            for p in s.scalars(select(StoredEvent.payload).where(StoredEvent.type == "ReportFiled"))
            if p["report_id"] in reports
        )
        requested = Counter(
            p["generation_id"]
            for p in s.scalars(
                select(StoredEvent.payload).where(StoredEvent.type == "GenerationRequested")
            )
            if p["generation_id"] in generations
        )
        moderated = {
            p["generation_id"]
            for p in s.scalars(
                select(StoredEvent.payload).where(StoredEvent.type == "PromptModerated")
            )
        }
        gated = Counter(
            p["generation_id"]
            for p in s.scalars(
                select(StoredEvent.payload).where(StoredEvent.type == "PromptModerated")
            )
            if p["generation_id"] in generations
        )
        in_cases = set(s.scalars(select(ReportRow.report_id))) & reports
        report_lists = [ids for ids in s.scalars(select(CaseRow.report_ids))]
        in_generations = set(s.scalars(select(GenerationRequestRow.generation_id))) & generations
        dead = len(s.scalars(select(DeadLetter.id)).all())
    listed = Counter(r for ids in report_lists for r in ids if r in reports)
    gate_wanted = "prompt-moderation" in ",".join(WORKER_PROCESSES.values())
    lost = (
        len(reports - in_cases)
        + len(reports - set(listed))
        + len(generations - in_generations)
        + (len(generations - moderated) if gate_wanted else 0)
        + len(reports - set(filed))
        + len(generations - set(requested))
    )
    duplicated = (
        sum(n - 1 for n in filed.values())
        + sum(n - 1 for n in requested.values())
        + sum(n - 1 for n in listed.values())
        + sum(n - 1 for n in gated.values())
    )
    return Account(
        accepted=accepted.commands,
        stored=sum(filed.values()) + sum(requested.values()),
        present={
            "cases-queue": len(in_cases),
            "generation-requests": len(in_generations),
            "prompt-moderation": len(generations & moderated),
        },
        lost=lost,
        duplicated=duplicated,
        dead_letters=dead,
        gated=len(generations & moderated),
    )


def settled(services: Services) -> bool:
    """Every consumer the faults are checked against has applied the whole store."""
    from core.modules import all_processors, all_projections
    from core.projections import consumer_status

    factories = {**all_projections(), **all_processors()}
    names = [n for spec in WORKER_PROCESSES.values() for n in spec.split(",") if n in factories]
    return all(consumer_status(services, factories[n](services))["unapplied"] == 0 for n in names)


def wait_for_effects(
    services: Services, accepted: Accepted, timeout_s: float, check: Callable[[], None]
) -> tuple[Account, float]:
    """Poll until every accepted command's effect is everywhere; returns the final account and
    the seconds it took. A missing effect counts as lost only once the consumers have applied
    the whole store (a slow consumer is lag, not loss), or when ``timeout_s`` runs out."""
    started = time.monotonic()
    result = account(services, accepted)
    while result.lost and time.monotonic() - started < timeout_s:
        check()
        if settled(services):
            result = account(services, accepted)  # what they applied is all there will be
            break
        time.sleep(0.5)
        result = account(services, accepted)
    return result, time.monotonic() - started


def terminate_connections(database_url: str) -> int:
    """pg_terminate_backend every other connection to the database; returns how many."""
    name = database_url.rsplit("/", 1)[1]
    engine = create_engine(
        database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).all()
            )
    finally:
        engine.dispose()


@dataclass
class FaultResult:
    fault: str
    accepted: int
    stored: int
    present: dict[str, int]
    lost: int
    duplicated: int
    dead_letters: int
    recovery_s: float | None
    server_errors: int
    replay_check: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FaultLab:
    """One deployment that faults are injected into, one after another."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        *,
        load_s: float,
        down_s: float,
        rate: float = 10.0,
        settle_s: float = 300.0,
    ) -> None:
        self.settle_s = settle_s  # the longest a fault's effects may take to arrive
        self.workdir = workdir
        self.database_url = database_url
        self.rate = rate
        self.load_s = load_s
        self.down_s = down_s
        self.broker = TansuBroker(workdir)
        self.broker.start()
        self.deployment = Deployment(workdir, database_url, self.broker)
        self.services = Services.from_settings(self.deployment.settings())
        self.token = make_token(self.services, "user")

    def start(self) -> None:
        self.deployment.start_api()
        self.deployment.start_workers()
        self.warm_up()

    def warm_up(self, timeout_s: float = 300) -> None:
        """One report and one generation through every worker before any fault (the gate loads
        its model on the first request)."""
        load = Load(self.deployment.url, self.token, clients=1).start()
        time.sleep(1.0)
        accepted = load.stop()
        result, _ = wait_for_effects(
            self.services, accepted, timeout_s, self.deployment.check_alive
        )
        if result.lost:
            raise RuntimeError(f"the deployment did not settle: {result.as_dict()}")

    def close(self) -> None:
        self.deployment.close()
        self.broker.stop()
        self.services.close()

    def replay_check(self) -> str:
        out = subprocess.run(
            [
                CLEARFRAME,
                "replay-check",
                "--no-progress",
                *(arg for name in CHECKED_PROJECTIONS for arg in ("--only", name)),
            ],
            env=self.deployment.env(),
            capture_output=True,
            text=True,
            timeout=600,
            cwd=self.workdir,
        )
        last = (out.stdout.strip().splitlines() or [out.stderr.strip()[-300:]])[-1]
        return "identical" if out.returncode == 0 else f"exit {out.returncode}: {last}"

    def run(self, fault: str, inject: Callable[[], None]) -> FaultResult:
        """Load, inject the fault in the middle, keep loading, then account for everything."""
        load = Load(self.deployment.url, self.token, rate=self.rate).start()
        time.sleep(self.load_s / 2)
        inject()
        ended = time.monotonic()
        before = Accepted(list(load.accepted.reports), list(load.accepted.generations))
        recovered, recovery_s = wait_for_effects(
            self.services, before, self.settle_s, self.deployment.check_alive
        )
        time.sleep(max(0.0, self.load_s / 2 - (time.monotonic() - ended)))
        accepted = load.stop()
        result, _ = wait_for_effects(
            self.services, accepted, self.settle_s, self.deployment.check_alive
        )
        recovered_in = None if recovered.lost else round(recovery_s, 1)  # None: never recovered
        return FaultResult(
            fault=fault,
            accepted=result.accepted,
            stored=result.stored,
            present=result.present,
            lost=result.lost,
            duplicated=result.duplicated,
            dead_letters=result.dead_letters,
            recovery_s=recovered_in,
            server_errors=sum(n for code, n in accepted.statuses.items() if code >= 500),
            replay_check=self.replay_check(),
        )

    # -- the faults ------------------------------------------------------------------------

    def broker_restart_empty(self) -> FaultResult:
        def inject() -> None:
            self.broker.kill()
            time.sleep(self.down_s)
            self.broker.start()  # same port, empty: no topics, no producer ids, offsets from 0

        return self.run("broker_restart_empty", inject)

    def new_cluster(self) -> FaultResult:
        def inject() -> None:
            old = self.broker
            self.broker = TansuBroker(self.workdir)
            self.broker.start()
            self.deployment.broker = self.broker
            self.deployment.stop_workers()
            self.deployment.start_workers()
            old.stop()

        return self.run("new_cluster", inject)

    def worker_sigkill(self) -> FaultResult:
        def inject() -> None:
            for key in ("cases", "generations"):
                self.deployment.stop(key, signal.SIGKILL)
            time.sleep(1.0)
            for key in ("cases", "generations"):
                self.deployment.start_worker(key)

        return self.run("worker_sigkill", inject)

    def db_connections_terminated(self) -> FaultResult:
        def inject() -> None:
            for _ in range(3):
                terminate_connections(self.database_url)
                time.sleep(1.0)
            self.services.engine.dispose()

        return self.run("db_connections_terminated", inject)

    def all(self) -> list[FaultResult]:
        return [
            self.broker_restart_empty(),
            self.new_cluster(),
            self.worker_sigkill(),
            self.db_connections_terminated(),
        ]
