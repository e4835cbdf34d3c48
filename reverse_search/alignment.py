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

    def __post_init__(self) -> None:
        if not self.speeds or any(s <= 0 for s in self.speeds):
            raise ValueError("speeds must be positive")
        if self.offset_bin_s <= 0 or self.tolerance_s <= 0:
            raise ValueError("offset_bin_s and tolerance_s must be positive")
        if not 0.0 <= self.background_similarity < 1.0:
            raise ValueError("background_similarity must be in [0, 1)")


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


def _group_max(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((values,) + tuple(keys[:, j] for j in range(keys.shape[1] - 1, -1, -1)))
    sorted_keys = keys[order]
    sorted_values = values[order]
    change = np.ones(len(order), dtype=bool)
    change[:-1] = np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)
    # With values as the last sort key, the last row of each group holds its maximum.
    return sorted_keys[change], sorted_values[change]


def _group_sum(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique, np.bincount(inverse.ravel(), weights=values, minlength=len(unique))


def align(
    query_times: np.ndarray,
    neighbours: Neighbours,
    durations: np.ndarray | None = None,
    query_duration_s: float | None = None,
    config: AlignmentConfig | None = None,
) -> list[AlignedMatch]:
    """Rank archived assets for one query.

    ``neighbours`` holds one row per query vector, rows grouped by query frame (all views of
    frame 0, then of frame 1, ...). ``durations`` maps slot -> asset duration for clipping
    the reference range.
    """
    cfg = config or AlignmentConfig()
    query_times = np.asarray(query_times, dtype=np.float64)
    n_frames = len(query_times)
    if n_frames == 0:
        return []
    rows = neighbours.slots.shape[0]
    if rows % n_frames:
        raise ValueError(f"{rows} neighbour rows do not split over {n_frames} query frames")
    per_frame = rows // n_frames * neighbours.slots.shape[1]
    frame_of = np.repeat(np.arange(n_frames), per_frame)
    slots = neighbours.slots.ravel()
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

    # Hypotheses (slot, speed, offset bin) are scored by the sum over query frames of each
    # frame's best vote; each slot keeps its best offset for every speed.
    best: dict[int, dict[float, tuple[float, float]]] = {}
    bin_s = cfg.offset_bin_s
    for speed in cfg.speeds:
        offsets = ref_times - speed * tq
        for shift in (0.0, 0.5):
            bins = np.floor(offsets / bin_s + shift).astype(np.int64)
            keys = np.stack([slots.astype(np.int64), bins, frame_of], axis=1)
            frame_keys, frame_best = _group_max(keys, weights)
            hyp_keys, hyp_score = _group_sum(frame_keys[:, :2], frame_best)
            for (slot, bin_index), score in zip(hyp_keys.tolist(), hyp_score.tolist(), strict=True):
                per_speed = best.setdefault(slot, {})
                current = per_speed.get(speed)
                if current is None or score > current[0]:
                    per_speed[speed] = (score, (bin_index + 0.5 - shift) * bin_s)

    ranked = sorted(best.items(), key=lambda item: -max(v[0] for v in item[1].values()))
    ranked = ranked[: max(cfg.max_results * 3, 10)]
    matches: list[AlignedMatch] = []
    norm = (1.0 - tau) * n_frames
    for slot, per_speed in ranked:
        mine = slots == slot
        slot_tq, slot_tr, slot_w, slot_frames = (
            tq[mine],
            ref_times[mine],
            weights[mine],
            frame_of[mine],
        )
        top_vote = max(v[0] for v in per_speed.values())
        chosen: tuple[tuple[float, float, bool], float, float, float, np.ndarray] | None = None
        for speed, (vote, centre) in per_speed.items():
            # Speeds whose coarse vote is far behind cannot win the refinement.
            if vote < 0.5 * top_vote:
                continue
            refined = _refine(slot_tq, slot_tr, slot_w, slot_frames, n_frames, speed, centre, cfg)
            if refined is None:
                continue
            score, spread, offset, per_frame_best = refined
            # Neighbouring speeds explain a short query almost equally well; the one whose
            # frames sit closest to its line wins, and a near tie goes to normal speed.
            key = (round(score / norm, 3), -round(spread, 2), speed == 1.0)
            if chosen is None or key > chosen[0]:
                chosen = (key, speed, offset, score, per_frame_best)
        if chosen is None:
            continue
        _, speed, offset, total, per_frame_best = chosen
        score = float(total / norm)
        if score <= cfg.min_score:
            continue
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
