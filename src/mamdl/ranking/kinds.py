"""What kind of thing a result is: the work itself, something *about* it, or several works in one.

Summaries, study guides and companions borrow the work's title word for word, so on title
similarity alone they look as good as the book. Box sets and omnibuses contain the title too.
Both are pushed below the single work, unless the query itself asks for them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from mamdl.ranking.normalize import tokens


class Kind(StrEnum):
    work = "work"
    derivative = "derivative"
    """About the work rather than the work: summary, study guide, analysis, companion, workbook."""
    omnibus = "omnibus"
    """Several works in one: box set, omnibus, collection, "Books 1-3"."""


_DERIVATIVE_TITLE = re.compile(
    r"\b("
    r"summary|summaries|study guide|studyguide|sparknotes|spark notes|cliffsnotes|cliffs notes|cliff notes|"
    r"analysis of|an analysis|literary analysis|critical analysis|companion|workbook|work book|"
    r"readers guide|reader s guide|readers companion|teachers guide|teacher s guide|discussion guide|"
    r"lesson plans?|trivia|quiz book|conversation starters|key takeaways|book notes|"
    r"quicklet|bookrags|instaread|supersummary|critical essays|critical reading|literature guide|"
    r"novel units|reading guide|unofficial guide|annotated guide|review and analysis|"
    r"coloring book|colouring book|journal for|notebook for|summarized|summarised"
    r")\b"
)
_DERIVATIVE_AUTHOR = re.compile(
    r"\b(sparknotes|spark notes|cliffsnotes|cliffs notes|bookrags|instaread|supersummary|quick ?read|"
    r"readtrepreneur|summaries|summary|study guides?|book habits|bright summaries|worth books|"
    r"quicklets?|gradesaver|litcharts|shmoop)\b"
)
_OMNIBUS_TITLE = re.compile(
    r"\b("
    r"box ?set|boxed set|boxset|omnibus|collection|the complete|complete series|complete collection|"
    r"complete trilogy|complete saga|complete novels|complete works|collected|anthology|bundle|"
    r"trilogy|quartet|quintet|duology|series set|books? \d+ ?(?:-|to|and|&) ?\d+|\d+ ?- ?\d+ books?|"
    r"vol(?:ume)?s? \d+ ?- ?\d+|\d+ books? in 1|\d+ in 1|books? one to|"
    r"\d+ book set"
    r")\b"
)
_DIGIT = re.compile(r"\d")
_RANGE = re.compile(r"\d\s*(?:-|to)\s*\d|,")


@lru_cache(maxsize=16384)
def _folded(text: str) -> str:
    """`fold` with punctuation turned to spaces, for phrase regexes."""
    return " ".join(tokens(text)).replace("*", " ")


_COMMON = frozenset(
    ["a", "an", "and", "the", "of", "for", "in", "to", "one", "novel", "novels", "works", "read", "key", "ume"]
)


def _first_words(pattern: re.Pattern[str]) -> frozenset[str]:
    """Distinctive words of the marker phrases. Every phrase holds one of them or a digit, so a
    title holding neither cannot match (a cheap pre-check: most titles hold none)."""
    return frozenset(re.findall(r"[a-z]{2,}", pattern.pattern)) - _COMMON


_MARKER_WORDS = _first_words(_DERIVATIVE_TITLE) | _first_words(_DERIVATIVE_AUTHOR) | _first_words(_OMNIBUS_TITLE)


def _could_hold_marker(folded: str) -> bool:
    return not _MARKER_WORDS.isdisjoint(folded.split()) or _DIGIT.search(folded) is not None


def _markers(pattern: re.Pattern[str], text: str) -> frozenset[str]:
    return frozenset(m.group(1) for m in pattern.finditer(text))


def classify(
    title: str, authors: tuple[str, ...] = (), series_numbers: tuple[str, ...] = ()
) -> tuple[Kind, frozenset[str]]:
    """The kind of a result and the marker phrases that gave it away (from its title, its
    authors' names and its series numbers)."""
    t = _folded(title)
    maybe = _could_hold_marker(t)
    found = _markers(_DERIVATIVE_TITLE, t) if maybe else frozenset()
    for a in authors:
        fa = _folded(a)
        if _could_hold_marker(fa):
            found |= _markers(_DERIVATIVE_AUTHOR, fa)
    if found:
        return Kind.derivative, found
    found = _markers(_OMNIBUS_TITLE, t) if maybe else frozenset()
    if any(_RANGE.search(n) for n in series_numbers if n):
        found |= {"series range"}
    if found:
        return Kind.omnibus, found
    return Kind.work, frozenset()


def query_markers(text: str) -> frozenset[str]:
    """Marker phrases the query itself uses ("sparknotes jane eyre", "mistborn box set")."""
    t = _folded(text)
    omnibus = _markers(_OMNIBUS_TITLE, t)
    if omnibus:
        omnibus |= {"series range"}  # asking for a box set accepts one numbered "1-3"
    return _markers(_DERIVATIVE_TITLE, t) | _markers(_DERIVATIVE_AUTHOR, t) | omnibus


def is_asked_for(result_markers: frozenset[str], asked: frozenset[str]) -> bool:
    """A derivative or omnibus is not penalised when the query names every marker it carries:
    "The Hitchhiker's Guide" asks for nothing, "Jane Eyre study guide" asks for "study guide"."""
    return bool(result_markers) and result_markers <= asked
