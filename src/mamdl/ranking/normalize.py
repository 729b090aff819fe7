"""Text normalisation for *matching* (not for searching MAM: see `planner.py` for that).

People type titles and names in many shapes: "Childhoods End" for "Childhood's End", "Bronte" for
"Brontë", "Station 11" for "Station Eleven", "Angels and Demons" for "Angels & Demons". MAM's own
search does none of this folding, so we do it on both sides before comparing. Only what no library
does is written by hand here: accents go through `anyascii`, similarity through `rapidfuzz`.

Every function is pure and cached, so each distinct string is folded once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from anyascii import anyascii

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "by",
        "from",
        "is",
        "as",
        "le",
        "la",
        "les",
        "de",
        "du",
        "des",
        "der",
        "die",
        "das",
        "den",
        "el",
        "los",
        "las",
        "il",
        "lo",
    ]
)
"""Words that carry little identity in a title; they count for less when matching."""

LEADING_ARTICLES = frozenset(["the", "a", "an"])
"""English articles dropped from the start of a title ("The Golden Compass" = "Golden Compass").
Other languages' articles stay: "Der Steppenwolf" is the German edition, "Steppenwolf" the
English one, and what was typed says which is meant."""

FORMAT_WORDS = frozenset(
    ["audiobook", "audiobooks", "audio", "ebook", "ebooks", "epub", "mobi", "azw3", "pdf", "m4b", "mp3", "unabridged"]
)
"""Words people add to a query to name a format, not the work ("dune audiobook")."""

STOP_WEIGHT = 0.3
"""Weight of a stopword, relative to 1.0 for an ordinary word."""

GENERIC_WORDS = frozenset(["book", "books", "novel", "novels"])
"""Words people add to a title box to say what they want, not which ("the hobbit book"); they
weigh like stopwords, so a title that lacks them loses little ("The Book Thief" still needs them
less than "Thief")."""

_DROP_APOSTROPHES = str.maketrans("", "", "'’‘`´ʼ")
_DIGIT_GROUPS = re.compile(r"(?<=\d)[,.](?=\d{3}\b)")  # "20,000" -> "20000"
_DOTTED_ACRONYM = re.compile(r"\b(?:[a-z]\.){2,}")  # "j.r.r." / "u.s.a." -> "jrr" / "usa"
_TOKEN = re.compile(r"[a-z0-9*]+")

_UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
NUMBER_WORDS = (frozenset(_UNITS) - {"zero"}) | frozenset(_TENS) | frozenset(_SCALES)
"""Spelled-out number words (one to million) that the normaliser turns into digits."""


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case ASCII with `&` spelled out, accents and apostrophes removed, digit groups joined.

    Apostrophes are deleted (not turned into spaces) so that "Childhood's" and "Childhoods", and
    "L'Engle" and "LEngle", fold to the same word."""
    if not text:
        return ""
    if not text.isascii():
        text = anyascii(text)
    text = text.lower()
    if "&" in text:
        text = text.replace("&", " and ")
    if "." in text or "," in text:
        text = _DIGIT_GROUPS.sub("", text)
        text = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    return text.translate(_DROP_APOSTROPHES)


