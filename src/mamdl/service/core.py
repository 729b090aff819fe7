"""The one place that orchestrates: MAM client -> ranking -> torrent engine.

The CLI and the MCP server are thin fronts over `Service`; they never import httpx or libtorrent.
Heavy pieces (HTTP client, engine) are created on first use so that `mam --help` and `mam status`
stay fast and never touch the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mamdl.config import Settings, load_settings
from mamdl.errors import NotFound, UsageError
from mamdl.fsutil import atomic_write, safe_filename
from mamdl.mam.models import SearchField, SearchRequest, SearchResult, SearchType, UserInfo
from mamdl.service.downloads import DownloadsMixin
from mamdl.service.health import HealthMixin
from mamdl.service.models import FetchResult, ResultRow, SearchOutcome, SentQuery, UserStats

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


class Service(DownloadsMixin, HealthMixin):
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._client = None
        self._cache = None

    # ------------------------------------------------------------------ lazily built parts

    @property
    def client(self):
        if self._client is None:
            from mamdl.mam.client import MamClient

            self._client = MamClient(self.settings)
        return self._client

    @property
    def cache(self):
        if self._cache is None:
            from mamdl.mam.cache import Cache

            self._cache = Cache(self.settings.paths.cache_db)
        return self._cache

    def close(self) -> None:
        self.close_engine()
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            languages=spec.languages or self.settings.languages,
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

    def lookup(self, torrent_id: int) -> SearchResult:
        """One torrent's search row, by id (for its title, `dl` hash and freeleech flags)."""
        page = self.client.search(SearchRequest(torrent_id=torrent_id, fields=[SearchField.title], per_page=5))
        for r in page.results:
            if r.id == torrent_id:
                return r
        raise NotFound(f"MAM has no torrent with id {torrent_id}.")

    # ------------------------------------------------------------------ account

    def user_info(self, *, refresh: bool = False) -> tuple[UserInfo, bool, float]:
        """(user, from_cache, age_seconds); cached for `cache_ttl_seconds` (24 h by default)."""
        key = f"user:{self.settings.base_url}"
        if not refresh:
            hit = self.cache.get(key, self.settings.cache_ttl_seconds)
            if hit is not None:
                return UserInfo.model_validate(hit[0]), True, hit[1]
        user = self.client.user(snatch_summary=True)
        self.cache.put(key, user.model_dump(mode="json"))
        return user, False, 0.0

    def user(self, *, refresh: bool = False) -> UserStats:
        user, cached, age = self.user_info(refresh=refresh)
        return UserStats.build(user, cached=cached, age=age, reserve=self.settings.unsat_reserve)

    # ------------------------------------------------------------------ .torrent files

    def fetch(
        self,
        torrent_id: int,
        *,
        result: SearchResult | None = None,
        wedge: bool = False,
        wedge_reason: str = "",
    ) -> FetchResult:
        """Download the `.torrent` to `torrents/<id>_<safe title>.torrent`, atomically, mode 0600
        (it holds the passkey). An identical existing file is left alone."""
        from mamdl.engine.torrentfile import parse_torrent

        if result is None:
            result = self.lookup(torrent_id)
        data = self.client.download_torrent(torrent_id, dl=result.dl, wedge=wedge)
        meta = parse_torrent(data)  # refuses malformed or path-traversing torrents
        title = result.title or meta.name
        path = self.settings.paths.torrents_dir / f"{torrent_id}_{safe_filename(title, max_len=100)}.torrent"
        skipped = path.exists() and path.read_bytes() == data
        if not skipped:
            atomic_write(path, data, mode=0o600)
        return FetchResult(
            torrent_id=torrent_id,
            title=title,
            path=str(path),
            info_hash=meta.info_hash,
            size_bytes=meta.total_size,
            files=len(meta.files),
            skipped=skipped,
            wedge_used=wedge,
            wedge_reason=wedge_reason,
        )
