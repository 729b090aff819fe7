"""`Sandbox`: the whole offline MAM look-alike (site, tracker, payloads, peers) in one object.

It binds 127.0.0.1 only, starts in well under half a second (libtorrent is imported and its
sessions started only when the first payload is generated), and is usable from tests in-process::

    with Sandbox(satisfy_seconds=3, rotate_every=0) as sb:
        httpx2.get(sb.base_url + "/jsonLoad.php", cookies={"mam_id": sb.mam_id})

or from another process through the `/_sandbox/` control endpoints (see `server.py`).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from mamdl.sandbox.bonus import BonusShop
from mamdl.sandbox.catalogue import Catalogue, catalogue_from_data, format_size, load_catalogue
from mamdl.sandbox.cookies import SessionCookies
from mamdl.sandbox.faults import Fault, FaultBook, parse_fault
from mamdl.sandbox.payloads import Payload, PayloadFile, PayloadStore, plan_payload, with_announce
from mamdl.sandbox.rows import check_row_style
from mamdl.sandbox.server import SandboxHTTPServer, dl_hash, serve_in_thread
from mamdl.sandbox.state import Account, AccountState, Timing
from mamdl.sandbox.swarm import Swarm
from mamdl.sandbox.tracker import DEFAULT_ALLOWED_CLIENTS, Tracker

log = logging.getLogger(__name__)

_MAX_LOGGED_REQUESTS = 20000


class Sandbox:
    """A MAM-compatible server, tracker and seeder on 127.0.0.1.

    Args (all keyword-only except `catalogue`):
        catalogue: path to a `{"torrents": [...]}` file, a `Catalogue`, the decoded JSON, or None
            for the built-in catalogue.
        port: 0 picks a free port.
        data_dir: where payloads, `.torrent` files and peer copies go; None = a temporary
            directory removed on close (a given directory is kept and reused as a cache).
        mam_id / passkey: fixed secrets (default: random each run).
        satisfy_seconds: seeding time that satisfies a snatch (MAM: 72 h).
        inactive_seconds: no announce for this long = inactive.
        hnr_seconds: unsatisfied this long after the first announce = hit and run (MAM: 30 days).
        announce_interval: the tracker's `interval` (seconds).
        rotate_every: every N-th authenticated response rotates `mam_id` (0 = never).
        grace: seconds an old `mam_id` keeps working after a rotation (0 = single-use).
        seedbox_window: dynamicSeedbox.php allows one IP change per this many seconds.
        payload_scale: multiplies generated payload sizes (default ebooks ~0.5-2 MiB, audio ~4-16 MiB).
        leecher: run a leecher that downloads whatever the user's client seeds (ratio climbs).
        leecher_pause: seconds between leecher rounds.
        corrupt_peer: True (every payload) or an iterable of torrent ids served corrupted by a
            second seeder.
        seeder_rate_limit: the sandbox seeder's upload limit in bytes/s (0 = none); a slow seeder
            makes progress visible in demos and lets the corrupt peer's pieces arrive first.
        honest_sizes: search rows show the size of the generated payload (what a client will
            really download) instead of the catalogue's realistic listed size.
        allowed_clients: peer-id prefixes the tracker accepts; None accepts every client.
        row_style: "live" (default: search rows typed as the live site sends them, JSON numbers,
            `w`, `ownership` as a string, extra fields) or "doc" (every value a string, as in MAM's
            API help); see `rows.py`.
        summary_style: "nested" (default: `/jsonLoad.php?snatch_summary` nests the buckets under
            `snatch_summary`, as MAM does since spring 2026) or "top" (the older top-level form).
        user: initial values for the user's account (username, uid, classname, wedges, seedbonus,
            base_uploaded, base_downloaded, vip_until, unsat_limit, seedbox_allowed, ...).
        start: start serving at once (default); otherwise call `start()`.
    """

    def __init__(
        self,
        catalogue: str | Path | Catalogue | dict[str, Any] | list[Any] | None = None,
        *,
        port: int = 0,
        data_dir: str | Path | None = None,
        mam_id: str | None = None,
        passkey: str | None = None,
        satisfy_seconds: float = 72 * 3600,
        inactive_seconds: float = 900.0,
        hnr_seconds: float = 30 * 86400,
        announce_interval: int = 5,
        rotate_every: int = 5,
        grace: float = 60.0,
        seedbox_window: float = 3600.0,
        payload_scale: float = 1.0,
        leecher: bool = False,
        leecher_pause: float = 2.0,
        corrupt_peer: bool | Iterable[int] = False,
        seeder_rate_limit: int = 0,
        honest_sizes: bool = False,
        allowed_clients: Iterable[str] | None = DEFAULT_ALLOWED_CLIENTS,
        user: dict[str, Any] | None = None,
        row_style: str = "live",
        summary_style: str = "nested",
        start: bool = True,
    ) -> None:
        self.row_style = check_row_style(row_style)
        self.summary_style = check_summary_style(summary_style)
        if isinstance(catalogue, Catalogue):
            self.catalogue = catalogue
        elif isinstance(catalogue, (dict, list)):
            self.catalogue = catalogue_from_data(catalogue, source="<in-memory catalogue>")
        else:
            self.catalogue = load_catalogue(catalogue)
        if honest_sizes:
            self._use_payload_sizes(payload_scale)
        self.sizes = {e.id: e.size_bytes for e in self.catalogue.entries}
        self._own_data_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="mamdl-sandbox-")) if data_dir is None else Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)

        self.timing = Timing(
            satisfy_seconds=satisfy_seconds,
            inactive_seconds=inactive_seconds,
            hnr_seconds=hnr_seconds,
            announce_interval=int(announce_interval),
            seedbox_window=seedbox_window,
        )
        account = Account(uid=214748, username="sandbox_reader", passkey=passkey or secrets.token_hex(16))
        for key, value in (user or {}).items():
            if key not in {f.name for f in fields(Account)} or key in ("passkey", "role"):
                raise ValueError(f"unknown user field {key!r}")
            setattr(account, key, value)
        self.state = AccountState(account, self.timing)
        self.bonus = BonusShop(self.state.lock)
        self.cookies = SessionCookies(mam_id, rotate_every=rotate_every, grace=grace)
        self.faults = FaultBook()
        self.store = PayloadStore(self.data_dir, scale=payload_scale)
        self.tracker = Tracker(
            self.state,
            self.catalogue,
            self.store,
            self.timing,
            allowed_clients=tuple(allowed_clients) if allowed_clients is not None else None,
            on_user_seeding=self._user_seeding,
            resolve_hash=self._tid_for_announce,
        )
        self.swarm = Swarm(
            state=self.state,
            tracker=self.tracker,
            store=self.store,
            announce_url=self.announce_url_for,
            data_dir=self.data_dir,
            leecher=leecher,
            corrupt_peer=corrupt_peer,
            leecher_pause=leecher_pause,
            seeder_rate_limit=seeder_rate_limit,
        )
        self._requests: list[dict[str, Any]] = []
        self._requests_lock = threading.Lock()
        self._http: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._requested_port = port
        self.closed = False
        if start:
            self.start()

    def _use_payload_sizes(self, scale: float) -> None:
        """Rows (and size filters/sorts) show the generated payload's size instead of the listed one."""
        for entry in self.catalogue.entries:
            total = plan_payload(entry, scale).total_size
            entry.row = {**entry.row, "size": format_size(total)}
            entry.size_bytes = total

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        if self._http is None:
            self._http = SandboxHTTPServer(self, self._requested_port)
            self._thread = serve_in_thread(self._http)
        return self

    def close(self) -> None:
        """Stop the peers (while the tracker still answers their `stopped`), then the HTTP server."""
        if self.closed:
            return
        self.closed = True
        self.swarm.close()
        if self._http is not None:
            self._stop_http(self._http)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @staticmethod
    def _stop_http(server: SandboxHTTPServer) -> None:
        """`shutdown()` waits for serve_forever's next poll; a throwaway connection wakes it at once."""
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        time.sleep(0.001)  # let shutdown() raise its flag first
        try:
            host, port = server.server_address[:2]
            socket.create_connection((str(host), int(port)), timeout=0.5).close()
        except OSError:
            pass
        stopper.join(timeout=5)
        server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ addresses & secrets

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the sandbox is not started")
        return self._http.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mam_id(self) -> str:
        """The currently valid cookie value (changes when the sandbox rotates it)."""
        return self.cookies.current

    @property
    def passkey(self) -> str:
        return self.state.user.passkey

    @property
    def announce_url(self) -> str:
        return self.announce_url_for(self.passkey)

    def announce_url_for(self, passkey: str) -> str:
        return f"{self.base_url}/announce?passkey={passkey}"

    def dl_hash(self, tid: int) -> str:
        return dl_hash(self.passkey, tid)

    # ------------------------------------------------------------------ requests & faults

    def log_request(self, t: float, path: str, method: str, status: int) -> None:
        with self._requests_lock:
            self._requests.append({"t": t, "path": path, "method": method, "status": status})
            if len(self._requests) > _MAX_LOGGED_REQUESTS:
                del self._requests[: len(self._requests) - _MAX_LOGGED_REQUESTS]

    def requests(self, *, include_announces: bool = True) -> list[dict[str, Any]]:
        """Recorded requests `{t, path, method, status}` (never query strings or cookies)."""
        with self._requests_lock:
            rows = list(self._requests)
        if not include_announces:
            rows = [r for r in rows if r["path"] != "/announce"]
        return rows

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def add_fault(self, spec: dict[str, Any] | str | None = None, /, **kwargs: Any) -> Fault:
        """Queue a fault: `add_fault("status", status=429, count=2, retry_after=1)` or a dict."""
        if isinstance(spec, str):
            spec = {"kind": spec}
        merged = {**(spec or {}), **kwargs}
        fault = parse_fault(merged)
        if fault.kind == "expire_after":
            self.cookies.expire_after(fault.n)
        else:
            self.faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    # ------------------------------------------------------------------ session & account

    def new_session(self, value: str | None = None) -> str:
        """A fresh mam_id, as if the user created a new session on the site; older values die."""
        return self.cookies.new_session(value)

    def rotate_cookie(self) -> str:
        """Rotate now (the old value stays valid for `grace` seconds)."""
        return self.cookies.rotate()

    def reset(self) -> None:
        """Faults, request log, account, snatches and accounting back to how they started.
        The current mam_id (and the first one) keep working."""
        self.faults.clear()
        self.clear_requests()
        self.cookies.reset()
        self.state.reset()
        self.bonus.reset()
        self.tracker.reset()

    def set_user(self, **values: Any) -> None:
        """Change the user's account: wedges, classname, vip_until, base_uploaded, seedbox_allowed, ..."""
        self.state.update_user(**values)

    def configure(self, **values: Any) -> None:
        """Change timing (satisfy_seconds, inactive_seconds, hnr_seconds, announce_interval,
        seedbox_window), cookie behaviour (rotate_every, grace) or the answer forms (row_style,
        summary_style) while running."""
        timing_fields = {f.name for f in fields(Timing)}
        for key, value in values.items():
            if key in timing_fields:
                setattr(self.timing, key, type(getattr(self.timing, key))(value))
            elif key == "rotate_every":
                self.cookies.rotate_every = int(value)
            elif key == "grace":
                self.cookies.grace = float(value)
            elif key == "row_style":
                self.row_style = check_row_style(str(value))
            elif key == "summary_style":
                self.summary_style = check_summary_style(str(value))
            else:
                known = timing_fields | {"rotate_every", "grace", "row_style", "summary_style"}
                raise ValueError(f"unknown setting {key!r}; known: {', '.join(sorted(known))}")

    def add_snatch(self, tid: int, **kwargs: Any) -> None:
        """A made-up snatch for the user: `age`, `seeded` (seconds), `left`, `active`."""
        if self.catalogue.get(tid) is None:
            raise ValueError(f"no torrent {tid} in the catalogue")
        self.state.add_snatch(tid, **kwargs)

    def user_info(self, *, snatch_summary: bool = True) -> dict[str, Any]:
        """What `/jsonLoad.php` would answer now."""
        return self.state.user_json(
            self.state.user,
            sizes=self.sizes,
            now=time.time(),
            snatch_summary=snatch_summary,
            summary_style=self.summary_style,
        )

    def state_snapshot(self) -> dict[str, Any]:
        snap = self.state.snapshot(time.time())
        snap["swarm"] = self.swarm.status()
        snap["bonus_purchases"] = self.bonus.purchases_json()
        snap["cookie"] = {
            "rotations": self.cookies.rotations,
            "revoked": self.cookies.revoked,
            "rotate_every": self.cookies.rotate_every,
            "grace": self.cookies.grace,
        }
        return snap

    def bonus_purchases(self) -> list[dict[str, Any]]:
        """Every bonus purchase the sandbox performed, answered or not: `{t, spendtype, amount,
        cost, balance_after}` (see `sandbox/bonus.py`)."""
        return self.bonus.purchases_json()

    def wedge_spends(self) -> list[dict[str, Any]]:
        return [asdict(w) for w in self.state.wedge_log]

    # ------------------------------------------------------------------ payloads

    def payload(self, tid: int) -> Payload:
        """The payload of torrent `tid`, generated (and seeded) on first use."""
        entry = self.catalogue.get(tid)
        if entry is None:
            raise KeyError(f"no torrent {tid} in the catalogue")
        payload = self.store.ensure(entry)
        self.swarm.seed(payload)
        return payload

    def payload_files(self, tid: int) -> list[PayloadFile]:
        """Files of torrent `tid` with their expected SHA-256, for verifying a download."""
        return list(self.payload(tid).files)

    def torrent_bytes(self, tid: int, *, passkey: str | None = None) -> bytes:
        """The `.torrent` the user (or `passkey`) gets for `tid`: announce URL with that passkey."""
        payload = self.payload(tid)
        return with_announce(
            payload.torrent_bytes(), self.announce_url_for(passkey or self.passkey), comment=f"{self.base_url}/t/{tid}"
        )

    def info_hash(self, tid: int) -> str:
        return self.payload(tid).info_hash

    def payload_info(self, tid: int) -> dict[str, Any]:
        payload = self.payload(tid)
        return {
            "tid": tid,
            "name": payload.name,
            "info_hash": payload.info_hash,
            "save_path": str(payload.save_path),
            "total_size": payload.total_size,
            "piece_length": payload.piece_length,
            "files": [
                {"relpath": f.relpath, "path": str(f.path), "size": f.size, "sha256": f.sha256} for f in payload.files
            ],
        }

    # ------------------------------------------------------------------ misc

    def _tid_for_announce(self, info_hash: str) -> int | None:
        """The torrent behind an announced info-hash; a payload an earlier run left in the data
        dir is loaded and seeded again on the spot (a client may have seeded across a restart)."""
        tid = self.store.tid_for_hash(info_hash)
        if tid is None or self.catalogue.get(tid) is None:
            return None
        if self.store.get(tid) is None:
            try:
                payload = self.payload(tid)
            except Exception:  # an unreadable leftover must not break the announce
                log.exception("could not reload payload %s", tid)
                return None
            if payload.info_hash != info_hash:
                return None  # the catalogue or scale changed since: that torrent no longer exists
        return tid

    def _user_seeding(self, info_hash: str) -> None:
        self.swarm.user_seeding(info_hash)

    def info(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "mam_id": self.mam_id,
            "passkey": self.passkey,
            "announce_url": self.announce_url,
            "tracker": f"{self.base_url}/announce",
            "seedbox_url": self.base_url,
            "username": self.state.user.username,
            "catalogue": {"source": self.catalogue.source, "torrents": len(self.catalogue)},
            "data_dir": str(self.data_dir),
            "timing": asdict(self.timing),
            "rotate_every": self.cookies.rotate_every,
            "grace": self.cookies.grace,
            "row_style": self.row_style,
            "summary_style": self.summary_style,
            "leecher": self.swarm.leecher_enabled,
            "seeder_port": self.swarm.seeder_port,
            "allowed_clients": list(self.tracker.allowed_clients) if self.tracker.allowed_clients else None,
        }


def check_summary_style(style: str) -> str:
    if style not in ("nested", "top"):
        raise ValueError(f"summary_style must be nested or top, not {style!r}")
    return style


__all__ = ["Sandbox"]
