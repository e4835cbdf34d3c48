"""The rights holder's console: file an opt-out, see a refused request counted, amend, withdraw."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from tests.console.conftest import Console, Live


def _optout_id(console: Console) -> str:
    found = re.search(r"#/optout/([^/?#]+)$", console.page.url)
    assert found, console.page.url
    return found.group(1)


def _count_shown(console: Console, which: str, want: int, *, within_s: float = 90) -> None:
    """Reload the opt-out page until it counts ``want`` (the block projection runs behind)."""
    counted = console.page.locator(f'dd[data-count="{which}"]')
    deadline = time.monotonic() + within_s
    while True:
        console.page.reload()
        console.settle()
        shown = counted.inner_text().strip()
        if shown == str(want):
            return
        assert time.monotonic() < deadline, f"the page still counts {shown!r} {which}"
        time.sleep(1)


def test_a_rights_holder_files_an_optout_sees_a_refusal_counted_then_amends_and_withdraws(
    console: Console, live: Live
) -> None:
    holder_id, holder_token = live.person("Rhea Rights", "rights_holder")
    _, user_token = live.person("Uma Maker", "user", adult=True)
    # a made-up character: nothing else in the registry names it
    character = "Quillfeather " + uuid.uuid4().hex[:6].capitalize()
    page = console.page

    console.sign_in(holder_token)
    console.settle()
    assert page.get_by_role("heading", name="Your opt-outs").is_visible()
    assert page.get_by_text("You have not filed an opt-out yet.").is_visible()
    console.check_accessibility()
    console.shot("no-optouts")

    page.get_by_role("navigation", name="Rights sections").get_by_role(
        "link", name="File an opt-out").click()
    page.get_by_label("Rights holder").fill("Feather Studios")
    page.get_by_label("Characters").fill(character)
    page.get_by_label("Works").fill("The Quillfeather Chronicles")
    page.get_by_label("Territories").fill("*")
    console.check_accessibility()
    console.shot("filing")
    page.get_by_role("button", name="File opt-out").click()
    page.wait_for_url(re.compile(r".*#/optout/.+"))
    console.settle()
    optout_id = _optout_id(console)
    assert page.get_by_role("heading", name=re.compile("Opt-out: .*Quillfeather")).is_visible()
    assert page.get_by_text("Nothing blocked yet.").is_visible()
    console.check_accessibility()
    console.shot("filed")

    with live.api(holder_token) as holder:
        filed = holder.get(f"/v1/optouts/{optout_id}").json()
    assert filed["rights_holder_id"] == holder_id and filed["status"] == "active"
    assert filed["terms"]["characters"] == [character]

    refused = live.generate(user_token, f"{character} flying over a city at dusk")
    assert refused["status"] == "refused", refused
    _count_shown(console, "requests", 1)
    chart = page.locator("svg.chart")
    assert chart.get_attribute("role") == "img"
    assert chart.locator("rect.bar").count() >= 1
    # the chart's accessible alternative: the same figures as a table, and what matched
    per_day = page.get_by_role("table", name="Blocked per day (UTC)")
    assert per_day.get_by_role("cell", name="1").first.is_visible()
    matched = page.get_by_role("table", name="Terms and reference files that matched")
    assert matched.get_by_text(re.compile("quillfeather", re.I)).first.is_visible()
    console.check_accessibility()
    console.shot("refusal-counted")
    console.at_phone_width("optout")

    # amend: a new alias, and out of training data too
    page.get_by_label("Other names").fill("Quill the Bold")
    page.get_by_label(re.compile("^Training:")).check()
    page.get_by_role("button", name="Save changes").click()
    console.settle()
    page.get_by_text("Quill the Bold").first.wait_for()
    with live.api(holder_token) as holder:
        amended: dict[str, Any] = holder.get(f"/v1/optouts/{optout_id}").json()
    assert amended["terms"]["aliases"] == ["Quill the Bold"]
    assert amended["scopes"] == ["prompts", "training"] and amended["version"] == 2
    console.shot("amended")

    page.get_by_label("Why are you withdrawing it?").fill("licensed to the studio now")
    page.get_by_role("button", name="Withdraw opt-out").click()
    page.get_by_text("This opt-out was withdrawn").wait_for()
    console.settle()
    with live.api(holder_token) as holder:
        assert holder.get(f"/v1/optouts/{optout_id}").json()["status"] == "withdrawn"
    console.check_accessibility()
    console.shot("withdrawn")

    page.get_by_role("link", name="← All opt-outs").click()
    # The click changes the hash; until the router runs, the withdrawn page is still there
    # and shows nothing busy, so settle() alone could return before the list loads.
    page.get_by_role("heading", name="Your opt-outs").wait_for()
    console.settle()
    row = page.get_by_role("row").filter(has_text="Withdrawn")
    link = row.get_by_role("link", name=re.compile("Quillfeather"))
    link.wait_for()
    assert link.is_visible()
    console.check_accessibility()
    console.shot("list")
