"""The admin's console page in a browser: lists, featured, transparency and people."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.console.conftest import Console, Live


def test_an_admin_edits_lists_manages_tokens_and_reads_the_figures(
    console: Console, live: Live
) -> None:
    ada_id, token = live.person("Ada Admin", "admin")
    with live.api(token) as client:
        before = client.get("/v1/moderation/lists").json()["blocklist"]["version"]
    console.sign_in(token, "/console/admin")
    page = console.page
    assert page.url.endswith("/console/admin")

    # Lists: a new term gives the blocklist a new version, shown on the page
    page.get_by_role("heading", name="Moderation lists").wait_for()
    console.settle()
    console.check_accessibility()
    console.shot("lists")
    page.get_by_label("Harm category").select_option("violence_gore")
    page.get_by_label("Term", exact=True).fill("console test blade")
    page.get_by_role("button", name="Add term").click()
    page.get_by_text(f"Blocklist version {before + 1}").wait_for()
    page.get_by_text("added “console test blade” to violence gore").wait_for()
    term = page.locator('details[data-category="violence_gore"] li', has_text="console test blade")
    term.wait_for()
    with live.api(token) as client:
        current = client.get("/v1/moderation/lists").json()
    lists = current["blocklist"]
    assert lists["version"] == before + 1
    assert "console test blade" in lists["lists"]["violence_gore"]
    figures = current["public_figures"]["figures"]
    if len(figures) > 1:  # the figures table filters as one types
        page.get_by_label("Find a figure").fill(figures[0]["id"])
        page.get_by_text(re.compile(r"^\d+ of \d+ shown$")).wait_for()
        assert page.locator(".figures-scroll tbody tr:visible").count() < len(figures)

    # Featured: the empty state says what to do; an unknown asset is refused in words
    page.get_by_role("link", name="Featured").click()
    page.get_by_role("heading", name="Featured videos").wait_for()
    console.settle()
    page.get_by_label("Asset id").fill("a_does_not_exist")
    page.get_by_role("button", name="Feature", exact=True).click()
    page.get_by_role("alert").wait_for()
    console.check_accessibility()
    console.shot("featured")

    # People: create a principal, issue a token (shown once), revoke it
    page.get_by_role("link", name="People").click()
    page.get_by_role("heading", name="People and API tokens").wait_for()
    console.settle()
    console.check_accessibility()
    create = page.get_by_role("form", name="Create a principal")
    create.get_by_label("Name").fill("Tess Tokens")
    create.get_by_label("reviewer").check()
    create.get_by_role("button", name="Create principal").click()
    page.get_by_role("cell", name="Tess Tokens").wait_for()
    console.settle()
    issue = page.get_by_role("form", name="Issue an API token")
    # the person just created is chosen already
    chosen = issue.get_by_label("Person").evaluate("s => s.selectedOptions[0].textContent")
    assert chosen.startswith("Tess Tokens"), chosen
    issue.get_by_label("Label").fill("console test")
    issue.get_by_role("button", name="Issue token").click()
    secret_box = page.get_by_role("region", name="New API token")
    secret_box.wait_for()
    secret = secret_box.get_by_label("API token").input_value()
    assert secret.startswith("cf_")
    console.settle()
    console.check_accessibility()
    console.shot("people-token-issued")
    tess = httpx.get(f"{live.url}/v1/cases/queue", headers={"Authorization": f"Bearer {secret}"})
    assert tess.status_code == 200, tess.text

    row = page.get_by_role("row").filter(has_text="console test")
    row.get_by_role("button", name=re.compile("Revoke token")).click()
    row.get_by_role("button", name="Yes, revoke").click()
    page.get_by_role("row").filter(has_text="console test").get_by_text("revoked").wait_for()
    console.settle()
    gone = httpx.get(f"{live.url}/v1/cases/queue", headers={"Authorization": f"Bearer {secret}"})
    assert gone.status_code == 401 and gone.json()["code"] == "unauthenticated"
    assert secret_box.count() == 0  # the secret of a revoked token is no longer shown
    page.get_by_text("login-link").first.wait_for()  # sign-in links: the CLI only
    console.at_phone_width("people")
    console.shot("people")

    # Transparency: the figures as a chart and as a table, and the statements export. A
    # report filed now makes sure the figures are not all zero on a fresh server.
    _, reporter = live.person("Rob Reporter", "user")
    with live.api(reporter) as client:
        filed = client.post("/v1/reports", json={
            "target": {"kind": "account", "id": ada_id}, "category": "harassment",
            "explanation": "Sends the same insult to me every day", "good_faith": True})
        assert filed.status_code == 201, filed.text
    page.get_by_role("link", name="Transparency").click()
    page.get_by_role("heading", name="Transparency", exact=True).wait_for()
    chart = page.locator("svg.admin-chart")
    chart.wait_for()
    assert chart.locator("rect.bar").count() >= 5
    page.get_by_role("table", name="Figures").wait_for()
    console.settle()
    shown = page.get_by_role("table", name="Figures").get_by_role("row").filter(
        has_text="Reports received").get_by_role("cell").nth(1).inner_text()
    with live.api(token) as client:
        figures_now = client.get("/v1/transparency/report", params={
            "start": page.get_by_label("From (UTC)").input_value() + "T00:00:00Z",
            "end": page.get_by_label("Until, excluded (UTC)").input_value() + "T00:00:00Z"})
        assert figures_now.status_code == 200, figures_now.text
    assert int(shown) == figures_now.json()["reports_received"] >= 1, shown
    console.check_accessibility()
    page.get_by_label("As known at (optional)").fill("2020-01-01")
    page.get_by_role("button", name="Show figures").click()
    page.get_by_role("alert").wait_for()  # as_of before the period: said in words
    page.get_by_label("As known at (optional)").fill("")
    page.get_by_role("button", name="Show figures").click()
    chart.wait_for()
    console.settle()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download statements (JSON)").click()
    download = download_info.value
    assert re.fullmatch(r"clearframe-statements-\d{4}-\d{2}-\d{2}\.json",
                        download.suggested_filename)
    saved: dict[str, Any] = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert isinstance(saved["statements"], list)
    page.get_by_text(re.compile(r"Saved \d+ statements? as")).wait_for()
    console.check_accessibility()
    console.shot("transparency")
