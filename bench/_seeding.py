"""Seeding at scale: one seeder uploading one torrent to several leechers at once.

The seeder is mamdl's engine in its own process (`_mamdl_seed.py`) or, for comparison, a fresh
qBittorrent daemon; the data is already on disk and checked before the clock starts. The leechers
are plain libtorrent sessions in this process (TCP on 127.0.0.1, no DHT/LSD/PEX/uTP). They get the
torrent without its tracker and dial only the seeder, so every byte they receive came from it (no
leecher-to-leecher trading). Aggregate upload = leechers x size / (last leecher complete - dial);
each leecher's copy is verified by SHA-256. The seeder's peak RSS is its VmHWM at the end.
"""

from __future__ import annotations

import json
import queue
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

import libtorrent as lt
from _clients import ClientError, QBittorrent
from _util import PROCS, MiB, Payload, make_payload, proc_hwm_mib, summary, verify

HERE = Path(__file__).resolve().parent
POLL = 0.02


def trackerless(torrent: bytes) -> bytes:
    """The same torrent (same info dict, so the same info-hash, still private) without announce
    URLs: the leechers then reach only the peer they are told to dial."""
    meta = cast(dict[bytes, Any], lt.bdecode(torrent))
    for k in (b"announce", b"announce-list"):
        meta.pop(k, None)
    return bytes(lt.bencode(meta))


class Leecher:
    def __init__(self, torrent: bytes, save: Path) -> None:
        self.ses = lt.session(
            {
                "listen_interfaces": "127.0.0.1:0",
                "enable_dht": False,
                "enable_lsd": False,
                "enable_upnp": False,
                "enable_natpmp": False,
                "enable_outgoing_utp": False,
                "enable_incoming_utp": False,
                "allow_multiple_connections_per_ip": True,
                "user_agent": "mamdl-bench-leecher",
                "alert_mask": int(lt.alert.category_t.error_notification),
            }
        )
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent)
        atp.save_path = str(save)
        atp.flags &= ~lt.torrent_flags.auto_managed
        atp.flags &= ~lt.torrent_flags.paused
        self.h = self.ses.add_torrent(atp)
        self.t_done: float | None = None

    def dial(self, port: int) -> None:
        self.h.connect_peer(("127.0.0.1", int(port)))

    def poll(self) -> bool:
        if self.t_done is None:
            st = self.h.status()
            if st.errc.value():
                raise ClientError(f"leecher: {st.errc.message()}")
            if st.is_seeding:
                self.t_done = time.monotonic()
        return self.t_done is not None

    def close(self) -> None:
        self.ses.pause()
        self.ses.remove_torrent(self.h)
        del self.ses


