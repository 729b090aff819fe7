"""A private BitTorrent tracker in MAM's image, served on the sandbox's own HTTP port.

Loopback form: `http://127.0.0.1:PORT/announce?passkey=<pk>` (libtorrent's SSRF mitigation only
lets a loopback tracker through when the path is exactly `/announce`, see mam-api.md); MAM's own
form `/tracker.php/<pk>/announce` is answered too, for clients without that mitigation.

What it does, and why:
- bencoded answers with compact peer lists and a short `interval` (so tests see stats quickly);
- `failure reason` for an unknown passkey ("Unrecognized host/passkey"), a torrent the sandbox
  never handed out, and a client outside the allow-list (by peer-id prefix, "Client not allowed");
- per-passkey, per-torrent uploaded/downloaded accounting from announce deltas, fed to
  `AccountState`, which turns it into ratio and snatch buckets;
- the sandbox's leecher is never told about the sandbox's own seeder (or corrupt peer), so the
  only bytes it can get come from the real client, which is what makes that client's ratio climb;
- the corrupt peer is told about nobody, so it never dials out and a client's ban sticks.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

import fastbencode

from mamdl.sandbox.catalogue import Catalogue
from mamdl.sandbox.payloads import PayloadStore
from mamdl.sandbox.state import AccountState, Timing

log = logging.getLogger(__name__)

DEFAULT_ALLOWED_CLIENTS: tuple[str, ...] = ("-LT", "-qB", "-TR", "A2-", "-DE")
"""Peer-id prefixes accepted by default: libtorrent, qBittorrent, Transmission, aria2, Deluge."""

UNKNOWN_PASSKEY = "Unrecognized host/passkey"
CLIENT_NOT_ALLOWED = "Client not allowed"
UNREGISTERED = "Torrent not registered with this tracker"
INTERNAL_ROLES = ("seeder", "corrupt")


@dataclass
class Peer:
    passkey: str
    role: str
    ip: str
    port: int
    left: int
    last_seen: float
    peer_id: bytes = b""


def parse_announce_query(query: str) -> dict[str, bytes]:
    """The announce query with values as raw bytes (info_hash and peer_id are binary)."""
    params: dict[str, bytes] = {}
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        params[unquote_to_bytes(key).decode("latin-1")] = unquote_to_bytes(value)
    return params


def failure(reason: str, interval: int | None = None) -> bytes:
    body: dict[bytes, object] = {b"failure reason": reason.encode()}
    if interval:
        body[b"interval"] = interval
        body[b"min interval"] = interval
    return fastbencode.bencode(body)


class Tracker:
    def __init__(
        self,
        state: AccountState,
        catalogue: Catalogue,
        store: PayloadStore,
        timing: Timing,
        *,
        allowed_clients: tuple[str, ...] | None = DEFAULT_ALLOWED_CLIENTS,
        on_user_seeding: Callable[[str], None] | None = None,
        resolve_hash: Callable[[str], int | None] | None = None,
    ) -> None:
        self.state = state
        self.catalogue = catalogue
        self.store = store
        self.timing = timing
        self.allowed_clients = allowed_clients
        self.on_user_seeding = on_user_seeding
        self.resolve_hash = resolve_hash or store.tid_for_hash
        self._lock = threading.Lock()
        self.swarms: dict[str, dict[tuple[str, str, int], Peer]] = {}
        self._baselines: dict[tuple[str, str, bytes], tuple[int, int]] = {}
        self._corrupt_given: set[tuple[str, tuple[str, str, int]]] = set()
        self.announces = 0

    # ------------------------------------------------------------------ internal peers

    def register_peer(self, info_hash: str, passkey: str, port: int, *, left: int = 0, ip: str = "127.0.0.1") -> None:
        """Put one of the sandbox's own peers in a swarm before it announced (so the first client
        announce already finds the seeder instead of waiting a whole interval)."""
        account = self.state.by_passkey(passkey)
        role = account.role if account else "user"
        with self._lock:
            self.swarms.setdefault(info_hash, {})[(passkey, ip, port)] = Peer(
                passkey=passkey, role=role, ip=ip, port=port, left=left, last_seen=time.time()
            )

    def unregister_peer(self, info_hash: str, passkey: str) -> None:
        with self._lock:
            swarm = self.swarms.get(info_hash, {})
            for key in [k for k in swarm if k[0] == passkey]:
                del swarm[key]

    def peers(self, info_hash: str) -> list[Peer]:
        with self._lock:
            return list(self.swarms.get(info_hash, {}).values())

    def reset(self) -> None:
        """Forget client peers and accounting baselines; keep the sandbox's own peers."""
        with self._lock:
            for swarm in self.swarms.values():
                for key in [k for k, p in swarm.items() if p.role not in INTERNAL_ROLES + ("leecher",)]:
                    del swarm[key]
            self._baselines.clear()
            self._corrupt_given.clear()

    # ------------------------------------------------------------------ announce

    def announce(self, params: dict[str, bytes], remote_ip: str, *, passkey: str | None = None) -> bytes:
        """Answer one announce (already parsed with `parse_announce_query`) as bencoded bytes."""
        interval = self.timing.announce_interval
        now = time.time()
        self.announces += 1
        passkey = passkey or params.get("passkey", b"").decode("latin-1")
        account = self.state.by_passkey(passkey) if passkey else None
        if account is None:
            return failure(UNKNOWN_PASSKEY, interval)
        peer_id = params.get("peer_id", b"")
        if self.allowed_clients is not None:
            text = peer_id.decode("latin-1")
            if not any(text.startswith(prefix) for prefix in self.allowed_clients):
                return failure(CLIENT_NOT_ALLOWED, interval)
        raw_hash = params.get("info_hash", b"")
        if len(raw_hash) != 20:
            return failure("Invalid info_hash", interval)
        info_hash = raw_hash.hex()
        tid = self.resolve_hash(info_hash)
        entry = self.catalogue.get(tid) if tid is not None else None
        if entry is None:
            return failure(UNREGISTERED, interval)
        try:
            port = int(params.get("port", b"0"))
            uploaded = int(params.get("uploaded", b"0") or 0)
            downloaded = int(params.get("downloaded", b"0") or 0)
            left = int(params.get("left", b"0") or 0)
            numwant = int(params.get("numwant", b"50") or 50)
        except ValueError:
            return failure("Invalid announce: port/uploaded/downloaded/left must be numbers", interval)
        if not 0 < port < 65536:
            return failure("Invalid port", interval)
        event = params.get("event", b"").decode("latin-1")
        ip = remote_ip

        # Accounting: the announce carries session totals; the tracker books the difference.
        bkey = (passkey, info_hash, peer_id)
        with self._lock:
            prev_up, prev_down = (0, 0) if event == "started" else self._baselines.get(bkey, (0, 0))
            up_delta = uploaded - prev_up if uploaded >= prev_up else uploaded
            down_delta = downloaded - prev_down if downloaded >= prev_down else downloaded
            if event == "stopped":
                self._baselines.pop(bkey, None)
            else:
                self._baselines[bkey] = (uploaded, downloaded)
        free = self.state.is_free_for(account, entry.id, free=entry.free, fl_vip=entry.fl_vip)
        self.state.record_announce(
            account,
            entry.id,
            info_hash,
            uploaded_delta=up_delta,
            downloaded_delta=down_delta,
            left=left,
            event=event,
            free=free,
            now=now,
        )

        with self._lock:
            swarm = self.swarms.setdefault(info_hash, {})
            stale = now - max(3 * interval, 60)
            for key in [k for k, p in swarm.items() if p.last_seen < stale and p.role not in INTERNAL_ROLES]:
                del swarm[key]
            me = (passkey, ip, port)
            if event == "stopped":
                swarm.pop(me, None)
            else:
                swarm[me] = Peer(
                    passkey=passkey, role=account.role, ip=ip, port=port, left=left, last_seen=now, peer_id=peer_id
                )
            others = [p for k, p in swarm.items() if k != me]
            complete = sum(1 for p in swarm.values() if p.left == 0)
            incomplete = len(swarm) - complete
        if account.role == "leecher":
            others = [p for p in others if p.role not in INTERNAL_ROLES]
        elif account.role == "corrupt":
            # The corrupt peer only takes incoming connections: a client bans it by its listening
            # endpoint, and if it dialled out (from ever-new ports) it would slip past that ban.
            others = []
        corrupt = [p for p in others if p.role == "corrupt"]
        if corrupt:
            # Hand the corrupt peer to each client once: libtorrent forgets a banned peer, and a
            # tracker that re-offers it every interval would turn one ban into an endless loop.
            with self._lock:
                if (info_hash, me) in self._corrupt_given:
                    corrupt = []
                else:
                    self._corrupt_given.add((info_hash, me))
        rest = [p for p in others if p.role != "corrupt"]
        random.shuffle(rest)
        chosen = (corrupt + rest)[: max(0, min(numwant, 200))]

        if account.role == "user" and left == 0 and event != "stopped" and self.on_user_seeding:
            try:
                self.on_user_seeding(info_hash)
            except Exception:  # the leecher is a nicety; never fail an announce over it
                log.exception("leecher hook failed")

        body: dict[bytes, object] = {
            b"interval": interval,
            b"min interval": interval,
            b"complete": complete,
            b"incomplete": incomplete,
            b"downloaded": entry.times_completed,
        }
        if params.get("compact", b"1") == b"0":
            body[b"peers"] = [
                {b"ip": p.ip.encode(), b"port": p.port, b"peer id": p.peer_id or b"-SB0000-000000000000"}
                for p in chosen
            ]
        else:
            body[b"peers"] = b"".join(_compact(p) for p in chosen if ":" not in p.ip)
        return fastbencode.bencode(body)


def _compact(peer: Peer) -> bytes:
    return socket.inet_aton(peer.ip) + peer.port.to_bytes(2, "big")