def numbers_to_digits(tokens: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Spelled-out numbers become digits ("twenty thousand" -> "20000", "eleven" -> "11"), so that
    "Station 11" meets "Station Eleven". Digits are the canonical form because they cannot be typed
    two ways."""
    out: list[str] = []
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if tok not in _UNITS and tok not in _TENS:
            out.append(tok)
            i += 1
            continue
        total = 0
        current = 0
        last = ""  # "unit", "tens" or "scale": a unit after a unit starts a new number
        j = i
        while j < n:
            t = tokens[j]
            if t in _TENS and last in ("", "scale"):
                current += _TENS[t]
                last = "tens"
            elif t in _UNITS and (last in ("", "scale") or (last == "tens" and _UNITS[t] < 10)):
                current += _UNITS[t]
                last = "unit"
            elif t in _SCALES and last in ("unit", "tens"):
                scale = _SCALES[t]
                if scale == 100:
                    current *= 100
                else:
                    total += current * scale
                    current = 0
                last = "scale"
            else:
                break
            j += 1
        out.append(str(total + current))
        i = j
    return tuple(out)


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """The words of `text`, folded. `*` stays inside a word ("f*ck") so that a censored word can
    still meet its uncensored spelling as a wildcard. Numbers stay as typed: see `NormText.numeric`."""
    folded = fold(text)
    if "*" not in folded:
        return tuple(_TOKEN.findall(folded))
    raw = (t.strip("*") for t in _TOKEN.findall(folded))
    return tuple(t for t in raw if t)


_WORDS_SPLIT = re.compile(r"(\W+)")


def strip_format_words(text: str) -> str:
    """`text` without words that only name a format, unless nothing else would be left."""
    parts = _WORDS_SPLIT.split(text)
    kept = [p for p in parts if p.lower() not in FORMAT_WORDS]
    if not any(p.strip() and not _WORDS_SPLIT.fullmatch(p) for p in kept):
        return text
    return "".join(kept).strip()


def strip_leading_article(toks: tuple[str, ...]) -> tuple[str, ...]:
    """Drop one leading article, unless nothing would be left ("The" stays "The")."""
    if len(toks) > 1 and toks[0] in LEADING_ARTICLES:
        return toks[1:]
    return toks


def collapse_initials(toks: tuple[str, ...]) -> tuple[str, ...]:
    """Join runs of single letters: ("c", "s", "lewis") -> ("cs", "lewis"). Used on names, where
    "C. S. Lewis", "C.S. Lewis" and "CS Lewis" must all look the same."""
    out: list[str] = []
    run = ""
    for t in toks:
        if len(t) == 1 and t.isalpha():
            run += t
            continue
        if run:
            out.append(run)
            run = ""
        out.append(t)
    if run:
        out.append(run)
    return tuple(out)


def wildcard_regex(token: str) -> re.Pattern[str]:
    """A token holding `*` as a pattern: "f*ck" matches "fuck" (and "fck")."""
    return _wildcard_regex(token)


@lru_cache(maxsize=1024)
def _wildcard_regex(token: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in token.split("*")) + "$")


@dataclass(frozen=True, slots=True)
class NormText:
    """One side of a comparison, prepared once: tokens, their weights, and lookup tables.

    `index` maps each token to its positions; `pairs` maps the concatenation of two neighbouring
    tokens to their positions, so "DaVinci" meets "Da Vinci" and "Spiderman" meets "Spider-Man"."""

    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    total: float
    index: dict[str, tuple[int, ...]] = field(repr=False)
    pairs: dict[str, tuple[int, int]] = field(repr=False)
    has_wildcard: bool = False
    numeric: NormText | None = None
    """The same text with spelled-out numbers as digits, when that differs. Both shapes are
    compared: "Station 11" meets "Station Eleven" through it, while a typo in a number word
    ("Twenty Thousnad") still meets the words."""

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def __bool__(self) -> bool:
        return bool(self.tokens)


def token_weights(toks: tuple[str, ...]) -> tuple[float, ...]:
    """Stopwords and generic words weigh `STOP_WEIGHT`, unless the text is made only of them
    ("We", "It", "Them")."""
    light = STOPWORDS | GENERIC_WORDS
    if light.issuperset(toks):
        return (1.0,) * len(toks)
    return tuple(STOP_WEIGHT if t in light else 1.0 for t in toks)


def make_norm(toks: tuple[str, ...], numeric: NormText | None = None) -> NormText:
    weights = token_weights(toks)
    index: dict[str, tuple[int, ...]] = {t: (i,) for i, t in enumerate(toks)}
    if len(index) < len(toks):  # a repeated word: keep every position
        index = {}
        for i, t in enumerate(toks):
            index[t] = (*index.get(t, ()), i)
    pairs = {toks[i] + toks[i + 1]: (i, i + 1) for i in range(len(toks) - 1)}
    return NormText(
        tokens=toks,
        weights=weights,
        total=sum(weights) or 1.0,
        index=index,
        pairs=pairs,
        has_wildcard=any("*" in t for t in toks),
        numeric=numeric,
    )


@lru_cache(maxsize=65536)
def norm_title(text: str) -> NormText:
    """A title (or series name) ready for matching: folded, leading article dropped."""
    toks = strip_leading_article(tokens(text))
    digits = numbers_to_digits(toks)
    return make_norm(toks, make_norm(digits) if digits != toks else None)
