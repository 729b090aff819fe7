"""What every part of the service owns and shares: the settings, the MAM client and the cache
(built on first use, so that `mam --help` and `mam status` never touch the network), and MAM's
answers the other parts build on (one torrent's row, the user's details, a `.torrent` file).

`DownloadsMixin` and `HealthMixin` inherit from `ServiceBase` rather than declaring attributes
they hope `Service` will provide: what each part uses is typed where it is owned.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from mamdl.config import Settings, load_settings
from mamdl.errors import AccountBlocked, MamError, NotFound, SessionExpired, SessionLocked
from mamdl.fsutil import atomic_write, safe_filename
from mamdl.mam.models import SearchField, SearchRequest, SearchResult, UserInfo
from mamdl.service.models import FetchResult, UserStats

if TYPE_CHECKING:
    from mamdl.mam.cache import Cache
    from mamdl.mam.client import MamClient


log = logging.getLogger(__name__)


class ServiceBase:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._client: MamClient | None = None
        self._cache: Cache | None = None
        # Known to the redactor from the start, not only once the MAM client is built: a command
        # that never talks to MAM (`status`, `pause`) still prints and logs through it.
        cookie = self.settings.mam_id.get_secret_value().strip() if self.settings.mam_id else ""
        if cookie:
            from mamdl.mam.session import SessionStore

            SessionStore(self.settings.paths.session_file, cookie).current()  # registers both cookies

    # ------------------------------------------------------------------ lazily built parts

    @property
    def client(self) -> MamClient:
        if self._client is None:
            from mamdl.mam.client import MamClient

            self._client = MamClient(self.settings)
        return self._client

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            from mamdl.mam.cache import Cache

            self._cache = Cache(self.settings.paths.cache_db)
        return self._cache

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ MAM's answers

    def lookup(self, torrent_id: int) -> SearchResult:
        """One torrent's search row, by id (for its title, `dl` hash and freeleech flags, and the
        description, ISBN and thumbnail the library's metadata uses)."""
        page = self.client.search(
            SearchRequest(torrent_id=torrent_id, fields=[SearchField.title], per_page=5, details=True)
        )
        for r in page.results:
            if r.id == torrent_id:
                return r
        raise NotFound(f"MAM has no torrent with id {torrent_id}.")

    def lookup_row(self, torrent_id: int) -> SearchResult | None:
        """`lookup`, or None when MAM's `tor[id]` search fails or leaves the torrent out.

        Fetching by id must not hang on that one search (it has refused or missed torrents that
        `download.php?tid=` serves): the caller then fetches by `?tid=` and takes the title from the
        `.torrent`. A dead or IP-locked session, or a blocked account, still stops everything."""
        try:
            return self.lookup(torrent_id)
        except (SessionExpired, SessionLocked, AccountBlocked):
            raise
        except MamError as exc:
            log.info("the search for torrent %s by id gave nothing usable (%s); fetching by tid", torrent_id, exc)
            return None

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
            result = self.lookup_row(torrent_id)
        data = self.client.download_torrent(torrent_id, dl=result.dl if result else None, wedge=wedge)
        meta = parse_torrent(data)  # refuses malformed or path-traversing torrents
        title = (result.title if result else "") or meta.name
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
