"""The service's library half: remember MAM's row when a download is added, place it when done.

Placement reads the seeding copy and never changes it (see `mamdl.library.place`). It is
idempotent, so every path that may place — `mam get --download` after following the download,
the engine owner's watcher when a download finishes, `mam import` later — can simply call
`place()`; a lock keeps two threads of one process from racing on the same targets.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mamdl.errors import ConfigError, MamdlError, NotFound
from mamdl.library.models import Handoff, LibraryStatus, Placement
from mamdl.service.downloads import DownloadsMixin

if TYPE_CHECKING:
    from mamdl.library.store import LibraryStore
    from mamdl.mam.models import SearchResult
    from mamdl.service.models import TorrentStatus

log = logging.getLogger(__name__)

LIBRARY_DB = "library.db"
CATCH_UP_SECONDS = 60.0
"""How often the engine owner's watcher also looks for finished, never-placed downloads."""


class LibraryMixin(DownloadsMixin):
    """The library half of `Service`: builds on `ServiceBase`'s `settings`, `client`, `lookup` and
    on the engine half's `status`, `resolve_hash` and its two hooks."""

    _library_store: LibraryStore | None = None
    _place_lock = threading.Lock()
    _watcher: threading.Thread | None = None

    @property
    def library_store(self) -> LibraryStore:
        if self._library_store is None:
            from mamdl.library.store import LibraryStore

            self._library_store = LibraryStore(self.settings.paths.state_dir / LIBRARY_DB)
        return self._library_store

    def close(self) -> None:
        if self._library_store is not None:
            self._library_store.close()
            self._library_store = None
        super().close()

    def _download_added(self, info_hash: str, row: SearchResult | None) -> None:
        if row is not None:  # else placement asks MAM again, by id
            self.remember_book(info_hash, row)

    def _decorate_status(self, rows: list[TorrentStatus]) -> None:
        self.attach_library(rows)

    def remember_book(self, info_hash: str, row: SearchResult) -> None:
        """Keep MAM's row for this download, so it can be placed later from any process."""
        try:
            self.library_store.remember(info_hash, row)
        except Exception:  # the download matters more than its future metadata
            log.warning("could not save MAM's row for %s", info_hash, exc_info=True)

    # ------------------------------------------------------------------ placing

    def place(self, info_hash: str, *, handoffs: bool = True) -> Placement:
        """Put a finished torrent's files in the library with metadata; tell the reader apps.

        Raises ConfigError without a library, MamdlError when the torrent isn't finished or MAM has
        no row for it; a conflict or an I/O failure comes back as a Placement with that status."""
        from mamdl.engine.store import Store, db_path
        from mamdl.engine.torrentfile import parse_torrent
        from mamdl.library.book import place_book, source_files

        if not self.settings.library_configured:
            raise ConfigError("No library configured: set library_dir (or MAMDL_LIBRARY_DIR) first.")
        rows = self.status()
        h = self.resolve_hash(info_hash, [r.info_hash for r in rows])
        st = next(r for r in rows if r.info_hash == h)
        if st.progress < 1.0 or st.state not in ("seeding", "finished", "paused"):
            raise MamdlError(f"{st.title or st.name} is not completely downloaded yet ({st.progress:.0%}, {st.state}).")
        row = self._book_row(h, st.mam_id)
        root = self.settings.library_root(row.format)
        if root is None:
            raise ConfigError(f"No library folder for {row.format}s: set library_dir or {row.format}_library_dir.")
        template = self.settings.audiobook_template if row.format == "audiobook" else self.settings.ebook_template
        with Store(db_path(self.settings.paths.state_dir)) as store:
            raw = store.torrent_bytes(h)
        if raw is None:
            raise MamdlError(f"The .torrent of {st.title or st.name} is not in the engine's store.")
        tf = parse_torrent(raw)
        files = source_files(Path(st.save_path), [f.path for f in tf.files if not f.pad])
        with self._place_lock:
            previous = self.library_store.placement(h)
            placement = place_book(h, row, files, root=root, template=template, cover=self._cover(h, row))
            if placement.status == "placed" and handoffs:
                placement.handoffs = self._handoffs(placement, row, previous)
            elif previous is not None:
                placement.handoffs = previous.handoffs
            self.library_store.save_placement(placement)
        log.info("library: %s -> %s (%s)", st.title or st.name, placement.path, placement.method or placement.status)
        return placement

    def place_all(self) -> list[Placement]:
        """Place every finished MAM torrent (idempotent: placed books are left as they are), except
        those fetched with `--no-library`."""
        if not self.settings.library_configured:
            raise ConfigError("No library configured: set library_dir (or MAMDL_LIBRARY_DIR) first.")
        out = []
        for st in self.status():
            if self._skipped(st.info_hash):
                continue
            if st.progress >= 1.0 and (st.mam_id is not None or self.library_store.row(st.info_hash)):
                try:
                    out.append(self.place(st.info_hash))
                except MamdlError as exc:
                    out.append(
                        Placement(
                            info_hash=st.info_hash,
                            mam_id=st.mam_id,
                            title=st.title or st.name,
                            status="error",
                            error=str(exc),
                        )
                    )
        return out

    def skip_library(self, info_hash: str) -> None:
        """`--no-library`: no automatic placement for this torrent (an explicit `mam import` still can)."""
        self.library_store.save_placement(
            Placement(info_hash=info_hash, status="skipped", note="fetched with --no-library; `mam import` places it")
        )

    def _skipped(self, info_hash: str) -> bool:
        p = self.library_store.placement(info_hash)
        return p is not None and p.status == "skipped"

    def attach_library(self, rows: list[TorrentStatus]) -> None:
        """Add where each book went (if anywhere) to status rows."""
        path = self.settings.paths.state_dir / LIBRARY_DB
        if not rows or (self._library_store is None and not path.exists()):
            return
        known = self.library_store.placements()
        for r in rows:
            p = known.get(r.info_hash)
            r.library = p.short() if p else None

    def watch_library(self) -> None:
        """In the engine owner: place each download when it finishes (a daemon thread)."""
        engine = self._engine
        if not self.settings.library_configured or engine is None or not hasattr(engine, "events"):
            return
        if self._watcher is not None and self._watcher.is_alive():
            return

        def place(h: str) -> None:
            try:
                from mamdl.service.follow import follow_download

                # the alert can come before the snapshot shows 100 %
                follow_download(self, h, poll=1.0, timeout=3600)
                if self._skipped(h):
                    return
                p = self.place(h)
                log.info("library: %s -> %s (%s)", h, p.path, p.status)
            except Exception:
                log.warning("library: placing %s failed", h, exc_info=True)

        def catch_up() -> None:
            """Finished but never placed: before a restart, or its event was dropped (the engine
            drops the oldest events of a slow reader) or fell between two subscriptions."""
            placed = self.library_store.placements()
            for st in self.status():
                if st.progress >= 1.0 and st.info_hash not in placed and self.library_store.row(st.info_hash):
                    place(st.info_hash)

        def run() -> None:
            while self._engine is engine:  # until this service closes its backend
                catch_up()
                last = time.monotonic()
                for ev in engine.events(timeout=CATCH_UP_SECONDS):
                    if ev.kind == "finished":
                        place(ev.info_hash)
                    if time.monotonic() - last >= CATCH_UP_SECONDS:
                        break

        self._watcher = threading.Thread(target=run, name="mamdl-library", daemon=True)
        self._watcher.start()

    # ------------------------------------------------------------------ helpers

    def _book_row(self, info_hash: str, mam_id: int | None) -> SearchResult:
        row = self.library_store.row(info_hash)
        if row is not None:
            return row
        from mamdl.mam.models import SearchField, SearchRequest

        if mam_id is not None:
            row = self.lookup(mam_id)
        else:  # added from a .torrent file: MAM can find it by info-hash
            page = self.client.search(
                SearchRequest(info_hash=info_hash, fields=[SearchField.title], per_page=5, details=True)
            )
            if not page.results:
                raise NotFound("MAM doesn't list this torrent, so there is no metadata to place it by.")
            row = page.results[0]
        self.library_store.remember(info_hash, row)
        return row

    def _cover(self, info_hash: str, row: SearchResult) -> bytes | None:
        cover = self.library_store.cover(info_hash)
        if cover is None and row.thumbnail:
            try:
                cover = self.client.thumbnail(row.thumbnail)
                self.library_store.save_cover(info_hash, cover)
            except MamdlError as exc:
                log.warning("no cover for %s: %s", row.title, exc)
        return cover

    def _handoffs(self, placement: Placement, row: SearchResult, previous: Placement | None) -> list[Handoff]:
        """Tell the configured reader apps. Calibre and CWA get a book once (CWA deletes what it
        ingests, so 'already there' can't be checked); Audiobookshelf scans when files changed."""
        from mamdl.library.handoff import abs_scan, calibredb_add, cwa_ingest

        s = self.settings
        done = {h.name: h for h in (previous.handoffs if previous else []) if h.ok}
        files = [Path(f.target) for f in placement.files]
        book = Path(placement.path or "")
        cover = next((book / m for m in placement.metadata if m.startswith("cover.")), None)
        out: list[Handoff] = []
        changed = placement.method != "existing"
        if s.abs_url and s.abs_token:
            if changed or "audiobookshelf" not in done:
                out.append(abs_scan(s.abs_url, s.abs_token.get_secret_value(), library_id=s.abs_library_id))
            else:
                out.append(done["audiobookshelf"])
        if row.format == "ebook" and s.calibre_library:
            out.append(done.get("calibre") or calibredb_add(s.calibredb, s.calibre_library, files, row, cover=cover))
        if row.format == "ebook" and s.cwa_ingest_dir:
            out.append(done.get("cwa") or cwa_ingest(s.cwa_ingest_dir, files))
        return out


def summary_line(p: Placement | LibraryStatus) -> str:
    """One line for a person: where the book went and how."""
    if p.status == "placed":
        extra = "".join(f"; {h.name}: {'ok' if h.ok else 'FAILED'} ({h.detail})" for h in p.handoffs)
        return f"{p.path} — {p.note}{extra}"
    if p.status == "skipped":
        return f"not placed: {p.note}"
    return f"{p.status}: {p.error}"
