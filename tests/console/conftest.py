"""The console in a real browser: Debian's Chromium driven by Playwright against a live
``clearframe serve`` (SQLite and the in-process log, as the README's run command starts it).

One server serves every browser test in tests/console: it is the expensive part (the moderation
gate warms up once). Each test gets a fresh browser context and people of its own.

A test fails when the page logs a JavaScript error, throws, loses a request, gets a 4xx/5xx
for one of the console's own files, or when axe-core finds a serious or critical violation.
Screenshots go to ``$CLEARFRAME_SCREENSHOTS`` (default: a folder under the system temp dir),
one folder per test, printed at the end of the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.utils.serve import BIN, LiveServer, start_serve

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "console" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CLEARFRAME_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("CLEARFRAME_SCREENSHOTS", Path(tempfile.gettempdir()) / "clearframe-console")
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Live:
    """A running ``clearframe serve`` and the CLI an operator would use beside it."""

    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def env(self) -> dict[str, str]:
        return self.server.env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "clearframe"), *args], env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    def person(self, name: str, *roles: str, adult: bool = False) -> tuple[str, str]:
        """A principal with a token: (principal_id, token)."""
        role_args = [a for r in roles for a in ("--role", r)]
        created = json.loads(self.cli("principal", "create", "--name", name, *role_args,
                                      "--with-token"))
        if adult:
            self.cli("principal", "assure-age", created["principal_id"], "--ref", "console-test")
        return created["principal_id"], created["token"]

    def login_link(self, principal_id: str) -> str:
        issued = json.loads(self.cli("principal", "login-link", principal_id,
                                     "--base-url", self.url))
        return str(issued["url"])

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"},
                            timeout=120)

    def generate(self, token: str, prompt: str, *, seed: int = 7) -> dict[str, Any]:
        """A generation through the API, polled until it is decided and (if made) downloadable."""
        with self.api(token) as client:
            r = client.post("/v1/generations", json={
                "prompt": prompt, "duration_s": 2, "resolution": "360p", "tier": "paid",
                "seed": seed})
            assert r.status_code == 202, r.text
            gid = r.json()["generation_id"]
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                state = client.get(f"/v1/generations/{gid}").json()
                if state["status"] in ("refused", "failed", "blocked"):
                    return dict(state)
                job = client.get(f"/v1/generations/{gid}/job").json()
                if job.get("downloadable") and state.get("asset_id"):
                    return dict(state)
                time.sleep(0.5)
        raise AssertionError(f"generation {gid} was not decided in time: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.server.log_tail()


# package scope: the server lives while tests/console runs and stops before the rest of the
# suite (an idle serve still runs every worker's poll loop, which the other tests would pay)
@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    base = tmp_path_factory.mktemp("console-live")
    server = start_serve(base / "var", base / "serve.log")
    try:
        yield Live(server)
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `.ci/run` installs Debian's chromium; "
                    "or apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Console:
    """One person's browser tab on the console, with everything that went wrong in it kept."""

    page: Any
    live: Live
    folder: Path
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.live.url + path)

    def sign_in(self, token: str, then: str | None = None) -> None:
        """Sign in through the sign-in page, as a person would (paste the token, press Enter)."""
        self.open("/console/sign-in" + (f"?next={then}" if then else ""))
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        # the sign-in page's own address names its destination (?next=/console/...): wait
        # for the path to change, not for any URL mentioning a console page
        self.page.wait_for_url(lambda url: urlsplit(url).path not in ("/console/sign-in", ""))
        self.settle()

    def to(self, path_and_hash: str) -> None:
        """Go to a console page and a place in it (``/console/me#/appeals``): a new page
        loads it, the same page only changes its hash, as following a link would."""
        path, _, fragment = path_and_hash.partition("#")
        current = self.page.url.split("#", 1)[0]
        if current == self.live.url + path:
            self.page.evaluate("(h) => { window.location.hash = h; }", fragment)
        else:
            self.page.goto(self.live.url + path_and_hash)
        self.settle()

    def shot(self, name: str) -> Path:
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def settle(self) -> None:
        """Wait until no progress indicator is showing."""
        self.page.wait_for_function(
            "() => !document.querySelector('[aria-busy=\"true\"]')", timeout=60_000)

    def check_accessibility(self) -> list[dict[str, Any]]:
        """axe-core in the page; serious and critical violations fail the test."""
        self.settle()
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe on {self.page.url}: {json.dumps(bad, indent=1)}"
        return list(result)

    def at_phone_width(self, name: str) -> None:
        """The same page at a phone's width: nothing wider than the screen, still usable."""
        self.page.set_viewport_size(PHONE)
        try:
            # measured two frames after the resize, once the page has laid itself out again
            overflow = self.page.evaluate(
                "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame("
                "() => done(document.documentElement.scrollWidth"
                " - document.documentElement.clientWidth))))")
            if overflow > 1:
                # name the elements that stick out (the innermost ones), to say what to fix
                wide = self.page.evaluate(
                    "() => { const w = document.documentElement.clientWidth;"
                    " return [...document.querySelectorAll('body *')]"
                    ".filter(e => e.getBoundingClientRect().right > w + 1"
                    " || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')"
                    ".slice(-8).map(e => e.tagName.toLowerCase() + (e.className ? '.' +"
                    " String(e.className).replace(/ /g, '.') : '') + ' ' +"
                    " Math.round(e.getBoundingClientRect().right) + 'px/' + e.scrollWidth); }")
                raise AssertionError(
                    f"{self.page.url} is {overflow}px wider than a phone: {wide}")
            self.shot(f"{name}-phone")
        finally:
            self.page.set_viewport_size(DESKTOP)


