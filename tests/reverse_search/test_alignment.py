from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reverse_search.alignment import AlignmentConfig, _best_offsets, align
from reverse_search.index import Neighbours

CONFIG = AlignmentConfig(background_similarity=0.3)


def _neighbours(rows: list[list[tuple[int, float, float]]], k: int = 4) -> Neighbours:
    sims = np.zeros((len(rows), k), np.float32)
    slots = np.full((len(rows), k), -1, np.int32)
    times = np.zeros((len(rows), k), np.float32)
    for i, row in enumerate(rows):
        for j, (slot, t, s) in enumerate(row[:k]):
            slots[i, j], times[i, j], sims[i, j] = slot, t, s
    return Neighbours(sims, slots, times)


def _copy_rows(
    query_times: np.ndarray,
    slot: int,
    speed: float,
    offset: float,
    sim: float,
    rng: np.random.Generator,
) -> list[list[tuple[int, float, float]]]:
    """Each query frame sees its true reference frame plus unrelated noise neighbours."""
    rows = []
    for tq in query_times:
        row = [(slot, speed * tq + offset + rng.uniform(-0.2, 0.2), sim)]
        row += [(int(rng.integers(10, 50)), float(rng.uniform(0, 10)), 0.35) for _ in range(3)]
        rows.append(row)
    return rows


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
def test_recovers_speed_offset_and_ranges(speed: float) -> None:
    rng = np.random.default_rng(1)
    query_times = np.arange(0, 4.0, 0.5)
    matches = align(
        query_times,
        _neighbours(_copy_rows(query_times, 3, speed, 2.0, 0.9, rng)),
        durations=np.full(60, 20.0),
        config=CONFIG,
    )
    best = matches[0]
    assert best.slot == 3 and best.speed == speed
    assert best.offset_s == pytest.approx(2.0, abs=0.25)
    assert best.query_start_s == 0.0 and best.query_end_s == pytest.approx(4.0)
    assert best.reference_start_s == pytest.approx(2.0, abs=0.25)
    assert best.reference_end_s == pytest.approx(2.0 + 4.0 * speed, abs=0.3)
    assert best.matched_frames == len(query_times)
    assert best.score == pytest.approx((0.9 - 0.3) / 0.7, abs=0.01)


def test_a_near_tie_between_speeds_goes_to_normal_speed() -> None:
    # Two readings of one query: retimed to 0.8x, or normal speed with marginally weaker
    # frames (a slow-moving shot allows both). Less than cfg.speed_tie apart: normal wins.
    query_times = np.arange(0, 10.0, 0.5)
    rows = [[(2, 2.0 + 0.8 * t, 0.9), (2, 2.0 + t, 0.895)] for t in query_times]
    durations = np.full(5, 20.0)
    best = align(query_times, _neighbours(rows, k=2), durations=durations, config=CONFIG)[0]
    assert best.slot == 2 and best.speed == 1.0
    # Without the tie margin the marginally better reading wins.
    strict = AlignmentConfig(background_similarity=0.3, speed_tie=0.0)
    assert align(query_times, _neighbours(rows, k=2), durations=durations, config=strict)[
        0
    ].speed == pytest.approx(0.8)


def test_scattered_votes_score_low() -> None:
    rng = np.random.default_rng(2)
    query_times = np.arange(0, 8.0, 0.5)
    # Each frame's best neighbour is a different asset at a random time: no consistent copy.
    rows = [
        [(int(rng.integers(0, 100)), float(rng.uniform(0, 10)), 0.6) for _ in range(4)]
        for _ in query_times
    ]
    matches = align(query_times, _neighbours(rows), config=CONFIG)
    assert matches and matches[0].score < 0.25


def test_partial_copy_scores_in_proportion() -> None:
    rng = np.random.default_rng(3)
    query_times = np.arange(0, 8.0, 0.5)
    rows = _copy_rows(query_times, 1, 1.0, 0.0, 0.9, rng)
    for row in rows[8:]:
        row[0] = (99, 50.0, 0.1)  # the second half is something else, below background
    best = align(query_times, _neighbours(rows), config=CONFIG)[0]
    assert best.slot == 1 and best.query_end_s == pytest.approx(4.0)
    assert best.score == pytest.approx(0.5 * (0.6 / 0.7), abs=0.02)


def test_reference_range_is_clipped_to_the_asset() -> None:
    rng = np.random.default_rng(4)
    query_times = np.arange(0, 6.0, 0.5)
    rows = _copy_rows(query_times, 0, 1.0, 5.0, 0.9, rng)
    best = align(query_times, _neighbours(rows), durations=np.full(60, 9.0), config=CONFIG)[0]
    assert best.reference_end_s == 9.0


