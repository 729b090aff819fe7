"""A loopback swarm for engine tests: payload + v1-only private torrent, and a plain libtorrent
seeder on 127.0.0.1 (TCP only). The engine is connected to it with `connect_peer`; no tracker."""

from __future__ import annotations

import hashlib
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

PIECE = 64 * 1024
FAKE_ANNOUNCE = "http://127.0.0.1:9/announce?passkey=0123456789abcdef0123456789abcdef"
"""Port 9 (discard): nothing listens; the engine never learns peers from it."""


@dataclass
class Payload:
    root: Path
    """Folder that contains the torrent's top folder (the seeder's save path)."""
    name: str
    torrent: bytes
    info_hash: str
    files: dict[str, str]
    """Relative path (name/...) → sha256 hex."""
    total_size: int


def make_payload(
    base: Path,
    name: str = "book",
    sizes: tuple[int, ...] = (2 * 2**20 + 12345, 1 * 2**20, 300_000),
    *,
    seed: int = 1,
    piece_size: int = PIECE,
    private: bool = True,
) -> Payload:
    """Random files under base/name, and a v1-only private torrent for them."""
    rng = random.Random(seed)
    top = base / name
    top.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for i, size in enumerate(sizes):
        rel = Path(name) / ("disc1" if i == 0 else "") / f"part{i}.bin"
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(size)
        p.write_bytes(data)
        files[rel.as_posix()] = hashlib.sha256(data).hexdigest()
    entries = lt.list_files(str(top))
    ct = lt.create_torrent(entries, piece_size, flags=lt.create_torrent.v1_only)
    ct.set_priv(private)
    ct.add_tracker(FAKE_ANNOUNCE)
    lt.set_piece_hashes(ct, str(base))
    torrent = lt.bencode(ct.generate())
    info = lt.torrent_info(torrent)
    return Payload(base, name, torrent, str(info.info_hashes().v1), files, sum(sizes))


def verify_files(save_path: Path, payload: Payload) -> None:
    for rel, digest in payload.files.items():
        data = (save_path / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{rel} differs"


def loopback_session() -> lt.session:
    return lt.session(
        {
            "listen_interfaces": "127.0.0.1:0",
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "allow_multiple_connections_per_ip": True,
            "alert_mask": 0,
        }
    )


class Leecher:
    """A plain libtorrent session downloading one payload from a given peer."""

    def __init__(self, payload: Payload, save_path: Path, peer_port: int) -> None:
        self.session = loopback_session()
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(payload.torrent)
        atp.save_path = str(save_path)
        self.handle = self.session.add_torrent(atp)
        self.handle.connect_peer(("127.0.0.1", peer_port))

    def wait_done(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.handle.status().is_seeding:
            if time.monotonic() > deadline:
                raise TimeoutError("leecher did not finish")
            time.sleep(0.05)

    def close(self) -> None:
        self.session.pause()
        del self.handle
        del self.session


class Seeder:
    """A plain libtorrent session seeding one payload on 127.0.0.1."""

    def __init__(
        self,
        payload: Payload,
        *,
        save_path: Path | None = None,
        upload_rate: int = 0,
        trust_data: bool = False,
    ) -> None:
        """`trust_data=False` uses seed_mode (fast start; libtorrent still hashes each piece before
        its first upload, so it never serves bad data). `trust_data=True` claims every piece through
        `have_pieces` instead: nothing is ever verified, so a corrupted copy is served as is."""
        self.session = loopback_session()
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(payload.torrent)
        atp.save_path = str(save_path or payload.root)
        atp.flags &= ~lt.torrent_flags.auto_managed
        atp.flags &= ~lt.torrent_flags.paused
        if trust_data:
            atp.have_pieces = [True] * atp.ti.num_pieces()
        else:
            atp.flags |= lt.torrent_flags.seed_mode
        self.handle = self.session.add_torrent(atp)
        if upload_rate:
            # Per torrent: libtorrent exempts local-network peers from session-wide rate limits.
            self.handle.set_upload_limit(upload_rate)
        deadline = time.monotonic() + 10
        while not self.handle.status().is_seeding:
            if time.monotonic() > deadline:
                raise RuntimeError("seeder did not become a seed")
            time.sleep(0.02)

    @property
    def port(self) -> int:
        return self.session.listen_port()

    def uploaded(self) -> int:
        """Payload bytes sent, from the session counter (updated on every send, unlike
        torrent_status totals which lag up to a second)."""
        idx = lt.find_metric_idx("net.sent_payload_bytes")
        self.session.post_session_stats()
        deadline = time.monotonic() + 30  # the alert comes at once unless the machine is loaded
        while time.monotonic() < deadline:
            self.session.wait_for_alert(500)
            for a in self.session.pop_alerts():
                if isinstance(a, lt.session_stats_alert):
                    return int(a.values["net.sent_payload_bytes"]) if idx >= 0 else 0
        raise RuntimeError("no session_stats_alert from the seeder")

    def close(self) -> None:
        self.session.pause()
        del self.handle
        del self.session


def corrupt_copy(payload: Payload, dest: Path, *, pieces: int = 3) -> Path:
    """A copy of the payload under dest with a byte flipped in `pieces` different pieces of the
    first (largest) file."""
    for rel in payload.files:
        src = payload.root / rel
        dst = dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    first = sorted(payload.files)[0]
    p = dest / first
    with open(p, "r+b") as fh:
        for i in range(pieces):
            fh.seek(i * PIECE + 100)
            b = fh.read(1)
            fh.seek(i * PIECE + 100)
            fh.write(bytes([b[0] ^ 0xFF]))
    return dest


def free_dir_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize
