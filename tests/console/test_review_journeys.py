"""The reviewer's and the investigator's journeys, end to end in Chromium against a live
``clearframe serve``:

- a reviewer claims a reported case and removes the video with a statement of reasons (after
  the form shows, in words, what the API found wrong with a first attempt);
- its maker appeals in the console, and a second reviewer reverses the removal;
- an investigator drops a re-encoded copy of the video and sees its generation, frames side
  by side, the record and the file's provenance; the search is in their history.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.video import decode_frames, encode_mp4
from tests.console.conftest import Console, Live

pytestmark = pytest.mark.slow


def _eventually(check: Any, what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _reported_video(live: Live) -> dict[str, Any]:
    """A user's published video, reported by another user; the case is in the queue."""
    maker_id, maker = live.person("Mia Maker", "user", adult=True)
    _, reporter = live.person("Rob Reporter", "user")
    made = live.generate(maker, "a lighthouse at night with waves crashing, cinematic")
    assert made["status"] not in ("refused", "blocked", "failed"), made
    asset_id = made["asset_id"]
    with live.api(reporter) as client:
        r = client.post("/v1/reports", json={
            "target": {"kind": "asset", "id": asset_id}, "category": "violence",
            "explanation": "The video shows a person being hurt near the end.",
            "good_faith": True, "at_seconds": 1.0})
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
    return {"maker_id": maker_id, "maker": maker, "asset_id": asset_id, "case_id": case_id,
            "generation_id": made["generation_id"]}


def test_a_reviewer_removes_a_reported_video_and_a_second_reviewer_reverses_it_on_appeal(
    live: Live, console: Console, second_console: Console
) -> None:
    video = _reported_video(live)
    first_id, first = live.person("Rhea Reviewer", "reviewer")
    second_id, second = live.person("Sam Second", "reviewer")
    _, admin = live.person("Ada Admin", "admin")
    with live.api(first) as client:
        _eventually(lambda: any(c["case_id"] == video["case_id"]
                                for c in client.get("/v1/cases/queue").json()["cases"]),
                    "the case to reach the queue")

    # Sign in with a one-time link, as an administrator would send it.
    page = console.page
    page.goto(live.login_link(first_id))
    page.wait_for_url(re.compile(r".*/console/review.*"))
    assert "#link=" not in page.url
    row = page.get_by_role("row").filter(has_text=video["asset_id"])
    row.wait_for()
    assert "1 report" in row.inner_text() and "Free to claim" in row.inner_text()
    console.shot("queue")
    console.check_accessibility()
    console.at_phone_width("queue")

    row.get_by_role("link").click()
    page.get_by_role("button", name="Claim this case").click()
    page.get_by_text("You hold this case until").wait_for()
    console.settle()
    assert page.locator("video").count() == 1
    page.wait_for_function("() => [...document.querySelectorAll('img.frame')].some(i => i.complete && i.naturalWidth > 0)")
    console.shot("case")
    console.check_accessibility()

    form = page.get_by_role("form", name="Enforcement with a statement of reasons")
    form.get_by_label("Action").select_option("remove_asset")
    form.get_by_label("Statement category").select_option("STATEMENT_CATEGORY_VIOLENCE")
    form.get_by_label("Ground", exact=True).select_option("DECISION_GROUND_INCOMPATIBLE_CONTENT")
    form.get_by_label("Legal or contractual reference").fill("Terms §4.2 (graphic violence)")
    form.get_by_label("Why the content breaks it").fill("Shows a person being hurt.")
    form.get_by_label("Facts and circumstances").fill("short")  # the API wants 10 characters
    form.get_by_role("button", name="Take action").click()
    error = form.get_by_role("alert")
    error.wait_for()
    assert "needs correcting" in error.inner_text() and "facts" in error.inner_text()
    assert "validation_failed" not in error.inner_text()
    console.shot("enforcement-refused")
    form.get_by_label("Facts and circumstances").fill(
        "At 1.0 s the video shows a person struck repeatedly; reported by a user.")
    form.get_by_role("button", name="Take action").click()
    page.get_by_text("Decided", exact=False).first.wait_for()
    console.shot("case-decided")
    with live.api(video["maker"]) as client:
        _eventually(lambda: client.get(f"/v1/generations/{video['generation_id']}/download")
                    .status_code == 409, "the removal to reach the download")

    # The maker appeals in the console.
    maker_tab = second_console
    maker_tab.sign_in(video["maker"], then="/console/me")
    maker_tab.to("/console/me#/decisions")
    maker_tab.page.get_by_role("button", name="Appeal this decision").first.click()
    maker_tab.page.get_by_label("Why should this decision be reversed?").fill(
        "Nobody is hurt: it is waves hitting a lighthouse.")
    maker_tab.page.get_by_role("button", name="Send appeal").click()
    maker_tab.page.get_by_text("Appeal sent").first.wait_for()
    with live.api(video["maker"]) as client:
        appeal = _eventually(lambda: client.get("/v1/appeals/mine").json()["appeals"],
                             "the appeal to be listed")[0]
    maker_tab.page.get_by_role("link", name="Follow it under Appeals").click()
    maker_tab.page.get_by_role("heading", name="Your appeals").wait_for()
    maker_tab.settle()
    assert "You have not appealed anything" not in maker_tab.page.inner_text("main")
    maker_tab.shot("appeal-filed")
    maker_tab.check_accessibility()

    if appeal.get("reviewer_id") != second_id:  # others' reviewers share this server
        with live.api(admin) as client:
            r = client.post(f"/v1/appeals/{appeal['appeal_id']}/assign",
                            json={"reviewer_id": second_id})
            assert r.status_code == 204, r.text

    # The second reviewer reverses it, with reasons.
    maker_tab.page.context.clear_cookies()
    maker_tab.sign_in(second, then="/console/review")
    maker_tab.to(f"/console/review#/appeal/{appeal['appeal_id']}")
    maker_tab.page.get_by_text("What the appellant says").wait_for()
    maker_tab.settle()
    maker_tab.shot("appeal-review")
    maker_tab.check_accessibility()
    maker_tab.page.get_by_label("Reverse the decision").check()
    maker_tab.page.get_by_label("Reasons for the appellant").fill(
        "On a second look the clip shows waves, not a person; the removal is reversed.")
    maker_tab.page.get_by_role("button", name="Decide appeal").click()
    maker_tab.page.get_by_role("heading", name="Outcome").wait_for()
    maker_tab.shot("appeal-decided")
    with live.api(video["maker"]) as client:
        decided = client.get(f"/v1/appeals/{appeal['appeal_id']}").json()
        assert decided["outcome"] == "reversed", decided
        _eventually(lambda: client.get(f"/v1/generations/{video['generation_id']}/download")
                    .status_code == 200, "the reversal to restore the download")


