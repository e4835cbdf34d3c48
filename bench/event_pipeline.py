"""Event pipeline throughput: store -> outbox relay -> Kafka -> projection, beside raw kafka-python.

Runs, in one process on one machine, against one broker:
  1. append: events/s appended to the event store (PostgreSQL), in appends of --batch events;
  2. relay: events/s the outbox relay publishes to Kafka;
  3. project: events/s a simple projection applies from Kafka (read model + checkpoint per batch);
  4. end to end: all three running at once, from the first append to the last event applied;
  5. raw: kafka-python producing the same serialised events (same producer settings: acks=all,
     idempotent) while a group consumer reads them, first send to last receive.
The last line is one JSON object. Usage: python bench/event_pipeline.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update  # noqa: E402

from core.events import Actor, EventPayload, RecordedEvent, event_type  # noqa: E402
from core.kafka import ensure_topics, make_consumer, make_producer  # noqa: E402
from core.log import make_log_consumer  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.outbox import OutboxRelay  # noqa: E402
from core.projections import Projection, Runner, handles  # noqa: E402
from core.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402

bench_metadata = MetaData()
tallies = Table(
    "bench_tallies",
    bench_metadata,
    Column("stream_id", String(264), primary_key=True),
    Column("total", Integer, nullable=False),
)


@event_type("BenchTicked", category="bench")
class Ticked(EventPayload):
    n: int
    note: str


class TallyProjection(Projection):
    name = "bench-tally"
    categories = ("bench",)
    tables = (tallies,)

    @handles("BenchTicked")
    def _ticked(self, session, event: RecordedEvent) -> None:  # type: ignore[no-untyped-def]
        changed = session.execute(
            update(tallies)
            .where(tallies.c.stream_id == event.stream_id)
            .values(total=tallies.c.total + 1)
        ).rowcount
        if not changed:
            session.execute(tallies.insert().values(stream_id=event.stream_id, total=1))


def applied(services: Services) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(func.coalesce(func.sum(tallies.c.total), 0))) or 0)


def append_all(services: Services, events: int, batch: int, streams: int, tag: str) -> float:
    actor = Actor(id="bench", role="system")
    ids = [f"bench-{tag}-{i}" for i in range(streams)]
    versions = dict.fromkeys(ids, 0)
    start = time.perf_counter()
    for k in range(events // batch):
        sid = ids[k % streams]
        payloads = [Ticked(n=k * batch + j, note="x" * 64) for j in range(batch)]
        services.store.append(sid, payloads, expected_version=versions[sid], actor=actor)
        versions[sid] += batch
    return time.perf_counter() - start


def relay_all(services: Services) -> float:
    relay = OutboxRelay(services.settings, services.sessions)
    start = time.perf_counter()
    relay.publish_pending()
    elapsed = time.perf_counter() - start
    relay.close()
    return elapsed


def runner(services: Services, group: str) -> Runner:
    return Runner(
        TallyProjection(),
        lambda: make_log_consumer(services.settings, services.store, group, ["bench"]),
        services.store,
        batch_size=services.settings.batch_size,
        # as deployed: the catch-up pass against the store runs beside the Kafka consumer
        catch_up_grace_s=services.settings.catch_up_grace_s,
        catch_up_interval_s=services.settings.catch_up_interval_s,
    )


def project_until(services: Services, r: Runner, target: int, timeout: float = 600) -> float:
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    while applied(services) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"projection stuck at {applied(services)}/{target}")
        r.run_once(0.2)
    return time.perf_counter() - start


def reset(services: Services) -> None:
    bench_metadata.drop_all(services.engine)
    bench_metadata.create_all(services.engine)


def raw_roundtrip(settings: Settings, events: int) -> float:
    topic = f"{settings.kafka_topic_prefix}.raw"
    ensure_topics(settings, [topic])
    sample = RecordedEvent(
        event_id=uuid.uuid4(),
        type="BenchTicked",
        schema_version=1,
        stream_id="bench-raw-0",
        stream_version=1,
        position=1,
        occurred_at=time.time(),
        actor=Actor(id="bench", role="system"),
        correlation_id=uuid.uuid4(),
        payload={"n": 0, "note": "x" * 64},
    ).to_json()
    consumer = make_consumer(settings, f"raw-{uuid.uuid4().hex[:6]}")
    consumer.subscribe([topic])
    while not consumer.assignment():  # join the group before the clock starts
        consumer.poll(timeout_ms=200)
    producer = make_producer(settings)
    received = 0
    start = time.perf_counter()

    def produce() -> None:
        for i in range(events):
            producer.send(topic, key=f"bench-raw-{i % 50}".encode(), value=sample)
        producer.flush()

    t = threading.Thread(target=produce)
    t.start()
    while received < events:
        for records in consumer.poll(timeout_ms=500, max_records=2000).values():
            received += len(records)
    elapsed = time.perf_counter() - start
    t.join()
    producer.close()
    consumer.close()
    return elapsed


def _writer(
    settings_json: str,
    events: int,
    batch: int,
    streams: int,
    tag: str,
    go,  # type: ignore[no-untyped-def]
    threads: int,
) -> None:
    """One API-like process: ``threads`` concurrent requests, each appending its own streams."""
    services = Services.from_settings(Settings.model_validate_json(settings_json))
    go.wait()
    per = events // threads
    pool = [
        threading.Thread(
            target=append_all,
            args=(services, per - per % batch, batch, max(1, streams // threads), f"{tag}t{t}"),
        )
        for t in range(threads)
    ]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    services.close()


def _relay(settings_json: str, go, stop) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.model_validate_json(settings_json)
    services = Services.from_settings(settings)
    relay = OutboxRelay(settings, services.sessions)
    go.wait()
    while not stop.is_set():
        if relay.relay_once() == 0:
            time.sleep(0.002)
    relay.close()
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=20_000, help="events per phase (default 20000)"
    )
    parser.add_argument("--batch", type=int, default=10, help="events per append (default 10)")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--writers", type=int, default=2, help="writer processes in the e2e phase")
    parser.add_argument(
        "--threads",
        type=int,
        default=8,
        help="concurrent appending threads per writer process (API requests)",
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="admin URL; a scratch database is created and dropped",
    )
    args = parser.parse_args()
    if args.events < args.batch or args.batch < 1:
        parser.error("--events must be >= --batch >= 1")
    from bench._broker import scratch_postgres, tansu_broker

    n = args.events - args.events % args.batch
    with tansu_broker() as bootstrap, scratch_postgres(args.postgres) as url:
        settings = Settings(
            database_url=url,
            kafka_bootstrap=bootstrap,
            kafka_partitions=6,
            kafka_topic_prefix=f"b{uuid.uuid4().hex[:6]}",
            batch_size=1000,
            data_dir=Path("/tmp/clearframe-bench"),
        )
        upgrade(url, "core@head")  # the bench needs only the core tables
        services = Services.from_settings(settings)
        reset(services)

        t_append = append_all(services, n, args.batch, args.streams, "a")
        print(
            f"append   {n / t_append:10.0f} events/s  ({n} events, {args.batch} per append)",
            flush=True,
        )
        t_relay = relay_all(services)
        print(f"relay    {n / t_relay:10.0f} events/s", flush=True)
        r = runner(services, "bench-sequential")
        r.start()
        t_project = project_until(services, r, n)
        r.close()
        print(f"project  {n / t_project:10.0f} events/s", flush=True)

        # End to end, deployed as in production: writer processes (the API), the relay as its
        # own process (`clearframe worker relay`) and the projection worker, all at once.
        reset(services)
        r = runner(services, f"bench-e2e-{uuid.uuid4().hex[:6]}")
        r.start()
        while not r.log.consumer.assignment():
            r.run_once(0.2)
        ctx = multiprocessing.get_context("spawn")
        go, stop = ctx.Event(), ctx.Event()
        share = n // args.writers
        share -= share % (args.batch * args.threads)
        procs = [
            ctx.Process(
                target=_writer,
                args=(
                    settings.model_dump_json(),
                    share - share % args.batch,
                    args.batch,
                    args.streams,
                    f"e{w}",
                    go,
                    args.threads,
                ),
            )
            for w in range(args.writers)
        ]
        procs.append(ctx.Process(target=_relay, args=(settings.model_dump_json(), go, stop)))
        for p in procs:
            p.start()
        time.sleep(3)  # let the processes import and connect before the clock starts
        total = share * args.writers
        start = time.perf_counter()
        go.set()
        project_until(services, r, total)
        t_e2e = time.perf_counter() - start
        stop.set()
        for p in procs:
            p.join(60)
        r.close()
        e2e = total / t_e2e
        print(
            f"e2e      {e2e:10.0f} events/s  ({args.writers} writer processes x {args.threads} "
            f"threads + relay process + projection, concurrently)",
            flush=True,
        )

        t_raw = raw_roundtrip(settings, n)
        raw = n / t_raw
        print(
            f"raw      {raw:10.0f} events/s  (kafka-python produce + consume, same broker)",
            flush=True,
        )
        services.close()
    print(
        json.dumps(
            {
                "bench": "event_pipeline",
                "events": n,
                "append_events_per_s": round(n / t_append),
                "relay_events_per_s": round(n / t_relay),
                "project_events_per_s": round(n / t_project),
                "e2e_events_per_s": round(e2e),
                "raw_roundtrip_events_per_s": round(raw),
                "ratio": round(e2e / raw, 3),
                "events_per_append": args.batch,
                "writers": args.writers,
                "threads_per_writer": args.threads,
                "database": "postgresql",
                "broker": "tansu (in-memory)",
            }
        )
    )


if __name__ == "__main__":
    main()
