#!/usr/bin/env python3
"""How long `rank` takes for 1,000 results on one core (target: < 50 ms).

"cold" clears every normalisation cache first (each result folded for the first time, as after
a fresh search); "warm" re-ranks the same results (as after a broadening step merges more).

    python bench/bench_ranking.py [--n 1000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from mamdl.mam.models import SearchResult  # noqa: E402
from mamdl.ranking import Prefs, Query, features, names, normalize, rank  # noqa: E402  # noqa: E402

CATALOGUE = ROOT / "bench" / "data" / "devset_catalogue.json"
QUERIES = [
    Query(title="The Lion the Witch and the Wardrobe", author="CS Lewis"),
    Query(title="Wuthering Hieghts", author="Emily Bronte"),
    Query(title="Murderbot all systems red"),
    Query(title="20000 Leagues Under the Sea", author="Jules Verne"),
]


def clear_caches() -> None:
    for fn in (
        normalize.tokens,
        normalize.norm_title,
        normalize._wildcard_regex,
        names.parse_name,
        names.parse_query_names,
        names.word_similarity,
        features._features,
    ):
        fn.cache_clear()


def load_results(n: int) -> list[SearchResult]:
    if not CATALOGUE.exists():
        from devset_catalogue import DEFAULT_WORKS, build

        rows = build(json.loads(DEFAULT_WORKS.read_text()))
    else:
        rows = json.loads(CATALOGUE.read_text())["torrents"]
    rng = random.Random(1)
    picked = rng.sample(rows, min(n, len(rows)))
    return [SearchResult.from_api(r) for r in picked]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    results = load_results(args.n)
    prefs = Prefs(format="ebook", filetypes=["epub", "azw3", "mobi", "pdf"], languages=["ENG"])
    cold: list[float] = []
    warm: list[float] = []
    for i in range(args.repeat):
        query = QUERIES[i % len(QUERIES)]
        clear_caches()
        t0 = time.perf_counter()
        rank(query, results, prefs)
        cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rank(query, results, prefs)
        warm.append(time.perf_counter() - t0)
    print(
        f"rank() of {len(results)} results: cold median {statistics.median(cold) * 1000:.1f} ms "
        f"(max {max(cold) * 1000:.1f}), warm median {statistics.median(warm) * 1000:.1f} ms "
        f"(max {max(warm) * 1000:.1f}); target < 50 ms"
    )


if __name__ == "__main__":
    main()
