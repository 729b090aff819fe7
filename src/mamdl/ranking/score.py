"""How well one result matches the query, as a *work* (edition preferences come later).

Title: query words are aligned with title words (exact, joined neighbours, wildcard, then typo via
rapidfuzz). *Recall* is the share of the query's words found; *precision* the share of the
title's words the query accounts for. Recall matters most; precision is what puts "It" above
"It Ends with Us" and "Dune" above "Dune Messiah".

Author: see `names.py`. The author weighs enough that a matching author beats a closer-looking
title by someone else.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamdl.ranking.features import ResultFeatures, TitleVariant, title_variants
from mamdl.ranking.kinds import Kind, is_asked_for, query_markers
from mamdl.ranking.models import Query
from mamdl.ranking.names import TYPO_CREDIT, Reading, parse_query_names, people_similarity, word_similarity
from mamdl.ranking.normalize import STOPWORDS, NormText, norm_title, strip_format_words, wildcard_regex

PRECISION_SHARE = 0.45
"""Part of the title score that depends on precision (extra words in the title)."""
EXPLAINED_CREDIT = 0.9
"""Credit for a title-query word found in the series or author instead ("Murderbot all systems
red", "Cradle Unsouled"); a mistyped one ("Magician's Nephew Lewwis") earns it times its typo
credit."""

WEIGHTS = {"title": 0.6, "author": 0.4, "narrator": 0.25, "series": 0.25, "text": 0.6}
"""Relative weight of each part of the query that was given; normalised over the parts present."""

PENALTY = {Kind.derivative: 0.6, Kind.omnibus: 0.85}
"""Multiplier for summaries/guides/companions and for box sets, unless the query asks for them."""

AUTHOR_IN_TITLE = 0.8
"""Author similarity when the row names no author but the title carries the surname."""


def title_match(
    q: NormText, t: NormText, extra: frozenset[str] = frozenset(), extra_credit: float = EXPLAINED_CREDIT
) -> float:
    """0-1 similarity of a query title to one title shape; 1.0 only for the same words (numbers
    may be spelled either way)."""
    if not q or not t:
        return 0.0
    s = _align(q, t, extra, extra_credit)
    if s < 1.0 and (q.numeric is not None or t.numeric is not None):
        s = max(s, _align(q.numeric or q, t.numeric or t, extra, extra_credit))
    return s


def _align(q: NormText, t: NormText, extra: frozenset[str], extra_credit: float) -> float:
    if q.tokens == t.tokens:
        return 1.0
    qt, tt = q.tokens, t.tokens
    covered = [0.0] * len(tt)
    credit = [0.0] * len(qt)
    for joined, (i, j) in q.pairs.items():  # "da vinci" typed, "DaVinci" in the title
        pos = t.index.get(joined)
        if pos:
            credit[i] = credit[j] = 1.0
            for p in pos:
                covered[p] = 1.0
    for i, tok in enumerate(qt):
        if credit[i]:
            continue
        pos = t.index.get(tok)
        if pos:
            credit[i] = 1.0
            for p in pos:
                covered[p] = 1.0
            continue
        pair = t.pairs.get(tok)  # "davinci" typed, "Da Vinci" in the title
        if pair:
            credit[i] = 1.0
            covered[pair[0]] = covered[pair[1]] = 1.0
            continue
        if "*" in tok or t.has_wildcard:
            hit = _wildcard_hit(tok, tt)
            if hit >= 0:
                credit[i] = 1.0
                covered[hit] = 1.0
                continue
        if len(tok) >= 3 and not tok.isdigit():
            best, best_j = 0.0, -1
            for j, cand in enumerate(tt):
                c = word_similarity(tok, cand)
                if c > best:
                    best, best_j = c, j
            if best_j >= 0:
                credit[i] = best
                # One slip accounts for the title word as well as the right spelling would: the
                # typo is paid once, in recall, not again as an unexplained word in precision.
                covered[best_j] = max(covered[best_j], 1.0 if best >= TYPO_CREDIT[1] else best)
        if credit[i] < extra_credit and extra and tok not in STOPWORDS:
            if tok in extra:
                credit[i] = extra_credit
            elif credit[i] == 0.0 and len(tok) >= 4 and not tok.isdigit():  # "Lewwis" after the title
                near = max((word_similarity(tok, e) for e in extra), default=0.0)
                credit[i] = max(credit[i], extra_credit * near)
    recall = sum(w * c for w, c in zip(q.weights, credit)) / q.total
    precision = sum(w * c for w, c in zip(t.weights, covered)) / t.total
    return recall * (1.0 - PRECISION_SHARE + PRECISION_SHARE * precision)


def _wildcard_hit(tok: str, title_tokens: tuple[str, ...]) -> int:
    for j, cand in enumerate(title_tokens):
        if "*" in tok and wildcard_regex(tok).match(cand):
            return j
        if "*" in cand and wildcard_regex(cand).match(tok):
            return j
    return -1


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """A `Query` folded once, for scoring many results."""

    title: NormText | None
    title_variants: tuple[TitleVariant, ...]
    """The typed title and its shorter shapes ("Sapiens: A Brief History" -> "Sapiens")."""
    authors: tuple[Reading, ...]
    narrators: tuple[Reading, ...]
    series: NormText | None
    text: NormText | None
    asked: frozenset[str]
    author_surnames: frozenset[str]


def _query_title_variants(title: str, series: str) -> tuple[TitleVariant, ...]:
    """Shapes of a typed title, with words that only name a format ("audiobook", "epub") left out."""
    if not title.strip():
        return ()
    cleaned = strip_format_words(title)
    variants, _ = title_variants(cleaned, (norm_title(series),) if series.strip() else ())
    return variants


def prepare(query: Query) -> PreparedQuery:
    authors = parse_query_names(query.author) if query.author.strip() else ()
    variants = _query_title_variants(query.title, query.series)
    return PreparedQuery(
        title=variants[0].norm if variants and variants[0].norm else None,
        title_variants=variants,
        authors=authors,
        narrators=parse_query_names(query.narrator) if query.narrator.strip() else (),
        series=norm_title(query.series) or None,
        text=norm_title(strip_format_words(query.text)) or None,
        asked=query_markers(" ".join((query.title, query.author, query.series, query.text))),
        author_surnames=frozenset(k.surname for _, names in authors for k in names),
    )


def score(q: PreparedQuery, f: ResultFeatures) -> float:
    """The work-match score of one result, 0-1."""
    total = 0.0
    weight = 0.0
    if q.title is not None:
        best = 0.0
        for qv in q.title_variants:
            for v in f.variants:
                s = title_match(qv.norm, v.norm, f.extra_tokens) * v.factor * qv.factor
                if s > best:
                    best = s
            if best >= 1.0:
                break
        total += WEIGHTS["title"] * best
        weight += WEIGHTS["title"]
    if q.authors:
        if f.authors:
            a = people_similarity(q.authors, f.authors)
        else:
            a = AUTHOR_IN_TITLE if q.author_surnames & f.title_tokens else 0.0
        total += WEIGHTS["author"] * a
        weight += WEIGHTS["author"]
    if q.narrators:
        total += WEIGHTS["narrator"] * people_similarity(q.narrators, f.narrators)
        weight += WEIGHTS["narrator"]
    if q.series is not None:
        s = max((title_match(q.series, sn) for sn in f.series), default=0.0)
        total += WEIGHTS["series"] * s
        weight += WEIGHTS["series"]
    if q.text is not None:
        s = max(title_match(q.text, v.norm, f.all_tokens, 1.0) * v.factor for v in f.variants)
        total += WEIGHTS["text"] * s
        weight += WEIGHTS["text"]
    if weight == 0.0:
        return 0.0
    result = total / weight
    if f.kind is not Kind.work and not is_asked_for(f.markers, q.asked):
        result *= PENALTY[f.kind]
    return result