class MamdlSeeder:
    name = "mamdl"

    def __init__(self, workdir: Path, pl: Payload, torrent_path: Path) -> None:
        self.log = open(workdir / "mamdl-seed.log", "wb")
        self.proc = PROCS.start(
            [sys.executable, str(HERE / "_mamdl_seed.py"), str(workdir / "state"), str(pl.root), str(torrent_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()
        msg = self._next(300)
        if "ready" not in msg:
            raise ClientError(f"mamdl seeder: {msg}")
        self.port = int(msg["ready"])
        self.peak_rss_mib: float | None = None

    def _reader(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self._lines.put(json.loads(line))
            except ValueError:
                pass
        self._lines.put(None)

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            msg = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise ClientError(f"mamdl seeder: no answer within {timeout:.0f} s") from None
        if msg is None:
            raise ClientError("mamdl seeder process ended")
        return msg

    def stop(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                self.peak_rss_mib = self._next(60)["maxrss_kib"] / 1024
            except (OSError, ClientError, KeyError):
                pass
        PROCS.stop(self.proc)
        self.log.close()


class QbtSeeder:
    name = "qbittorrent"

    def __init__(self, workdir: Path, pl: Payload, torrent_path: Path) -> None:
        # every leecher is 127.0.0.1: without this qBittorrent keeps one connection per IP (mamdl's
        # loopback profile allows several, as distinct peers on a real swarm would be)
        self.c = QBittorrent(extra_bittorrent=["Session\\MultiConnectionsPerIp=true"])
        self.c.start(workdir, pl.root, torrent_path)
        self.c.add(pl, torrent_path, pl.root)  # data present: qBittorrent checks it and seeds
        self.c.wait_done(300)
        self.port = self.c.bt_port
        self.peak_rss_mib: float | None = None

    def stop(self) -> None:
        if self.c.proc is not None:
            self.peak_rss_mib = proc_hwm_mib(self.c.proc.pid)
        self.c.stop()


SEEDERS: dict[str, Any] = {"mamdl": MamdlSeeder, "qbittorrent": QbtSeeder}


def one_seed_run(tmp: Path, kind: str, pl: Payload, tp: Path, leech_torrent: bytes, n: int, tag: str) -> dict[str, Any]:
    wd = tmp / "runs" / tag
    wd.mkdir(parents=True)
    rec: dict[str, Any] = {"seeder": kind, "leechers": n, "tag": tag}
    seeder: Any = None
    leechers: list[Leecher] = []
    try:
        seeder = SEEDERS[kind](wd, pl, tp)
        leechers = [Leecher(leech_torrent, wd / f"leech-{i}") for i in range(n)]
        timeout = 60 + n * pl.size / (4 * MiB)
        t0 = time.monotonic()
        for lc in leechers:
            lc.dial(seeder.port)
        last_dial = t0
        while not all([lc.poll() for lc in leechers]):
            now = time.monotonic()
            if now - t0 > timeout:
                raise ClientError(f"{kind}: leechers not complete after {timeout:.0f} s")
            if now - last_dial > 2.0:  # a dial that lost a race with the seeder's start is retried
                for lc in leechers:
                    if lc.t_done is None and lc.h.status().num_peers == 0:
                        lc.dial(seeder.port)
                last_dial = now
            time.sleep(POLL)
        t_last = max(lc.t_done or t0 for lc in leechers)
        mib = pl.size / MiB
        rec.update(
            {
                "seconds": t_last - t0,
                "aggregate_mibps": n * mib / (t_last - t0),
                "per_leecher_mibps": [mib / ((lc.t_done or t_last) - t0) for lc in leechers],
            }
        )
    except Exception as exc:
        rec["error"] = str(exc)[:500]
    finally:
        for lc in leechers:
            try:
                lc.close()
            except Exception:
                pass
        if seeder is not None:
            seeder.stop()
            rec["seeder_peak_rss_mib"] = seeder.peak_rss_mib
    if "error" not in rec:
        for i in range(n):
            bad = verify(pl, wd / f"leech-{i}")
            if bad:
                rec["error"] = f"leecher {i}: verification failed: {bad}"
                break
        rec["verified"] = "error" not in rec
    shutil.rmtree(wd, ignore_errors=True)
    return rec


def seeding(tmp: Path, size_mib: int, n: int, rounds: int, kinds: list[str], seed: int, log: Any) -> dict[str, Any]:
    """Each seeder kind in a seeded random order per round; returns the figures per kind."""
    from _tracker import Tracker

    base = tmp / "seeding"
    tracker = Tracker(interval=1800)  # only the seeder announces: the leechers get no tracker
    try:
        pl = make_payload(base / "source", "bench-seed.bin", [size_mib * MiB], tracker.url)
        tp = base / "seed.torrent"
        tp.write_bytes(pl.torrent)
        leech_torrent = trackerless(pl.torrent)
        rng = random.Random(seed)
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        orders = []
        for r in range(1, rounds + 1):
            order = list(kinds)
            rng.shuffle(order)
            orders.append(order)
            for kind in order:
                rec = one_seed_run(base, kind, pl, tp, leech_torrent, n, f"{kind}-{r}")
                rec["round"] = r
                runs[kind].append(rec)
                if "error" in rec:
                    log(f"  round {r} {kind:12s} FAILED: {rec['error']}")
                else:
                    log(
                        f"  round {r} {kind:12s} {rec['aggregate_mibps']:6.0f} MiB/s to {n} leechers "
                        f"({rec['seconds']:.2f} s; seeder peak RSS {rec['seeder_peak_rss_mib'] or 0:.0f} MiB) verified"
                    )
    finally:
        tracker.close()
        shutil.rmtree(base, ignore_errors=True)
    out: dict[str, Any] = {"size_mib": size_mib, "leechers": n, "rounds": rounds, "seed": seed, "order": orders}
    for kind, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        s = summary([r["aggregate_mibps"] for r in ok])
        rss = [r["seeder_peak_rss_mib"] for r in ok if r.get("seeder_peak_rss_mib")]
        out[kind] = {
            "median_mibps": s["median"],
            "min_mibps": s["min"],
            "max_mibps": s["max"],
            "max_peak_rss_mib": max(rss) if rss else None,
            "ok": len(ok),
            "failed": len(rs) - len(ok),
            "runs": rs,
        }
    return out
