"""How the engine reacts to each libtorrent alert (a mixin of `Engine`, run on its alert thread).

Status updates refresh the snapshots; resume data goes to the store; hash failures are counted;
disk and torrent errors stop the torrent with a message fit for a person; tracker messages are
kept with the announce URL redacted (it holds the passkey).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Protocol

import libtorrent as lt

from mamdl.engine.livestatus import TorrentEntry, disk_error_message, status_to_live
from mamdl.engine.models import TorrentSnapshot, TorrentState
from mamdl.engine.torrentfile import redact_announce
from mamdl.errors import EngineError
from mamdl.redact import redact

if TYPE_CHECKING:
    from mamdl.engine.store import Store

log = logging.getLogger("mamdl.engine.engine")


class EngineCore(Protocol):
    """What the alert handlers use but `Engine` owns: its torrents, lock, conditions, store and
    emitters. Written as a Protocol so the contract is one named, checked list: `AlertHandlers`
    subclasses it, and mypy treats a member `Engine` fails to provide as abstract (constructing
    an `Engine` then fails type checking) instead of the mixin silently declaring it."""

    _lock: threading.RLock
    _changed: threading.Condition
    _resume_done: threading.Condition
    _resume_pending: set[str]
    _torrents: dict[str, TorrentEntry]
    _by_handle: dict[Any, str]
    _alert_counts: Counter[str]
    _subscribers: list[Any]
    _store: Store | None

    def _emit(self, kind: str, info_hash: str, message: str = "", snap: TorrentSnapshot | None = None) -> None: ...
    def _make_snapshot(self, t: TorrentEntry) -> TorrentSnapshot: ...
    def _save_resume(self, t: TorrentEntry, *, force: bool = True) -> bool: ...
    def _refresh(self, info_hash: str) -> None: ...
    def _schedule_trim(self) -> None: ...
    def snapshot(self, info_hash: str) -> TorrentSnapshot: ...


class AlertHandlers(EngineCore):
    """Alert handling for `Engine` (a mixin): reacts to libtorrent's alerts through `EngineCore`."""

    def _hash_of(self, alert: Any) -> str | None:
        h = getattr(alert, "handle", None)
        if h is not None:
            with self._lock:
                known = self._by_handle.get(h)
            if known:
                return known
        ih = getattr(alert, "info_hashes", None)
        if ih is not None:
            try:
                return str(ih.v1)
            except AttributeError:
                return None
        return None

    def _handle_alert(self, a: Any) -> None:
        kind = type(a).__name__
        with self._lock:
            self._alert_counts[kind] += 1
        if isinstance(a, lt.state_update_alert):
            self._on_status(a.status)
        elif isinstance(a, lt.save_resume_data_alert):
            self._on_resume_data(a)
        elif isinstance(a, lt.save_resume_data_failed_alert):
            h = self._hash_of(a)
            if a.error.value() != 0:
                log.debug("resume data not saved for %s: %s", h, a.error.message())
            self._resume_finished(h)
        elif isinstance(a, lt.hash_failed_alert):
            self._on_hash_failed(a)
        elif isinstance(a, lt.file_error_alert):
            self._on_file_error(a)
        elif isinstance(a, lt.torrent_error_alert):
            self._on_torrent_error(a)
        elif isinstance(a, lt.torrent_finished_alert):
            self._on_finished(a)
        elif isinstance(a, lt.state_changed_alert):
            h = self._hash_of(a) or ""
            if a.state in (lt.torrent_status.states.finished, lt.torrent_status.states.seeding):
                # libtorrent posts this alert just *before* its torrent_finished_alert, and the
                # refresh below wakes waiters: record the finish first, or a waiter on a loaded
                # machine sees a seeding torrent without `finished_at` (`wait_done` did).
                self._record_finished(h)
            # Read the status now rather than at the next periodic update (up to status_interval
            # later): whoever waits for "finished" or "downloading" sees it at once.
            self._refresh(h)
        elif isinstance(a, lt.torrent_removed_alert):
            self._on_removed(a)
        elif isinstance(a, lt.torrent_deleted_alert):
            self._on_deleted(a, None)
        elif isinstance(a, lt.torrent_delete_failed_alert):
            self._on_deleted(a, a.error.message())
        elif isinstance(a, lt.tracker_error_alert):
            self._on_tracker_error(a)
        elif isinstance(a, lt.tracker_reply_alert):
            self._on_tracker_reply(a)
        elif isinstance(a, lt.listen_failed_alert):
            log.error(
                "libtorrent cannot listen on %s: %s", a.address if hasattr(a, "address") else "?", a.error.message()
            )
        elif isinstance(a, lt.fastresume_rejected_alert):
            log.info("resume data of %s rejected (%s): re-checking its files", a.torrent_name, a.error.message())
        elif isinstance(a, lt.listen_succeeded_alert):
            log.debug("libtorrent: %s", a.message())
        elif isinstance(a, lt.performance_alert):
            log.debug("libtorrent performance warning: %s", redact(a.message()))
        elif kind.startswith("dht_"):
            log.warning("unexpected DHT activity: %s", kind)

    def _on_status(self, statuses: list[Any]) -> None:
        changed: list[str] = []
        with self._lock:
            for st in statuses:
                h = self._by_handle.get(st.handle)
                if h is None:
                    h = str(st.info_hashes.v1)
                t = self._torrents.get(h)
                if t is None:
                    continue
                t.live = status_to_live(st)
                changed.append(h)
            self._changed.notify_all()
        if self._subscribers:
            for h in changed:
                try:
                    snap = self.snapshot(h)
                except EngineError:
                    continue
                self._emit("progress", h, "", snap)

    def _on_resume_data(self, a: Any) -> None:
        h = self._hash_of(a)
        if h is None:
            return
        try:
            buf = lt.write_resume_data_buf(a.params)
            with self._lock:
                t = self._torrents.get(h)
                snap = self._make_snapshot(t) if t is not None else None
            totals: dict[str, Any] = {}
            if snap is not None:
                totals = {
                    "uploaded": snap.uploaded,
                    "downloaded": snap.downloaded,
                    "seeding_seconds": snap.seeding_seconds,
                }
            if self._store is not None:
                self._store.save_resume(h, bytes(buf), **totals)
        except Exception:
            log.exception("could not store resume data for %s", h)
        finally:
            self._resume_finished(h)

    def _resume_finished(self, h: str | None) -> None:
        with self._resume_done:
            if h is not None:
                self._resume_pending.discard(h)
            self._resume_done.notify_all()

    def _on_hash_failed(self, a: Any) -> None:
        h = self._hash_of(a)
        with self._lock:
            t = self._torrents.get(h or "")
            if t is None:
                return
            t.rec.hash_failures += 1
            name = t.rec.name
        log.warning(
            "%s: piece %d failed its hash check (a peer sent bad data); it will be downloaded again",
            name,
            a.piece_index,
        )
        self._emit("hash_failed", h or "", f"piece {a.piece_index} failed the hash check")

    def _stop_on_error(self, t: TorrentEntry, message: str) -> None:
        """Record the error and pause the torrent (not auto-managed, so libtorrent will not restart
        it behind our back). Nothing is deleted.

        The first error is the one kept: libtorrent repeats it for every block in flight and
        follows up with consequences ("file too short") that would hide the cause. No resume data
        is saved here: after a failed write libtorrent's piece map may claim data that never
        reached the disk, so the last good save is kept and `resume()` re-checks the files."""
        with self._lock:
            first = t.rec.error is None
            if first:
                t.rec.error = message
            t.rec.state = TorrentState.ERROR
        if not first:
            return
        try:
            t.handle.unset_flags(lt.torrent_flags.auto_managed)
            t.handle.pause()
        except RuntimeError:
            pass
        if self._store is not None:
            self._store.update(t.info_hash, state=TorrentState.ERROR.value, error=message)
        log.error("%s stopped: %s", t.rec.name, message)
        self._refresh(t.info_hash)
        self._emit("error", t.info_hash, message)

    def _on_file_error(self, a: Any) -> None:
        h = self._hash_of(a)
        with self._lock:
            t = self._torrents.get(h or "")
        if t is None:
            return
        try:
            path = a.filename()
        except Exception:
            path = ""
        msg = disk_error_message(a.error.value(), a.error.message(), path, t.rec.save_path)
        self._stop_on_error(t, msg)

    def _on_torrent_error(self, a: Any) -> None:
        h = self._hash_of(a)
        with self._lock:
            t = self._torrents.get(h or "")
        if t is None:
            return
        err = a.error
        if err.category().name() in ("system", "generic"):
            msg = disk_error_message(err.value(), err.message(), "", t.rec.save_path)
        else:
            msg = redact(err.message())
        self._stop_on_error(t, msg)

    def _on_finished(self, a: Any) -> None:
        t = self._record_finished(self._hash_of(a) or "")
        if t is not None:
            self._save_resume(t)

    def _record_finished(self, h: str) -> TorrentEntry | None:
        """Stamp `finished_at` once (stored, logged, "finished" event); idempotent, as both the
        state change to finished/seeding and torrent_finished_alert call it."""
        with self._lock:
            t = self._torrents.get(h)
            if t is None:
                return None
            first = t.rec.finished_at is None
            if first:
                t.rec.finished_at = time.time()
        if first:
            if self._store is not None:
                self._store.update(t.info_hash, finished_at=t.rec.finished_at)
            log.info("%s finished downloading", t.rec.name)
            self._emit("finished", t.info_hash, t.rec.name)
            self._schedule_trim()
        return t

    def _on_removed(self, a: Any) -> None:
        h = self._hash_of(a)
        with self._lock:
            t = self._torrents.get(h or "")
            if t is not None and t.removing is not None and not t.deleting:
                t.removing.set()  # with delete_data, wait for the deletion confirmation instead
        self._schedule_trim()

    def _on_deleted(self, a: Any, error: str | None) -> None:
        h = self._hash_of(a)
        with self._lock:
            t = self._torrents.get(h or "")
            if t is None or t.removing is None:
                return
            t.delete_error = error
            t.removing.set()

    def _on_tracker_error(self, a: Any) -> None:
        h = self._hash_of(a)
        with self._lock:
            t = self._torrents.get(h or "")
        if t is None:
            return
        reason = a.failure_reason() if callable(getattr(a, "failure_reason", None)) else ""
        text = reason or a.error.message()
        with self._lock:
            t.tracker_error = f"{redact_announce(a.tracker_url())}: {redact(text)}"
            t.tracker_ok, t.tracker_message, t.tracker_at = False, t.tracker_error, time.time()
            t.tracker_failures += 1
        log.debug("tracker error for %s: %s", t.rec.name, t.tracker_error)

    def _on_tracker_reply(self, a: Any) -> None:
        """The tracker accepted an announce: from now on seeding time counts again."""
        h = self._hash_of(a)
        with self._lock:
            t = self._torrents.get(h or "")
            if t is None:
                return
            t.tracker_error = None
            t.tracker_ok, t.tracker_at, t.tracker_failures = True, time.time(), 0
            t.tracker_message = f"{getattr(a, 'num_peers', 0)} peer(s)"
