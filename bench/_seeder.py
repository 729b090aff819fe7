"""The benchmark's seeder: a plain libtorrent session on 127.0.0.1, TCP only, tuned for
throughput (libtorrent's `high_performance_seed` preset plus the loopback settings of
mam-api.md). It also timestamps the first payload byte of each transfer from its session
counter `net.sent_payload_bytes` (updated on every send, unlike `torrent_status` totals)."""

from __future__ import annotations

import threading
import time
from typing import Any

import libtorrent as lt
from _util import Payload


def seeder_settings(disk_io_threads: int | None = None) -> dict[str, Any]:
    s: dict[str, Any] = dict(lt.high_performance_seed())
    # high_performance_seed lowers the disk queue to 7 MiB; libtorrent 2.1's default (100 MiB) is
    # larger and never slower here.
    s.pop("max_queued_disk_bytes", None)
    s.update(
        {
            "listen_interfaces": "127.0.0.1:0",
            "outgoing_interfaces": "",
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "allow_multiple_connections_per_ip": True,
            "min_announce_interval": 1,
            "min_reconnect_time": 1,
            "stop_tracker_timeout": 1,
            "unchoke_slots_limit": -1,
            "user_agent": "mamdl-bench-seeder",
            "alert_mask": int(lt.alert.category_t.error_notification),
        }
    )
    return s


class Seeder:
    def __init__(self, disk_io: str = "mmap") -> None:
        params = lt.session_params(seeder_settings())
        params.disk_io_constructor = f"{disk_io}_disk_io_constructor"
        self.ses = lt.session(params)
        self._stats_lock = threading.Lock()
        self.handles: dict[str, Any] = {}

    @property
    def port(self) -> int:
        return int(self.ses.listen_port())

    def add(self, payload: Payload, timeout: float = 300.0) -> None:
        """Add and check the payload (a full check up front, not seed_mode: seed_mode would hash
        each piece lazily during the first transfer and slow only that run down)."""
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(payload.torrent)
        atp.save_path = str(payload.root)
        atp.flags &= ~lt.torrent_flags.auto_managed
        atp.flags &= ~lt.torrent_flags.paused
        h = self.ses.add_torrent(atp)
        deadline = time.monotonic() + timeout
        while True:
            st = h.status()
            if st.is_seeding:
                break
            if st.errc.value():
                raise RuntimeError(f"seeder cannot seed {payload.name}: {st.errc.message()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"seeder still checking {payload.name} ({st.progress:.0%})")
            time.sleep(0.05)
        self.handles[payload.info_hash] = h
        h.force_reannounce()

    def reannounce(self, info_hash: str) -> None:
        self.handles[info_hash].force_reannounce(0, -1)

    def connect(self, info_hash: str, port: int) -> None:
        self.handles[info_hash].connect_peer(("127.0.0.1", int(port)))

    def sent_payload(self, timeout: float = 2.0) -> int:
        """`net.sent_payload_bytes` right now."""
        with self._stats_lock:
            self.ses.post_session_stats()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.ses.wait_for_alert(int(max(1, (deadline - time.monotonic()) * 1000))) is None:
                    continue
                for a in self.ses.pop_alerts():
                    if isinstance(a, lt.session_stats_alert):
                        return int(a.values["net.sent_payload_bytes"])
            raise TimeoutError("no session_stats_alert from the seeder")

    def first_byte_watch(self) -> FirstByte:
        return FirstByte(self)

    def close(self) -> None:
        self.ses.pause()
        for h in list(self.handles.values()):
            try:
                self.ses.remove_torrent(h)
            except Exception:
                pass
        self.handles.clear()
        time.sleep(0.2)
        del self.ses


class FirstByte:
    """Samples the seeder's payload counter every few ms in a thread: `t_first` is when it first
    moved past its value at start (time.monotonic, shared by every process on Linux); sampling
    ends there. `sent` (read by `stop()`) is the payload sent since the start."""

    def __init__(self, seeder: Seeder, period: float = 0.004) -> None:
        self.seeder = seeder
        self.base = seeder.sent_payload()
        self.t_first: float | None = None
        self.sent = 0
        self._stop = threading.Event()
        self._period = period
        self._thread = threading.Thread(target=self._run, name="bench-first-byte", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            now_before = time.monotonic()
            try:
                v = self.seeder.sent_payload()
            except TimeoutError:
                continue
            if v > self.base:
                # the counter moved between the previous sample and this one; stop sampling so
                # the watch costs nothing during the transfer itself
                self.t_first = now_before
                return
            self._stop.wait(self._period)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        try:
            self.sent = self.seeder.sent_payload() - self.base
        except TimeoutError:
            pass
