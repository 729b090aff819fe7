"""The one place that orchestrates: MAM client -> ranking -> torrent engine.

The CLI and the MCP server are thin fronts over `Service`; they never import httpx or libtorrent.
Heavy pieces (HTTP client, engine) are created on first use so that `mam --help` and `mam status`
stay fast and never touch the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mamdl.errors import UsageError
from mamdl.mam.models import SearchField, SearchRequest, SearchResult, SearchType
from mamdl.service.bonus import BonusMixin
from mamdl.service.downloads import DownloadsMixin
from mamdl.service.health import HealthMixin
from mamdl.service.library import LibraryMixin
from mamdl.service.models import ResultRow, SearchOutcome, SentQuery

log = logging.getLogger(__name__)

FORMAT_CATEGORIES = {"ebook": [14], "audiobook": [13], "any": []}
LANGUAGE_IDS = {"ENG": 1, "FRE": 36, "GER": 37, "SPA": 4, "ITA": 43, "POR": 40, "POL": 34, "RUS": 45}


@dataclass
class SearchSpec:
    """What the person asked for. At least one of the text fields must be set."""

    title: str = ""
    author: str = ""
    narrator: str = ""
    series: str = ""
    text: str = ""
    format: str | None = None
    """"ebook", "audiobook" or "any"; None means the configured preference."""
    filetypes: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    search_type: SearchType = SearchType.all
    freeleech_only: bool = False

    def is_empty(self) -> bool:
        return not any(s.strip() for s in (self.title, self.author, self.narrator, self.series, self.text))


class Service(HealthMixin, LibraryMixin, DownloadsMixin, BonusMixin):
    """Search, get, seed and check: `ServiceBase` owns the settings, client and cache;
    `DownloadsMixin` the engine; `HealthMixin` the session checks (it needs both);
    `LibraryMixin` puts finished books in the library;
    `BonusMixin` bonus points: status, purchases and the opt-in automation."""

    def close(self) -> None:
        self.close_engine()
        super().close()

    # ------------------------------------------------------------------ search

    def search(self, spec: SearchSpec, *, limit: int = 25, budget: int = 4) -> SearchOutcome:
        """Search MAM for what the person meant, broadening when MAM's strict search misses,
        and rank the merged results best first."""
        from mamdl import ranking

        if spec.is_empty():
            raise UsageError("Give at least one of title, author, narrator, series or text.")
        fmt = spec.format or self.settings.format
        prefs = ranking.Prefs(
            format=fmt,
            filetypes=spec.filetypes
            or (
                self.settings.audiobook_filetypes
                if fmt == "audiobook"
                else self.settings.ebook_filetypes
                if fmt == "ebook"
                else [*self.settings.ebook_filetypes, *self.settings.audiobook_filetypes]
            ),
            languages=tuple(spec.languages or self.settings.languages),
        )
        query = ranking.Query(
            title=spec.title, author=spec.author, narrator=spec.narrator, series=spec.series, text=spec.text
        )
        base = SearchRequest(
            main_cat=FORMAT_CATEGORIES.get(fmt, []),
            search_type=SearchType.freeleech if spec.freeleech_only else spec.search_type,
            languages=[LANGUAGE_IDS[c.upper()] for c in spec.languages if c.upper() in LANGUAGE_IDS],
            per_page=100,
        )

        def search_fn(text: str, fields: list[SearchField]) -> list[SearchResult]:
            return self.client.search(base.model_copy(update={"text": text, "fields": fields})).results

        outcome = ranking.broadened_search(query, search_fn, prefs=prefs, budget=budget)
        rows = [
            ResultRow.build(r.result, score=r.score, confidence=r.confidence, found_by=r.found_by)
            for r in outcome.ranked[:limit]
        ]
        return SearchOutcome(
            rows=rows,
            confidence=outcome.confidence,
            confident=outcome.confident,
            queries_sent=[SentQuery(text=q.text, fields=list(q.fields), results=q.results) for q in outcome.queries],
            requests=outcome.requests,
        )
