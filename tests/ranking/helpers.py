"""Small builders for ranking tests."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from mamdl.mam.models import Person, SearchResult, SeriesRef

_ids = count(1000)


def book(
    title: str,
    authors: str | list[str] = "",
    *,
    id: int | None = None,
    fmt: str = "ebook",
    lang: str = "ENG",
    filetypes: str = "epub",
    seeders: int = 10,
    snatches: int = 100,
    narrators: list[str] | None = None,
    series: tuple[str, str] | None = None,
    **flags: object,
) -> SearchResult:
    """A clean search result, as the MAM client would hand it to the ranking."""
    if isinstance(authors, str):
        authors = [authors] if authors else []
    return SearchResult(
        id=id if id is not None else next(_ids),
        title=title,
        authors=[Person(name=a) for a in authors],
        narrators=[Person(name=n) for n in narrators or []],
        series=[SeriesRef(name=series[0], number=series[1])] if series else [],
        main_cat=13 if fmt == "audiobook" else 14,
        lang_code=lang,
        language={"ENG": 1, "FRE": 36, "GER": 37}.get(lang, 0),
        filetypes=filetypes.split(),
        seeders=seeders,
        snatches=snatches,
        added=datetime(2024, 1, 1, tzinfo=UTC),
        **flags,  # type: ignore[arg-type]
    )


def titles(ranked) -> list[str]:
    return [r.result.title for r in ranked]
