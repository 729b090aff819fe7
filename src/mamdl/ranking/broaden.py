"""Query broadening: get the intended work into the result set despite MAM's strict search.

We never send the query just as typed. `planner.Planner` picks each search (a few of the typed
words, exact or wildcarded) for its chance of success times narrowness, learning from every
failure. Results are merged (by id) and ranked after every request; we stop as soon as the top
work is confident, or is a near-exact match (then the doubt is between namesakes, which more
searches cannot resolve), or the budget is spent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mamdl.mam.models import SearchField, SearchResult
from mamdl.ranking.confidence import is_confident
from mamdl.ranking.models import Prefs, Query, Ranked, SearchOutcome, SentQuery
from mamdl.ranking.planner import Planner, words_of
from mamdl.ranking.rank import rank

SearchFn = Callable[[str, list[SearchField]], list[SearchResult]]
"""Sends one search to MAM (rate-limited by the caller); returns [] when MAM finds nothing."""

MAX_REQUESTS = 4
"""Hard cap on requests per broadened search, whatever budget is asked for."""
STRONG_MATCH = 0.92
"""A top work matching at least this well is in the result set already: stop even if not
confident."""


def best_match(ranked: Sequence[Ranked]) -> float:
    """Match score of the top work (its best edition), without popularity."""
    return max((r.score for r in ranked if r.work_rank == 0), default=0.0)


def broadened_search(
    query: Query,
    search_fn: SearchFn,
    budget: int = MAX_REQUESTS,
    *,
    prefs: Prefs | None = None,
    page_size: int = 100,
) -> SearchOutcome:
    """Search, broadening as needed, and rank the merged results.

    At most `min(budget, MAX_REQUESTS)` calls of `search_fn`. A call returning `page_size` rows or
    more is taken as truncated: later searches will be narrower, never broader."""
    budget = max(0, min(budget, MAX_REQUESTS))
    planner = Planner(words_of(query), has_author=bool(query.author.strip()))
    merged: dict[int, SearchResult] = {}
    found_by: dict[int, list[str]] = {}
    sent: list[SentQuery] = []
    ranked: list[Ranked] = []
    while len(sent) < budget:
        probe = planner.next_probe(remaining=budget - len(sent))
        if probe is None:
            break
        text, fields = planner.render(probe)
        results = search_fn(text, list(fields))
        new = 0
        for r in results:
            if r.id not in merged:
                merged[r.id] = r
                new += 1
            found_by.setdefault(r.id, []).append(text)
        sent.append(SentQuery(text=text, fields=tuple(fields), results=len(results), new=new))
        ranked = rank(query, merged.values(), prefs)
        if ranked and (is_confident(ranked[0].confidence) or best_match(ranked) >= STRONG_MATCH):
            break
        planner.record(probe, overflowed=len(results) >= page_size)
    for item in ranked:
        item.found_by = found_by.get(item.result.id, [])
    confidence = ranked[0].confidence if ranked else 0.0
    return SearchOutcome(
        ranked=ranked,
        queries=sent,
        requests=len(sent),
        confidence=confidence,
        confident=is_confident(confidence),
    )
