"""The download engine: the only libtorrent session in a mamdl process.

Commands come in as method calls with plain arguments; snapshots and events go out as plain data
(`mamdl.engine.models`). A background thread waits on libtorrent's alerts (`wait_for_alert`) and
drives everything from them: status via `post_torrent_updates`, resume data, errors, hash failures.
Other processes reach it only through the service that owns it (`mamdl.api`).

Durability: every torrent is recorded in the state database (with its .torrent bytes) before
libtorrent sees it; resume data is saved periodically, on completion and on close, each save in one
transaction; on `start()` every stored torrent is re-added from its resume data, so verified pieces
are not downloaded again and a crash costs at most one save interval of downloading.
"""

from __future__ import annotations

import atexit
import logging
import queue
import signal
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import libtorrent as lt

from mamdl.engine.alerts import AlertHandlers
from mamdl.engine.livestatus import TorrentEntry, status_to_live
from mamdl.engine.lock import EngineLock
from mamdl.engine.models import EngineEvent, SeedGoal, TorrentSnapshot, TorrentState, map_state
from mamdl.engine.recover import pieces_on_disk
from mamdl.engine.savedir import check_save_dir, check_targets, free_bytes
from mamdl.engine.settings import (
    EngineConfig,
    limit_local_peers_too,
    limit_malloc_arenas,
    release_free_memory,
    session_params,
)
from mamdl.engine.store import Store, TorrentRecord, db_path
from mamdl.engine.torrentfile import TorrentFile, load_torrent
from mamdl.errors import EngineBusy, EngineError, EngineTimeout, MamdlError, TorrentError
from mamdl.redact import redact

log = logging.getLogger(__name__)

_process_guard = threading.Lock()
_active_engine: weakref.ReferenceType[Engine] | None = None

_EVENT_QUEUE_SIZE = 1000


