"""An in-process stand-in for MAM's search with the strict semantics of docs (mam-api.md):
case-insensitive; every query word must appear as a whole word in at least one chosen field (AND);
`*` matches any run of letters inside a word; no accent folding, stemming or typo tolerance;
punctuation separates words; ordered by words matched in the title, then newest id.

Used by the ranking tests and by `bench/ranking_devset.py --in-process`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mamdl.mam.models import SearchField, SearchResult

_WORD = re.compile(r"[^\W_]+")
_QUERY_WORD = re.compile(r"[^\W_]*(?:\*[^\W_]*)+|[^\W_]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


class StrictSearch:
    """`search(text, fields)` over a fixed list of results, like MAM would answer it."""

    def __init__(self, results: Iterable[SearchResult], *, per_page: int = 100, star_matches_empty: bool = True):
        self.per_page = per_page
        self.star = "[^\\W\\d_]*" if star_matches_empty else "[^\\W\\d_]+"
        self.rows: list[tuple[SearchResult, dict[SearchField, set[str]]]] = []
        for r in results:
            self.rows.append(
                (
                    r,
                    {
                        SearchField.title: _words(r.title),
                        SearchField.author: _words(" ".join(r.author_names)),
                        SearchField.narrator: _words(" ".join(r.narrator_names)),
                        SearchField.series: _words(" ".join(s.name for s in r.series)),
                        SearchField.description: _words(r.description or ""),
                        SearchField.tags: _words(r.tags),
                    },
                )
            )
        self.calls: list[tuple[str, list[SearchField]]] = []

    def _matcher(self, word: str):
        if "*" not in word:
            return lambda words: word in words
        pattern = re.compile("^" + self.star.join(re.escape(p) for p in word.split("*")) + "$")
        return lambda words: any(pattern.match(w) for w in words)

    def search(self, text: str, fields: list[SearchField]) -> list[SearchResult]:
        self.calls.append((text, list(fields)))
        words = [w for w in _QUERY_WORD.findall(text.lower()) if w.strip("*")]
        if not words:
            return []
        matchers = [self._matcher(w) for w in words]
        hits = []
        for r, index in self.rows:
            union: set[str] = set()
            for f in fields:
                union |= index.get(f, set())
            if all(m(union) for m in matchers):
                weight = sum(1 for m in matchers if m(index[SearchField.title]))
                hits.append((weight, r.id, r))
        hits.sort(key=lambda h: (-h[0], -h[1]))
        return [r for _, _, r in hits[: self.per_page]]

    __call__ = search
