"""Cases benchmark on the embedded default (SQLite file, SQL-tail log, workers in threads).

Measures, with the projections running as ``clearframe serve`` runs them:
  1. reports/s accepted: notices filed through the HTTP API (one client), and through the
     command layer from several threads at once;
  2. claim latency with concurrent reviewers: each reviewer thread claims the next case
     (``claim_next``: queue read model, then the claim on the case's stream, skipping cases
     others won) and dismisses it; every successful claim is timed;
  3. removal visible: an enforcement action removes a published asset; time from the commit of
     ``EnforcementActionTaken`` until the asset is out of the feed (and, when the reverse-search
     indexer is present, until the asset is held out of search results);
  4. restore visible: the affected user appeals, an independent reviewer reverses; time from
     the commit of ``EnforcementReversed`` until the asset is back in the feed (and search).
Visibility is polled every millisecond with the feed's own query. Target: 1 s p99.
The last line is one JSON object. Usage: python bench/cases.py [--assets N] [--reviewers R]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from contracts.generation import AssetPublished, AssetSigned  # noqa: E402
from core.app import create_app  # noqa: E402
from core.auth import Principal, Role, create_principal, issue_token  # noqa: E402  # noqa: E402
from core.events import SYSTEM_ACTOR, EventPayload, stream_id, utcnow  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.modules import all_processors, all_projections  # noqa: E402
from core.projections import lag  # noqa: E402
from core.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.workers import WorkerPool  # noqa: E402
from feed import queries as feed_queries  # noqa: E402
from feed.errors import UnknownAsset  # noqa: E402
from trust_safety.cases import appeals, claims, enforcement, reports  # noqa: E402
from trust_safety.cases.enforcement import EnforcementDecision  # noqa: E402
from trust_safety.cases.events import AppealOutcome  # noqa: E402
from trust_safety.cases.notices import ReportSubmission  # noqa: E402

CASES_WORKERS = ["cases-queue", "cases-actions", "cases-appeals", "cases-inbox", "cases-assets"]
SEARCH_WORKER = "reverse-search-indexer"
POLL_S = 0.001
TIMEOUT_S = 30.0


BLOB = "0" * 64


def signed_and_published(asset_id: str, owner_id: str) -> list[EventPayload]:
    """What provenance appends for a published asset (the bench's generation id is the asset's)."""
    return [
        AssetSigned(
            generation_id=asset_id,
            asset_id=asset_id,
            requester_id=owner_id,
            tier="paid",
            blob_address=BLOB,
            bytes=1000,
            manifest_id=f"urn:c2pa:{asset_id}",
            download_blob_address=BLOB,
            download_manifest_id=f"urn:c2pa:{asset_id}",
            visible_watermark=False,
            watermark_serial="0123456789abcdef",
            watermark_payload="0123456789abcdef",
            soft_binding_alg="com.clearframe.dwtdct",
            signer="CN=bench",
            development_signer=True,
            duration_s=2.0,
            width=160,
            height=96,
            fps=12.0,
        ),
        AssetPublished(
            generation_id=asset_id, asset_id=asset_id, download_blob_address=BLOB, tier="paid"
        ),
    ]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_s": round(pct(values, 50), 4),
        "p99_s": round(pct(values, 99), 4),
        "max_s": round(max(values), 4) if values else float("nan"),
        "mean_s": round(statistics.fmean(values), 4) if values else float("nan"),
    }


def principal(services: Services, name: str, *roles: str) -> tuple[Principal, dict[str, str]]:

    pid = create_principal(services.sessions, name, list(roles))
    _, token = issue_token(services.sessions, services.settings, pid, "bench")
    caller = Principal(pid, name, {Role(r) for r in roles})
    return caller, {"Authorization": f"Bearer {token}"}


def wait_until(check: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> float:
    """Seconds until ``check()`` holds, polling every millisecond."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("condition not reached")
        time.sleep(POLL_S)
    return time.perf_counter() - start


