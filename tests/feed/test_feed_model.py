from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.assets import Hold, cameo_hold
from contracts.enforcement import ActionKind, EnforcementActionTaken
from core.events import EventPayload
from feed.errors import InvalidFeedQuery, UnknownAsset
from feed.events import AssetFeatured, AssetUnfeatured
from feed.model import FeedState
from tests.utils import contract_events as ce

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def t(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


class Log:
    """Appends events to a feed state as a projection would, in order. Holds on assets reach
    the feed as the assets domain publishes them: one visibility event per change, carrying
    every hold still in force."""

    def __init__(self) -> None:
        self.state = FeedState()
        self.minute = 0.0
        self.holds: dict[str, dict[str, Hold]] = {}
        self.actions: dict[str, EnforcementActionTaken] = {}

    def __call__(self, fact: EventPayload) -> None:
        self.minute += 1
        self.state.apply(fact, t(self.minute))

    def publish(self, asset_id: str, owner: str = "alice", remix_of: str | None = None) -> None:
        parents = [f"g-{remix_of}"] if remix_of else []
        self(ce.asset_signed(f"g-{asset_id}", asset_id, owner, parents))
        self(ce.asset_published(f"g-{asset_id}", asset_id))

    def _hold(self, asset_id: str, hold: Hold, placed: bool) -> None:
        holds = self.holds.setdefault(asset_id, {})
        if placed:
            holds[hold.key] = hold
        else:
            holds.pop(hold.key, None)
        self(ce.visibility(f"g-{asset_id}", holds.values(), asset_id=asset_id, changed=hold))

    def act(
        self, action_id: str, kind: str, target: str, user: str = "alice", **extra: Any
    ) -> None:
        action = ce.action_taken(
            action_id, kind, target, generation_id=f"g-{target}", affected_user_id=user, **extra
        )
        self.actions[action_id] = action
        self(action)
        hold_kind = ActionKind(kind).hold_kind
        if hold_kind is not None:
            label = action.label_text if kind == "label_asset" else None
            self._hold(target, ce.hold(action_id, hold_kind, label=label), placed=True)

    def reverse(self, action_id: str) -> None:
        action = self.actions.get(action_id)
        if action is None:
            return
        self(ce.reversed_(action))
        if action.kind.hold_kind is not None:
            self._hold(action.target_id, ce.hold(action_id, action.kind.hold_kind), placed=False)

    def cameo_removal(self, asset_id: str, lifted: bool = False) -> None:
        self._hold(asset_id, ce.hold(cameo_hold("c1")), placed=not lifted)

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
    log(ce.user_followed("carol", "alice"))
    log(AssetFeatured(asset_id="v1", curator_id="op"))
    log.act("a1", "remove_asset", "v1")
    s = log.state
    assert ids(s.recent(log.now)) == ["v2"]
    assert s.featured(log.now) == []
    assert s.following_feed("carol", log.now) == []
    with pytest.raises(UnknownAsset):
        s.lineage("v1", log.now)
    lineage = s.lineage("v2", log.now)
    assert lineage.depth == 1 and not lineage.ancestors[0].available
    log.reverse("a1")
    assert ids(s.recent(log.now)) == ["v2", "v1"]
    assert ids(s.featured(log.now)) == ["v1"]
    assert ids(s.following_feed("carol", log.now)) == ["v1"]
    assert s.lineage("v2", log.now).ancestors[0].available


def test_independent_holds_do_not_cancel_each_other() -> None:
    log = Log()
    log.publish("v1")
    log.cameo_removal("v1")
    log.act("a1", "remove_asset", "v1")
    log.reverse("a1")
    assert log.state.recent(log.now) == []  # the cameo owner's removal still stands
    log.cameo_removal("v1", lifted=True)
    assert ids(log.state.recent(log.now)) == ["v1"]


def test_restrict_label_and_age_restrict() -> None:
    log = Log()
    log.publish("v1")
    log.publish("v2")
    log.publish("v3")
    log(ce.user_followed("carol", "alice"))
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
    log.reverse("a2")
    assert s.recent(log.now)[0].labels == ()


def test_account_suspension_hides_then_expires_and_ban_reversal_restores() -> None:
    log = Log()
    log.publish("v1", owner="alice")
    log.publish("v2", owner="bob")
    ends = log.now + timedelta(hours=1)
    log.act("s1", "suspend_account", "alice", user="alice", ends_at=ends)
    assert ids(log.state.recent(log.now)) == ["v2"]
    assert ids(log.state.recent(log.now + timedelta(hours=2))) == ["v2", "v1"]
    log.act("b1", "ban_account", "bob", user="bob")
    assert ids(log.state.recent(log.now + timedelta(hours=2))) == ["v1"]
    log.reverse("b1")
    assert ids(log.state.recent(log.now + timedelta(hours=2))) == ["v2", "v1"]


def test_following_and_unfollowing() -> None:
    log = Log()
    log.publish("v1", owner="alice")
    log.publish("v2", owner="bob")
    log(ce.user_followed("carol", "alice"))
    log(ce.user_followed("carol", "bob"))
    assert ids(log.state.following_feed("carol", log.now)) == ["v2", "v1"]
    log(ce.user_unfollowed("carol", "bob"))
    assert ids(log.state.following_feed("carol", log.now)) == ["v1"]
    assert log.state.following_feed("dave", log.now) == []


def test_featured_orders_by_curation_time_and_unfeatures() -> None:
    log = Log()
    for i in range(3):
        log.publish(f"v{i}")
    log(AssetFeatured(asset_id="v2", curator_id="op"))
    log(AssetFeatured(asset_id="v0", curator_id="op"))
    assert ids(log.state.featured(log.now)) == ["v0", "v2"]
    log(AssetUnfeatured(asset_id="v0", curator_id="op"))
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
    log(ce.asset_signed("g-m", "m", "alice", ["g-b", "g-a", "g-b"]))
    log(ce.asset_published("g-m", "m"))
    lin = log.state.lineage("m", log.now)
    assert [n.asset_id for n in lin.parents] == ["b", "a"]
    assert [n.asset_id for n in lin.ancestors] == ["b", "a"]
    assert lin.depth == 2
    assert log.state.lineage("a", log.now).remixes == ("m", "b")


def test_signed_but_unpublished_assets_stay_out() -> None:
    log = Log()
    log(ce.asset_signed("g-x", "x", "alice"))
    assert log.state.recent(log.now) == []
    with pytest.raises(UnknownAsset):
        log.state.lineage("x", log.now)
    log(ce.asset_published("g-x", "x"))
    assert ids(log.state.recent(log.now)) == ["x"]
    # a parent generation the feed never saw is named, not resolved
    log(ce.asset_signed("g-y", "y", None, ["g-unknown"]))
    log(ce.asset_published("g-y", "y"))
    node = log.state.lineage("y", log.now).parents[0]
    assert (node.generation_id, node.asset_id, node.available) == ("g-unknown", None, False)
    # an asset without a known owner is still shown (no account hold can apply to it)
    assert log.state.recent(log.now)[0].owner_id is None


def test_enforcement_before_publication_still_applies() -> None:
    log = Log()
    log.act("a1", "remove_asset", "v1")
    log.publish("v1")
    assert log.state.recent(log.now) == []
    log.reverse("a1")
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
        st.tuples(st.just("cameo_rm"), st.sampled_from("abcdef"), st.just("")),
        st.tuples(st.just("cameo_rs"), st.sampled_from("abcdef"), st.just("")),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(EVENTS)
def test_visible_iff_published_and_no_standing_removal(steps: list[tuple[str, str, str]]) -> None:
    """Reference check: an asset is in Recent exactly when it was published, its cameo
    removal (if any) was lifted, and no enforcement removal on it stands unreversed."""
    log = Log()
    published: set[str] = set()
    cameo_removed: set[str] = set()
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
            log.reverse(a)
            if a in action_target:
                reversed_.add(a)
        elif op == "cameo_rm":
            log.cameo_removal(a)
            cameo_removed.add(a)
        elif op == "cameo_rs":
            log.cameo_removal(a, lifted=True)
            cameo_removed.discard(a)
    held = {target for act, target in action_target.items() if act not in reversed_}
    expected = published - cameo_removed - held
    assert set(ids(log.state.recent(log.now, limit=200))) == expected


def test_a_draft_removed_before_signing_stays_out_once_signed() -> None:
    """A cameo owner removes a draft: the visibility names the generation only, and the asset
    signed afterwards takes it; lifted again, the asset comes back."""
    log = Log()
    removed = ce.hold(cameo_hold("c1"))
    log(ce.visibility("g-v1", [removed]))
    log.publish("v1")
    assert log.state.recent(log.now) == []
    log(ce.visibility("g-v1", [], changed=removed))
    assert ids(log.state.recent(log.now)) == ["v1"]