def test_nothing_above_background_gives_no_match() -> None:
    rows = [[(0, 1.0, 0.2)] for _ in range(4)]
    assert align(np.arange(4) * 0.5, _neighbours(rows, k=1), config=CONFIG) == []


def test_rows_must_split_over_frames() -> None:
    with pytest.raises(ValueError):
        align(np.arange(3) * 0.5, _neighbours([[(0, 0.0, 0.9)]] * 4, k=1), config=CONFIG)


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        AlignmentConfig(speeds=())
    with pytest.raises(ValueError):
        AlignmentConfig(background_similarity=1.0)
    with pytest.raises(ValueError):
        AlignmentConfig(speed_tie=-0.1)


def _hypothesis_scores_by_hand(slots, frames, ref_times, tq, weights, speeds, bin_s):
    """The voting rule spelled out vote by vote: (slot, speed index) -> {offset centre: score}."""
    scores: dict[tuple[int, int], dict[float, float]] = {}
    for s_index, speed in enumerate(speeds):
        for shift in (0.0, 0.5):
            frame_best: dict[tuple[int, int, int], float] = {}
            for slot, frame, tr, t, w in zip(slots, frames, ref_times, tq, weights, strict=True):
                key = (int(slot), math.floor((tr - speed * t) / bin_s + shift), int(frame))
                frame_best[key] = max(frame_best.get(key, 0.0), float(w))
            for (slot, bin_index, _), w in frame_best.items():
                centre = (bin_index + 0.5 - shift) * bin_s
                per_offset = scores.setdefault((slot, s_index), {})
                per_offset[centre] = per_offset.get(centre, 0.0) + w
    return scores


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),  # slot
            st.integers(0, 5),  # query frame
            st.floats(0, 12, allow_nan=False),  # reference time
            st.floats(0.01, 0.7, allow_nan=False),  # weight
        ),
        min_size=1,
        max_size=40,
    )
)
def test_vectorised_voting_matches_the_rule_vote_by_vote(votes) -> None:
    slots = np.array([v[0] for v in votes])
    frames = np.array([v[1] for v in votes])
    ref_times = np.array([v[2] for v in votes])
    weights = np.array([v[3] for v in votes])
    tq = frames * 0.5
    speeds = np.array(CONFIG.speeds)
    expected = _hypothesis_scores_by_hand(slots, frames, ref_times, tq, weights, speeds, 1.0)
    got_slot, got_speed, got_score, got_centre = _best_offsets(
        slots, frames, ref_times, tq, weights, speeds, 1.0
    )
    got = {
        (int(a), int(b)): (float(c), float(d))
        for a, b, c, d in zip(got_slot, got_speed, got_score, got_centre, strict=True)
    }
    assert got.keys() == expected.keys()
    for key, per_offset in expected.items():
        score, centre = got[key]
        assert score == pytest.approx(max(per_offset.values()), abs=1e-9)
        # The offset returned is one that earns the best score (ties may go either way).
        assert per_offset[centre] == pytest.approx(score, abs=1e-9)


def test_votes_of_different_view_families_never_add_up() -> None:
    # Two views per frame. Asset 3 is matched consistently through view 1 (a mirrored
    # copy); asset 5 collects equally good votes, but from view 0 on even frames and view 1
    # on odd ones: an unrelated clip picking whichever view fits.
    query_times = np.arange(0, 4.0, 0.5)
    rows = []
    for i, tq in enumerate(query_times):
        view0 = [(5, 1.0 + tq, 0.8)] if i % 2 == 0 else []
        view1 = [(3, 2.0 + tq, 0.8)] + ([(5, 1.0 + tq, 0.8)] if i % 2 else [])
        rows += [view0, view1]
    neighbours = _neighbours(rows, k=2)
    families = np.array([0, 1])
    by_family = {
        m.slot: m for m in align(query_times, neighbours, view_families=families, config=CONFIG)
    }
    assert by_family[3].score == pytest.approx((0.8 - 0.3) / 0.7, abs=0.01)
    assert by_family[5].score == pytest.approx(by_family[3].score / 2, abs=0.01)
    # Without families the view-hopping asset looks as good as the real copy.
    mixed = {m.slot: m for m in align(query_times, neighbours, config=CONFIG)}
    assert mixed[5].score == pytest.approx(mixed[3].score, abs=0.01)


def test_view_families_must_match_the_views() -> None:
    query_times = np.arange(0, 2.0, 0.5)
    neighbours = _neighbours([[(1, float(t), 0.9)] for t in query_times for _ in range(2)], k=1)
    with pytest.raises(ValueError, match="view_families"):
        align(query_times, neighbours, view_families=np.array([0, 1, 2]), config=CONFIG)