def _last_look(tab: Console) -> None:
    """The page as the test left it: what a failure looked like."""
    try:
        tab.page.screenshot(path=str(tab.folder / "last.png"), full_page=True)
    except Exception:  # noqa: BLE001 - a page that already closed has nothing to show
        return


def _watch(console: Console) -> None:
    page, static = console.page, f"{console.live.url}/console/static/"

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        # An API refusal (a 4xx the page then explains in words) is logged by Chromium as
        # "Failed to load resource"; the journeys check what the page says. Anything else,
        # and any failure of the console's own files, is a defect.
        if msg.text.startswith("Failed to load resource") and not where.startswith(static):
            return
        console.problems.append(f"console error: {msg.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda err: console.problems.append(f"page error: {err}"))

    def on_failed(request: Any) -> None:
        # a blob: preview revoked after use, or a navigation away, is not a lost request
        failure = request.failure or ""
        if request.url.startswith("blob:") or "ERR_ABORTED" in failure:
            return
        console.problems.append(f"request failed: {request.method} {request.url} {failure}")

    page.on("requestfailed", on_failed)

    def on_response(response: Any) -> None:
        if response.url.startswith(static) and response.status >= 400:
            console.problems.append(f"console file {response.url} answered {response.status}")
        if response.status >= 500:
            console.problems.append(f"server error {response.status} at {response.url}")

    page.on("response", on_response)


@pytest.fixture
def console(
    browser: Any, live: Live, request: pytest.FixtureRequest
) -> Iterator[Console]:
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    tab = Console(page, live, folder)
    _watch(tab)
    try:
        yield tab
    finally:
        _last_look(tab)
        context.close()
        print(f"\nscreenshots of {request.node.name}: {folder} ({len(tab.shots)} files)")
    assert not tab.problems, "\n".join(tab.problems)


def new_console(browser: Any, live: Live, folder: Path) -> tuple[Console, Any]:
    """A second person's tab in the same test (its own context: its own cookie)."""
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    tab = Console(page, live, folder)
    _watch(tab)
    return tab, context


@pytest.fixture
def second_console(
    browser: Any, live: Live, console: Console
) -> Iterator[Console]:
    tab, context = new_console(browser, live, console.folder / "second")
    try:
        yield tab
    finally:
        _last_look(tab)
        context.close()
    assert not tab.problems, "\n".join(tab.problems)
