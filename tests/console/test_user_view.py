"""A person's own console: videos (a made one downloads), cameo grants given and revoked, the
inbox, and the decisions and appeals pages."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.console.conftest import Console, Live
from tests.utils.enrolment import register_cameo


def _eventually(check: Callable[[], Any], *, within_s: float = 30) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "the API never showed the change"
        time.sleep(0.3)


def test_a_user_grants_and_revokes_a_cameo_and_sees_videos_and_inbox(
    console: Console, second_console: Console, live: Live
) -> None:
    _, owner_token = live.person("Olive Owner", "user", adult=True)
    friend_id, friend_token = live.person("Fred Friend", "user", adult=True)
    handle = "olive" + uuid.uuid4().hex[:6]
    with live.api(owner_token) as owner:
        cameo_id = register_cameo(owner, {}, handle, audience="approved_people")
    made = live.generate(owner_token, "a paper boat drifting on a calm pond")
    page = console.page

    console.sign_in(owner_token)
    console.settle()
    # the first page is the videos tab
    assert page.get_by_role("heading", name="Your videos").is_visible()
    video = page.locator("li.video").filter(has_text="a paper boat drifting")
    video.wait_for()
    console.check_accessibility()
    console.shot("videos")
    if made["status"] == "published":
        with page.expect_download() as downloading:
            video.get_by_role("button", name="Download").click()
        assert downloading.value.suggested_filename == f"{made['generation_id']}.mp4"
        console.settle()

    page.get_by_role("link", name="Cameos", exact=True).click()
    console.settle()
    page.get_by_role("link", name=f"@{handle}", exact=False).click()
    console.settle()
    assert page.get_by_role("heading", name=f"Cameo: {handle.title()} (@{handle})").is_visible()
    assert page.get_by_text("Nobody is allowed by name.").is_visible()
    console.check_accessibility()
    console.shot("cameo")

    with live.api(friend_token) as friend:
        before = friend.get(f"/v1/cameos/{cameo_id}/may-i-use").json()
    assert before["allowed"] is False, before

    # the friend reads their account id off their own cameos page and passes it on
    second_console.sign_in(friend_token, "/console/me")
    second_console.to("/console/me#/cameos")
    shared_id = second_console.page.locator("code.account-id").inner_text()
    assert shared_id == friend_id, shared_id
    page.get_by_label("Account to allow").fill(shared_id)
    page.get_by_role("button", name="Grant", exact=True).click()
    revoke = page.get_by_role("button", name="Revoke").first
    revoke.wait_for()
    console.settle()
    allowed_table = page.get_by_role("table", name="Allowed accounts")
    assert allowed_table.get_by_role("cell", name=friend_id, exact=True).is_visible()
    with live.api(friend_token) as friend:
        allowed = _eventually(
            lambda: friend.get(f"/v1/cameos/{cameo_id}/may-i-use").json()["allowed"])
    assert allowed is True
    with live.api(owner_token) as owner:
        assert owner.get(f"/v1/cameos/{cameo_id}").json()["approved_people"] == [friend_id]
    console.check_accessibility()
    console.shot("granted")
    console.at_phone_width("cameo")

    revoke.click()
    page.get_by_text("Nobody is allowed by name.").wait_for()
    console.settle()
    with live.api(friend_token) as friend:
        _eventually(
            lambda: not friend.get(f"/v1/cameos/{cameo_id}/may-i-use").json()["allowed"])
    with live.api(owner_token) as owner:
        cameo = owner.get(f"/v1/cameos/{cameo_id}").json()
    assert cameo["approved_people"] == [] and friend_id in cameo["revoked_people"]
    # the history says what happened, newest first
    history = page.get_by_role("table", name="Everything that happened to this cameo")
    history.get_by_role("cell", name=friend_id, exact=True).first.wait_for()
    console.check_accessibility()
    console.shot("revoked")

    page.get_by_role("link", name="Inbox", exact=True).click()
    console.settle()
    assert page.get_by_role("heading", name="Inbox").is_visible()
    unread = page.get_by_role("button", name=re.compile(r"^Mark .* as read$"))
    if unread.count():
        unread.first.click()
        console.settle()
    console.check_accessibility()
    console.shot("inbox")

    for tab, heading in (("Decisions", "Decisions about you"), ("Appeals", "Your appeals"),
                         ("Reports", "Your reports")):
        page.get_by_role("link", name=tab, exact=True).click()
        console.settle()
        assert page.get_by_role("heading", name=heading).is_visible()
        console.check_accessibility()
        console.shot(tab.lower())
