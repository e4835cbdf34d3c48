"""Temporal alignment: per-frame nearest neighbours -> ranked, localised generation matches.

Every neighbour of every query frame votes for a hypothesis (asset, speed ratio, time
offset): a copy played at speed ``r`` maps query time ``tq`` to reference time
``tr = r * tq + b``. Votes accumulate in offset bins (two half-shifted grids, so a true
offset on a bin edge is not split), each query frame counting at most once per hypothesis.
The best hypothesis per asset is then refined: the frames consistent with it give the
matched ranges in the query and in the generation.

Scores are calibrated so that they can be pooled across queries (µAP ranks all pairs of
all queries together): a neighbour only counts by how far its similarity rises above the
archive's background similarity ``tau``, and the sum is divided by the number of query
frames, so a score is the fraction of the query explained by the match, weighted by how
clearly each frame matched. A distractor whose frames happen to land on some archived
frames scatters its votes over many offsets and scores near zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reverse_search.index import Neighbours

DEFAULT_SPEEDS: tuple[float, ...] = (0.5, 2 / 3, 0.8, 1.0, 1.25, 1.5, 2.0)


@dataclass(frozen=True)
class AlignmentConfig:
    speeds: tuple[float, ...] = DEFAULT_SPEEDS
    offset_bin_s: float = 1.0
    tolerance_s: float = 0.75
    background_similarity: float = 0.3
    max_results: int = 10
    min_score: float = 0.0
    # Scores (fractions of the query explained) closer than this are a tie between speeds:
    # under half a frame's evidence in a 20-frame query.
    speed_tie: float = 0.02

    def __post_init__(self) -> None:
        if not self.speeds or any(s <= 0 for s in self.speeds):
            raise ValueError("speeds must be positive")
        if self.offset_bin_s <= 0 or self.tolerance_s <= 0:
            raise ValueError("offset_bin_s and tolerance_s must be positive")
        if not 0.0 <= self.background_similarity < 1.0:
            raise ValueError("background_similarity must be in [0, 1)")
        if self.speed_tie < 0:
            raise ValueError("speed_tie must not be negative")


@dataclass(frozen=True)
class AlignedMatch:
    slot: int
    score: float
    speed: float
    offset_s: float
    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    matched_frames: int


def _best_offsets(
    slots: np.ndarray,
    frame_of: np.ndarray,
    ref_times: np.ndarray,
    tq: np.ndarray,
    weights: np.ndarray,
    speeds: np.ndarray,
    bin_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best offset per (slot, speed): arrays of slot, speed index, score and offset centre.

    A hypothesis (slot, speed, grid shift, offset bin) scores the sum over query frames of
    each frame's best vote. Every speed and both half-shifted grids are voted in one pass of
    sorts: a query has thousands of votes and tens of thousands of hypotheses, far too many
    for a Python loop within the latency budget.
    """
    n_speeds, n_votes = len(speeds), len(slots)
    shifts = np.array([0.0, 0.5])
    n_families = 2 * n_speeds
    # Hypothesis family c = speed * 2 + shift: earlier families win ties, as do lower bins.
    offsets = ref_times[None, :] - speeds[:, None] * tq[None, :]  # (S, V)
    bins = np.floor(offsets[:, None, :] / bin_s + shifts[None, :, None]).astype(np.int64).ravel()
    low_bin = int(bins.min())
    n_bins = int(bins.max()) - low_bin + 1
    n_query_frames = int(frame_of.max()) + 1
    # One packed integer per vote, (slot, family, bin, frame) from most to least
    # significant: one sort groups votes by hypothesis and, within it, by query frame.
    hypothesis = (
        np.tile(slots.astype(np.int64), n_families) * n_families
        + np.repeat(np.arange(n_families, dtype=np.int64), n_votes)
    ) * n_bins + (bins - low_bin)
    packed = hypothesis * n_query_frames + np.tile(frame_of.astype(np.int64), n_families)
    order = np.argsort(packed, kind="stable")
    packed = packed[order]
    frame_start = np.flatnonzero(np.r_[True, packed[1:] != packed[:-1]])
    # Each query frame counts once per hypothesis, with its best vote.
    frame_best = np.maximum.reduceat(np.tile(weights, n_families)[order], frame_start)
    frame_hyp = packed[frame_start] // n_query_frames
    hyp_start = np.flatnonzero(np.r_[True, frame_hyp[1:] != frame_hyp[:-1]])
    hyp_score = np.add.reduceat(frame_best, hyp_start)
    hyp = frame_hyp[hyp_start]
    # Hypotheses are sorted by (slot, family, bin); families of one speed are adjacent, so
    # (slot, speed) groups are contiguous. Each keeps its highest score; on a tie the first
    # in that order (grid without shift, then the lower bin).
    slot_speed = hyp // (n_bins * 2)
    group_start = np.flatnonzero(np.r_[True, slot_speed[1:] != slot_speed[:-1]])
    group_max = np.maximum.reduceat(hyp_score, group_start)
    group_size = np.diff(np.r_[group_start, len(hyp)])
    position = np.arange(len(hyp))
    is_max = hyp_score == np.repeat(group_max, group_size)
    best = np.minimum.reduceat(np.where(is_max, position, len(hyp)), group_start)
    h_bin = hyp[best] % n_bins + low_bin
    h_family = (hyp[best] // n_bins) % n_families
    centre = (h_bin + 0.5 - shifts[h_family % 2]) * bin_s
    return slot_speed[group_start] // n_speeds, h_family // 2, group_max, centre


def align(
    query_times: np.ndarray,
    neighbours: Neighbours,
    durations: np.ndarray | None = None,
    query_duration_s: float | None = None,
    config: AlignmentConfig | None = None,
    view_families: np.ndarray | None = None,
) -> list[AlignedMatch]:
    """Rank archived assets for one query.

    ``neighbours`` holds one row per query vector, rows grouped by query frame (all views of
    frame 0, then of frame 1, ...). ``durations`` maps slot -> asset duration for clipping
    the reference range. ``view_families`` gives each view's family (the edit it undoes):
    a hypothesis is (asset, family, speed, offset), so one match never mixes views of
    different families; an asset's best family stands for it.
    """
    cfg = config or AlignmentConfig()
    query_times = np.asarray(query_times, dtype=np.float64)
    n_frames = len(query_times)
    if n_frames == 0:
        return []
    rows = neighbours.slots.shape[0]
    if rows % n_frames:
        raise ValueError(f"{rows} neighbour rows do not split over {n_frames} query frames")
    views_per_frame, k = rows // n_frames, neighbours.slots.shape[1]
    frame_of = np.repeat(np.arange(n_frames), views_per_frame * k)
    families = (
        np.zeros(views_per_frame, dtype=np.int64)
        if view_families is None
        else np.asarray(view_families, dtype=np.int64)
    )
    if families.shape != (views_per_frame,) or (families < 0).any():
        raise ValueError(
            f"view_families must give one family >= 0 to each of {views_per_frame} views"
        )
    n_view_families = int(families.max()) + 1
    # Votes are keyed by (slot, family) from here on: one "key" per hypothesis family.
    family_of = np.tile(np.repeat(families, k), n_frames)
    slots = neighbours.slots.ravel().astype(np.int64)
    slots = np.where(slots >= 0, slots * n_view_families + family_of, -1)
    ref_times = neighbours.times.ravel().astype(np.float64)
    tau = cfg.background_similarity
    weights = neighbours.similarities.ravel().astype(np.float64) - tau
    keep = (slots >= 0) & (weights > 0)
    if not keep.any():
        return []
    frame_of, slots, ref_times, weights = (
        frame_of[keep],
        slots[keep],
        ref_times[keep],
        weights[keep],
    )
    tq = query_times[frame_of]
    sample_step = float(np.median(np.diff(query_times))) if n_frames > 1 else 0.5
    if query_duration_s is None:
        query_duration_s = float(query_times[-1]) + sample_step

    speeds = np.asarray(cfg.speeds, dtype=np.float64)
    b_slot, b_speed, b_score, b_centre = _best_offsets(
        slots, frame_of, ref_times, tq, weights, speeds, cfg.offset_bin_s
    )
    # Slots ranked by their best speed's score (ties: lower slot first).
    slot_ids, slot_start = np.unique(b_slot, return_index=True)
    slot_top = np.maximum.reduceat(b_score, slot_start)
    ranked = np.lexsort((slot_ids, -slot_top))[: max(cfg.max_results * 3, 10)]
    # Votes grouped by slot, so each candidate's votes are one slice.
    by_slot = np.argsort(slots, kind="stable")
    sorted_slots = slots[by_slot]
    matches: list[AlignedMatch] = []
    norm = (1.0 - tau) * n_frames
    seen: set[int] = set()
    for position in ranked.tolist():
        key = int(slot_ids[position])
        slot = key // n_view_families
        if slot in seen:
            # A lower-ranked family of an asset already matched.
            continue
        lo, hi = np.searchsorted(sorted_slots, [key, key + 1])
        mine = by_slot[lo:hi]
        slot_tq, slot_tr, slot_w, slot_frames = (
            tq[mine],
            ref_times[mine],
            weights[mine],
            frame_of[mine],
        )
        top_vote = float(slot_top[position])
        group_end = slot_start[position + 1] if position + 1 < len(slot_start) else len(b_slot)
        candidates = range(int(slot_start[position]), int(group_end))
        refined_speeds: list[tuple[float, float, float, float, np.ndarray]] = []
        for row in candidates:
            speed, vote, centre = float(speeds[b_speed[row]]), b_score[row], float(b_centre[row])
            # Speeds whose coarse vote is far behind cannot win the refinement.
            if vote < 0.5 * top_vote:
                continue
            refined = _refine(slot_tq, slot_tr, slot_w, slot_frames, n_frames, speed, centre, cfg)
            if refined is not None:
                total, spread, offset, per_frame_best = refined
                refined_speeds.append((speed, total / norm, spread, offset, per_frame_best))
        if not refined_speeds:
            continue
        # Neighbouring speeds explain a short or slow-moving query almost equally well.
        # Among the speeds within cfg.speed_tie of the best score, normal speed wins (most
        # copies are not retimed); otherwise the speed whose frames sit closest to its line.
        best_score = max(r[1] for r in refined_speeds)
        speed, _, _, offset, per_frame_best = max(
            (r for r in refined_speeds if r[1] >= best_score - cfg.speed_tie),
            key=lambda r: (r[0] == 1.0, -round(r[2], 2), r[1]),
        )
        total = float(per_frame_best.sum())
        score = float(total / norm)
        if score <= cfg.min_score:
            continue
        seen.add(slot)
        matched = np.flatnonzero(per_frame_best > 0)
        q_start = float(query_times[matched[0]])
        q_end = float(min(query_times[matched[-1]] + sample_step, query_duration_s))
        r_start = speed * q_start + offset
        r_end = speed * q_end + offset
        if durations is not None:
            limit = float(durations[slot])
            r_start, r_end = min(max(r_start, 0.0), limit), min(max(r_end, 0.0), limit)
        matches.append(
            AlignedMatch(
                slot=int(slot),
                score=score,
                speed=float(speed),
                offset_s=offset,
                query_start_s=q_start,
                query_end_s=q_end,
                reference_start_s=float(max(r_start, 0.0)),
                reference_end_s=float(max(r_end, 0.0)),
                matched_frames=len(matched),
            )
        )
    matches.sort(key=lambda m: -m.score)
    return matches[: cfg.max_results]


def _refine(
    tq: np.ndarray,
    tr: np.ndarray,
    weights: np.ndarray,
    frames: np.ndarray,
    n_frames: int,
    speed: float,
    centre: float,
    cfg: AlignmentConfig,
) -> tuple[float, float, float, np.ndarray] | None:
    """Re-centre a hypothesis on its consistent votes: (score, mean |residual|, offset, per-frame)."""
    residual = tr - speed * tq - centre
    close = np.abs(residual) <= cfg.tolerance_s
    if not close.any():
        return None
    offset = centre + float(np.median(residual[close]))
    residual = tr - speed * tq - offset
    close = np.abs(residual) <= cfg.tolerance_s
    if not close.any():
        return None
    per_frame_best = np.zeros(n_frames)
    np.maximum.at(per_frame_best, frames[close], weights[close])
    spread = float(np.abs(residual[close]).mean())
    return float(per_frame_best.sum()), spread, offset, per_frame_best
