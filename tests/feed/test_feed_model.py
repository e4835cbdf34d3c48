from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed.errors import InvalidFeedQuery, UnknownAsset
from feed.model import FeedState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def t(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


class Log:
    """Appends events to a feed state as a projection would, in order."""

    def __init__(self) -> None:
        self.state = FeedState()
        self.minute = 0.0

    def __call__(self, type_: str, **payload: Any) -> None:
        self.minute += 1
        self.state.apply(type_, payload, t(self.minute))

    def publish(self, asset_id: str, owner: str = "alice", remix_of: str | None = None) -> None:
        self(
            "AssetSigned",
            asset_id=asset_id,
            generation_id=f"g-{asset_id}",
            requester_id=owner,
            remix_parents=[f"g-{remix_of}"] if remix_of else [],
        )
        self("AssetPublished", asset_id=asset_id, generation_id=f"g-{asset_id}")

    def act(
        self, action_id: str, kind: str, target: str, user: str = "alice", **extra: Any
    ) -> None:
        self(
            "EnforcementActionTaken",
            action_id=action_id,
            kind=kind,
            target_id=target,
            affected_user_id=user,
            **extra,
        )

    @property
    def now(self) -> datetime:
        return t(self.minute + 0.5)


def ids(entries: list[Any]) -> list[str]:
    return [e.asset_id for e in entries]


def test_recent_is_newest_first_with_a_cursor() -> None:
    log = Log()
    for i in range(5):
        log.publish(f"v{i}")
    page1 = log.state.recent(log.now, limit=2)
    assert ids(page1) == ["v4", "v3"]
    last = page1[-1]
    page2 = log.state.recent(log.now, limit=2, before=(last.published_at, last.asset_id))
    assert ids(page2) == ["v2", "v1"]
    with pytest.raises(InvalidFeedQuery):
        log.state.recent(log.now, limit=0)


def test_removal_hides_everywhere_and_reversal_restores() -> None:
    log = Log()
    log.publish("v1")
    log.publish("v2", owner="bob", remix_of="v1")
    log("UserFollowed", follower_id="carol", followee_id="alice")
    log("AssetFeatured", asset_id="v1", curator_id="op")
    log.act("a1", "remove_asset", "v1")
    s = log.state
    assert ids(s.recent(log.now)) == ["v2"]
    assert s.featured(log.now) == []
    assert s.following_feed("carol", log.now) == []
    with pytest.raises(UnknownAsset):
        s.lineage("v1", log.now)
    lineage = s.lineage("v2", log.now)
    assert lineage.depth == 1 and not lineage.ancestors[0].available
    log("EnforcementReversed", action_id="a1")
    assert ids(s.recent(log.now)) == ["v2", "v1"]
    assert ids(s.featured(log.now)) == ["v1"]
    assert ids(s.following_feed("carol", log.now)) == ["v1"]
    assert s.lineage("v2", log.now).ancestors[0].available


def test_independent_holds_do_not_cancel_each_other() -> None:
    log = Log()
    log.publish("v1")
    log("AssetRemoved", asset_id="v1", reason="consent revoked")
    log.act("a1", "remove_asset", "v1")
    log("EnforcementReversed", action_id="a1")
    assert log.state.recent(log.now) == []  # the pipeline's removal still stands
    log("AssetRestored", asset_id="v1")
    assert ids(log.state.recent(log.now)) == ["v1"]


def test_restrict_label_and_age_restrict() -> None:
    log = Log()
    log.publish("v1")
    log.publish("v2")
    log.publish("v3")
    log("UserFollowed", follower_id="carol", followee_id="alice")
    log.act("a1", "restrict_asset", "v1")
    log.act("a2", "label_asset", "v2", label_text="Synthetic likeness")
    log.act("a3", "age_restrict_asset", "v3")
    s = log.state
    assert ids(s.recent(log.now)) == ["v2"]
    assert s.recent(log.now)[0].labels == ("Synthetic likeness",)
    assert ids(s.recent(log.now, adult=True)) == ["v3", "v2"]
    # restricted stays for followers, age restriction still applies there
    assert ids(s.following_feed("carol", log.now)) == ["v2", "v1"]
    assert not s.can_remix("v1", log.now) and s.can_remix("v2", log.now)
    log("EnforcementReversed", action_id="a2")
    assert s.recent(log.now)[0].labels == ()


def test_account_suspension_hides_then_expires_and_ban_reversal_restores() -> None:
    log = Log()
    log.publish("v1", owner="alice")
    log.publish("v2", owner="bob")
    ends = (log.now + timedelta(hours=1)).isoformat()
    log.act("s1", "suspend_account", "alice", user="alice", ends_at=ends)
    assert ids(log.state.recent(log.now)) == ["v2"]
    assert ids(log.state.recent(log.now + timedelta(hours=2))) == ["v2", "v1"]
    log.act("b1", "ban_account", "bob", user="bob")
    assert ids(log.state.recent(log.now + timedelta(hours=2))) == ["v1"]
    log("EnforcementReversed", action_id="b1")
    assert ids(log.state.recent(log.now + timedelta(hours=2))) == ["v2", "v1"]


def test_following_and_unfollowing() -> None:
    log = Log()
    log.publish("v1", owner="alice")
    log.publish("v2", owner="bob")
    log("UserFollowed", follower_id="carol", followee_id="alice")
    log("UserFollowed", follower_id="carol", followee_id="bob")
    assert ids(log.state.following_feed("carol", log.now)) == ["v2", "v1"]
    log("UserUnfollowed", follower_id="carol", followee_id="bob")
    assert ids(log.state.following_feed("carol", log.now)) == ["v1"]
    assert log.state.following_feed("dave", log.now) == []


def test_featured_orders_by_curation_time_and_unfeatures() -> None:
    log = Log()
    for i in range(3):
        log.publish(f"v{i}")
    log("AssetFeatured", asset_id="v2", curator_id="op")
    log("AssetFeatured", asset_id="v0", curator_id="op")
    assert ids(log.state.featured(log.now)) == ["v0", "v2"]
    log("AssetUnfeatured", asset_id="v0", curator_id="op")
    assert ids(log.state.featured(log.now)) == ["v2"]


def test_lineage_depth_and_remixes() -> None:
    log = Log()
    log.publish("root")
    log.publish("r1", remix_of="root")
    log.publish("r2", remix_of="r1")
    log.publish("r3", remix_of="r2")
    log.publish("r1b", remix_of="root")
    s = log.state
    lin = s.lineage("r3", log.now)
    assert lin.depth == 3
    assert [n.asset_id for n in lin.ancestors] == ["r2", "r1", "root"]
    assert s.lineage("root", log.now).remixes == ("r1b", "r1")
    assert s.lineage("root", log.now).depth == 0
    log.act("a1", "remove_asset", "r1b")
    assert s.lineage("root", log.now).remixes == ("r1",)
    assert lin.to_dict()["ancestors"][0] == {
        "generation_id": "g-r2",
        "asset_id": "r2",
        "available": True,
    }
    assert [n.asset_id for n in lin.parents] == ["r2"]


def test_lineage_of_a_remix_with_several_parents() -> None:
    """A remix of two videos: every ancestor listed once, depth is the longest chain."""
    log = Log()
    log.publish("a")
    log.publish("b", remix_of="a")
    log(
        "AssetSigned",
        asset_id="m",
        generation_id="g-m",
        requester_id="alice",
        remix_parents=["g-b", "g-a", "g-b"],
    )
    log("AssetPublished", asset_id="m", generation_id="g-m")
    lin = log.state.lineage("m", log.now)
    assert [n.asset_id for n in lin.parents] == ["b", "a"]
    assert [n.asset_id for n in lin.ancestors] == ["b", "a"]
    assert lin.depth == 2
    assert log.state.lineage("a", log.now).remixes == ("m", "b")


def test_signed_but_unpublished_assets_stay_out() -> None:
    log = Log()
    log("AssetSigned", asset_id="x", generation_id="g-x", requester_id="alice")
    assert log.state.recent(log.now) == []
    with pytest.raises(UnknownAsset):
        log.state.lineage("x", log.now)
    log("AssetPublished", asset_id="x", generation_id="g-x")
    assert ids(log.state.recent(log.now)) == ["x"]
    # a parent generation the feed never saw is named, not resolved
    log("AssetSigned", asset_id="y", generation_id="g-y", remix_parents=["g-unknown"])
    log("AssetPublished", asset_id="y", generation_id="g-y")
    node = log.state.lineage("y", log.now).parents[0]
    assert (node.generation_id, node.asset_id, node.available) == ("g-unknown", None, False)
    # an asset without a known owner is still shown (no account hold can apply to it)
    assert log.state.recent(log.now)[0].owner_id is None


def test_enforcement_before_publication_still_applies() -> None:
    log = Log()
    log.act("a1", "remove_asset", "v1")
    log.publish("v1")
    assert log.state.recent(log.now) == []
    log("EnforcementReversed", action_id="a1")
    assert ids(log.state.recent(log.now)) == ["v1"]


def test_redelivered_publication_changes_nothing() -> None:
    log = Log()
    log.publish("v1")
    log.act("a1", "remove_asset", "v1")
    log.publish("v1")
    assert log.state.recent(log.now) == []


EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("pub"), st.sampled_from("abcdef"), st.sampled_from(["u1", "u2"])),
        st.tuples(st.just("rm"), st.sampled_from("abcdef"), st.sampled_from(["x1", "x2", "x3"])),
        st.tuples(st.just("rev"), st.sampled_from(["x1", "x2", "x3"]), st.just("")),
        st.tuples(st.just("pipe_rm"), st.sampled_from("abcdef"), st.just("")),
        st.tuples(st.just("pipe_rs"), st.sampled_from("abcdef"), st.just("")),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(EVENTS)
def test_visible_iff_published_and_no_standing_removal(steps: list[tuple[str, str, str]]) -> None:
    """Reference check: an asset is in Recent exactly when it was published, its pipeline
    removal (if any) was restored, and no enforcement removal on it stands unreversed."""
    log = Log()
    published: set[str] = set()
    pipeline_removed: set[str] = set()
    action_target: dict[str, str] = {}
    reversed_: set[str] = set()
    for op, a, b in steps:
        if op == "pub":
            log.publish(a, owner=b)
            published.add(a)
        elif op == "rm" and b not in action_target:
            log.act(b, "remove_asset", a)
            action_target[b] = a
        elif op == "rev":
            log("EnforcementReversed", action_id=a)
            if a in action_target:
                reversed_.add(a)
        elif op == "pipe_rm":
            log("AssetRemoved", asset_id=a)
            pipeline_removed.add(a)
        elif op == "pipe_rs":
            log("AssetRestored", asset_id=a)
            pipeline_removed.discard(a)
    held = {target for act, target in action_target.items() if act not in reversed_}
    expected = published - pipeline_removed - held
    assert set(ids(log.state.recent(log.now, limit=200))) == expected
