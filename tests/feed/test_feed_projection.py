"""The SQL feed projection answers exactly like the pure fold, on any event sequence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, create_engine
from sqlalchemy.orm import Session

from core.events import SYSTEM_ACTOR, RecordedEvent
from feed import queries
from feed.errors import UnknownAsset
from feed.model import FeedState
from feed.models import (
    FeedAccountHoldRow,
    FeedAssetRow,
    FeedFollowRow,
    FeedHoldRow,
    FeedRemixRow,
)
from feed.projection import FeedProjection

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TABLES = [
    cast(Table, t.__table__)
    for t in (FeedAssetRow, FeedRemixRow, FeedHoldRow, FeedAccountHoldRow, FeedFollowRow)
]


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    for table in TABLES:
        table.create(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def recorded(n: int, type_: str, payload: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(),
        type=type_,
        schema_version=1,
        stream_id=f"feed-x{n}",
        stream_version=1,
        position=n,
        occurred_at=T0 + timedelta(minutes=n),
        actor=SYSTEM_ACTOR,
        correlation_id=uuid.uuid4(),
        payload=payload,
    )


ASSETS = st.sampled_from(["a", "b", "c", "d", "e"])
USERS = st.sampled_from(["u1", "u2", "u3"])
ACTIONS = st.sampled_from(["x1", "x2", "x3", "x4"])
KINDS = st.sampled_from(["remove_asset", "restrict_asset", "age_restrict_asset", "label_asset"])

STEP = st.one_of(
    st.builds(
        lambda a, u, ps: (
            "AssetSigned",
            {
                "asset_id": a,
                "generation_id": f"g-{a}",
                "requester_id": u,
                "remix_parents": [f"g-{p}" for p in ps],
            },
        ),
        ASSETS,
        st.one_of(st.none(), USERS),
        st.lists(ASSETS, max_size=2),
    ),
    st.builds(lambda a: ("AssetPublished", {"asset_id": a, "generation_id": f"g-{a}"}), ASSETS),
    st.builds(lambda a: ("AssetRemoved", {"asset_id": a}), ASSETS),
    st.builds(lambda a: ("AssetRestored", {"asset_id": a}), ASSETS),
    st.builds(
        lambda x, k, a: (
            "EnforcementActionTaken",
            {
                "action_id": x,
                "kind": k,
                "target_id": a,
                "affected_user_id": "u1",
                "label_text": "AI parody" if k == "label_asset" else None,
            },
        ),
        ACTIONS,
        KINDS,
        ASSETS,
    ),
    st.builds(
        lambda x, u, hours: (
            "EnforcementActionTaken",
            {
                "action_id": x,
                "kind": "suspend_account" if hours else "ban_account",
                "target_id": u,
                "affected_user_id": u,
                "ends_at": (T0 + timedelta(hours=hours)).isoformat() if hours else None,
            },
        ),
        ACTIONS,
        USERS,
        st.sampled_from([0, 1, 10_000]),
    ),
    st.builds(lambda x: ("EnforcementReversed", {"action_id": x}), ACTIONS),
    st.builds(lambda a: ("AssetFeatured", {"asset_id": a, "curator_id": "op"}), ASSETS),
    st.builds(lambda a: ("AssetUnfeatured", {"asset_id": a, "curator_id": "op"}), ASSETS),
    st.builds(lambda f, g: ("UserFollowed", {"follower_id": f, "followee_id": g}), USERS, USERS),
    st.builds(lambda f, g: ("UserUnfollowed", {"follower_id": f, "followee_id": g}), USERS, USERS),
)


def _lineage_or_none(fn: Any) -> Any:
    try:
        return fn().to_dict()
    except UnknownAsset:
        return None


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(STEP, max_size=30), st.booleans())
def test_projection_equals_the_pure_fold(
    session: Session, steps: list[tuple[str, dict[str, Any]]], adult: bool
) -> None:
    for table in reversed(TABLES):
        session.execute(table.delete())
    state = FeedState()
    projection = FeedProjection()
    for n, (type_, payload) in enumerate(steps, start=1):
        event = recorded(n, type_, payload)
        # an action id is used once in a real log
        if type_ == "EnforcementActionTaken" and payload["action_id"] in state.actions:
            continue
        state.apply(type_, payload, event.occurred_at)
        projection.apply(session, event)
    session.flush()
    now = T0 + timedelta(hours=2)
    assert queries.recent(session, now, limit=200, adult=adult) == state.recent(
        now, limit=200, adult=adult
    )
    assert queries.featured(session, now, limit=200, adult=adult) == state.featured(
        now, limit=200, adult=adult
    )
    for user in ("u1", "u2", "u3"):
        assert queries.following(session, user, now, limit=200, adult=adult) == (
            state.following_feed(user, now, limit=200, adult=adult)
        )
    for asset in ("a", "b", "c", "d", "e"):
        assert _lineage_or_none(lambda a=asset: queries.lineage(session, a, now, adult=adult)) == (
            _lineage_or_none(lambda a=asset: state.lineage(a, now, adult=adult))
        )
    session.rollback()


def test_cursor_paging_matches(session: Session) -> None:
    state = FeedState()
    projection = FeedProjection()
    for n in range(1, 8):
        for type_, payload in (
            ("AssetSigned", {"asset_id": f"v{n}", "generation_id": f"g{n}", "requester_id": "u1"}),
            ("AssetPublished", {"asset_id": f"v{n}", "generation_id": f"g{n}"}),
        ):
            event = recorded(n, type_, payload)
            state.apply(type_, payload, event.occurred_at)
            projection.apply(session, event)
    session.flush()
    now = T0 + timedelta(days=1)
    first = queries.recent(session, now, limit=3)
    cursor = (first[-1].published_at, first[-1].asset_id)
    assert [e.asset_id for e in first] == ["v7", "v6", "v5"]
    assert queries.recent(session, now, limit=3, before=cursor) == state.recent(
        now, limit=3, before=cursor
    )
