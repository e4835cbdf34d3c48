"""Faults under load: is every accepted command's effect in every read model, once?

Runs Clearframe as an operator does (PostgreSQL, a Tansu broker, the API with no in-process
workers, the relay and the workers as their own processes) under a steady load of reports and
generation requests, and injects one fault after another:

  broker_restart_empty       the broker killed mid-load, back after --down-s, empty
  new_cluster                a second broker on another port; the workers restarted onto it
  worker_sigkill             the cases and generation workers killed with SIGKILL mid-batch
  db_connections_terminated  pg_terminate_backend on every connection, three times

For each it prints accepted commands, events stored, effects present per read model, lost,
duplicated (events stored twice, report ids listed twice in a case, prompts moderated twice)
and the seconds until every command accepted before the fault ended was applied, then runs
`clearframe replay-check` on the read models. The deliveries the broker may reorder or
redeliver are covered by tests/core/test_consumer_contract.py. The last line is one JSON
object. Usage: python bench/faults.py [--load-s 20] [--down-s 30] [--rate 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.utils.deployment import FaultLab, scratch_database  # noqa: E402

ADMIN_URL = os.environ.get(
    "CLEARFRAME_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load-s", type=float, default=20.0, help="load per fault (seconds)")
    parser.add_argument("--down-s", type=float, default=30.0, help="broker downtime (seconds)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="requests per second (all clients)"
    )
    args = parser.parse_args()
    if args.load_s <= 0 or args.down_s < 0 or args.rate <= 0:
        parser.error("--load-s and --rate must be positive, --down-s not negative")
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="cf-faults-") as tmp,
        scratch_database(ADMIN_URL) as url,
    ):
        lab = FaultLab(Path(tmp), url, load_s=args.load_s, down_s=args.down_s, rate=args.rate)
        try:
            print("starting the API and the workers ...", flush=True)
            lab.start()
            for fault in (
                lab.broker_restart_empty,
                lab.new_cluster,
                lab.worker_sigkill,
                lab.db_connections_terminated,
            ):
                print(f"{fault.__name__}: injecting under load ...", flush=True)
                r = fault()
                results.append(r)
                print(
                    f"{r.fault:27s} accepted {r.accepted:5d}  stored {r.stored:5d}  present "
                    f"{r.present}  lost {r.lost}  duplicated {r.duplicated}  dead letters "
                    f"{r.dead_letters}  recovered in {r.recovery_s} s  5xx {r.server_errors}  "
                    f"replay-check {r.replay_check}",
                    flush=True,
                )
        finally:
            lab.close()
    print(
        json.dumps(
            {
                "bench": "faults",
                "lost": sum(r.lost for r in results),
                "duplicated": sum(r.duplicated for r in results),
                "faults": {r.fault: r.as_dict() for r in results},
            }
        )
    )
    return 0 if all(r.lost == 0 and r.duplicated == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
