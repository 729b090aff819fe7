"""People's names: parse the shapes people type and compare them forgivingly.

"JRR Tolkien", "J. R. R. Tolkien", "Tolkien, J.R.R.", "NK Jemisin" vs "N.K. Jemisin", "Iain Banks" vs
"Iain M. Banks", "Butcher, Jim", "Bronte" vs "Brontë", "Heinlien" vs "Heinlein": the surname decides
most of it (it is what people remember and spell), given names and initials only need to be
compatible, and missing ones cost nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from mamdl.ranking.normalize import collapse_initials, tokens

_SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv", "phd", "md", "dr", "mr", "mrs", "ms"])
_LIST_SEPARATORS = re.compile(r"\s*(?:;|&|\band\b|\bwith\b|/|\+)\s*", re.IGNORECASE)

SURNAME_WEIGHT = 0.75
"""Share of a name's similarity that comes from the surname; the rest from given names."""


@dataclass(frozen=True, slots=True)
class NameKey:
    """A name reduced to what we compare: folded surname and given names (initials joined)."""

    surname: str
    given: tuple[str, ...]

    @property
    def tokens(self) -> tuple[str, ...]:
        return (*self.given, self.surname)


def _key(toks: tuple[str, ...]) -> NameKey | None:
    toks = tuple(t for t in collapse_initials(toks) if t not in _SUFFIXES)
    if not toks:
        return None
    return NameKey(surname=toks[-1], given=toks[:-1])


@lru_cache(maxsize=16384)
def parse_name(raw: str) -> NameKey | None:
    """One name as written on MAM or by a person; "Last, First" is turned around."""
    if "," in raw:
        last, _, first = raw.partition(",")
        toks = (*tokens(first), *tokens(last))
    else:
        toks = tokens(raw)
    return _key(toks)


FLIPPED_FACTOR = 0.9
"""A reading that assumes the surname was typed first ("Jemisin NK") is trusted a little less."""

Reading = tuple[float, tuple[NameKey, ...]]
"""(trust factor, names): one way of understanding what was typed."""


@lru_cache(maxsize=4096)
def parse_query_names(raw: str) -> tuple[Reading, ...]:
    """Readings of what a person typed in an author/narrator box, best-trusted first.

    "Butcher, Jim" is one reversed name; "Preston & Child" is two people; "Preston, Child" might be
    either; "Jemisin NK" might be written surname first. Every plausible reading is returned and
    the best-scoring one wins."""
    readings: list[Reading] = []
    parts = [p for p in _LIST_SEPARATORS.split(raw) if p.strip()]
    if len(parts) > 1:
        keys = tuple(k for k in (parse_name(p) for p in parts) if k)
        if keys:
            readings.append((1.0, keys))
        return tuple(readings)
    whole = parse_name(raw)
    if whole:
        readings.append((1.0, (whole,)))
        if "," not in raw and whole.given:
            toks = whole.tokens
            readings.append((FLIPPED_FACTOR, (NameKey(surname=toks[0], given=toks[1:]),)))
    if "," in raw:
        as_list = tuple(k for k in (parse_name(p) for p in raw.split(",")) if k)
        if len(as_list) > 1:
            readings.append((1.0, as_list))
    return tuple(readings)


TYPO_CREDIT = {1: 0.85, 2: 0.65, 3: 0.5}
"""Credit for a word that is this many edits (insert, delete, substitute, swap) from another."""
TYPO_MIN_LENGTH = {1: 4, 2: 7, 3: 10}
"""Shortest word (the longer of the two for one edit) where that many edits can still be a typo."""


@lru_cache(maxsize=65536)
def word_similarity(a: str, b: str) -> float:
    """Credit for one word meeting another: 1 when equal, a partial credit for a likely typo
    ("heinlien"/"heinlein", "grey"/"gray", "gievr"/"giver"), 0 otherwise. Numbers and very
    short words must be exact. A typo never earns full credit, so an exact spelling wins a tie."""
    if a == b:
        return 1.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 3 or len(long_) < 4 or a.isdigit() or b.isdigit():
        return 0.0
    d = OSA.distance(a, b, score_cutoff=3)
    if d > 3:
        return 0.0
    length = len(long_) if d == 1 else len(short)
    return TYPO_CREDIT[d] if length >= TYPO_MIN_LENGTH[d] else 0.0


def _given_compatible(g: str, given: tuple[str, ...]) -> bool:
    """Is one typed given name (or run of initials) compatible with a name's given names?"""
    if not given:
        return False
    initials = "".join(h[0] for h in given)
    for h in given:
        if g == h:
            return True
        if (len(g) == 1 and h.startswith(g)) or (len(h) == 1 and g.startswith(h)):
            return True
        if len(g) >= 2 and len(h) >= 2 and ((g.startswith(h) and len(h) <= 3) or (h.startswith(g) and len(g) <= 3)):
            return True  # "nk" vs "n", "jrr" vs "jr"
        if len(g) >= 4 and len(h) >= 4 and fuzz.ratio(g, h) >= 80:
            return True
    # "jrr" vs ("john", "ronald", "reuel"), or "cs" vs ("clive", "staples").
    return len(g) >= 2 and (initials.startswith(g) or (g.startswith(initials) and len(initials) >= 2))


def name_similarity(query: NameKey, name: NameKey) -> float:
    """0-1: how well a typed name fits a result's name. The surname carries `SURNAME_WEIGHT`."""
    surname = word_similarity(query.surname, name.surname)
    if surname == 0.0:
        # "Conan Doyle" typed as "Doyle Conan", a hyphen missing, or a joined particle ("LeGuin").
        joined = "".join(name.tokens[-2:]) if len(name.tokens) > 1 else ""
        if joined and query.surname == joined:
            surname = 1.0
        elif not query.given and query.surname in name.given and len(query.surname) > 2:
            surname = 0.6  # one word typed, and it is a given or middle name ("Conan")
        else:
            return 0.0
    if not query.given or not name.given:
        return surname  # nothing to contradict
    # A typed middle initial the record leaves out ("Arthur C Clarke" vs "Arthur Clarke") is not a
    # contradiction: only as many given names as the shorter side has can disagree. Checked both
    # ways, so "John Ronald Reuel" meets "J.R.R." as well as "JRR" meets "John Ronald Reuel".
    comparable = min(len(query.given), len(name.given))
    forward = sum(1 for g in query.given if _given_compatible(g, name.given))
    backward = sum(1 for h in name.given if _given_compatible(h, query.given))
    fit = min(1.0, max(forward, backward) / comparable)
    return surname * (SURNAME_WEIGHT + (1.0 - SURNAME_WEIGHT) * fit)


def people_similarity(readings: tuple[Reading, ...], names: tuple[NameKey, ...]) -> float:
    """Best reading of the typed names against a result's people: each typed name is matched to
    its best person, and the reading scores the mean times its trust factor."""
    if not readings or not names:
        return 0.0
    best = 0.0
    for factor, reading in readings:
        total = 0.0
        for q in reading:
            total += max(name_similarity(q, n) for n in names)
        best = max(best, factor * total / len(reading))
        if best >= 1.0:
            break
    return best
