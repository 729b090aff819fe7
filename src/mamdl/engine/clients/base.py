"""What every external client backend shares: the engine lock, mamdl's own record of each torrent,
and the translation between the client's view and mamdl's `TorrentSnapshot`.

The client (qBittorrent, Transmission, Deluge) moves the bytes and keeps its own numbers; it knows
nothing of MAM ids, titles or seeding goals. Those live in mamdl's state database (`engine.db`, the
same `Store` the embedded engine uses), so `mam status`, the seeding policy and the hit-and-run
guard read the same records whichever backend runs, and a process that does not own the backend
still sees the last snapshots. Only torrents mamdl added or adopted are ours: the rest of the
client's torrents are never listed, stopped or removed.

Each adapter implements a handful of `_client_*` methods and maps its client's states and numbers
in one place (`ClientView`); the public methods here implement the service's `TorrentBackend`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from mamdl.engine.lock import EngineLock
from mamdl.engine.models import EngineEvent, SeedGoal, TorrentSnapshot, TorrentState
from mamdl.engine.store import Store, TorrentRecord
from mamdl.engine.torrentfile import load_torrent, parse_torrent
from mamdl.errors import ClientError, EngineError
from mamdl.redact import redact

if TYPE_CHECKING:
    from mamdl.config import Settings

log = logging.getLogger(__name__)

ADD_VISIBLE_SECONDS = 30.0
"""How long an added torrent may take to appear in the client's list before we call it lost."""


@dataclass
class ClientView:
    """One torrent as the client reports it, already in mamdl's terms (each adapter fills it in
    its one mapping function)."""

    info_hash: str
    name: str
    state: TorrentState
    progress: float
    total_size: int
    downloaded: int
    uploaded: int
    download_rate: int = 0
    upload_rate: int = 0
    peers: int = 0
    seeds: int = 0
    eta_seconds: int | None = None
    seeding_seconds: int = 0
    save_path: str = ""
    """As the client sees it (mapped back through `path_map` by the base)."""
    error: str | None = None
    paused: bool = False
    completed_at: float | None = None
    added_at: float | None = None
    trackers: list[str] = field(default_factory=list)
    """Announce URLs (for `adopt`: which torrents are MAM's). Hold passkeys: never printed."""
    category: str = ""


@dataclass
class Check:
    """One line of `mam doctor` about the client: level is ok, warn or error."""

    level: str
    name: str
    detail: str


