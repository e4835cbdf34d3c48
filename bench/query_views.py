"""What the query-side symmetric views and view families cost and buy, in one process.

Reads the archive and queries a ``copy_detection.py --workdir DIR`` run left behind, builds
one index (the reference vectors do not depend on query-side settings), then searches every
query under three settings, interleaved query by query so that machine noise falls on all
three alike:

- ``plain``: the whole frame, its mirror, inner pictures and regions (the views before the
  symmetric ones were added);
- ``symmetries_mixed``: plus the vertical flip, half turn, quarter turns and negative, with
  votes of all views added up per frame (no view families);
- ``symmetries_by_family``: the same views, votes keyed by view family (the default).

Prints per setting recall@1 per group of transforms, the top scores of the non-matching
queries, and the time of matching (FAISS and alignment; describing is shared). The last
line is one JSON object.

    python bench/copy_detection.py --quick --workdir bench/out/quick --keep
    python bench/query_views.py bench/out/quick
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.copy_detection import GROUPS  # noqa: E402
from reverse_search.embedders.descriptor import VisualDescriptor  # noqa: E402
from reverse_search.index import FingerprintIndex, IndexConfig  # noqa: E402
from reverse_search.sampling import sample_query  # noqa: E402
from reverse_search.search import QueryViews, ReverseSearcher  # noqa: E402

SETTINGS = ("plain", "symmetries_mixed", "symmetries_by_family")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workdir", type=Path, help="a copy_detection.py --workdir folder")
    parser.add_argument("--limit", type=int, default=0, help="at most this many queries")
    args = parser.parse_args(argv)
    archive = sorted(args.workdir.glob("gen-*.mp4")) + sorted(args.workdir.glob("nat-*.mp4"))
    if not archive:
        parser.error(f"{args.workdir} holds no archive (gen-*.mp4, nat-*.mp4)")

    truth_file = args.workdir / "queries.json"
    truth = json.loads(truth_file.read_text()) if truth_file.exists() else None
    if truth is None:
        parser.error(f"{truth_file} is missing: run copy_detection.py with --workdir again")

    embedder = VisualDescriptor()
    index = FingerprintIndex(embedder.name, embedder.dim, IndexConfig())
    searcher = ReverseSearcher(embedder, index)
    start = time.perf_counter()
    for path in archive:
        searcher.ingest_file(path.stem, path)
    index.rebuild()
    print(f"index: {len(archive)} videos in {time.perf_counter() - start:.1f}s", flush=True)

    rows = [r for r in truth if (args.workdir / r["file"]).exists()]
    if args.limit:
        rows = rows[:: max(1, len(rows) // args.limit)]
    results: dict[str, list[tuple[dict, str | None, float, float]]] = {s: [] for s in SETTINGS}
    for n, row in enumerate(rows, 1):
        described = searcher.describe(
            sample_query(args.workdir / row["file"], searcher.config.query_rate_fps)
        )
        families = described.families
        assert families is not None
        # Families 0 (frame, pictures, regions) and 1 (mirrors) are the views from before the
        # symmetric ones. Those are derived from the frame's own descriptor, never described
        # again, so dropping them gives exactly the views of a descriptor without them.
        plain = families < 2
        for setting in SETTINGS:
            if setting == "plain":
                query = QueryViews(
                    described.views[:, plain],
                    described.times,
                    described.duration_s,
                    families[plain],
                )
            else:
                query = QueryViews(
                    described.views,
                    described.times,
                    described.duration_s,
                    None if setting == "symmetries_mixed" else families,
                )
            began = time.perf_counter()
            outcome = searcher.match(query)
            elapsed = (time.perf_counter() - began) * 1000
            top = outcome.matches[0] if outcome.matches else None
            results[setting].append(
                (row, top.asset_id if top else None, top.score if top else 0.0, elapsed)
            )
        if n % 100 == 0:
            print(f"  {n}/{len(rows)} queries", flush=True)

    report: dict = {"bench": "query_views", "queries": len(rows), "settings": {}}
    for setting in SETTINGS:
        done = results[setting]
        strangers = [score for row, _, score, _ in done if row["source"] is None]

        def recall(group: str, done=done) -> float | None:
            mine = [(row, top) for row, top, _, _ in done if row["group"] == group]
            hits = [top == row["source"] for row, top in mine]
            return round(float(np.mean(hits)), 4) if hits else None

        report["settings"][setting] = {
            "recall_at_1": {g: recall(g) for g in GROUPS},
            "non_matching_top_score": {
                "p95": round(float(np.percentile(strangers, 95)), 4) if strangers else None,
                "mean": round(float(np.mean(strangers)), 4) if strangers else None,
                "max": round(float(np.max(strangers)), 4) if strangers else None,
            },
            "p50_match_ms": round(float(np.percentile([d[3] for d in done], 50)), 1),
            "p99_match_ms": round(float(np.percentile([d[3] for d in done], 99)), 1),
        }
        print(f"{setting:22s} {report['settings'][setting]}", flush=True)
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
