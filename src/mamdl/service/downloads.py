"""The service's download half: who drives the backend, getting a book, status, seeding, removal.

One backend (today: one libtorrent session) per state dir, owned by the background service
(`mam serve`) or by a self-contained `--foreground` run. Any other process talks to the service
through its local HTTP API (`RemoteBackend`); with no service running, a process that needs the
backend starts one detached (`auto_serve`), so seeding outlives the command that asked for it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamdl.errors import EngineBusy, EngineError, GuardRefused, UsageError
from mamdl.service.base import ServiceBase
from mamdl.service.guards import LocalSeed, removal_decision, unsatisfied_room, wedge_decision
from mamdl.service.models import FetchResult, GetPreview, GetResult, TorrentStatus

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
    }
    if settings.is_loopback:
        return EngineConfig.loopback(**common)
    mapping = port_mapping_enabled(settings)
    return EngineConfig(enable_utp=settings.enable_utp, enable_upnp=mapping, enable_natpmp=mapping, **common)


class DownloadsMixin(ServiceBase):
    """The engine half of `Service`; builds on `ServiceBase`'s `settings`, `client`, `user_info`,
    `lookup` and `fetch`."""

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

    def start_engine(self) -> TorrentBackend:
        """Own the backend for this state dir (raises EngineBusy naming the holder)."""
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

        Before a download: the unsatisfied guard (refuses with the numbers unless `force`) and the
        wedge decision (`wedge` = never/auto/always, default from config)."""
        result = self.lookup_row(torrent_id)  # None: MAM's search missed it; fetch by tid regardless
        notes: list[str] = []
        mode = wedge or self.settings.wedge
        user = None
        if download:
            user = self._fresh_user_for_guard()
            decision = unsatisfied_room(
                user.snatch_summary,
                pending=self._started_since(self._user_fetched_at),
                reserve=self.settings.unsat_reserve,
                already_snatched=bool(result and result.my_snatched),
            )
            if not decision.allowed:
                if not force:
                    raise GuardRefused(decision.reason)
                notes.append("Unsatisfied guard overridden (--force): " + decision.reason)
            else:
                notes.append(decision.reason)
        elif mode != "never":
            user = self.user_info()[0]  # the wedge decision needs the wedge count and VIP status
        wd = wedge_decision(
            mode,
            result,
            user,
            min_bytes=self.settings.wedge_min_bytes,
            already_wedged=self._wedged(torrent_id),
        )
        # The client records a wedge in its ledger before sending `&fl`, so a lost answer or a
        # second `mam get` can never spend another on this torrent.
        fetched: FetchResult = self.fetch(torrent_id, result=result, wedge=wd.allowed, wedge_reason=wd.reason)
        info_hash = None
        if download:
            save = (dest or self.settings.effective_download_dir).expanduser()
            engine = self.engine()
            info_hash = engine.add(
                Path(fetched.path), save, mam_id=torrent_id, title=fetched.title, goal=goal or self.default_goal()
            )
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
        user = self._fresh_user_for_guard()
        room = unsatisfied_room(
            user.snatch_summary,
            pending=self._started_since(self._user_fetched_at),
            reserve=self.settings.unsat_reserve,
            already_snatched=result.my_snatched,
        )
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

    def add_torrent_file(
        self, path: Path, *, dest: Path | None = None, goal: SeedGoal | None = None, force: bool = False
    ) -> str:
        """`mam download FILE.torrent`: a .torrent from disk (validated before libtorrent sees it)."""
        from mamdl.engine import load_torrent

        tf = load_torrent(path)
        if tf.private and not force:
            user = self._fresh_user_for_guard()
            d = unsatisfied_room(
                user.snatch_summary,
                pending=self._started_since(self._user_fetched_at),
                reserve=self.settings.unsat_reserve,
            )
            if not d.allowed:
                raise GuardRefused(d.reason)
        save = (dest or self.settings.effective_download_dir).expanduser()
        return self.engine().add(tf.raw, save, title=tf.name, goal=goal or self.default_goal())

    # ------------------------------------------------------------------ status and control

    def status(self, info_hash: str | None = None, *, with_mam: bool = False) -> list[TorrentStatus]:
        """Every torrent's latest snapshot (live from the engine when one runs, else as saved).

        `with_mam` adds MAM's view (`mam_satisfied`) from the user's snatch summary (one request at
        most, cached for a few minutes)."""
        rows = [TorrentStatus.from_snapshot(s) for s in self._snapshots()]
        h = self.resolve_hash(info_hash, [r.info_hash for r in rows]) if info_hash else None
        wanted = [r for r in rows if h is None or r.info_hash == h]
        self._decorate_status(wanted)
        if with_mam and any(r.mam_id is not None for r in wanted):
            # MAM's view of one torrent depends on every local torrent, so judge against all rows.
            summary = self._fresh_user_for_guard().snatch_summary
            seeds = _local_seeds(rows)
            for row in wanted:
                if row.mam_id is not None:
                    target = next(t for t in seeds if t.info_hash == row.info_hash)
                    row.mam_satisfied = removal_decision(target, seeds, summary).allowed
        return wanted

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
        snap = self.engine().pause(self.resolve_hash(info_hash))
        return TorrentStatus.from_snapshot(snap)

    def resume(self, info_hash: str, *, force: bool = False) -> TorrentStatus:
        h = self.resolve_hash(info_hash)
        current = [s for s in self.status() if s.info_hash == h]
        if (
            current
            and current[0].state in ("queued", "paused", "finished", "error")
            and current[0].progress < 1
            and not force
        ):
            user = self._fresh_user_for_guard()
            d = unsatisfied_room(user.snatch_summary, pending=0, reserve=0, already_snatched=True)
            if not d.allowed:
                raise GuardRefused(d.reason)
        snap = self.engine().resume(h)
        return TorrentStatus.from_snapshot(snap)

    def set_goal(self, info_hash: str, *, ratio: float | None = None, hours: float | None = None) -> TorrentStatus:
        if (ratio is not None and ratio < 0) or (hours is not None and hours < 0):
            raise UsageError("A seeding goal can't be negative (ratio and hours are 0 or more).")
        h = self.resolve_hash(info_hash)
        cur = [s for s in self.status() if s.info_hash == h][0]
        from mamdl.engine import SeedGoal

        goal = SeedGoal(
            ratio=cur.ratio_goal if ratio is None else ratio,
            seed_seconds=cur.seed_seconds_goal if hours is None else int(hours * 3600),
        )
        snap = self.engine().set_goal(h, goal)
        return TorrentStatus.from_snapshot(snap)

    def stop_check(self, info_hash: str, *, refresh: bool = True) -> tuple[bool, str]:
        """May this torrent stop seeding without becoming a hit-and-run? Asks MAM's counts (fresh
        for an explicit removal; at most `snatch_refresh_seconds` old for the seeding loop)."""
        statuses = self.status()
        h = self.resolve_hash(info_hash, [s.info_hash for s in statuses])
        locals_ = _local_seeds(statuses)
        target = next((t for t in locals_ if t.info_hash == h), None)
        if target is None:
            return True, "not a MAM torrent; no hit-and-run rule applies."
        summary = (self.user_info(refresh=True)[0] if refresh else self._fresh_user_for_guard()).snatch_summary
        d = removal_decision(target, locals_, summary)
        return d.allowed, d.reason

    def remove(self, info_hash: str, *, delete_data: bool = False, force: bool = False) -> str:
        h = self.resolve_hash(info_hash)
        allowed, reason = self.stop_check(h)
        if not allowed and not force:
            raise GuardRefused(reason)
        self.engine().remove(h, delete_data=delete_data)
        return reason if allowed else "forced: " + reason

    # ------------------------------------------------------------------ seeding policy

    def stop_satisfied(self) -> list[tuple[str, str]]:
        """Stop (FINISHED: paused, data kept) every torrent whose local goals are met *and* that MAM
        agrees is satisfied. Returns (info_hash, what was decided) for each candidate."""
        from mamdl.engine import torrents_to_stop

        engine = self.engine()
        if not self._owns_engine:
            return []  # the owner (the service's supervisor) applies the policy
        decisions = []
        candidates = torrents_to_stop(engine.snapshots())
        for h in candidates:
            allowed, reason = self.stop_check(h, refresh=False)
            if allowed:
                engine.finish(h)
            decisions.append((h, ("stopped: " if allowed else "kept seeding: ") + reason))
        return decisions

    # ------------------------------------------------------------------ helpers

    _user_fetched_at: float = 0.0

    def _fresh_user_for_guard(self):
        user, cached, age = self.user_info(refresh=False)
        if not cached or age > self.settings.snatch_refresh_seconds:
            if cached:
                user, _, _ = self.user_info(refresh=True)
            self._user_fetched_at = time.time()
        else:
            self._user_fetched_at = time.time() - age
        return user

    def _started_since(self, since: float) -> int:
        """Local MAM downloads added after MAM's numbers were read (MAM doesn't count them yet)."""
        return sum(1 for s in self.status() if (s.mam_id is not None) and (s.added_at or 0) > since)

    def _wedged(self, torrent_id: int) -> bool:
        """A wedge spent (or possibly spent) on this torrent: the client's ledger, or the cache
        entry earlier versions wrote after a successful spend."""
        if self.client.wedge_recorded(torrent_id):
            return True
        return self.cache.get(f"wedge:{self.settings.base_url}:{torrent_id}", ttl=10 * 365 * 86400) is not None


def _local_seeds(rows: list[TorrentStatus]) -> list[LocalSeed]:
    """The MAM torrents held here, as the hit-and-run check sees them."""
    return [
        LocalSeed(r.info_hash, r.title or r.name, r.seeding_seconds, r.progress >= 1.0, r.seed_seconds_goal)
        for r in rows
        if r.mam_id is not None
    ]