def is_mam_tracker(url: str, hosts: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


class ClientBackend:
    """A `TorrentBackend` over a client the user already runs. Subclasses set `label` and
    implement the `_client_*` methods; every error they raise is a `ClientError` naming the
    client and the fix."""

    label: ClassVar[str] = "client"
    default_url: ClassVar[str] = ""

    def __init__(self, settings: Settings, *, take_lock: bool = True) -> None:
        self.settings = settings
        self.url = (settings.client_url or self.default_url).rstrip("/")
        self.username = settings.client_username or ""
        self._password = settings.client_password.get_secret_value() if settings.client_password else ""
        self.category = settings.client_category
        self._take_lock = take_lock
        self._lock: EngineLock | None = None
        self._store: Store | None = None
        self._mutex = threading.RLock()
        self._closed = threading.Event()
        self._connected = False

    # ------------------------------------------------------------------ life cycle

    def start(self, *, require_client: bool = True) -> ClientBackend:
        """Own the state dir (like the embedded engine) and log in to the client. A command
        fails at once when the client is down (`require_client`); the long-lived service starts
        anyway, says so, and connects once the client is back."""
        state_dir = self.settings.paths.state_dir
        if self._take_lock:
            lock = EngineLock(state_dir)
            lock.acquire()
            self._lock = lock
        try:
            self._store = Store(self.settings.paths.engine_db)
            self._ready()
        except ClientError as exc:
            if require_client:
                self.close()
                raise
            log.warning("%s; will keep trying", exc)
        except BaseException:
            self.close()
            raise
        return self

    def _ready(self) -> None:
        """Log in (and set up our category/label) once; after that each library re-logs in on its
        own, and the adapters reconnect after the client comes back."""
        if not self._connected:
            self._client_connect()
            self._connected = True

    def close(self) -> None:
        self._closed.set()
        try:
            self._client_close()
        except Exception:  # closing must not fail: the lock below must be released
            log.debug("closing %s failed", self.label, exc_info=True)
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise EngineError(f"the {self.label} backend is not started")
        return self._store

    # ------------------------------------------------------------------ TorrentBackend

    def add(
        self,
        torrent: bytes | str | Path,
        save_path: str | Path,
        mam_id: int | None = None,
        title: str | None = None,
        goal: SeedGoal | None = None,
        *,
        paused: bool = False,
    ) -> str:
        """Upload the .torrent's bytes (never MAM's URL: the client has no MAM cookie) with our
        category/label, the save path as the client sees it, and no share limits of the client's
        own (mamdl's policy decides when to stop). Adding a torrent of ours again is a no-op."""
        tf = parse_torrent(torrent) if isinstance(torrent, bytes) else load_torrent(Path(torrent))
        h = tf.info_hash
        goal = goal or SeedGoal()
        save = str(Path(save_path).expanduser())
        with self._mutex:
            self._ready()
            existing = self.store.get(h)
            present = self._client_torrents([h])
            if h in present:
                if existing is not None and existing.state != TorrentState.REMOVED:
                    return h
                raise ClientError(
                    f"{self.label} already holds {tf.name!r} (not added by mamdl); "
                    "bring it under mamdl with `mam adopt` instead of adding it again"
                )
            if self.settings.client_path(save) == save:
                Path(save).mkdir(parents=True, exist_ok=True)  # same disk: the folder the user named
            now = time.time()
            rec = TorrentRecord(
                info_hash=h,
                name=tf.name,
                save_path=save,
                state=TorrentState.PAUSED if paused else TorrentState.DOWNLOADING,
                ratio_goal=goal.ratio,
                seed_seconds_goal=goal.seed_seconds,
                added_at=now,
                title=title,
                mam_id=mam_id,
                total_size=tf.total_size,
            )
            # Recorded first: a crash between the two leaves a record the next snapshot reports as
            # missing from the client, never a torrent in the client nobody guards.
            self.store.add_torrent(rec, tf.raw)
            try:
                self._client_add(tf.raw, self.settings.client_path(save), paused=paused)
            except BaseException:
                self.store.mark_removed(h)
                raise
            try:
                self._wait_visible(h)
                self._client_no_share_limits(h)  # also asked for in the add where the API allows
            except ClientError as exc:
                # The client took the torrent and then went away: keep our record, so the torrent
                # stays guarded; the snapshots say what the client holds once it is back.
                log.warning("added %s to %s, then: %s", tf.name, self.label, exc)
            log.info("added %s to %s (%s)", tf.name, self.label, self.category)
        return h

    def _wait_visible(self, h: str) -> None:
        deadline = time.monotonic() + ADD_VISIBLE_SECONDS
        while h not in self._client_torrents([h]):
            if time.monotonic() > deadline:
                raise ClientError(
                    f"{self.label} accepted the torrent but does not list it after {ADD_VISIBLE_SECONDS:.0f} s; "
                    f"check the {self.label} log"
                )
            time.sleep(0.2)

    def pause(self, info_hash: str) -> TorrentSnapshot:
        self._ours(info_hash)
        self._client_pause(info_hash)
        self.store.update(info_hash, state=TorrentState.PAUSED)
        return self._snapshot(info_hash)

    def resume(self, info_hash: str) -> TorrentSnapshot:
        """Start a paused or finished torrent again; one that is no longer in the client (removed
        there, or forgotten by a client killed right after the add) is added back from the
        .torrent mamdl stored, to the same folder, where the client checks the data already there
        (as the embedded engine re-adds an errored torrent). Why: until then the torrent seeds
        nowhere, and MAM counts a snatch that stops seeding early as a hit-and-run."""
        rec = self._ours(info_hash)
        with self._mutex:
            if info_hash in self._client_torrents([info_hash]):
                self._client_resume(info_hash)
            else:
                self._add_back(rec)
        self.store.update(info_hash, state=TorrentState.DOWNLOADING)
        return self._snapshot(info_hash)

    def _add_back(self, rec: TorrentRecord) -> None:
        data = self.store.torrent_bytes(rec.info_hash)
        if not data:  # adopted from the client: mamdl never held its .torrent
            fetch = f"`mam get {rec.mam_id}`" if rec.mam_id else "the .torrent again"
            raise EngineError(
                f"{rec.name!r} is no longer in {self.label} and mamdl has no .torrent for it "
                f"(it was adopted from {self.label}); add it again with {fetch}"
            )
        self._client_add(data, self.settings.client_path(rec.save_path), paused=False)
        self._wait_visible(rec.info_hash)
        self._client_no_share_limits(rec.info_hash)
        log.info("added %s back to %s (it was no longer there)", rec.name, self.label)

    def finish(self, info_hash: str) -> TorrentSnapshot:
        """The seeding policy's stop: paused in the client, data and record kept."""
        self._ours(info_hash)
        self._client_pause(info_hash)
        self.store.update(info_hash, state=TorrentState.FINISHED)
        return self._snapshot(info_hash)

    def remove(self, info_hash: str, delete_data: bool = False) -> None:
        """Only ever called after the service's removal decision (the hit-and-run guard)."""
        self._ours(info_hash)
        if self._client_torrents([info_hash]):
            self._client_remove(info_hash, delete_data=delete_data)
        self.store.mark_removed(info_hash)

    def set_rate_limits(self, download_bps: int | None = None, upload_bps: int | None = None) -> None:
        """Refused: the client's rate limits are the user's, for every torrent it holds."""
        raise EngineError(
            f"mamdl leaves {self.label}'s rate limits alone (they cover every torrent it holds): set them in {self.label}"
        )

    def set_goal(self, info_hash: str, goal: SeedGoal) -> TorrentSnapshot:
        self._ours(info_hash)
        self.store.update(info_hash, ratio_goal=goal.ratio, seed_seconds_goal=goal.seed_seconds)
        return self._snapshot(info_hash)

    def snapshots(self) -> list[TorrentSnapshot]:
        """Our torrents, live from the client, merged with mamdl's records (and saved, so other
        processes see them). A client that cannot be reached raises a `ClientError`."""
        with self._mutex:
            records = self.store.records()
            try:
                if records:
                    self._ready()
                views = self._client_torrents([r.info_hash for r in records]) if records else {}
            except ClientError as exc:
                # Readers of the saved view (`mam status` in another process) see why the numbers
                # stopped moving; the next good snapshot clears it.
                for r in records:
                    self.store.update(r.info_hash, error=str(exc), download_rate=0, upload_rate=0, peers=0, seeds=0)
                raise
            snaps = [self._merge(r, views.get(r.info_hash)) for r in records]
            self.store.write_snapshots(snaps)
            for s in snaps:
                if s.finished_at is not None:
                    rec = next(r for r in records if r.info_hash == s.info_hash)
                    if rec.finished_at is None:
                        self.store.update(s.info_hash, finished_at=s.finished_at)
            return snaps

    def events(self, timeout: float | None = None) -> Iterator[EngineEvent]:
        """Changes seen by polling the client once a second (state and progress events)."""
        last: dict[str, TorrentSnapshot] = {}
        quiet_since = time.monotonic()
        while not self._closed.is_set():
            try:
                snaps = self.snapshots()
            except ClientError as exc:  # the client is down: keep watching until it is back
                log.debug("events: %s", exc)
                snaps = []
            for s in snaps:
                old = last.get(s.info_hash)
                if old is not None and old.progress < 1.0 <= s.progress:
                    # what the library's watcher waits for, as the embedded engine's alert
                    yield EngineEvent(kind="finished", info_hash=s.info_hash, snapshot=s)
                if old is None or old.state != s.state:
                    quiet_since = time.monotonic()
                    yield EngineEvent(kind="state", info_hash=s.info_hash, message=s.state.value, snapshot=s)
                elif old.progress != s.progress:
                    quiet_since = time.monotonic()
                    yield EngineEvent(kind="progress", info_hash=s.info_hash, snapshot=s)
                last[s.info_hash] = s
            if timeout is not None and time.monotonic() - quiet_since > timeout:
                return
            self._closed.wait(1.0)

    # ------------------------------------------------------------------ adopt

    def candidates(self, hosts: tuple[str, ...]) -> list[ClientView]:
        """The client's torrents announcing to one of `hosts` (MAM's trackers), ours or not."""
        self._ready()
        return [v for v in self._client_all() if any(is_mam_tracker(u, hosts) for u in v.trackers)]

    def adopt(self, view: ClientView, *, mam_id: int | None, title: str | None, goal: SeedGoal) -> bool:
        """Bring a torrent already in the client under mamdl's records (status, seeding policy,
        hit-and-run guard) without touching its data: no recheck, no move. The client's own share
        limits for it are lifted. False if it is ours already."""
        existing = self.store.get(view.info_hash)
        if existing is not None and existing.state != TorrentState.REMOVED:
            return False
        rec = TorrentRecord(
            info_hash=view.info_hash,
            name=view.name,
            save_path=self.settings.local_path(view.save_path),
            state=view.state,
            ratio_goal=goal.ratio,
            seed_seconds_goal=goal.seed_seconds,
            added_at=view.added_at or time.time(),
            title=title,
            mam_id=mam_id,
            total_size=view.total_size,
            finished_at=view.completed_at,
        )
        self.store.add_torrent(rec, b"")
        self._client_no_share_limits(view.info_hash)
        return True

    # ------------------------------------------------------------------ doctor

    def checks(self) -> list[Check]:
        """What `mam doctor` reports about the client; never raises for an unreachable client."""
        try:
            self._client_connect()
        except ClientError as exc:
            return [Check("error", self.label, str(exc))]
        out = [Check("ok", f"{self.label} reachable", f"{self.label} {self._client_version()} at {self.url}")]
        try:
            out.extend(self._client_checks())
        except ClientError as exc:
            out.append(Check("error", self.label, str(exc)))
        return out

    # ------------------------------------------------------------------ helpers

    def _ours(self, info_hash: str) -> TorrentRecord:
        self._ready()
        rec = self.store.get(info_hash)
        if rec is None or rec.state == TorrentState.REMOVED:
            raise EngineError(f"no torrent with info-hash {info_hash} among mamdl's torrents in {self.label}")
        return rec

    def _snapshot(self, info_hash: str) -> TorrentSnapshot:
        return next(s for s in self.snapshots() if s.info_hash == info_hash)

    def _merge(self, rec: TorrentRecord, view: ClientView | None) -> TorrentSnapshot:
        """mamdl's record plus the client's live view, as the embedded engine would report it."""
        goal = rec.goal
        error: str | None
        rates: tuple[int, int, int, int, int | None]
        if view is None:
            state, error = TorrentState.ERROR, f"no longer in {self.label} (removed there?); resume it to add it back"
            progress, total, down, up = rec.progress, rec.total_size, rec.downloaded, rec.uploaded
            rates = (0, 0, 0, 0, None)
            save = rec.save_path
            finished_at = rec.finished_at
            seeding = rec.seeding_seconds
        else:
            state, error = view.state, view.error
            if view.paused and state in (TorrentState.PAUSED, TorrentState.QUEUED):
                # Our record says why it is paused: the policy's stop is FINISHED, not the user's.
                state = TorrentState.FINISHED if rec.state == TorrentState.FINISHED else TorrentState.PAUSED
            progress, total, down, up = view.progress, view.total_size or rec.total_size, view.downloaded, view.uploaded
            seeding = max(view.seeding_seconds, 0)
            rates = (view.download_rate, view.upload_rate, view.peers, view.seeds, view.eta_seconds)
            save = self.settings.local_path(view.save_path) if view.save_path else rec.save_path
            finished_at = rec.finished_at or view.completed_at or (time.time() if progress >= 1.0 else None)
        return TorrentSnapshot.build(  # ratio and goal flags derived in one place for every backend
            goal=goal,
            total_size=total,
            downloaded=down,
            uploaded=up,
            seeding_seconds=seeding,
            progress=progress,
            info_hash=rec.info_hash,
            name=view.name if view is not None and view.name else rec.name,
            title=rec.title,
            mam_id=rec.mam_id,
            state=state,
            download_rate=rates[0],
            upload_rate=rates[1],
            peers=rates[2],
            seeds=rates[3],
            eta_seconds=rates[4],
            save_path=save,
            error=redact(error) if error else None,
            added_at=rec.added_at,
            finished_at=finished_at,
        )

    def _fail(self, what: str, exc: BaseException, fix: str) -> ClientError:
        """One clear message naming the client and the fix; the library's text is redacted (it
        could echo a URL with credentials)."""
        text = redact(str(exc)).strip()
        low = text.lower()
        if "refused" in low or "newconnectionerror" in low:
            detail = "connection refused"
        elif "timed out" in low or "timeout" in low:
            detail = "timed out"
        elif "name or service not known" in low or "nodename nor servname" in low:
            detail = "unknown host"
        else:
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            detail = lines[0][:160] if lines else exc.__class__.__name__
        return ClientError(f"{self.label} at {self.url}: {what} ({detail}); {fix}")

    def _wait_until(self, info_hash: str, cond: Callable[[ClientView], bool], timeout: float = 15.0) -> None:
        """Clients apply a pause or a start on their next refresh: wait for it, so the caller's
        snapshot shows the new state (a torrent that has left the client ends the wait too)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self._client_torrents([info_hash]).get(info_hash)
            if v is None or cond(v):
                return
            time.sleep(0.1)

    # ------------------------------------------------------------------ doctor rows shared by the clients

    def _peer_sources_check(self, on: list[str], names: str) -> Check:
        """DHT/PEX/LSD are worth a line but never a warning: libtorrent-based and other clients
        alike never use them for a private torrent, which every MAM torrent is."""
        detail = (", ".join(on) + " on; private torrents (MAM's) never use them") if on else "off"
        return Check("ok", f"{self.label} {names}", detail)

    def _share_limits_check(self, limits: str | None, fix: str, *, none: str) -> Check:
        """A client-wide ratio or seeding-time stop is how people collect hit-and-runs in bulk:
        mamdl lifts it for its own torrents, but every other MAM torrent stops on the client's
        clock, which runs ahead of MAM's."""
        if not limits:
            return Check("ok", f"{self.label} share limits", none)
        return Check(
            "warn",
            f"{self.label} share limits",
            f"global {limits}: mamdl lifts it for its own torrents, but every other MAM torrent in "
            f"{self.label} stops on {self.label}'s clock, which runs ahead of MAM's (hit-and-runs). "
            f"Turn it off ({fix}) or `mam adopt` those torrents",
        )

    def _queueing_check(self, limits: str | None, fix: str, *, none: str) -> Check:
        """A queued torrent does not seed, and MAM's 72 h clock stops with it."""
        if not limits:
            return Check("ok", f"{self.label} queueing", none)
        return Check(
            "warn",
            f"{self.label} queueing",
            f"{limits}: a queued torrent does not seed and MAM's 72 h clock stops; {fix}",
        )

    # ------------------------------------------------------------------ per client

    def _client_connect(self) -> None:
        raise NotImplementedError

    def _client_close(self) -> None:
        pass

    def _client_version(self) -> str:
        raise NotImplementedError

    def _client_add(self, data: bytes, save_path: str, *, paused: bool) -> None:
        raise NotImplementedError

    def _client_torrents(self, hashes: list[str]) -> dict[str, ClientView]:
        raise NotImplementedError

    def _client_all(self) -> list[ClientView]:
        raise NotImplementedError

    def _client_pause(self, info_hash: str) -> None:
        raise NotImplementedError

    def _client_resume(self, info_hash: str) -> None:
        raise NotImplementedError

    def _client_remove(self, info_hash: str, *, delete_data: bool) -> None:
        raise NotImplementedError

    def _client_no_share_limits(self, info_hash: str) -> None:
        raise NotImplementedError

    def _client_checks(self) -> list[Check]:
        raise NotImplementedError
