"""Mixed load on the HTTP API from concurrent clients, then an account of every accepted command.

By default it starts ``clearframe serve`` (embedded: SQLite and the SQL-tail log in a temporary
data directory) as a subprocess on a loopback port; with ``--url`` it drives a running API
instead, and then needs ``--database-url`` (and the server's ``CLEARFRAME_*`` environment, for
the secret key) to create its principals and to read the event log.

Each client loops, for ``--seconds``, over a mix of:
- ``POST /v1/generations`` (text to video, 2 s at 360p),
- consent changes: ``POST /v1/cameos`` once, then ``POST /v1/cameos/{id}/grants`` and
  ``DELETE /v1/cameos/{id}/grants/{grantee}`` in turn,
- ``POST /v1/reports`` (on a few shared assets, so case streams grow long),
- ``POST /v1/reverse-search/searches`` and ``POST /v1/provenance/verify`` with small clips and
  images generated here.

It prints requests/s and p50/p99 latency per route, then checks that every command the API
accepted (2xx) left its event in the log: the report's ReportFiled, the generation's
GenerationRequested, the cameo event at the stream version the API answered, the search's
ReverseSearchPerformed and the check's ProvenanceChecked. The last line is one JSON object:
{"bench": "load", "requests": N, "server_errors": N, "accepted_commands": N,
 "unaccounted_commands": N, "p99_ms_by_route": {...}}.

Usage: python bench/load.py [--seconds 30] [--clients 8] [--workers none|all|LIST]
       python bench/load.py --url http://127.0.0.1:8000 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from tests.utils.deployment import wait_until_serving  # noqa: E402

CLEARFRAME = str(Path(sys.executable).parent / "clearframe")
REPORT_TARGETS = 6


@dataclass
class Command:
    """An accepted command and the event it must have left: (stream, type, check)."""

    route: str
    stream_id: str
    event_type: str
    version: int | None = None  # the stream version the API answered, when it says one
    match: dict[str, Any] = field(default_factory=dict)  # payload fields the event must carry


@dataclass
class Tally:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    transport_errors: Counter[str] = field(default_factory=Counter)
    accepted: list[Command] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, status: int, ms: float, command: Command | None) -> None:
        with self.lock:
            self.latencies_ms[route].append(ms)
            self.statuses[route][status] += 1
            if command is not None:
                self.accepted.append(command)

    def failed(self, route: str) -> None:
        with self.lock:
            self.transport_errors[route] += 1


# -- media ------------------------------------------------------------------------------------


def make_media(directory: Path) -> list[tuple[str, bytes, str]]:
    """A few small clips and stills to search for and verify: (file name, bytes, type)."""
    from PIL import Image

    from core.video import encode_mp4
    from generator.public import render_clip

    media: list[tuple[str, bytes, str]] = []
    for i, prompt in enumerate(["a harbour at dawn", "rain on a tin roof", "a red kite"]):
        frames = render_clip(prompt, 2, 160, 96, 1.0, fps=12)
        clip = encode_mp4(frames, 12, directory / f"clip-{i}.mp4")
        media.append((clip.name, clip.read_bytes(), "video/mp4"))
        still = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(frames[len(frames) // 2])).save(still, "PNG")
        media.append((f"still-{i}.png", still.getvalue(), "image/png"))
    return media


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    """``clearframe serve`` in a temporary data directory, on a free loopback port."""

    def __init__(self, workers: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="cf-load-"))
        self.port = free_port()
        self.workers = workers
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARFRAME_")}
        self.env.update(
            {
                "CLEARFRAME_DATA_DIR": str(self.tmp / "data"),
                "PYTHONUNBUFFERED": "1",
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            }
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.tmp / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> Any:
        from core.settings import Settings

        return Settings(data_dir=self.tmp / "data")

    def start(self, timeout_s: float = 240) -> None:
        from core.migrate import upgrade

        upgrade(self.settings().effective_database_url)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [CLEARFRAME, "serve", "--port", str(self.port), "--workers", self.workers],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
            )
        wait_until_serving(self.url, self.proc, timeout_s, self.log_tail)

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _cameo_capture() -> list[tuple[str, tuple[str, bytes, str]]]:
    from tests.utils.enrolment import capture_files, live_frames

    return capture_files(live_frames("kit"))


def make_token(services: Any, name: str, *roles: str) -> tuple[str, str]:
    from core.auth import create_principal, issue_token

    pid = create_principal(services.sessions, name, list(roles))
    if "user" in roles:  # generating needs an account whose age was assured
        from core.auth import assure_age
        from core.events import Actor
        from core.identity import AgeAssuranceSource

        operator = Actor(id="cli:bench-load", role="operator")
        assure_age(services.sessions, pid, AgeAssuranceSource.OPERATOR, actor=operator,
                   reference="bench/load.py")  # fmt: skip
    _, token = issue_token(services.sessions, services.settings, pid, "bench/load.py")
    return pid, token


# -- the clients ---------------------------------------------------------------------------------


class Client:
    """One user (and investigator) sending the mix, each request timed."""

    def __init__(
        self,
        n: int,
        url: str,
        user: tuple[str, str],
        investigator: str,
        grantees: list[str],
        media: list[tuple[str, bytes, str]],
        tally: Tally,
        stop: threading.Event,
        rate: float | None,
    ) -> None:
        self.n, self.url, self.tally, self.stop = n, url, tally, stop
        self.user_id, token = user
        self.user = {"Authorization": f"Bearer {token}"}
        self.investigator = {"Authorization": f"Bearer {investigator}"}
        self.grantees = grantees
        self.media = media
        self.rate = rate
        self.random = random.Random(n)
        self.cameo_id: str | None = None
        self.granted: list[str] = []
        self.i = 0

    def _send(
        self,
        http: httpx.Client,
        route: str,
        method: str,
        path: str,
        accept: Callable[[httpx.Response], Command | None],
        **kwargs: Any,
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = http.request(method, path, **kwargs)
        except httpx.HTTPError:
            self.tally.failed(route)
            self.stop.wait(0.1)
            return None
        ms = (time.perf_counter() - start) * 1000.0
        command = accept(response) if 200 <= response.status_code < 300 else None
        self.tally.record(route, response.status_code, ms, command)
        return response

    def report(self, http: httpx.Client) -> None:
        target = f"asset-load-{self.random.randrange(REPORT_TARGETS)}"

        def accept(r: httpx.Response) -> Command:
            body = r.json()
            return Command(
                "POST /v1/reports",
                f"report-{body['case_id']}",
                "ReportFiled",
                match={"report_id": body["report_id"]},
            )

        self._send(
            http,
            "POST /v1/reports",
            "POST",
            "/v1/reports",
            accept,
            headers=self.user,
            json={
                "target": {"kind": "asset", "id": target},
                "category": self.random.choice(["spam", "harassment", "violence", "other"]),
                "explanation": f"load client {self.n}, report {self.i}: seen in the wild",
                "good_faith": True,
            },
        )

    def generation(self, http: httpx.Client) -> None:
        def accept(r: httpx.Response) -> Command:
            gid = r.json()["generation_id"]
            return Command("POST /v1/generations", f"generation-{gid}", "GenerationRequested")

        self._send(
            http,
            "POST /v1/generations",
            "POST",
            "/v1/generations",
            accept,
            headers=self.user,
            json={
                "prompt": f"a paper boat drifting down a rainy street, take {self.n}-{self.i}",
                "duration_s": 2,
                "resolution": "360p",
                "tier": "paid",
                "seed": self.i,
            },
        )

    def consent(self, http: httpx.Client) -> None:
        if self.cameo_id is None:

            def registered(r: httpx.Response) -> Command:
                body = r.json()
                self.cameo_id = body["cameo_id"]
                return Command(
                    "POST /v1/cameos",
                    f"consent-{body['cameo_id']}",
                    "CameoEnrolled",  # appended with the registration, from the capture
                    version=int(body["stream_version"]),
                )

            self._send(
                http,
                "POST /v1/cameos",
                "POST",
                "/v1/cameos",
                registered,
                headers=self.user,
                data={
                    "handle": f"load{self.n}{uuid.uuid4().hex[:8]}",
                    "display_name": f"Load client {self.n}",
                    "audience": "approved_people",
                },
                files=_cameo_capture(),  # a liveness capture from tests/data/faces
            )
            return
        cameo = self.cameo_id
        free = [g for g in self.grantees if g not in self.granted]
        if free and (not self.granted or self.random.random() < 0.5):
            grantee = self.random.choice(free)

            def granted(r: httpx.Response) -> Command:
                self.granted.append(grantee)
                return Command(
                    "POST /v1/cameos/{id}/grants",
                    f"consent-{cameo}",
                    "CameoConsentGranted",
                    version=int(r.json()["stream_version"]),
                )

            self._send(
                http,
                "POST /v1/cameos/{id}/grants",
                "POST",
                f"/v1/cameos/{cameo}/grants",
                granted,
                headers=self.user,
                json={"grantee_id": grantee},
            )
        else:
            grantee = self.random.choice(self.granted)

            def revoked(r: httpx.Response) -> Command:
                self.granted.remove(grantee)
                return Command(
                    "DELETE /v1/cameos/{id}/grants/{grantee}",
                    f"consent-{cameo}",
                    "CameoConsentRevoked",
                    version=int(r.json()["stream_version"]),
                )

            self._send(
                http,
                "DELETE /v1/cameos/{id}/grants/{grantee}",
                "DELETE",
                f"/v1/cameos/{cameo}/grants/{grantee}",
                revoked,
                headers=self.user,
            )

    def _upload(
        self,
        http: httpx.Client,
        path: str,
        id_field: str,
        stream_prefix: str,
        event_type: str,
        headers: dict[str, str],
        media: list[tuple[str, bytes, str]],
    ) -> None:
        """POST one of ``media`` to ``path``; the answer's ``id_field`` names the audit stream
        (``stream_prefix`` + id) that must then hold ``event_type``."""
        name, data, media_type = self.random.choice(media)
        route = f"POST {path}"

        def accept(r: httpx.Response) -> Command:
            return Command(route, f"{stream_prefix}{r.json()[id_field]}", event_type)

        self._send(
            http,
            route,
            "POST",
            path,
            accept,
            headers=headers,
            files={"file": (name, data, media_type)},
        )

    def search(self, http: httpx.Client) -> None:
        self._upload(
            http,
            "/v1/reverse-search/searches",
            "search_id",
            "audit-",
            "ReverseSearchPerformed",
            self.investigator,
            self.media,
        )

    def verify(self, http: httpx.Client) -> None:
        videos = [m for m in self.media if m[2] == "video/mp4"]
        self._upload(
            http,
            "/v1/provenance/verify",
            "check_id",
            "audit-provcheck-",
            "ProvenanceChecked",
            self.user,
            videos,
        )

    # reports, generations, consent changes, searches, verifies
    MIX = (("report", 30), ("generation", 20), ("consent", 25), ("search", 12), ("verify", 13))

    def run(self) -> None:
        kinds = [k for k, _ in self.MIX]
        weights = [w for _, w in self.MIX]
        interval = None if self.rate is None else 1.0 / self.rate
        next_at = time.monotonic()
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                if interval is not None:
                    if self.stop.wait(max(0.0, next_at - time.monotonic())):
                        break
                    next_at += interval
                self.i += 1
                getattr(self, self.random.choices(kinds, weights)[0])(http)


# -- the account ------------------------------------------------------------------------------


def unaccounted(store: Any, commands: list[Command]) -> list[Command]:
    """The accepted commands whose event is not in the log."""
    missing: list[Command] = []
    by_stream: dict[str, list[Command]] = defaultdict(list)
    for c in commands:
        by_stream[c.stream_id].append(c)
    for sid, wanted in by_stream.items():
        events = store.read_stream(sid)
        for c in wanted:
            found = [
                e
                for e in events
                if e.type == c.event_type
                and (c.version is None or e.stream_version == c.version)
                and all(e.payload.get(k) == v for k, v in c.match.items())
            ]
            if len(found) != 1:
                missing.append(c)
    return missing


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=None, help="requests/s per client")
    parser.add_argument("--url", help="a running API (default: start clearframe serve)")
    parser.add_argument("--database-url", help="its database (with --url): principals, account")
    parser.add_argument(
        "--workers", default="none", help="workers of the embedded serve: none, all or a list"
    )
    args = parser.parse_args(argv)
    if args.url and not args.database_url:
        parser.error("--url needs --database-url (principals are created there, events read)")

    from core.services import Services
    from core.settings import Settings

    server = None if args.url else EmbeddedServer(args.workers)
    media_dir = Path(tempfile.mkdtemp(prefix="cf-load-media-"))
    try:
        media = make_media(media_dir)
        if server is not None:
            print(f"starting clearframe serve --workers {args.workers} ...", file=sys.stderr)
            t0 = time.monotonic()
            server.start()
            print(f"serving at {server.url} after {time.monotonic() - t0:.1f} s", file=sys.stderr)
            url, settings = server.url, server.settings()
        else:
            url, settings = args.url, Settings(database_url=args.database_url)
        services = Services.from_settings(settings)
        try:
            _, investigator = make_token(services, "Load investigator", "investigator")
            grantees = [make_token(services, f"Grantee {i}", "user")[0] for i in range(4)]
            users = [make_token(services, f"Load user {n}", "user") for n in range(args.clients)]
            tally, stop = Tally(), threading.Event()
            clients = [
                Client(n, url, users[n], investigator, grantees, media, tally, stop, args.rate)
                for n in range(args.clients)
            ]
            threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
            started = time.monotonic()
            for t in threads:
                t.start()
            stop.wait(args.seconds)
            stop.set()
            for t in threads:
                t.join(120)
            elapsed = time.monotonic() - started
            missing = unaccounted(services.store, tally.accepted)
        finally:
            services.close()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(media_dir, ignore_errors=True)

    requests = sum(sum(c.values()) for c in tally.statuses.values())
    server_errors = sum(
        n for c in tally.statuses.values() for status, n in c.items() if status >= 500
    ) + sum(tally.transport_errors.values())
    print(
        f"{requests} requests in {elapsed:.1f} s from {args.clients} clients: "
        f"{requests / elapsed:.1f} requests/s"
    )
    print(f"{'route':42} {'n':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    p99: dict[str, float] = {}
    for route in sorted(tally.latencies_ms):
        lat = tally.latencies_ms[route]
        p99[route] = round(percentile(lat, 99), 1)
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(tally.statuses[route].items()))
        print(
            f"{route:42} {len(lat):6d} {len(lat) / elapsed:7.1f} {percentile(lat, 50):8.1f} "
            f"{p99[route]:8.1f}  {statuses}"
        )
    for route, n in sorted(tally.transport_errors.items()):
        print(f"transport errors on {route}: {n}")
    print(
        f"accepted commands: {len(tally.accepted)}, without their event in the log: {len(missing)}"
    )
    for c in missing[:10]:
        print(f"  unaccounted: {c.route} {c.stream_id} {c.event_type} v{c.version}")
    print(
        json.dumps(
            {
                "bench": "load",
                "requests": requests,
                "server_errors": server_errors,
                "accepted_commands": len(tally.accepted),
                "unaccounted_commands": len(missing),
                "p99_ms_by_route": p99,
            },
            sort_keys=True,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
