"""Start-up figures: how fast the CLI starts, and how long `clearframe serve` takes to decide.

1. CLI: `clearframe --help`, `principal create`, `token create` and `token revoke`, each run
   --runs times as a fresh process on a migrated embedded database; median and worst seconds.
2. serve: a fresh data directory, `clearframe serve` with every worker in process. From the
   spawn: seconds until /healthz answers, until serve prints that its models are warm, and
   until the first generation request has its prompt decision (cold). Then --warm more
   requests, one after another, each from its POST to its decision (warm): median and worst.
   The decision is the generation leaving `requested` (approved or refused by the gate).

Wall-clock figures on a shared machine: compare them within one run. The last line is one
JSON object. Usage: python bench/startup.py [--runs 5] [--warm 5] [--cli-only]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLEARFRAME = str(Path(sys.executable).parent / "clearframe")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARFRAME_")}
    env.update(
        {
            "CLEARFRAME_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [CLEARFRAME, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"clearframe {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return took, done.stdout


def cli_figures(tmp: Path, runs: int) -> dict[str, dict[str, float]]:
    env = _env(tmp / "cli")
    _run(["migrate"], env)
    times: dict[str, list[float]] = {
        "--help": [],
        "principal create": [],
        "token create": [],
        "token revoke": [],
    }
    for i in range(runs):
        times["--help"].append(_run(["--help"], env)[0])
        took, out = _run(["principal", "create", "--name", f"Bench {i}", "--role", "user"], env)
        times["principal create"].append(took)
        principal = _json(out)["principal_id"]
        took, out = _run(["token", "create", "--principal", principal], env)
        times["token create"].append(took)
        token_id = _json(out)["token_id"]
        times["token revoke"].append(_run(["token", "revoke", token_id], env)[0])
    return {
        name: {"median_s": round(statistics.median(v), 3), "max_s": round(max(v), 3)}
        for name, v in times.items()
    }


def _json(out: str) -> dict[str, Any]:
    value = json.loads(out)
    if not isinstance(value, dict):
        raise SystemExit(f"expected a JSON object, got {out[:200]!r}")
    return value


def _decided(http: httpx.Client, url: str, headers: dict[str, str], prompt: str) -> float:
    start = time.perf_counter()
    r = http.post(
        f"{url}/v1/generations",
        headers=headers,
        json={"prompt": prompt, "duration_s": 2, "resolution": "360p", "tier": "paid"},
    )
    if r.status_code != 202:
        raise SystemExit(f"generation request refused: {r.status_code} {r.text[:300]}")
    gid = r.json()["generation_id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = http.get(f"{url}/v1/generations/{gid}", headers=headers).json()["status"]
        if status != "requested":
            return time.perf_counter() - start
        time.sleep(0.05)
    raise SystemExit(f"no prompt decision for {gid} within 600 s")


def serve_figures(tmp: Path, warm: int) -> dict[str, Any]:
    from tests.utils.deployment import wait_until_serving

    data_dir = tmp / "serve"
    env = _env(data_dir)
    _run(["migrate"], env)
    _, out = _run(["principal", "create", "--name", "Bench", "--role", "user", "--with-token"], env)
    created = _json(out)
    _run(["principal", "assure-age", created["principal_id"], "--ref", "bench/startup.py"], env)
    headers = {"Authorization": f"Bearer {created['token']}"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "serve.log"
    figures: dict[str, Any] = {}
    with open(log_path, "wb") as log:
        spawned = time.perf_counter()
        proc = subprocess.Popen(
            [CLEARFRAME, "serve", "--port", str(port)], env=env, stdout=log, stderr=log, cwd=tmp
        )
    try:
        wait_until_serving(url, proc, 300, lambda: log_path.read_text(errors="replace")[-2000:])
        figures["healthz_s"] = round(time.perf_counter() - spawned, 2)
        with httpx.Client(timeout=30) as http:
            cold = _decided(http, url, headers, "a paper boat drifting down a rainy street")
            figures["first_decision_s"] = round(time.perf_counter() - spawned, 2)
            figures["first_decision_after_request_s"] = round(cold, 2)
            warm_s = [
                _decided(http, url, headers, f"a lighthouse at dusk, gulls circling, take {i}")
                for i in range(warm)
            ]
        figures["warm_decision_median_s"] = round(statistics.median(warm_s), 3)
        figures["warm_decision_max_s"] = round(max(warm_s), 3)
        ready = re.search(r"models warm after ([0-9.]+) s", log_path.read_text(errors="replace"))
        figures["models_warm_after_s"] = float(ready.group(1)) if ready else None
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each CLI command")
    parser.add_argument("--warm", type=int, default=5, help="warm decisions after the first")
    parser.add_argument(
        "--cli-only", action="store_true", help="only the CLI start times (e.g. on an old commit)"
    )
    args = parser.parse_args()
    if args.runs < 1 or args.warm < 1:
        parser.error("--runs and --warm must be at least 1")
    tmp = Path(tempfile.mkdtemp(prefix="cf-startup-"))
    try:
        cli = cli_figures(tmp, args.runs)
        for name, figure in cli.items():
            print(
                f"clearframe {name:<17} median {figure['median_s']:.3f} s, worst {figure['max_s']:.3f} s"
            )
        serve = {} if args.cli_only else serve_figures(tmp, args.warm)
        for name, value in serve.items():
            print(f"serve {name:<28} {value}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"bench": "startup", "cli": cli, "serve": serve}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
