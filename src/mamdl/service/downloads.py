"""The service's download half: who drives the backend, getting a book, status, seeding, removal.

One backend (today: one libtorrent session) per state dir, owned by the background service
(`mam serve`) or by a self-contained `--foreground` run. Any other process talks to the service
through its local HTTP API (`RemoteBackend`); with no service running, a process that needs the
backend starts one detached (`auto_serve`), so seeding outlives the command that asked for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamdl.errors import EngineBusy, EngineError, GuardRefused, UsageError
from mamdl.service.guards import unsatisfied_room, wedge_decision
from mamdl.service.models import FetchResult, GetPreview, GetResult, RateLimits, TorrentStatus
from mamdl.service.safety import SafetyMixin

if TYPE_CHECKING:
    from mamdl.config import Settings
    from mamdl.engine import EngineConfig, SeedGoal, TorrentSnapshot
    from mamdl.mam.models import SearchResult
    from mamdl.service.backend import TorrentBackend
    from mamdl.service.daemon import ServiceInfo

log = logging.getLogger(__name__)


def engine_config(settings: Settings) -> EngineConfig:
    """The engine's settings from mamdl's; on a loopback MAM (the sandbox) the loopback profile."""
    from mamdl.engine import EngineConfig
    from mamdl.service.connectivity import listen_interfaces, port_mapping_enabled

    common: dict[str, Any] = {
        "resume_save_interval": settings.resume_save_interval,
        "listen_interfaces": listen_interfaces(settings),  # the fixed port once `start_engine` chose it
        "download_rate_limit": settings.download_limit_kibps * 1024,
        "upload_rate_limit": settings.upload_limit_kibps * 1024,
    }
    if settings.socket_recv_buffer is not None:
        common["socket_recv_buffer"] = settings.socket_recv_buffer
    if settings.is_loopback:
        return EngineConfig.loopback(**common)
    mapping = port_mapping_enabled(settings)
    return EngineConfig(enable_utp=settings.enable_utp, enable_upnp=mapping, enable_natpmp=mapping, **common)


class DownloadsMixin(SafetyMixin):
    """The engine half of `Service`; builds on `ServiceBase`'s `settings`, `client`, `user_info`,
    `lookup` and `fetch` (through `SafetyMixin`, where every account-safety decision is made)."""

    _engine: TorrentBackend | None = None
    _owns_engine: bool = False
    foreground: bool = False
    """Never use or start the background service: drive a backend in this process (`--foreground`)."""
    service_info: ServiceInfo | None = None
    service_started: bool = False
    """True when this process started the background service (the front says so)."""

    # ------------------------------------------------------------------ hooks (`LibraryMixin` overrides them)

    def _download_added(self, info_hash: str, row: SearchResult | None) -> None:
        """A MAM download was added; `row` is MAM's row for it (None when MAM's search missed it)."""

    def _decorate_status(self, rows: list[TorrentStatus]) -> None:
        """Add what other parts know about these torrents (where the library placed them)."""

    # ------------------------------------------------------------------ the backend

    def start_engine(self, *, require_client: bool = True) -> TorrentBackend:
        """Own the backend for this state dir (raises EngineBusy naming the holder). With a client
        backend, `require_client=False` (the service) starts even while the client is down."""
        if (self._engine is None or not self._owns_engine) and self.settings.backend != "embedded":
            from mamdl.engine.clients import client_backend

            backend = client_backend(self.settings).start(require_client=require_client)
            self._engine, self._owns_engine = backend, True
        if self._engine is None or not self._owns_engine:
            from mamdl.engine import Engine
            from mamdl.service.connectivity import ensure_listen_port

            ensure_listen_port(self.settings)  # chosen once, kept in the config: a port to forward

            engine = Engine(self.settings.paths.state_dir, engine_config(self.settings))
            engine.start()
            self._engine, self._owns_engine = engine, True
        return self._engine

    def engine(self) -> TorrentBackend:
        """The backend: ours, the running service's, a service started now (`auto_serve`), or,
        in a `--foreground` run, a new one in this process."""
        if self._engine is not None:
            return self._engine
        from mamdl.engine import live_holder
        from mamdl.service.daemon import ensure_service, read_service
        from mamdl.service.remote import RemoteBackend

        paths = self.settings.paths
        info = None if self.foreground else read_service(paths)
        if info is None and not self.foreground and self.settings.auto_serve:
            info, self.service_started = ensure_service(self.settings)
        if info is not None:
            log.info("using %s", info.describe())
            self.service_info = info
            self._engine, self._owns_engine = RemoteBackend(info), False
            return self._engine
        holder = live_holder(paths.state_dir)
        if holder is not None:
            raise EngineBusy(
                f"the download engine for {paths.state_dir} is held by {holder.describe()}; "
                "wait for it to finish, or stop it"
            )
        return self.start_engine()

    def attach_backend(self, backend: TorrentBackend) -> None:
        """Share a backend this process owns (the supervisor's Service uses the serve's engine)."""
        self._engine, self._owns_engine = backend, True

    def detach_backend(self) -> None:
        """Forget a shared backend without closing it (its owner closes it)."""
        self._engine, self._owns_engine = None, False

    def service_running(self) -> ServiceInfo | None:
        from mamdl.service.daemon import read_service

        return read_service(self.settings.paths)

    @property
    def owns_engine(self) -> bool:
        return self._owns_engine

    def engine_holder(self) -> str | None:
        """Who drives the backend now, in words (None: nobody; nothing is seeding)."""
        from mamdl.engine import live_holder

        info = self.service_running()
        if info is not None:
            return info.describe()
        holder = live_holder(self.settings.paths.state_dir)
        return holder.describe() if holder else None

    def close_engine(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine, self._owns_engine = None, False

    # ------------------------------------------------------------------ getting a book

    def default_goal(self, ratio: float | None = None, seed_hours: float | None = None) -> SeedGoal:
        from mamdl.engine import SeedGoal

        return SeedGoal(
            ratio=self.settings.seed_ratio if ratio is None else ratio,
            seed_seconds=int((self.settings.seed_hours if seed_hours is None else seed_hours) * 3600),
        )

    def get(
        self,
        torrent_id: int,
        *,
        download: bool = True,
        goal: SeedGoal | None = None,
        dest: Path | None = None,
        wedge: str | None = None,
        force: bool = False,
    ) -> GetResult:
        """Fetch the .torrent and (optionally) start downloading it; returns at once.

        A download goes through the admission point (`SafetyMixin.admit`: fresh MAM numbers, every
        earlier admission counted, refused with the numbers unless `force`); the wedge decision
        (`wedge` = never/auto/always, default from config) is made in the same critical section,
        and the client records a wedge in its ledger before sending `&fl`."""
        result = self.lookup_row(torrent_id)  # None: MAM's search missed it; fetch by tid regardless
        notes: list[str] = []
        mode = wedge or self.settings.wedge
        goal = goal or self.default_goal()
        if download:
            self.check_goal(goal, is_mam=True, force=force)
        adm = None
        try:
            with self.admission():
                user = None
                if download:
                    adm = self.admit(
                        key=f"tid:{torrent_id}",
                        tid=torrent_id,
                        already_snatched=bool(result and result.my_snatched),
                        force=force,
                    )
                    notes.append(adm.reason)
                    user = adm.user
                elif mode != "never":
                    user = self.user_info()[0]  # the wedge decision needs the wedge count and VIP status
                wd = wedge_decision(
                    mode,
                    result,
                    user,
                    min_bytes=self.settings.wedge_min_bytes,
                    already_wedged=self._wedged(torrent_id),
                )
                # Inside the critical section: a parallel `mam get` waits, then finds the wedge in
                # the client's ledger (written before `&fl` is sent) and never spends a second one.
                fetched: FetchResult = self.fetch(torrent_id, result=result, wedge=wd.allowed, wedge_reason=wd.reason)
            info_hash = None
            if download:
                save = self.save_path_for(result.format if result is not None else None, dest)
                engine = self.engine()
                info_hash = engine.add(
                    Path(fetched.path),
                    save,
                    mam_id=torrent_id,
                    title=fetched.title,
                    goal=self.goal_for(fetched.info_hash, goal),
                )
        except BaseException:
            self.withdraw(adm)  # nothing was added: it must not hold a slot for a day
            raise
        if info_hash is not None:
            self._download_added(info_hash, result)
        return GetResult(
            fetch=fetched,
            info_hash=info_hash,
            engine_owner=None if self._owns_engine else self.engine_holder(),
            notes=notes,
        )

    def preview_get(self, torrent_id: int, *, wedge: str | None = None) -> GetPreview:
        """The guards' answers for a download of `torrent_id` without starting it: the same
        decisions `get` makes (unsatisfied room, wedge), so a front can ask before it starts."""
        from mamdl.mam.models import format_size

        result = self.lookup(torrent_id)
        room = self.preview_admission(tid=torrent_id, already_snatched=result.my_snatched)
        user = self.user_info()[0]  # just refreshed by the preview
        wd = wedge_decision(
            wedge or self.settings.wedge,
            result,
            user,
            min_bytes=self.settings.wedge_min_bytes,
            already_wedged=self._wedged(torrent_id),
        )
        return GetPreview(
            torrent_id=torrent_id,
            title=result.title,
            size=format_size(result.size_bytes),
            allowed=room.allowed,
            unsatisfied_reason=room.reason,
            wedge=wd.allowed,
            wedge_reason=wd.reason,
        )

    def save_path_for(self, book_format: str | None, dest: Path | None = None) -> Path:
        """`--to` wins; then the per-format folder (`ebook_save_path` / `audiobook_save_path`);
        then `download_dir`."""
        if dest is not None:
            return dest.expanduser()
        per_format = {
            "ebook": self.settings.ebook_save_path,
            "audiobook": self.settings.audiobook_save_path,
        }.get((book_format or "").lower())
        return (per_format or self.settings.effective_download_dir).expanduser()

    def add_torrent_file(
        self, path: Path, *, dest: Path | None = None, goal: SeedGoal | None = None, force: bool = False
    ) -> str:
        """`mam download FILE.torrent`: a .torrent from disk (validated before libtorrent sees it).

        A MAM torrent (by its tracker's host) goes through the same admission point as `get`, gets
        its MAM id from the .torrent (or later from MAM's snatch lists), and MAM's 72 h floor."""
        from mamdl.engine import load_torrent

        tf = load_torrent(path)
        goal = goal or self.default_goal()
        is_mam = self.is_mam_torrent_file(tf)
        mam_id = self.mam_id_for_file(tf)
        self.check_goal(goal, is_mam=is_mam, force=force)
        adm = None
        if is_mam:
            with self.admission():
                adm = self.admit(
                    key=f"tid:{mam_id}" if mam_id else f"hash:{tf.info_hash}",
                    tid=mam_id,
                    already_snatched=False,
                    force=force,
                )
        save = (dest or self.settings.effective_download_dir).expanduser()
        try:
            return self.engine().add(tf.raw, save, mam_id=mam_id, title=tf.name, goal=self.goal_for(tf.info_hash, goal))
        except BaseException:
            self.withdraw(adm)
            raise

    # ------------------------------------------------------------------ status and control

    def status(self, info_hash: str | None = None, *, with_mam: bool = False) -> list[TorrentStatus]:
        """Every torrent's latest snapshot (live from the engine when one runs, else as saved).

        `with_mam` adds MAM's per-torrent view (satisfied or not, MAM's seed time to go) from the
        decision point, read fresh. Tracker trouble on an unsatisfied MAM torrent is flagged
        (`hnr_risk`) either way."""
        rows = [TorrentStatus.from_snapshot(s) for s in self._snapshots()]
        h = self.resolve_hash(info_hash, [r.info_hash for r in rows]) if info_hash else None
        wanted = [r for r in rows if h is None or r.info_hash == h]
        self._decorate_status(wanted)
        if with_mam and wanted:
            decisions = self.may_stop_many([r.info_hash for r in wanted])
            for row in wanted:
                d = decisions[row.info_hash]
                row.mam_satisfied = d.allowed
                row.mam_reason = d.reason
                if d.mam_id is not None and row.mam_id is None:
                    row.mam_id = d.mam_id
                if d.mam_row is not None:
                    row.mam_seedtime = d.mam_row.seedtime
                    row.mam_seed_time_to_go = d.mam_row.seed_time_to_go
        self._mark_risks(wanted)
        return wanted

    def wait_download(self, info_hash: str, timeout: float) -> TorrentSnapshot:
        """The torrent's snapshot as soon as its download is done (complete and verified, stopped
        by an error, or removed), or after `timeout` s with its current progress.

        Why: a front following a download is told the moment it completes instead of finding out
        at its next poll. The embedded engine wakes this on its own status changes; the service's
        API passes it on to other processes (`RemoteBackend.wait_download`); a client backend,
        which has no such signal, is read every 0.25 s here (as often as the CLI polled before),
        in the process that owns it."""
        from mamdl.errors import EngineTimeout

        backend = self.engine()
        h = info_hash.lower()
        remote_wait = getattr(backend, "wait_download", None)
        if remote_wait is not None:
            snap: TorrentSnapshot = remote_wait(h, timeout)
            return snap
        engine_wait = getattr(backend, "wait", None)
        if engine_wait is not None:  # the embedded engine: woken by each status update
            try:
                snap = engine_wait(h, snapshot_done, max(0.0, timeout), fail_on_error=False)
            except EngineTimeout:
                snap = engine_snapshot(backend, h)
            return snap
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            snap = engine_snapshot(backend, h)
            if snapshot_done(snap) or time.monotonic() >= deadline:
                return snap
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))

    def wait_status(self, info_hash: str, timeout: float) -> TorrentStatus:
        """`wait_download` as the status `status(info_hash)` gives (library placement, risks)."""
        snap = self.wait_download(info_hash, timeout)
        if snap.state.value == "removed":
            raise EngineError(f"torrent {info_hash} disappeared (removed elsewhere?)")
        row = TorrentStatus.from_snapshot(snap)
        self._decorate_status([row])
        self._mark_risks([row])
        return row

    def _snapshots(self) -> list[TorrentSnapshot]:
        """Live from the engine this process talks to, else as the owner last saved them."""
        from mamdl.engine import read_status

        if self._engine is not None:
            return self._engine.snapshots()
        return read_status(self.settings.paths.state_dir)

    def resolve_hash(self, prefix: str, known: list[str] | None = None) -> str:
        """Accept a unique prefix of an info-hash, of any length (people paste 8 characters, or type 2)."""
        prefix = prefix.strip().lower()
        if known is None:
            known = [s.info_hash for s in self._snapshots()]
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            raise EngineError(f"{prefix!r} is not (the start of) an info-hash; `mam status` lists them")
        matches = [h for h in known if h.startswith(prefix)]
        if not matches:  # any length will do when it is unique: the status table shows 8 characters
            raise EngineError(f"no torrent with info-hash {prefix!r}; `mam status` lists them")
        if len(matches) > 1:
            raise EngineError(f"{prefix!r} matches {len(matches)} torrents; give more of the info-hash")
        return matches[0]

    def pause(self, info_hash: str) -> TorrentStatus:
        """Pause (never refused: the data stays). Pausing an unsatisfied MAM torrent stops MAM's
        clock too, so the result carries a warning saying so."""
        h = self.resolve_hash(info_hash)
        snap = self.engine().pause(h)
        status = TorrentStatus.from_snapshot(snap)
        d = self.may_stop(h)
        if not d.allowed:
            status.warnings.append(
                "Paused, but this torrent is not satisfied on MAM: while it is paused MAM's seeding clock stops, and "
                "after 30 days unsatisfied it becomes a hit-and-run. " + d.reason
            )
        if d.mam_row is not None:
            status.mam_seedtime, status.mam_seed_time_to_go = d.mam_row.seedtime, d.mam_row.seed_time_to_go
        status.mam_satisfied, status.mam_reason = d.allowed, d.reason
        return status

    def resume(self, info_hash: str, *, force: bool = False) -> TorrentStatus:
        h = self.resolve_hash(info_hash)
        current = [s for s in self.status() if s.info_hash == h]
        if (
            current
            and current[0].state in ("queued", "paused", "finished", "error")
            and current[0].progress < 1
            and not force
        ):
            # Restarting a snatch MAM already counts adds nothing; only an account already over its
            # limit is stopped here (an unreadable summary is not a reason to leave it half done).
            summary = self._fresh_user_for_guard().snatch_summary
            if summary is not None and summary.unsat_limit > 0:
                d = unsatisfied_room(summary, pending=0, reserve=0, already_snatched=True)
                if not d.allowed:
                    raise GuardRefused(d.reason)
        snap = self.engine().resume(h)
        return TorrentStatus.from_snapshot(snap)

    def rate_limits(self) -> RateLimits:
        s = self.settings
        return RateLimits(download_kibps=s.download_limit_kibps, upload_kibps=s.upload_limit_kibps, applied_now=False)

    def set_rate_limits(self, download_kibps: int | None = None, upload_kibps: int | None = None) -> RateLimits:
        """Save the session-wide limits in config.toml and hand them to the engine if one runs
        (the service's, or this process's own); None leaves a limit as it is. Why saved: a limit
        set for a reason (a metered line, the evening's video calls) must survive a restart."""
        from mamdl.config import write_config

        if self.settings.backend != "embedded":
            raise UsageError(
                f"rate limits are the embedded engine's; with backend = {self.settings.backend} "
                "set them in the client (mamdl leaves its limits alone)"
            )
        for v in (download_kibps, upload_kibps):
            if v is not None and v < 0:
                raise UsageError("a rate limit is 0 (unlimited) or a positive number of KiB/s")
        changes = {
            k: v
            for k, v in (("download_limit_kibps", download_kibps), ("upload_limit_kibps", upload_kibps))
            if v is not None
        }
        if not changes:
            return self.rate_limits()
        write_config(changes, self.settings.paths.config_file)
        self.settings = self.settings.model_copy(update=changes)
        applied = False
        if self._engine is not None or self.service_running() is not None:
            self.engine().set_rate_limits(
                None if download_kibps is None else download_kibps * 1024,
                None if upload_kibps is None else upload_kibps * 1024,
            )
            applied = True
        return self.rate_limits().model_copy(update={"applied_now": applied})

    def set_goal(
        self, info_hash: str, *, ratio: float | None = None, hours: float | None = None, force: bool = False
    ) -> TorrentStatus:
        """Change a torrent's goals; a MAM torrent's time goal stays at 72 h or more unless forced."""
        if (ratio is not None and ratio < 0) or (hours is not None and hours < 0):
            raise UsageError("A seeding goal can't be negative (ratio and hours are 0 or more).")
        h = self.resolve_hash(info_hash)
        cur = [s for s in self.status() if s.info_hash == h][0]
        from mamdl.engine import SeedGoal

        goal = SeedGoal(
            ratio=cur.ratio_goal if ratio is None else ratio,
            seed_seconds=cur.seed_seconds_goal if hours is None else int(hours * 3600),
        )
        if hours is not None:
            self.check_goal(goal, is_mam=self.is_mam_torrent(cur), force=force)
        snap = self.engine().set_goal(h, goal)
        return TorrentStatus.from_snapshot(snap)

    def stop_check(self, info_hash: str) -> tuple[bool, str]:
        """May this torrent stop seeding without becoming a hit-and-run? (the decision point)"""
        d = self.may_stop(self.resolve_hash(info_hash))
        return d.allowed, d.reason

    def remove(
        self,
        info_hash: str,
        *,
        delete_data: bool = False,
        force: bool = False,
        confirm: Callable[[str], bool] | None = None,
    ) -> str:
        """Remove a torrent once the decision point allows it (or `force`). With `delete_data`,
        `confirm(question)` must say yes first (fronts prompt the person); without a `confirm`
        the caller has already asked. Nothing is deleted before both."""
        h = self.resolve_hash(info_hash)
        d = self.may_stop(h)
        if not d.allowed and not force:
            raise GuardRefused(d.reason + " Use --force to override.")
        if delete_data and confirm is not None:
            name = next((r.title or r.name for r in self.status() if r.info_hash == h), h)
            if not confirm(f"Delete the downloaded files of {name!r}?"):
                raise GuardRefused("Not confirmed: nothing was removed or deleted.")
        self.engine().remove(h, delete_data=delete_data)
        return d.reason if d.allowed else "forced: " + d.reason

    # ------------------------------------------------------------------ seeding policy

    def stop_satisfied(self) -> list[tuple[str, str]]:
        """Stop (FINISHED: paused, data kept) every torrent whose local goals are met *and* that the
        decision point allows (MAM's per-torrent list, read fresh). A torrent refused is asked
        about again after `snatch_refresh_seconds`. Returns (info_hash, what was decided)."""
        from mamdl.engine import torrents_to_stop

        engine = self.engine()
        if not self._owns_engine:
            return []  # the owner (the service's supervisor) applies the policy
        now = time.monotonic()
        refused_at: dict[str, float] = self.__dict__.setdefault("_refused_at", {})
        candidates = [
            h
            for h in torrents_to_stop(engine.snapshots())
            if now - refused_at.get(h, -1e9) >= self.settings.snatch_refresh_seconds
        ]
        if not candidates:
            return []
        decisions = []
        for h, d in self.may_stop_many(candidates).items():
            if d.allowed:
                engine.finish(h)
                refused_at.pop(h, None)
            else:
                refused_at[h] = now
            decisions.append((h, ("stopped: " if d.allowed else "kept seeding: ") + d.reason))
        return decisions

    # ------------------------------------------------------------------ helpers

    def _fresh_user_for_guard(self):
        """The user, with MAM's counts at most `snatch_refresh_seconds` old."""
        user, cached, age = self.user_info(refresh=False)
        if cached and age > self.settings.snatch_refresh_seconds:
            user, _, _ = self.user_info(refresh=True)
        return user

    def _wedged(self, torrent_id: int) -> bool:
        """A wedge spent (or possibly spent) on this torrent: the client's ledger, or the cache
        entry earlier versions wrote after a successful spend."""
        if self.client.wedge_recorded(torrent_id):
            return True
        return self.cache.get(f"wedge:{self.settings.base_url}:{torrent_id}", ttl=10 * 365 * 86400) is not None


def snapshot_done(snap: TorrentSnapshot) -> bool:
    """A download nobody needs to wait for any longer: complete and verified, errored or removed."""
    return snap.done or snap.state.value in ("error", "removed")


def engine_snapshot(backend: TorrentBackend, info_hash: str) -> TorrentSnapshot:
    """One torrent's snapshot from any backend (the engine reads just that one)."""
    one = getattr(backend, "snapshot", None)
    if one is not None:
        snap: TorrentSnapshot = one(info_hash)
        return snap
    for s in backend.snapshots():
        if s.info_hash == info_hash:
            return s
    raise EngineError(f"no torrent with info-hash {info_hash!r}; `mam status` lists them")