class Engine(AlertHandlers):
    """One libtorrent session on one state directory (exclusive: see `EngineLock`).

    Use as a context manager, or call `start()` and `close()`. All public methods are thread-safe.
    """

    def __init__(
        self,
        state_dir: str | Path,
        config: EngineConfig | None = None,
        *,
        owner_label: str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.config = config or EngineConfig()
        self._lock_file = EngineLock(self.state_dir, owner_label)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._torrents: dict[str, TorrentEntry] = {}
        self._by_handle: dict[Any, str] = {}
        self._session: Any = None
        self._store: Store | None = None
        self._stop = threading.Event()
        self._alert_thread: threading.Thread | None = None
        self._resume_pending: set[str] = set()
        self._resume_done = threading.Condition(self._lock)
        self._subscribers: list[queue.Queue[EngineEvent | None]] = []
        self._alert_counts: Counter[str] = Counter()
        self._started = False
        self._closing = False

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._started and not self._closing

    def start(self) -> None:
        """Take the state-dir lock, open the store, start libtorrent, re-add every stored torrent."""
        global _active_engine
        if self._started:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file.acquire()
        try:
            with _process_guard:
                other = _active_engine() if _active_engine else None
                if other is not None and other.running:
                    raise EngineBusy(
                        f"this process already runs a download engine (state dir {other.state_dir}); "
                        "mamdl uses one libtorrent session per process"
                    )
                _active_engine = weakref.ref(self)
            self._store = Store(db_path(self.state_dir))
            limit_malloc_arenas(self.config.malloc_arena_max)  # before libtorrent's threads allocate
            self._session = lt.session(session_params(self.config))
            if self.config.download_rate_limit or self.config.upload_rate_limit:
                limit_local_peers_too(self._session)
            self._started = True
            self._closing = False
            self._stop.clear()
            self._restore_all()
            self._alert_thread = threading.Thread(target=self._alert_loop, name="mamdl-engine-alerts", daemon=True)
            self._alert_thread.start()
            atexit.register(self.close)
        except BaseException:
            self._teardown()
            raise
        log.info("download engine started on %s (%d torrents)", self.state_dir, len(self._torrents))

    def close(self) -> None:
        """Save resume data for every torrent, wait for it, stop libtorrent, release the lock.

        Idempotent; also what Ctrl-C / SIGTERM end in (see `install_signal_handlers`)."""
        if not self._started or self._closing:
            return
        self._closing = True
        try:
            atexit.unregister(self.close)
        except Exception:  # pragma: no cover - interpreter shutting down
            pass
        try:
            self._save_resume_all(force=True)
            self._wait_resume_saved(self.config.close_timeout)
        except Exception:
            log.exception("saving resume data on close failed")
        self._stop.set()
        ses = self._session
        if ses is not None:
            try:
                # Wakes the alert thread out of its wait_for_alert at once (it would otherwise sleep
                # up to 0.5 s before seeing the stop: half a second on every small `mam download`).
                ses.post_session_stats()
            except Exception:  # pragma: no cover - libtorrent refusing is no reason to hang
                pass
        if self._alert_thread is not None:
            self._alert_thread.join(timeout=10)
        try:
            self._write_store(final=True)
        except Exception:
            log.exception("writing the last snapshots on close failed")
        self._teardown()
        with self._changed:
            self._changed.notify_all()
        for q in list(self._subscribers):
            try:
                q.put_nowait(None)
            except queue.Full:
                pass
        log.info("download engine on %s closed", self.state_dir)

    def _teardown(self) -> None:
        global _active_engine
        self._stop.set()
        ses, self._session = self._session, None
        if ses is not None:
            try:
                ses.pause()
            except Exception:
                pass
            with self._lock:
                self._torrents.clear()
                self._by_handle.clear()
            del ses  # the session's destructor stops libtorrent's threads
        if self._store is not None:
            self._store.close()
            self._store = None
        with _process_guard:
            if _active_engine is not None and _active_engine() is self:
                _active_engine = None
        self._lock_file.release()
        self._started = False

    def install_signal_handlers(self) -> None:
        """Make SIGTERM behave like Ctrl-C (KeyboardInterrupt in the main thread), so that `with
        Engine(...)` blocks and `finally: engine.close()` save resume data before exiting."""

        def _raise(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        signal.signal(signal.SIGTERM, _raise)

    # ------------------------------------------------------------------ commands

    def add(
        self,
        torrent: bytes | str | Path | TorrentFile,
        save_path: str | Path,
        mam_id: int | None = None,
        title: str | None = None,
        goal: SeedGoal | None = None,
        *,
        paused: bool = False,
    ) -> str:
        """Add a torrent (bytes, a path, or an already-parsed TorrentFile); returns its v1 info-hash.

        Adding a torrent that is already running is a no-op that returns the same hash (a new goal
        or MAM id, if given, is recorded). The save folder is created and write-tested first."""
        self._require_running()
        tf = torrent if isinstance(torrent, TorrentFile) else load_torrent(torrent)
        with self._lock:
            existing = self._torrents.get(tf.info_hash)
            if existing is not None:
                changes: dict[str, Any] = {}
                if goal is not None:
                    changes.update(ratio_goal=goal.ratio, seed_seconds_goal=goal.seed_seconds)
                if mam_id is not None and existing.rec.mam_id is None:
                    changes["mam_id"] = mam_id
                if title and not existing.rec.title:
                    changes["title"] = title
                if changes:
                    for k, v in changes.items():
                        setattr(existing.rec, k, v)
                    self._db.update(tf.info_hash, **changes)
                if Path(save_path).expanduser().absolute() != Path(existing.rec.save_path):
                    log.info(
                        "%s is already in the engine, saving to %s; keeping that folder",
                        tf.name,
                        existing.rec.save_path,
                    )
                return tf.info_hash
        save_dir = check_save_dir(save_path)
        try:
            ti = lt.torrent_info(tf.raw)
        except RuntimeError as exc:
            raise TorrentError(f"libtorrent refused {tf.name!r}: {redact(str(exc))}") from None
        if str(ti.info_hashes().v1) != tf.info_hash:
            raise TorrentError(f"{tf.name!r}: libtorrent computed a different info-hash; refusing it")
        check_targets(save_dir, ti)  # never through a symlink, never over a file that is not this torrent's
        free = free_bytes(save_dir)
        if free is not None and free < tf.total_size:
            log.warning(
                "only %d MiB free in %s for %s (%d MiB): the download will stop when the disk is full",
                free // 2**20,
                save_dir,
                tf.name,
                tf.total_size // 2**20,
            )
        goal = goal or SeedGoal()
        now = time.time()
        rec = TorrentRecord(
            info_hash=tf.info_hash,
            name=tf.name,
            title=title,
            mam_id=mam_id,
            save_path=str(save_dir),
            state=TorrentState.PAUSED if paused else TorrentState.QUEUED,
            ratio_goal=goal.ratio,
            seed_seconds_goal=goal.seed_seconds,
            added_at=now,
            total_size=tf.total_size,
            updated_at=now,
        )
        atp = lt.add_torrent_params()
        atp.ti = ti
        atp.save_path = str(save_dir)
        atp.flags = self._flags_for(int(atp.flags), private=tf.private, run=not paused)
        with self._lock:
            self._require_running()
            if tf.info_hash in self._torrents:  # raced with another add of the same torrent
                return tf.info_hash
            self._db.add_torrent(rec, tf.raw)  # recorded before libtorrent sees it: a crash cannot lose it
            try:
                handle = self._session.add_torrent(atp)
            except RuntimeError as exc:
                self._db.mark_removed(tf.info_hash)
                raise EngineError(f"libtorrent could not add {tf.name!r}: {redact(str(exc))}") from None
            self._register(rec, handle, private=tf.private, has_tracker=bool(tf.announce_urls))
            self._refresh(tf.info_hash)
        log.info(
            "added %s (%s, %d bytes) to %s, tracker %s",
            tf.name,
            tf.info_hash,
            tf.total_size,
            save_dir,
            ", ".join(tf.announce_redacted) or "none",
        )
        self._emit("added", tf.info_hash, tf.name)
        return tf.info_hash

    def pause(self, info_hash: str) -> TorrentSnapshot:
        """Stop a torrent (data kept) until `resume()`; libtorrent will not restart it on its own."""
        t = self._get(info_hash)
        info_hash = t.info_hash
        with self._lock:
            if t.rec.state != TorrentState.ERROR:
                t.rec.state = TorrentState.PAUSED
        t.handle.unset_flags(lt.torrent_flags.auto_managed)
        t.handle.pause()
        self._db.update(info_hash, state=t.rec.state.value)
        self._save_resume(t)
        return self._after_command(info_hash, "state")

    def resume(self, info_hash: str) -> TorrentSnapshot:
        """Restart a paused, finished or errored torrent (an error is cleared and retried; a
        stored torrent that could not be restored at start-up is tried again)."""
        self._require_running()
        with self._lock:
            loaded = info_hash.lower() in self._torrents
        if not loaded and self._store is not None:
            rec = self._store.get(info_hash.lower())
            if rec is not None and rec.state != TorrentState.REMOVED:
                rec.state, rec.error = TorrentState.QUEUED, None
                self._restore(rec)
                self._db.update(rec.info_hash, state=TorrentState.QUEUED.value, error=None)
        t = self._get(info_hash)
        info_hash = t.info_hash
        with self._lock:
            had_error = t.rec.error is not None or t.live.lt_error is not None
        if had_error:
            t = self._reload(t)
        with self._lock:
            t.rec.error = None
            t.tracker_error = None
            if t.rec.state in (TorrentState.FINISHED, TorrentState.ERROR, TorrentState.PAUSED):
                t.rec.state = TorrentState.QUEUED
        t.handle.clear_error()
        t.handle.unset_flags(lt.torrent_flags.upload_mode)
        if had_error:
            # After a disk error libtorrent may believe in pieces whose writes failed: verify
            # what is really on disk (hashing is fast; downloading a bad piece map is not).
            t.handle.force_recheck()
        t.handle.set_flags(lt.torrent_flags.auto_managed)
        t.handle.resume()
        self._db.update(info_hash, state=TorrentState.QUEUED.value, error=None)
        return self._after_command(info_hash, "state")

    def _reload(self, t: TorrentEntry, timeout: float = 30.0) -> TorrentEntry:
        """Take an errored torrent out of the session (files kept) and add it again from the store.

        Why: after a write failed (disk full), the `pread` disk backend keeps per-torrent state
        that a `clear_error` + `force_recheck` does not reset: the next download of an affected
        piece fails its hash check, and libtorrent bans the peer that sent it (with one seeder,
        the download never completes). Removing the torrent releases its storage and that state;
        the re-added torrent is re-checked by `resume()`. Per-torrent rate limits are carried over.
        """
        info_hash = t.info_hash
        limits = (t.handle.download_limit(), t.handle.upload_limit())
        done = threading.Event()
        with self._lock:
            t.removing = done
        self._session.remove_torrent(t.handle, 0)
        if not done.wait(timeout):
            raise EngineTimeout(f"libtorrent did not release {t.rec.name!r} within {timeout:.0f} s; try again")
        with self._lock:
            self._unregister(info_hash)
        rec = self._db.get(info_hash)
        if rec is None:  # pragma: no cover - the record outlives the session entry
            raise EngineError(f"{t.rec.name!r} is missing from the state database")
        rec.error = t.rec.error
        try:
            self._restore(rec)
        except Exception as exc:
            msg = redact(str(exc)) if isinstance(exc, MamdlError) else f"could not be restored: {redact(str(exc))}"
            self._db.update(info_hash, state=TorrentState.ERROR.value, error=msg)
            raise
        fresh = self._get(info_hash)
        if limits[0] > 0:
            fresh.handle.set_download_limit(limits[0])
        if limits[1] > 0:
            fresh.handle.set_upload_limit(limits[1])
        return fresh

    def finish(self, info_hash: str) -> TorrentSnapshot:
        """Seeding policy stop: FINISHED = paused, data and record kept (resume() restarts it)."""
        t = self._get(info_hash)
        info_hash = t.info_hash
        with self._lock:
            t.rec.state = TorrentState.FINISHED
        t.handle.unset_flags(lt.torrent_flags.auto_managed)
        t.handle.pause()
        self._db.update(info_hash, state=TorrentState.FINISHED.value)
        self._save_resume(t)
        log.info("stopped seeding %s: goals met", t.rec.name)
        return self._after_command(info_hash, "state")

    def remove(self, info_hash: str, delete_data: bool = False, *, timeout: float = 30.0) -> None:
        """Take a torrent out of the engine; with `delete_data`, also delete its downloaded files
        (and wait for libtorrent to confirm). The store keeps a REMOVED record as history."""
        self._require_running()
        with self._lock:
            loaded = info_hash.lower() in self._torrents
        rec = None if loaded else self._db.get(info_hash.lower())
        if rec is not None and rec.state != TorrentState.REMOVED:
            # Stored but not in the session (it could not be restored): forget it; its files are
            # only deleted through libtorrent, which needs the torrent loaded.
            if delete_data:
                raise EngineError(
                    f"{rec.name!r} is not loaded ({rec.error or 'not restored'}), so its files cannot be "
                    "deleted safely; fix that and resume it first, or remove it without deleting data"
                )
            self._db.mark_removed(rec.info_hash)
            self._emit("removed", rec.info_hash, rec.name)
            return
        t = self._get(info_hash)
        info_hash = t.info_hash
        done = threading.Event()
        with self._lock:
            t.removing = done
            t.deleting = delete_data
        flags = int(lt.session.delete_files) if delete_data else 0
        self._session.remove_torrent(t.handle, flags)
        self._db.mark_removed(info_hash)
        finished = done.wait(timeout)
        with self._lock:
            self._unregister(info_hash)
            self._changed.notify_all()
        self._emit("removed", info_hash, t.rec.name)
        if delete_data and not finished:
            raise EngineTimeout(
                f"libtorrent did not confirm deleting the files of {t.rec.name!r} within {timeout:.0f} s"
            )
        if t.delete_error:
            raise EngineError(f"{t.rec.name!r} was removed but its files could not all be deleted: {t.delete_error}")
        log.info("removed %s%s", t.rec.name, " and deleted its files" if delete_data else "")

    def set_goal(self, info_hash: str, goal: SeedGoal) -> TorrentSnapshot:
        t = self._get(info_hash)
        info_hash = t.info_hash
        with self._lock:
            t.rec.ratio_goal = goal.ratio
            t.rec.seed_seconds_goal = goal.seed_seconds
        self._db.update(info_hash, ratio_goal=goal.ratio, seed_seconds_goal=goal.seed_seconds)
        return self._after_command(info_hash, "state")

    def set_limits(self, info_hash: str | None, download_bps: int | None = None, upload_bps: int | None = None) -> None:
        """Rate limits in bytes/s (0 = unlimited, None = unchanged), for one torrent or (None) the
        whole session. Per-torrent limits live in the resume data; session limits in the config.
        Session limits count every peer, LAN ones included (see `limit_local_peers_too`)."""
        self._require_running()
        for v in (download_bps, upload_bps):
            if v is not None and v < 0:
                raise EngineError("rate limits must be 0 (unlimited) or a positive number of bytes per second")
        if info_hash is None:
            pack: dict[str, int] = {}
            if download_bps is not None:
                pack["download_rate_limit"] = download_bps
            if upload_bps is not None:
                pack["upload_rate_limit"] = upload_bps
            if pack:
                if any(pack.values()):
                    limit_local_peers_too(self._session)
                self._session.apply_settings(pack)
            return
        t = self._get(info_hash)
        if download_bps is not None:
            t.handle.set_download_limit(download_bps or -1)
        if upload_bps is not None:
            t.handle.set_upload_limit(upload_bps or -1)

    def set_rate_limits(self, download_bps: int | None = None, upload_bps: int | None = None) -> None:
        """The session-wide limits (the service's `mam limit`), applied now."""
        self.set_limits(None, download_bps=download_bps, upload_bps=upload_bps)

    def connect_peer(self, info_hash: str, host: str, port: int) -> None:
        """Dial a peer directly (loopback swarms and tests; MAM peers come from the tracker)."""
        t = self._get(info_hash)
        try:
            t.handle.connect_peer((host, int(port)))
        except RuntimeError as exc:
            raise EngineError(f"cannot connect {t.rec.name!r} to {host}:{port}: {exc}") from None

    # ------------------------------------------------------------------ queries

    def snapshot(self, info_hash: str) -> TorrentSnapshot:
        info_hash = info_hash.lower()
        with self._lock:
            t = self._torrents.get(info_hash)
            if t is not None:
                return self._make_snapshot(t)
        if self._store is not None:
            snap = self._store.snapshot(info_hash, live=False)
            if snap is not None:
                return snap
        raise EngineError(f"unknown torrent {info_hash}")

    def snapshots(self, *, include_removed: bool = False) -> list[TorrentSnapshot]:
        """Every torrent: the ones in the session, plus stored ones that could not be restored
        (shown as ERROR with the reason), plus removed ones if asked."""
        with self._lock:
            live = [self._make_snapshot(t) for t in self._torrents.values()]
            known = {s.info_hash for s in live}
        if self._store is not None:
            live += [
                s
                for s in self._store.snapshots(live=False, include_removed=include_removed)
                if s.info_hash not in known
            ]
        return sorted(live, key=lambda s: (s.added_at or 0, s.info_hash))

    def wait(
        self,
        info_hash: str,
        predicate: Callable[[TorrentSnapshot], bool],
        timeout: float = 60.0,
        *,
        fail_on_error: bool = True,
    ) -> TorrentSnapshot:
        """Block until `predicate(snapshot)` holds (checked on every status update). Raises
        EngineTimeout after `timeout` s, and EngineError if the torrent errors or is removed
        first (unless `fail_on_error=False`)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                snap = self.snapshot(info_hash)
                if predicate(snap):
                    return snap
                if fail_on_error and snap.state in (TorrentState.ERROR, TorrentState.REMOVED):
                    raise EngineError(f"{snap.name!r} stopped: {snap.error or snap.state.value}")
                if not self.running:
                    raise EngineError("the download engine was closed")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise EngineTimeout(
                        f"{snap.name!r} is still {snap.state.value} at {snap.progress:.0%} after {timeout:.0f} s"
                    )
                self._changed.wait(min(left, 1.0))

    def wait_done(self, info_hash: str, timeout: float = 600.0) -> TorrentSnapshot:
        """Wait until a torrent is completely downloaded and verified."""
        return self.wait(
            info_hash, lambda s: s.progress >= 1.0 and s.state in (TorrentState.SEEDING, TorrentState.FINISHED), timeout
        )

    def events(self, timeout: float | None = None) -> Iterator[EngineEvent]:
        """Yield engine events as they happen, until the engine closes or `timeout` seconds pass
        without one. Progress events come with each status update of a changing torrent."""
        q: queue.Queue[EngineEvent | None] = queue.Queue(maxsize=_EVENT_QUEUE_SIZE)
        with self._lock:
            self._subscribers.append(q)
        try:
            while self.running:
                try:
                    ev = q.get(timeout=timeout)
                except queue.Empty:
                    return
                if ev is None:
                    return
                yield ev
        finally:
            with self._lock:
                if q in self._subscribers:
                    self._subscribers.remove(q)

    @property
    def listen_port(self) -> int:
        return int(self._session.listen_port()) if self._session is not None else 0

    def session_info(self) -> dict[str, Any]:
        """Plain facts about the session, for diagnostics and tests: key settings, whether DHT
        runs, and how many alerts of each type were seen."""
        self._require_running()
        s = self._session.get_settings()
        keys = (
            "enable_dht",
            "enable_lsd",
            "enable_upnp",
            "enable_natpmp",
            "enable_incoming_utp",
            "enable_outgoing_utp",
            "allow_multiple_connections_per_ip",
            "user_agent",
            "peer_fingerprint",
            "ssrf_mitigation",
            "listen_interfaces",
            "download_rate_limit",
            "upload_rate_limit",
            "active_downloads",
            "active_seeds",
        )
        with self._lock:
            counts = dict(self._alert_counts)
        return {
            "settings": {k: s[k] for k in keys if k in s},
            "dht_running": bool(self._session.is_dht_running()),
            "listen_port": self.listen_port,
            "alerts_seen": counts,
        }

    # ------------------------------------------------------------------ internals: torrents

    @property
    def _db(self) -> Store:
        if self._store is None:
            raise EngineError("the download engine is not running")
        return self._store

    def _require_running(self) -> None:
        if not self.running:
            raise EngineError("the download engine is not running; call start() first")

    def _get(self, info_hash: str) -> TorrentEntry:
        self._require_running()
        with self._lock:
            t = self._torrents.get(info_hash.lower())
        if t is None:
            raise EngineError(f"no torrent {info_hash} in the engine")
        return t

    @staticmethod
    def _flags_for(flags: int, *, private: bool, run: bool) -> int:
        if private:
            flags |= (
                int(lt.torrent_flags.disable_dht)
                | int(lt.torrent_flags.disable_lsd)
                | int(lt.torrent_flags.disable_pex)
            )
        flags &= ~int(lt.torrent_flags.upload_mode)
        flags &= ~int(lt.torrent_flags.seed_mode)
        flags &= ~int(lt.torrent_flags.duplicate_is_error)
        if run:
            flags |= int(lt.torrent_flags.auto_managed)
            flags &= ~int(lt.torrent_flags.paused)
        else:
            flags |= int(lt.torrent_flags.paused)
            flags &= ~int(lt.torrent_flags.auto_managed)
        return flags

    def _register(self, rec: TorrentRecord, handle: Any, *, private: bool, has_tracker: bool = False) -> TorrentEntry:
        t = TorrentEntry(rec=rec, handle=handle, private=private, has_tracker=has_tracker)
        t.seeding_credit = float(rec.seeding_seconds)
        t.tracker_ok, t.tracker_message, t.tracker_at = rec.tracker_ok, rec.tracker_message, rec.tracker_at
        t.tracker_failures = rec.tracker_failures
        self._torrents[rec.info_hash] = t
        self._by_handle[handle] = rec.info_hash
        return t

    def _unregister(self, info_hash: str) -> None:
        t = self._torrents.pop(info_hash, None)
        if t is not None:
            self._by_handle.pop(t.handle, None)
            self._resume_pending.discard(info_hash)
            self._resume_done.notify_all()

    def _refresh(self, info_hash: str) -> None:
        """Read one torrent's status right now (after a command, so snapshots reflect it at once)."""
        with self._lock:
            t = self._torrents.get(info_hash)
        if t is None:
            return
        try:
            st = t.handle.status()
        except RuntimeError:
            return
        with self._lock:
            t.live = status_to_live(st)
            self._changed.notify_all()

    def _after_command(self, info_hash: str, kind: str) -> TorrentSnapshot:
        self._refresh(info_hash)
        snap = self.snapshot(info_hash)
        self._emit(kind, info_hash, snap.state.value, snap)
        return snap

    def _make_snapshot(self, t: TorrentEntry) -> TorrentSnapshot:
        rec, live = t.rec, t.live
        error = rec.error or live.lt_error
        state = map_state(
            live.lt_state,
            paused=live.paused,
            auto_managed=live.auto_managed,
            has_error=error is not None,
            stopped_by_policy=rec.state == TorrentState.FINISHED,
        )
        # all_time_* are refreshed once a second; the session counters are current.
        downloaded = max(live.all_time_download, t.base_downloaded + live.session_download)
        uploaded = max(live.all_time_upload, t.base_uploaded + live.session_upload)
        seeding = int(t.seeding_credit)
        active = state == TorrentState.DOWNLOADING
        left = max(live.total_wanted - live.total_wanted_done, 0)
        eta = int(left / live.download_rate) if active and live.download_rate > 0 else None
        return TorrentSnapshot.build(
            goal=rec.goal,
            total_size=rec.total_size,
            downloaded=downloaded,
            uploaded=uploaded,
            seeding_seconds=seeding,
            progress=live.progress,
            info_hash=rec.info_hash,
            name=rec.name,
            title=rec.title,
            mam_id=rec.mam_id,
            state=state,
            download_rate=live.download_rate if not live.paused else 0,
            upload_rate=live.upload_rate if not live.paused else 0,
            peers=live.peers,
            seeds=live.seeds,
            eta_seconds=eta,
            save_path=rec.save_path,
            error=error,
            hash_failures=rec.hash_failures,
            tracker_error=t.tracker_error,
            tracker_ok=t.tracker_ok,
            tracker_message=t.tracker_message,
            tracker_at=t.tracker_at,
            tracker_failures=t.tracker_failures,
            added_at=rec.added_at,
            finished_at=rec.finished_at,
            updated_at=time.time(),
        )

    def _restore_all(self) -> None:
        """Re-add every stored torrent from its resume data; one bad record never stops the rest."""
        for rec in self._db.records():
            try:
                self._restore(rec)
            except Exception as exc:
                msg = redact(str(exc)) if isinstance(exc, MamdlError) else f"could not be restored: {redact(str(exc))}"
                log.error("torrent %s (%s): %s", rec.name, rec.info_hash, msg)
                self._db.update(rec.info_hash, state=TorrentState.ERROR.value, error=msg)

    def _restore(self, rec: TorrentRecord) -> None:
        if not Path(rec.save_path).is_dir():
            # An unmounted drive looks like an empty folder to libtorrent, which would then
            # happily download everything again onto the wrong disk.
            raise EngineError(
                f"the save folder {rec.save_path} is missing (an unmounted drive?); bring it back, then resume"
            )
        raw = self._db.torrent_bytes(rec.info_hash)
        if raw is None:
            raise EngineError("the .torrent is missing from the state database; add it again")
        tf = load_torrent(raw)
        ti = lt.torrent_info(tf.raw)
        resume = self._db.resume_data(rec.info_hash)
        atp = None
        if resume:
            try:
                atp = lt.read_resume_data(resume)
            except RuntimeError as exc:
                log.warning("resume data of %s is unusable (%s); its files will be re-checked", rec.name, exc)
        if atp is None:
            atp = lt.add_torrent_params()
        atp.ti = ti
        atp.save_path = rec.save_path
        if resume and self._lock_file.unclean and rec.state != TorrentState.ERROR:
            self._recover_pieces(rec, ti, atp)
        # The store is written every second, resume data only every interval: keep the larger totals.
        atp.total_uploaded = max(int(atp.total_uploaded), rec.uploaded)
        atp.total_downloaded = max(int(atp.total_downloaded), rec.downloaded)
        atp.seeding_time = max(int(atp.seeding_time), rec.seeding_seconds)
        run = rec.state not in (TorrentState.PAUSED, TorrentState.FINISHED, TorrentState.ERROR)
        atp.flags = self._flags_for(int(atp.flags), private=tf.private, run=run)
        handle = self._session.add_torrent(atp)
        with self._lock:
            t = self._register(rec, handle, private=tf.private, has_tracker=bool(tf.announce_urls))
            t.base_uploaded = int(atp.total_uploaded)
            t.base_downloaded = int(atp.total_downloaded)
            t.base_seeding = int(atp.seeding_time)
        self._refresh(rec.info_hash)
        log.info("restored %s (%s)%s", rec.name, rec.state.value, "" if resume else " without resume data")

    def _recover_pieces(self, rec: TorrentRecord, ti: Any, atp: Any) -> None:
        """The previous engine died without closing (kill -9, power loss): add to the resume data
        the pieces it wrote after its last save, found by their hashes (mamdl.engine.recover), so
        a crash costs the partial pieces instead of up to `resume_save_interval` of downloading."""
        have = list(atp.have_pieces)
        if have and all(have):
            return
        try:
            found = pieces_on_disk(ti, Path(rec.save_path), have, dict(atp.renamed_files))
        except Exception as exc:  # best effort: libtorrent downloads them again otherwise
            log.warning("could not look for pieces of %s written after its last save: %s", rec.name, exc)
            return
        if not found:
            return
        have += [False] * (ti.num_pieces() - len(have))
        unfinished = dict(atp.unfinished_pieces)
        for p in found:
            have[p] = True
            unfinished.pop(p, None)
        atp.have_pieces = have
        atp.unfinished_pieces = unfinished
        log.info("%s: %d piece(s) written after the last resume save found on disk", rec.name, len(found))

    # ------------------------------------------------------------------ internals: resume data

    def _save_resume(self, t: TorrentEntry, *, force: bool = True) -> bool:
        """Ask libtorrent for resume data (flushing the disk cache first, so that what it says we
        have really is on disk). The alert thread stores it."""
        if t.rec.error is not None:
            return False  # see AlertHandlers._stop_on_error: keep the last save from before the error
        try:
            if not t.handle.is_valid():
                return False
            if not force and not t.handle.need_save_resume_data():
                return False
            with self._lock:
                self._resume_pending.add(t.info_hash)
            t.handle.save_resume_data(int(lt.save_resume_flags_t.flush_disk_cache))
            return True
        except RuntimeError as exc:
            with self._lock:
                self._resume_pending.discard(t.info_hash)
            log.warning("could not request resume data for %s: %s", t.rec.name, exc)
            return False

    def _save_resume_all(self, *, force: bool) -> int:
        with self._lock:
            torrents = list(self._torrents.values())
        return sum(self._save_resume(t, force=force) for t in torrents)

    def _wait_resume_saved(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._resume_done:
            while self._resume_pending:
                left = deadline - time.monotonic()
                if left <= 0 or not (self._alert_thread and self._alert_thread.is_alive()):
                    log.warning("gave up waiting for resume data of %d torrent(s)", len(self._resume_pending))
                    return
                self._resume_done.wait(min(left, 0.5))

    # ------------------------------------------------------------------ internals: alert thread

    def _alert_loop(self) -> None:
        """Wait for alerts; between them run the periodic jobs, each on its own deadline.

        The resume-data deadline is kept strictly: consecutive saves are never more than
        `resume_save_interval` apart, which is what bounds the data a crash can cost."""
        cfg = self.config
        now = time.monotonic()
        next_status = now
        next_store = now + cfg.store_interval
        next_resume = now + cfg.resume_save_interval
        self._credit_at = now
        while not self._stop.is_set():
            try:
                ses = self._session
                if ses is None:
                    return
                now = time.monotonic()
                wait = min(next_status, next_store, next_resume) - now
                if wait > 0:
                    ses.wait_for_alert(max(1, int(min(wait, 0.5) * 1000)))
                for alert in ses.pop_alerts():
                    self._handle_alert(alert)
                now = time.monotonic()
                self._credit_seeding(now)
                if self._trim_at and now >= self._trim_at:
                    self._trim_at = 0.0
                    self._trim_if_idle()
                if now >= next_resume:
                    if not self._closing:
                        self._save_resume_all(force=False)
                    next_resume = now + cfg.resume_save_interval
                if now >= next_status:
                    ses.post_torrent_updates()
                    next_status = now + cfg.status_interval
                if now >= next_store:
                    self._write_store()
                    next_store = now + cfg.store_interval
            except Exception:  # the loop must survive anything one alert can throw at it
                log.exception("engine alert loop error")
                time.sleep(0.2)

    _credit_at: float = 0.0
    _trim_at: float = 0.0
    TRIM_DELAY_S = 2.0
    """After a finish or a removal: time for libtorrent to flush and free that torrent's buffers."""

    def _schedule_trim(self) -> None:
        self._trim_at = time.monotonic() + self.TRIM_DELAY_S

    def _trim_if_idle(self) -> bool:
        """Return the heap's free pages to the OS once nothing downloads (a download in progress
        would only fault them in again; its own finish schedules the next try). True if trimmed."""
        with self._lock:
            if any(t.downloading for t in self._torrents.values()):
                return False
        trimmed = release_free_memory()
        log.debug("free heap pages returned to the OS: %s", trimmed)
        return trimmed

    def _credit_seeding(self, now: float) -> None:
        """Advance each torrent's counted seeding time by the time since the last call, for the
        torrents that seed and whose tracker's last answer was an accepted announce."""
        dt = max(0.0, now - self._credit_at)
        self._credit_at = now
        if dt <= 0:
            return
        dt = min(dt, 60.0)  # a suspended machine does not seed
        with self._lock:
            for t in self._torrents.values():
                if t.live.seeding_now and (t.tracker_ok is True or not t.has_tracker):
                    t.seeding_credit += dt

    # ------------------------------------------------------------------ internals: store & events

    def _write_store(self, final: bool = False) -> None:
        store = self._store
        if store is None:
            return
        with self._lock:
            snaps = [self._make_snapshot(t) for t in self._torrents.values()]
            for t, s in zip(list(self._torrents.values()), snaps):
                t.rec.uploaded, t.rec.downloaded, t.rec.seeding_seconds = s.uploaded, s.downloaded, s.seeding_seconds
        if final:
            snaps = [
                s.model_copy(update={"download_rate": 0, "upload_rate": 0, "peers": 0, "seeds": 0, "eta_seconds": None})
                for s in snaps
            ]
        store.write_snapshots(snaps)

    def _emit(self, kind: str, info_hash: str, message: str = "", snap: TorrentSnapshot | None = None) -> None:
        with self._lock:
            subs = list(self._subscribers)
        if not subs:
            return
        ev = EngineEvent(kind=kind, info_hash=info_hash, message=message, snapshot=snap)
        for q in subs:
            try:
                q.put_nowait(ev)
            except queue.Full:
                try:
                    q.get_nowait()  # drop the oldest: a slow reader must not block the engine
                    q.put_nowait(ev)
                except (queue.Empty, queue.Full):
                    pass