def _reencoded(live: Live, maker: str, generation_id: str, folder: Path) -> Path:
    with live.api(maker) as client:
        original = client.get(f"/v1/generations/{generation_id}/download")
        assert original.status_code == 200, original.text
    source = folder / "original.mp4"
    source.write_bytes(original.content)
    frames, fps = decode_frames(source)
    # a re-upload: rescaled to 3/4, brightened a little, at a low bitrate
    h, w = frames.shape[1] * 3 // 4 // 2 * 2, frames.shape[2] * 3 // 4 // 2 * 2
    from PIL import Image

    smaller = np.stack([
        np.asarray(Image.fromarray(f).resize((w, h), Image.Resampling.BILINEAR)) for f in frames
    ])
    brighter = np.clip(smaller.astype(np.int16) + 12, 0, 255).astype(np.uint8)
    return encode_mp4(brighter, fps, folder / "found-in-the-wild.mp4", bitrate=250_000)


def test_an_investigator_finds_a_reencoded_copy_and_reads_its_record(
    live: Live, console: Console, tmp_path: Path
) -> None:
    _, maker = live.person("Mo Maker", "user", adult=True)
    _, investigator = live.person("Ivo Investigator", "investigator")
    with live.api(investigator) as client:
        indexed_before = client.get("/v1/reverse-search/status").json()["assets"]
    made = live.generate(maker, "a red kite flying over green hills on a windy day", seed=11)
    assert made["asset_id"], made
    clip = _reencoded(live, maker, made["generation_id"], tmp_path)
    with live.api(investigator) as client:
        _eventually(lambda: client.get("/v1/reverse-search/status").json()["assets"]
                    > indexed_before, "the new video to be indexed")

    console.sign_in(investigator)
    page = console.page
    page.wait_for_url(re.compile(r".*/console/investigate.*"))
    empty = page.get_by_role("link", name="My searches")
    empty.click()
    page.get_by_text("You have not searched yet.").wait_for()
    page.get_by_role("link", name="Search", exact=True).click()
    console.check_accessibility()
    page.get_by_label("Drop a clip or an image here, or choose a file").set_input_files(str(clip))
    heading = page.get_by_role("heading", name=re.compile(f"Generation {made['generation_id']}"))
    heading.wait_for(timeout=120_000)
    page.get_by_role("heading", name="Provenance of the file").wait_for(timeout=120_000)
    console.settle()
    card = page.locator("section", has=heading)
    assert "a red kite flying over green hills" in card.inner_text()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pair img')].filter(i => i.complete && i.naturalWidth > 0).length >= 2",
        timeout=60_000)
    console.shot("matches")
    console.check_accessibility()
    console.at_phone_width("matches")

    card.get_by_role("link", name="Open the full record").click()
    page.get_by_role("heading", name=f"Generation {made['generation_id']}").wait_for()
    console.settle()
    console.shot("record")
    console.check_accessibility()

    page.get_by_role("link", name="My searches").click()
    row = page.get_by_role("row").filter(has_text=made["generation_id"])
    row.wait_for()
    console.shot("history")
