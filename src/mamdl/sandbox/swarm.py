"""The sandbox's own BitTorrent peers: a seeder, an optional leecher, an optional corrupt peer.

- **Seeder**: one libtorrent session seeding every payload the sandbox generated (a payload is
  added the moment it is generated, i.e. on its first `.torrent` download), announcing with its
  own passkey. It is also put into the tracker's swarm straight away, so a client's first
  announce already finds it.
- **Leecher** (optional): when the sandbox user's client announces that it seeds a torrent, the
  leecher downloads it. The tracker never tells the leecher about the sandbox's seeder, so every
  byte comes from the client and the client's ratio climbs. When done it deletes the copy and
  starts again after a pause, so ratios above 1 are reachable.
- **Corrupt peer** (optional): seeds a copy of each payload with bytes flipped every 8 KiB, in
  seed mode with every piece marked verified so libtorrent serves it unchecked. Clients see
  `hash_failed` and should ban it and finish from the good seeder.

Loopback settings follow mam-api.md: listen on 127.0.0.1 only; DHT, LSD, UPnP and NAT-PMP off;
several connections per IP allowed (every peer is 127.0.0.1); TCP only (uTP on loopback is
pathologically slow). libtorrent is imported, and the sessions started, only when first needed.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamdl.sandbox.payloads import Payload, PayloadStore, with_announce
from mamdl.sandbox.state import Account, AccountState
from mamdl.sandbox.tracker import Tracker

log = logging.getLogger(__name__)


def loopback_settings(user_agent: str) -> dict[str, Any]:
    """libtorrent settings for a session that lives on 127.0.0.1 next to other local peers."""
    return {
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "min_announce_interval": 1,
        "min_reconnect_time": 1,
        "stop_tracker_timeout": 1,
        # ^ a client living in the same process as the sandbox should pause its session and sleep a
        #   moment before destroying it: the destructor holds the GIL, so the sandbox cannot answer
        #   the `stopped` announce and the destructor waits this long.
        "unchoke_slots_limit": -1,
        # Recover fast when a peer (e.g. a banned corrupt one) leaves requests hanging.
        "request_timeout": 5,
        "piece_timeout": 5,
        "user_agent": user_agent,
        "alert_mask": 0,
    }


@dataclass
class _LeechJob:
    tid: int
    info_hash: str
    handle: Any = None
    round: int = 0
    save_path: Path | None = None
    restart_at: float | None = None
    rounds_completed: int = 0


class Swarm:
    def __init__(
        self,
        *,
        state: AccountState,
        tracker: Tracker,
        store: PayloadStore,
        announce_url: Callable[[str], str],
        data_dir: Path,
        leecher: bool = False,
        corrupt_peer: bool | Iterable[int] = False,
        leecher_pause: float = 2.0,
        leecher_rate_limit: int = 0,
        seeder_rate_limit: int = 0,
    ) -> None:
        self.state = state
        self.tracker = tracker
        self.store = store
        self.announce_url = announce_url
        self.data_dir = Path(data_dir)
        self.leecher_enabled = leecher
        if isinstance(corrupt_peer, bool):
            self._corrupt_tids: set[int] | None = None if corrupt_peer else set()
        else:
            self._corrupt_tids = set(corrupt_peer)
        self.leecher_pause = leecher_pause
        self.leecher_rate_limit = leecher_rate_limit
        self.seeder_rate_limit = seeder_rate_limit
        self.seeder_account: Account = state.add_internal("seeder", 1, "sandbox_seeder")
        self.leecher_account: Account = state.add_internal("leecher", 2, "sandbox_leecher")
        self.corrupt_account: Account = state.add_internal("corrupt", 3, "sandbox_corrupt")
        self._lock = threading.RLock()
        self._sessions: dict[str, Any] = {}
        self._seeding: dict[int, Any] = {}
        self._corrupt: dict[int, Any] = {}
        self._jobs: dict[str, _LeechJob] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = False

    # ------------------------------------------------------------------ sessions

    def _session(self, role: str) -> Any:
        with self._lock:
            ses = self._sessions.get(role)
            if ses is None:
                import libtorrent as lt

                settings = loopback_settings(f"mamdl-sandbox-{role}/libtorrent {lt.__version__}")
                # No `stopped` announces: the sandbox goes down with its peers, and a session
                # destroyed from Python holds the GIL, so this very process could not answer them
                # (the destructor would wait stop_tracker_timeout for nothing).
                settings["stop_tracker_timeout"] = 0
                if role == "corrupt":
                    # Never dial out: a client bans the corrupt peer by its listening endpoint,
                    # and connections from ever-new source ports would slip past that ban.
                    settings["connection_speed"] = 0
                    settings["min_reconnect_time"] = 3600
                ses = lt.session(settings)  # type: ignore[call-overload]  # the bindings take a dict; the stubs omit it
                if role == "leecher" and self.leecher_rate_limit:
                    ses.apply_settings({"download_rate_limit": self.leecher_rate_limit})
                if role == "seeder" and self.seeder_rate_limit:
                    ses.apply_settings({"upload_rate_limit": self.seeder_rate_limit})
                self._sessions[role] = ses
                self._ensure_thread()
            return ses

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="sandbox-swarm", daemon=True)
            self._thread.start()

    def corrupt_enabled_for(self, tid: int) -> bool:
        return self._corrupt_tids is None or tid in self._corrupt_tids

    @property
    def seeder_port(self) -> int | None:
        ses = self._sessions.get("seeder")
        return ses.listen_port() if ses is not None else None

    # ------------------------------------------------------------------ seeding

    def seed(self, payload: Payload) -> None:
        """Seed `payload` from the sandbox seeder (and the corrupt peer, when enabled for it)."""
        if self.closed:
            return
        with self._lock:
            if payload.tid not in self._seeding:
                ses = self._session("seeder")
                self._seeding[payload.tid] = self._add_seed(ses, payload, payload.save_path, self.seeder_account)
                self.tracker.register_peer(payload.info_hash, self.seeder_account.passkey, ses.listen_port())
            if self.corrupt_enabled_for(payload.tid) and payload.tid not in self._corrupt:
                ses = self._session("corrupt")
                copy = self.store.corrupt_copy(payload)
                self._corrupt[payload.tid] = self._add_seed(ses, payload, copy, self.corrupt_account, trust=True)
                self.tracker.register_peer(payload.info_hash, self.corrupt_account.passkey, ses.listen_port())

    def _add_seed(self, ses: Any, payload: Payload, save_path: Path, account: Account, *, trust: bool = False) -> Any:
        import libtorrent as lt

        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(with_announce(payload.torrent_bytes(), self.announce_url(account.passkey)))
        atp.save_path = str(save_path)
        atp.flags = (atp.flags | lt.torrent_flags.seed_mode) & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
        if trust:
            # Seed mode alone re-verifies a piece the first time a peer asks for it; marking every
            # piece verified skips that, which is what lets the corrupt peer serve bad data.
            atp.verified_pieces = [True] * payload.num_pieces
        return ses.add_torrent(atp)

    # ------------------------------------------------------------------ leecher

    def user_seeding(self, info_hash: str) -> None:
        """Tracker hook: the sandbox user's client announced it seeds `info_hash`."""
        if not self.leecher_enabled or self.closed:
            return
        with self._lock:
            job = self._jobs.get(info_hash)
            if job is not None:
                if job.handle is None and job.restart_at is None:
                    job.restart_at = time.time()
                return
            tid = self.store.tid_for_hash(info_hash)
            if tid is None:
                return
            job = _LeechJob(tid=tid, info_hash=info_hash, restart_at=time.time())
            self._jobs[info_hash] = job
        self._session("leecher")

    def _start_round(self, job: _LeechJob) -> None:
        import libtorrent as lt

        payload = self.store.get(job.tid)
        if payload is None:
            return
        job.round += 1
        job.save_path = self.data_dir / "leecher" / str(job.tid) / str(job.round)
        job.save_path.mkdir(parents=True, exist_ok=True)
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(
            with_announce(payload.torrent_bytes(), self.announce_url(self.leecher_account.passkey))
        )
        atp.save_path = str(job.save_path)
        atp.flags = atp.flags & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
        job.handle = self._session("leecher").add_torrent(atp)
        job.restart_at = None

    def _user_still_seeding(self, info_hash: str) -> bool:
        now = time.time()
        limit = max(3 * self.tracker.timing.announce_interval, 30)
        return any(
            p.role == "user" and p.left == 0 and now - p.last_seen < limit for p in self.tracker.peers(info_hash)
        )

    def _tick_leecher(self) -> None:
        import libtorrent as lt

        ses = self._sessions.get("leecher")
        if ses is None:
            return
        now = time.time()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.handle is not None:
                status = job.handle.status()
                if status.is_seeding or status.state == lt.torrent_status.seeding:
                    ses.remove_torrent(job.handle, lt.session.delete_files)
                    job.handle = None
                    job.rounds_completed += 1
                    old = job.save_path
                    job.restart_at = now + self.leecher_pause
                    if old is not None:
                        shutil.rmtree(old, ignore_errors=True)
            elif job.restart_at is not None and now >= job.restart_at:
                if self._user_still_seeding(job.info_hash):
                    self._start_round(job)
                else:
                    job.restart_at = None  # the next seeding announce restarts it

    def leecher_rounds(self) -> dict[int, int]:
        """Completed leecher downloads per torrent id."""
        with self._lock:
            return {job.tid: job.rounds_completed for job in self._jobs.values()}

    # ------------------------------------------------------------------ background loop

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            try:
                for ses in list(self._sessions.values()):
                    ses.pop_alerts()
                self._tick_leecher()
            except Exception:  # keep the swarm alive whatever one tick did
                log.exception("sandbox swarm tick failed")

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seeder_port": self.seeder_port, "seeding": sorted(self._seeding)}
        if self._corrupt:
            out["corrupt"] = sorted(self._corrupt)
        if self.leecher_enabled:
            out["leecher_rounds"] = self.leecher_rounds()
        return out

    def close(self) -> None:
        self.closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
            self._seeding.clear()
            self._corrupt.clear()
            self._jobs.clear()
        del sessions  # stop_tracker_timeout=0: the destructors return at once
