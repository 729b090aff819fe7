"""Everything the ranker needs from one search result, computed once and cached.

A result's title is compared in several shapes, because uploaders decorate titles: "Unsouled
(Cradle Book 1)", "Mistborn: The Final Empire", "The Fifth Season: The Broken Earth, Book 1",
"Murderbot Diaries 1 - All Systems Red". Each shape is a `TitleVariant`; the best one counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mamdl.mam.models import SearchResult
from mamdl.ranking.kinds import Kind, classify
from mamdl.ranking.names import NameKey, parse_name
from mamdl.ranking.normalize import STOPWORDS, NormText, norm_title, tokens

VARIANT_FACTOR = 0.97
"""A match on a shortened title (subtitle or series decoration dropped) counts a little less than
a match on the whole title, so the plain "Dune" wins a tie against "Dune: Deluxe Edition"."""

_BRACKETS = re.compile(r"\s*[\(\[\{][^\)\]\}]*[\)\]\}]")
_SPLIT = re.compile(r"\s*(?::|\s[-–—]\s|;)\s*")
_EDITION_TAIL = re.compile(
    r"\s*(?::|\s[-–—])\s*(?:(?:a|an)\s+(?:novel|novella|memoir|thriller|mystery|romance|story)|"
    r"(?:\w+\s+)?edition|unabridged|abridged|illustrated|annotated)\s*$",
    re.IGNORECASE,
)
"""Subtitles that name the edition, not the work: ": A Novel", " - Unabridged", ": Deluxe Edition"."""
_SERIES_TAIL = re.compile(
    r"\s*(?:,|:|\s[-–—])\s*(?:book|bk|vol|volume|part|number|#)\.?\s*"
    r"(?:\d+|[ivx]+|one|two|three|four|five|six|seven|eight|nine|ten)\b.*$",
    re.IGNORECASE,
)
"""Series decoration after the title: ", Book 1", ": Book One of the Dresden Files", " - Vol. 2"."""


@dataclass(frozen=True, slots=True)
class TitleVariant:
    norm: NormText
    factor: float


@dataclass(slots=True)
class ResultFeatures:
    """A result as the ranker sees it (folded, parsed, classified). What only some queries need
    (narrators, every word) is computed on first use."""

    variants: tuple[TitleVariant, ...]
    title_tokens: frozenset[str]
    extra_tokens: frozenset[str]
    """Words of the series and author names: a title query may name them ("Cradle Unsouled")."""
    authors: tuple[NameKey, ...]
    narrator_names: tuple[str, ...]
    series: tuple[NormText, ...]
    kind: Kind
    markers: frozenset[str]
    work_key: str
    """Same key = same work (editions differ in format, language, file type, uploader)."""
    _narrators: tuple[NameKey, ...] | None = None
    _all_tokens: frozenset[str] | None = None

    @property
    def narrators(self) -> tuple[NameKey, ...]:
        if self._narrators is None:
            self._narrators = tuple(k for k in (parse_name(n) for n in self.narrator_names) if k)
        return self._narrators

    @property
    def all_tokens(self) -> frozenset[str]:
        """Every word of title, authors, narrators and series: for free-text queries."""
        if self._all_tokens is None:
            narrator_words = frozenset(t for k in self.narrators for t in k.tokens)
            self._all_tokens = self.title_tokens | self.extra_tokens | narrator_words
        return self._all_tokens


def _content(toks: tuple[str, ...]) -> set[str]:
    return {t for t in toks if t not in STOPWORDS}


def _looks_like_series(part: NormText, series: tuple[NormText, ...]) -> bool:
    """Is a title part ("Mistborn", "Murderbot Diaries 1", "Cradle Book 1") series decoration
    rather than the title?"""
    words = _content(part.tokens) - {"book", "books", "volume", "vol", "part", "series", "no"}
    words = {w for w in words if not w.isdigit()}
    return bool(words) and any(words <= set(s.tokens) for s in series)


def _is_substantive(part: NormText) -> bool:
    """Does a title part hold a real word (not just "2001" or "The")?"""
    return any(not t.isdigit() for t in _content(part.tokens))


def title_variants(title: str, series: tuple[NormText, ...]) -> tuple[tuple[TitleVariant, ...], NormText]:
    """The shapes a title is compared in, and the *core* shape used for the work key.

    The core drops brackets, series decoration and edition subtitles ("A Novel", "Unabridged"),
    and a subtitle after a substantive head ("Station Eleven: A Novel" -> "Station Eleven"), but
    keeps a head that is only a number ("2001: A Space Odyssey")."""
    full = norm_title(title)
    variants = [TitleVariant(full, 1.0)]
    core = full
    main_text = title
    if "(" in title or "[" in title or "{" in title:
        main_text = _BRACKETS.sub("", title).strip() or title
    trimmed = _SERIES_TAIL.sub("", main_text).strip()
    if trimmed and _is_substantive(norm_title(trimmed)):
        main_text = trimmed
    has_separator = ":" in main_text or " -" in main_text or " –" in main_text or " —" in main_text or ";" in main_text
    if has_separator:
        main_text = _EDITION_TAIL.sub("", main_text).strip() or main_text
    if main_text != title:
        main = norm_title(main_text)
        if main and main.tokens != full.tokens:
            variants.append(TitleVariant(main, VARIANT_FACTOR))
            core = main
    parts = [p for p in _SPLIT.split(main_text, maxsplit=1) if p.strip()] if has_separator else []
    if len(parts) == 2:
        head, tail = norm_title(parts[0]), norm_title(parts[1])
        if head and _is_substantive(head):
            variants.append(TitleVariant(head, VARIANT_FACTOR))  # "Mistborn" finds "Mistborn: The Final Empire"
            core = head
        if head and tail and _looks_like_series(head, series):
            # "Mistborn: The Final Empire", "Murderbot Diaries 1 - All Systems Red": the tail is the title.
            variants.append(TitleVariant(tail, VARIANT_FACTOR))
            core = tail
    return tuple(variants), core


@lru_cache(maxsize=8192)
def _features(
    title: str,
    authors: tuple[str, ...],
    narrators: tuple[str, ...],
    series: tuple[tuple[str, str], ...],
) -> ResultFeatures:
    series_norm = tuple(norm_title(name) for name, _ in series)
    variants, core = title_variants(title, series_norm)
    author_keys = tuple(k for k in (parse_name(a) for a in authors) if k)
    full = variants[0].norm
    title_tokens = frozenset(tokens(title))
    if full.numeric is not None:
        title_tokens |= frozenset(full.numeric.tokens)
    extra = frozenset(t for s in series_norm for t in s.tokens)
    for k in author_keys:
        extra |= frozenset(k.tokens)
    kind, markers = classify(title, authors, tuple(number for _, number in series))
    surname = author_keys[0].surname if author_keys else ""
    return ResultFeatures(
        variants=variants,
        title_tokens=title_tokens,
        extra_tokens=extra - STOPWORDS,
        authors=author_keys,
        narrator_names=narrators,
        series=series_norm,
        kind=kind,
        markers=markers,
        work_key=f"{core.text}|{surname}|{kind.value}",
    )


def features_of(result: SearchResult) -> ResultFeatures:
    """Cached by content (not by object), so re-ranking merged results costs nothing."""
    return _features(
        result.title,
        tuple(p.name for p in result.authors),
        tuple(p.name for p in result.narrators),
        tuple((s.name, s.number) for s in result.series),
    )
