"""Faults under load, with every part a real process: PostgreSQL, the Tansu broker, the API
(`serve --workers none`), the relay and the workers. After each fault every accepted command's
effect is in every read model, once, and replay-check finds the read models identical to a
rebuild. The same scenarios, longer, are `bench/faults.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.utils.deployment import FaultLab, FaultResult, scratch_database

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("faults")
    with scratch_database(POSTGRES_ADMIN_URL) as url:
        lab = FaultLab(Path(workdir), url, load_s=8.0, down_s=5.0)
        try:
            lab.start()
            yield lab
        finally:
            lab.close()


def check(result: FaultResult, lab: FaultLab) -> None:
    detail = f"{result.as_dict()}\n--- logs ---\n" + "\n".join(
        f"[{key}] {lab.deployment.log_tail(key, 1500)}" for key in lab.deployment.workers
    )
    assert result.accepted > 0, detail
    assert result.lost == 0, detail
    assert result.duplicated == 0, detail
    assert result.dead_letters == 0, detail
    assert result.replay_check == "identical", detail


def test_broker_killed_mid_load_and_restarted_empty(lab: FaultLab) -> None:
    check(lab.broker_restart_empty(), lab)


def test_workers_moved_to_a_new_cluster(lab: FaultLab) -> None:
    check(lab.new_cluster(), lab)


def test_workers_killed_mid_batch(lab: FaultLab) -> None:
    check(lab.worker_sigkill(), lab)


def test_database_connections_terminated(lab: FaultLab) -> None:
    check(lab.db_connections_terminated(), lab)
