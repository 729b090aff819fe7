"""The ranking's public data: what was asked (`Query`), what the person prefers (`Prefs`), and
what comes back (`Ranked`, `SentQuery`, `SearchOutcome`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mamdl.mam.models import SearchField, SearchResult
from mamdl.ranking.kinds import Kind


@dataclass(frozen=True, slots=True)
class Query:
    """What the person typed. Any field may be empty; `text` is free text matched anywhere."""

    title: str = ""
    author: str = ""
    narrator: str = ""
    series: str = ""
    text: str = ""

    def is_empty(self) -> bool:
        return not any(s.strip() for s in (self.title, self.author, self.narrator, self.series, self.text))


@dataclass(frozen=True, slots=True)
class Prefs:
    """How to order editions of the same work. Lists are best first.

    `format` is "ebook", "audiobook" or "any"; `filetypes` e.g. ["epub", "azw3", "mobi", "pdf"];
    `languages` are MAM language codes ("ENG") or ids (1)."""

    format: str = "any"
    filetypes: tuple[str, ...] | list[str] = ()
    languages: tuple[str | int, ...] | list[str | int] = ()


@dataclass(slots=True)
class Ranked:
    """One result in ranked order."""

    result: SearchResult
    score: float
    """How well this row matches the query as a work, 0-1 (before popularity and prefs)."""
    work_score: float
    """The score of the row's work (its best edition's score, plus a small popularity term);
    works are ordered by it."""
    sort_key: tuple
    """The complete key the list is sorted by (smaller first): work order, then edition prefs,
    health, freeleech/VIP."""
    confidence: float
    """How sure we are that this row's work is the one meant, 0-1 (see `confidence.py`)."""
    kind: Kind
    work_key: str
    work_rank: int
    """0 for every edition of the best work, 1 for the next work, ..."""
    snatched: bool
    """Already snatched by this user: shown, marked, never hidden."""
    found_by: list[str] = field(default_factory=list)
    """Texts of the searches that returned it (filled by `broadened_search`)."""

    @property
    def id(self) -> int:
        return self.result.id


@dataclass(frozen=True, slots=True)
class SentQuery:
    """One request sent to MAM while broadening."""

    text: str
    fields: tuple[SearchField, ...]
    results: int
    new: int = 0
    """How many of its results no earlier request had returned."""


@dataclass(slots=True)
class SearchOutcome:
    ranked: list[Ranked]
    queries: list[SentQuery]
    requests: int
    confidence: float
    """Confidence of the top row (0 when nothing was found)."""
    confident: bool
    """`confidence >= CONFIDENCE_THRESHOLD`: a front may take the top row without asking."""
