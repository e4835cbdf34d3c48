"""The console from a cold browser: time to first paint and to an interactive review queue,
and the bytes each page ships.

Starts ``clearframe serve`` (SQLite, in-process log) in a temporary data directory, then for
each run launches a fresh Chromium (Debian's, as the tests use), opens a one-time sign-in
link for a reviewer and measures, from the navigation's start:

- first contentful paint of the review page (the browser's own ``paint`` timing),
- the queue's table (or its empty state) on screen with nothing loading: the page is usable.

The baseline, in the same runs, is the sign-in page, the smallest page the console serves:
the queue's figures are also printed as ratios to it. Bytes per page are the document plus
every resource it loaded (``encodedBodySize``: what crossed the wire before decompression).

    .venv/bin/python bench/console.py --runs 5

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.utils.serve import BIN, start_serve  # noqa: E402 - after the path is set

CHROMIUM = os.environ.get("CLEARFRAME_CHROMIUM", "/usr/bin/chromium")
PAGES = ("review", "investigate", "rights", "me", "admin")

PAINT = """() => new Promise(done => {
  const found = performance.getEntriesByName('first-contentful-paint')[0];
  if (found) return done(found.startTime);
  new PerformanceObserver((list, obs) => {
    const e = list.getEntriesByName('first-contentful-paint')[0];
    if (e) { obs.disconnect(); done(e.startTime); }
  }).observe({type: 'paint', buffered: true});
})"""
BYTES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  return {bytes: (nav ? nav.encodedBodySize : 0) + res.reduce((n, r) => n + r.encodedBodySize, 0),
          requests: 1 + res.length};
}"""


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "clearframe"), *args], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


def cold_run(pw: Any, url: str, link: str) -> dict[str, float]:
    """One fresh browser process: the sign-in page, then the queue through a sign-in link."""
    started = time.perf_counter()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    launched = time.perf_counter()
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(url + "/console/sign-in")
        page.get_by_label("API token").wait_for()
        sign_in_paint = page.evaluate(PAINT)
        sign_in_ready = page.evaluate("() => performance.now()")
        # the link signs in and replaces the page with the review queue
        # a fresh document: the link's #link= would only change the sign-in page's hash
        page.goto("about:blank")
        page.goto(link)
        page.wait_for_url(lambda u: "/console/review" in u)
        page.wait_for_selector("main table, main .empty")
        page.wait_for_function("() => !document.querySelector('[aria-busy=\"true\"]')")
        queue_ready = page.evaluate("() => performance.now()")
        queue_paint = page.evaluate(PAINT)
    finally:
        browser.close()
    return {
        "browser_launch_ms": (launched - started) * 1000,
        "sign_in_first_paint_ms": sign_in_paint,
        "sign_in_ready_ms": sign_in_ready,
        "queue_first_paint_ms": queue_paint,
        "queue_interactive_ms": queue_ready,
    }


def page_bytes(pw: Any, url: str, token: str) -> dict[str, dict[str, int]]:
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    try:
        sizes: dict[str, dict[str, int]] = {}
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/console/sign-in")
        sizes["sign-in"] = page.evaluate(BYTES)
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda u: "/console/sign-in" not in u)
        for name in PAGES:
            fresh = context.new_page()  # its own navigation: nothing counted twice
            fresh.goto(f"{url}/console/{name}")
            fresh.wait_for_function("() => !document.querySelector('[aria-busy=\"true\"]')")
            fresh.wait_for_load_state("networkidle")
            sizes[name] = fresh.evaluate(BYTES)
            fresh.close()
    finally:
        browser.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="cf-bench-console-") as tmp:
        server = start_serve(Path(tmp) / "var", Path(tmp) / "serve.log")
        url, env = server.url, server.env
        try:
            reviewer = json.loads(cli(env, "principal", "create", "--name", "Bench Reviewer",
                                      "--role", "reviewer", "--with-token"))
            admin = json.loads(cli(env, "principal", "create", "--name", "Bench Admin",
                                   "--role", "admin", "--with-token"))
            runs = []
            with sync_playwright() as pw:
                for i in range(args.runs):
                    link = json.loads(cli(env, "principal", "login-link",
                                          reviewer["principal_id"], "--base-url", url))["url"]
                    runs.append(cold_run(pw, url, link))
                    print(f"run {i + 1}: " + ", ".join(f"{k} {v:.0f}" for k, v in runs[-1].items()))
                sizes = page_bytes(pw, url, admin["token"])
        finally:
            server.stop()
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    result = {
        "runs": args.runs,
        "median_ms": {k: round(v, 1) for k, v in median.items()},
        "queue_paint_vs_sign_in_paint": round(
            median["queue_first_paint_ms"] / median["sign_in_first_paint_ms"], 2),
        "queue_interactive_vs_sign_in_ready": round(
            median["queue_interactive_ms"] / median["sign_in_ready_ms"], 2),
        "bytes_per_page": {k: v["bytes"] for k, v in sizes.items()},
        "requests_per_page": {k: v["requests"] for k, v in sizes.items()},
    }
    for name, size in sizes.items():
        print(f"{name}: {size['bytes']:,} bytes in {size['requests']} requests")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
