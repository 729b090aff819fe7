"""`rank`: order search results so the work meant comes first, its best edition on top.

Results are grouped into works (same core title, same first author's surname, same kind). Works
are ordered by match score plus a small popularity term (see `confidence.py`); editions of one work by the person's
preferences (format, language, file type), then health, then freeleech/VIP. Every edition of the
best work comes before any edition of the next work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mamdl.mam.models import SearchResult
from mamdl.ranking.confidence import SCORE_TEMPERATURE, log_weight, shares, work_confidence
from mamdl.ranking.features import features_of
from mamdl.ranking.kinds import Kind
from mamdl.ranking.models import Prefs, Query, Ranked
from mamdl.ranking.score import prepare, score

HEALTH_BUCKETS = (0, 1, 3, 10, 50)
"""Seeder counts where health steps up: 0 (dead, always last), 1-2, 3-9, 10-49, 50+. Within a step,
freeleech and VIP decide before the exact seeder count does."""


def health_bucket(seeders: int) -> int:
    """0 for no seeders, then one step per floor in `HEALTH_BUCKETS` reached."""
    if seeders <= 0:
        return 0
    return sum(1 for floor in HEALTH_BUCKETS[1:] if seeders >= floor)


def _language_rank(r: SearchResult, languages: Iterable[str | int]) -> int:
    langs = list(languages)
    if not langs:
        return 0
    code = r.lang_code.upper()
    for i, lang in enumerate(langs):
        if isinstance(lang, int) or (isinstance(lang, str) and lang.isdigit()):
            if r.language == int(lang):
                return i
        elif code and code == lang.upper():
            return i
    return len(langs)


def _filetype_rank(r: SearchResult, filetypes: Iterable[str]) -> int:
    prefs = [f.lower() for f in filetypes]
    if not prefs:
        return 0
    ranks = [prefs.index(t) for t in r.filetypes if t in prefs]
    return min(ranks) if ranks else len(prefs)


def edition_key(r: SearchResult, prefs: Prefs) -> tuple:
    """Sort key among editions of one work (smaller first).

    Language comes before file type: a book in a language you can't read is no use, while file
    types convert."""
    fmt = 0 if prefs.format in ("", "any", None) or r.format == prefs.format else 1
    free = 2 if (r.free or r.personal_freeleech) else 1 if (r.fl_vip or r.vip) else 0
    added = -r.added.timestamp() if r.added else 0.0
    return (
        fmt,
        _language_rank(r, prefs.languages),
        _filetype_rank(r, prefs.filetypes),
        -health_bucket(r.seeders),
        -free,
        -r.seeders,
        -r.snatches,
        added,
        r.id,
    )


@dataclass(slots=True)
class _Work:
    """One work's editions while ranking."""

    key: str
    kind: Kind
    best: float = 0.0
    popularity: int = 0
    rows: list[tuple[SearchResult, float]] = field(default_factory=list)
    order: float = 0.0


def rank(query: Query, results: Iterable[SearchResult], prefs: Prefs | None = None) -> list[Ranked]:
    """Rank `results` for `query`, best first. Duplicate ids are kept once."""
    prefs = prefs or Prefs()
    pq = prepare(query)
    works: dict[str, _Work] = {}
    seen: set[int] = set()
    for r in results:
        if r.id in seen:
            continue
        seen.add(r.id)
        f = features_of(r)
        s = score(pq, f)
        w = works.get(f.work_key)
        if w is None:
            w = works[f.work_key] = _Work(f.work_key, f.kind)
        w.rows.append((r, s))
        if s > w.best:
            w.best = s
        w.popularity += r.snatches + r.seeders
    for w in works.values():
        w.order = log_weight(w.best, w.popularity)
    ordered = sorted(works.values(), key=lambda w: (-w.order, w.key))
    work_shares = shares([w.order for w in ordered])
    out: list[Ranked] = []
    for i, w in enumerate(ordered):
        conf = work_confidence(w.best, work_shares[i])
        order_score = w.order * SCORE_TEMPERATURE
        editions = sorted(((edition_key(r, prefs), r, s) for r, s in w.rows), key=lambda e: e[0])
        for ekey, r, s in editions:
            out.append(
                Ranked(
                    result=r,
                    score=round(s, 4),
                    work_score=round(order_score, 4),
                    sort_key=(-round(order_score, 6), i, *ekey),
                    confidence=conf,
                    kind=w.kind,
                    work_key=w.key,
                    work_rank=i,
                    snatched=r.my_snatched,
                )
            )
    return out


def top_confidence(ranked: list[Ranked]) -> float:
    """Confidence of the top row (0 for no rows): how sure we are it is the work meant."""
    return ranked[0].confidence if ranked else 0.0
