"""Ranking: put the book the person meant first, even when they typed it badly.

Public API (also `mamdl.ranking.api`):

    rank(query, results, prefs=None) -> list[Ranked]
    broadened_search(query, search_fn, budget=4, *, prefs=None, page_size=100) -> SearchOutcome
    Query(title, author, narrator, series, text)      what was typed
    Prefs(format, filetypes, languages)               how to order editions of one work
    Ranked, SentQuery, SearchOutcome, Kind
    CONFIDENCE_THRESHOLD, is_confident, top_confidence

Modules: `normalize` (folding), `names` (people), `kinds` (summaries, box sets), `features` (one
result, cached), `score` (work match), `confidence`, `rank` (works and editions), `planner` (which
strict search to send next), `broaden` (the search loop).
"""

from mamdl.ranking.broaden import MAX_REQUESTS, SearchFn, broadened_search
from mamdl.ranking.confidence import CONFIDENCE_THRESHOLD, is_confident, work_confidence
from mamdl.ranking.kinds import Kind
from mamdl.ranking.models import Prefs, Query, Ranked, SearchOutcome, SentQuery
from mamdl.ranking.rank import rank, top_confidence

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "MAX_REQUESTS",
    "Kind",
    "Prefs",
    "Query",
    "Ranked",
    "SearchFn",
    "SearchOutcome",
    "SentQuery",
    "broadened_search",
    "is_confident",
    "rank",
    "top_confidence",
    "work_confidence",
]