def caught_up(services: Services, names: list[str]) -> None:
    factories = {**all_projections(), **all_processors()}
    consumers = [factories[n](services) for n in names]
    wait_until(lambda: all(lag(services, c) == 0 for c in consumers), 120.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=200, help="published assets")
    parser.add_argument("--reports", type=int, default=400, help="reports filed over HTTP")
    parser.add_argument("--threads", type=int, default=4, help="concurrent reporters")
    parser.add_argument("--reviewers", type=int, default=4, help="concurrent reviewers")
    parser.add_argument("--visibility", type=int, default=100, help="remove/restore rounds")
    parser.add_argument("--no-search", action="store_true", help="skip the reverse-search side")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="clearframe-bench-cases-")
    settings = Settings(data_dir=Path(tmp.name), poll_interval_s=0.05)
    upgrade(settings.effective_database_url)
    services = Services.from_settings(settings)
    # the feed follows the visibility decided on asset-<generation_id>
    workers = CASES_WORKERS + ["asset-directory", "asset-visibility", "feed"]
    with_search = not args.no_search and SEARCH_WORKER in all_projections()
    if with_search:
        workers.append(SEARCH_WORKER)
    pool = WorkerPool(services, workers)
    pool.start()
    out: dict[str, Any] = {
        "bench": "cases",
        "backend": "sqlite-embedded",
        "poll_interval_s": settings.poll_interval_s,
        "search_measured": with_search,
    }
    try:
        owners = [principal(services, f"owner-{i}", "user")[0] for i in range(20)]
        reporters = [principal(services, f"reporter-{i}", "user") for i in range(10)]
        reviewers = [
            principal(services, f"reviewer-{i}", "reviewer")[0]
            for i in range(max(args.reviewers, 2))
        ]
        assets = [f"asset-gen-{i:05d}" for i in range(args.assets)]
        for i, asset in enumerate(assets):
            services.store.append(
                stream_id("provenance", asset),
                signed_and_published(asset, owners[i % len(owners)].id),
                expected_version=None,
                actor=SYSTEM_ACTOR,
            )
        caught_up(services, workers)

        # 1. reports/s over HTTP (one client) and through the command layer (threads)
        client = TestClient(create_app(services))
        client.__enter__()  # one event-loop portal for all requests, as a server would have
        t0 = time.perf_counter()
        for n in range(args.reports):
            _, headers = reporters[n % len(reporters)]
            r = client.post(
                "/v1/reports",
                headers=headers,
                json={
                    "target": {"kind": "asset", "id": assets[n % len(assets)]},
                    "category": ["hate_speech", "spam", "violence", "likeness_without_consent"][
                        n % 4
                    ],
                    "explanation": f"bench report number {n} about this video",
                    "good_faith": True,
                },
            )
            assert r.status_code == 201, r.text
        http_rate = args.reports / (time.perf_counter() - t0)

        per_thread = args.reports // args.threads
        errors: list[str] = []

        def file_many(k: int) -> None:
            caller = reporters[k % len(reporters)][0]
            for n in range(per_thread):
                submission = ReportSubmission.parse(
                    {
                        "target": {
                            "kind": "asset",
                            "id": assets[(k * per_thread + n) % len(assets)],
                        },
                        "category": "harassment",
                        "explanation": f"threaded bench report {k}/{n}",
                        "good_faith": True,
                    }
                )
                try:
                    reports.file_report(services, caller, submission)
                except Exception as exc:  # counted, not hidden
                    errors.append(repr(exc))

        threads = [threading.Thread(target=file_many, args=(k,)) for k in range(args.threads)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        threaded_rate = (per_thread * args.threads - len(errors)) / (time.perf_counter() - t0)
        out["reports_per_s_http"] = round(http_rate, 1)
        out["reports_per_s_commands"] = round(threaded_rate, 1)
        out["reports_threads"] = args.threads
        out["report_errors"] = len(errors)
        caught_up(services, workers)

        # 2. claims with concurrent reviewers
        claim_times: list[float] = []
        won = 0
        queue_consumer = all_projections()["cases-queue"](services)
        lock = threading.Lock()

        def review(reviewer: Principal) -> None:
            nonlocal won
            while True:
                # Whether the queue read model had seen every event before we asked it: if
                # so and nothing is claimable, the queue is done; otherwise it may be behind.
                caught_up_before = lag(services, queue_consumer) == 0
                start = time.perf_counter()
                grant = claims.claim_next(services, reviewer)
                elapsed = time.perf_counter() - start
                if grant is None:
                    if caught_up_before:
                        return
                    time.sleep(0.01)
                    continue
                with lock:
                    claim_times.append(elapsed)
                    won += 1
                reports.dismiss_case(
                    services, reviewer, grant.case_id, "bench: reviewed and found within the rules"
                )

        threads = [threading.Thread(target=review, args=(r,)) for r in reviewers[: args.reviewers]]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["claim_reviewers"] = args.reviewers
        out["claims"] = won
        out["claim_latency"] = summary(claim_times)
        out["claim_latency_p99_s"] = out["claim_latency"]["p99_s"]
        out["cases_reviewed_per_s"] = round(won / (time.perf_counter() - t0), 1)
        caught_up(services, workers)

        # 3 and 4. removal and restoration, seen in the feed (and search)
        acting = reviewers[0]
        removal_feed: list[float] = []
        restore_feed: list[float] = []
        removal_search: list[float] = []
        restore_search: list[float] = []
        command_s: list[float] = []

        def in_feed(asset: str) -> bool:
            with services.read_sessions() as s:
                try:
                    feed_queries.lineage(s, asset, utcnow())
                except UnknownAsset:
                    return False
                return True

        def out_of_feed(asset: str) -> bool:
            return not in_feed(asset)

        def released_in_search(asset: str, action_id: str) -> bool:
            return not held_in_search(asset, action_id)

        def held_in_search(asset: str, action_id: str) -> bool:
            from reverse_search.models import GenerationRecord

            # The index keeps holds on the generation (the bench's generation id is its asset's).
            with services.read_sessions() as s:
                row = s.get(GenerationRecord, asset)
                return row is not None and any(h.get("key") == action_id for h in row.holds)

        rounds = min(args.visibility, len(assets))
        owner_by_asset = {a: owners[i % len(owners)] for i, a in enumerate(assets)}
        for i in range(rounds):
            asset = assets[i]
            owner = owner_by_asset[asset]
            decision = EnforcementDecision.parse(
                {
                    "kind": "remove_asset",
                    "target_id": asset,
                    "affected_user_id": owner.id,
                    "category": "STATEMENT_CATEGORY_VIOLENCE",
                    "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
                    "ground_reference": "Terms of Service 3.1 (graphic violence)",
                    "ground_explanation": "Graphic violence without context is not allowed.",
                    "facts": "Bench: the video shows graphic violence in its first seconds.",
                    "source_type": "SOURCE_VOLUNTARY",
                    "automated_detection": False,
                    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
                }
            )
            start = time.perf_counter()
            taken = enforcement.act_on_own_initiative(services, acting, decision)
            committed = time.perf_counter()
            command_s.append(committed - start)
            removal_feed.append(wait_until(functools.partial(out_of_feed, asset)))
            if with_search:
                wait_until(functools.partial(held_in_search, asset, taken.action_id))
                removal_search.append(time.perf_counter() - committed)
            appeal = appeals.file_appeal(services, owner, taken.action_id, "Bench: please look again.")
            assert appeal.reviewer_id is not None
            decider = next(r for r in reviewers if r.id == appeal.reviewer_id)
            appeals.decide_appeal(
                services,
                decider,
                appeal.appeal_id,
                AppealOutcome.REVERSED,
                "Bench: on review the context makes it newsworthy reporting.",
            )
            committed = time.perf_counter()
            restore_feed.append(wait_until(functools.partial(in_feed, asset)))
            if with_search:
                wait_until(functools.partial(released_in_search, asset, taken.action_id))
                restore_search.append(time.perf_counter() - committed)
        out["removal_feed"] = summary(removal_feed)
        out["restore_feed"] = summary(restore_feed)
        out["action_command"] = summary(command_s)
        if with_search:
            out["removal_search"] = summary(removal_search)
            out["restore_search"] = summary(restore_search)
        everywhere_removal = (
            [max(a, b) for a, b in zip(removal_feed, removal_search, strict=False)]
            if with_search
            else removal_feed
        )
        everywhere_restore = (
            [max(a, b) for a, b in zip(restore_feed, restore_search, strict=False)]
            if with_search
            else restore_feed
        )
        out["removal_visible_p99_s"] = round(pct(everywhere_removal, 99), 4)
        out["restore_visible_p99_s"] = round(pct(everywhere_restore, 99), 4)
        out["target_p99_s"] = 1.0
        out["meets_target"] = (
            out["removal_visible_p99_s"] <= 1.0 and out["restore_visible_p99_s"] <= 1.0
        )
    finally:
        pool.close()
        services.close()
        tmp.cleanup()
    for key, value in out.items():
        if not isinstance(value, dict):
            print(f"{key}: {value}")
        else:
            print(f"{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()))
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
