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

from contracts.enforcement import EnforcementActionTaken
from core.events import SYSTEM_ACTOR, EventPayload, RecordedEvent
from feed import queries
from feed.errors import UnknownAsset
from feed.events import AssetFeatured, AssetUnfeatured
from feed.model import FeedState
from feed.models import (
    FeedAccountHoldRow,
    FeedAssetRow,
    FeedFollowRow,
    FeedRemixRow,
    FeedVisibilityRow,
)
from feed.projection import FeedProjection
from tests.utils import contract_events as ce

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TABLES = [
    cast(Table, t.__table__)
    for t in (FeedAssetRow, FeedRemixRow, FeedVisibilityRow, FeedAccountHoldRow, FeedFollowRow)
]


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    for table in TABLES:
        table.create(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def recorded(n: int, fact: EventPayload) -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(),
        type=fact.event_type_name,
        schema_version=fact.schema_version,
        stream_id=f"{fact.category}-x{n}",
        stream_version=1,
        position=n,
        occurred_at=T0 + timedelta(minutes=n),
        actor=SYSTEM_ACTOR,
        correlation_id=uuid.uuid4(),
        payload=fact.model_dump(mode="json"),
    )


ASSETS = st.sampled_from(["a", "b", "c", "d", "e"])
USERS = st.sampled_from(["u1", "u2", "u3"])
ACTIONS = st.sampled_from(["x1", "x2", "x3", "x4"])
HOLDS = st.lists(
    st.builds(
        lambda key, kind: ce.hold(key, kind, label="AI parody" if kind == "labelled" else None),
        st.sampled_from(["x1", "x2", "cameo:c1", "output"]),
        st.sampled_from(["removed", "restricted", "age_restricted", "labelled"]),
    ),
    max_size=3,
    unique_by=lambda h: h.key,
)

STEP = st.one_of(
    st.builds(
        lambda a, u, ps: ce.asset_signed(f"g-{a}", a, u, [f"g-{p}" for p in ps]),
        ASSETS,
        st.one_of(st.none(), USERS),
        st.lists(ASSETS, max_size=2),
    ),
    st.builds(lambda a: ce.asset_published(f"g-{a}", a), ASSETS),
    # the asset's visibility, named by asset or (a cameo removal of a draft) by generation only
    st.builds(
        lambda a, holds, named: ce.visibility(f"g-{a}", holds, asset_id=a if named else None),
        ASSETS,
        HOLDS,
        st.booleans(),
    ),
    st.builds(
        lambda x, u, hours: ce.action_taken(
            x,
            "suspend_account" if hours else "ban_account",
            u,
            affected_user_id=u,
            ends_at=(T0 + timedelta(hours=hours)) if hours else None,
        ),
        ACTIONS,
        USERS,
        st.sampled_from([0, 1, 10_000]),
    ),
    st.builds(lambda x, a: ce.action_taken(x, "remove_asset", a), ACTIONS, ASSETS),
    st.builds(lambda x: ("reverse", x), ACTIONS),
    st.builds(lambda a: AssetFeatured(asset_id=a, curator_id="op"), ASSETS),
    st.builds(lambda a: AssetUnfeatured(asset_id=a, curator_id="op"), ASSETS),
    st.builds(ce.user_followed, USERS, USERS),
    st.builds(ce.user_unfollowed, USERS, USERS),
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
def test_projection_equals_the_pure_fold(session: Session, steps: list[Any], adult: bool) -> None:
    for table in reversed(TABLES):
        session.execute(table.delete())
    state = FeedState()
    projection = FeedProjection()
    actions: dict[str, EnforcementActionTaken] = {}
    for n, step in enumerate(steps, start=1):
        if isinstance(step, tuple):  # a reversal of an action taken earlier, if any
            if step[1] not in actions:
                continue
            step = ce.reversed_(actions[step[1]])
        elif isinstance(step, EnforcementActionTaken):
            if step.action_id in actions:  # an action id is used once in a real log
                continue
            actions[step.action_id] = step
        event = recorded(n, step)
        state.apply(event.decode(), event.occurred_at)
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
        for fact in (ce.asset_signed(f"g{n}", f"v{n}", "u1"), ce.asset_published(f"g{n}", f"v{n}")):
            event = recorded(n, fact)
            state.apply(event.decode(), event.occurred_at)
            projection.apply(session, event)
    session.flush()
    now = T0 + timedelta(days=1)
    first = queries.recent(session, now, limit=3)
    cursor = (first[-1].published_at, first[-1].asset_id)
    assert [e.asset_id for e in first] == ["v7", "v6", "v5"]
    assert queries.recent(session, now, limit=3, before=cursor) == state.recent(
        now, limit=3, before=cursor
    )
