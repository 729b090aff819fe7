#!/usr/bin/env python3
"""mamdl benchmarks: download throughput against aria2, Transmission and qBittorrent on loopback
(from the first byte, and whole-process from command start to exit), the machine's physical limit,
seeding to several leechers at once, engine tuning, memory per seeded torrent, CLI start-up, ranking.

    ./dev bench [--quick]            (or .venv/bin/python bench/run.py ...)

Writes bench/results/latest.json, latest.md and throughput.png, and prints the tables. Everything
stays on 127.0.0.1; every process it starts is stopped at the end (also on Ctrl-C or failure) and
its temporary directory removed. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

from _clients import ALL_CLIENTS, Client, Mamdl  # noqa: E402
from _util import (  # noqa: E402
    PROCS,
    MiB,
    Payload,
    dumps,
    fmt,
    install_signal_handlers,
    make_payload,
    start_sandbox,
    summary,
    verify,
)

RESULTS = HERE / "results"
APT_PACKAGES = {"aria2c": "aria2", "transmission-daemon": "transmission-daemon", "qbittorrent-nox": "qbittorrent-nox"}


def log(msg: str) -> None:
    print(msg, flush=True)


# ============================================================================ setup


def ensure_clients(no_install: bool) -> dict[str, str]:
    """Install missing clients with apt (as root). Returns notes for the clients still missing."""
    missing = [b for b in APT_PACKAGES if shutil.which(b) is None]
    notes: dict[str, str] = {}
    if not missing:
        return notes
    pkgs = [APT_PACKAGES[b] for b in missing]
    if no_install:
        return {b: "not installed (--no-install)" for b in missing}
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return {
            b: f"not installed and cannot install (need root and apt-get): apt-get install {APT_PACKAGES[b]}"
            for b in missing
        }
    log(f"installing {' '.join(pkgs)} with apt-get (one-time) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = subprocess.run(["apt-get", "install", "-y", "-qq", *pkgs], env=env, capture_output=True, text=True)
    if p.returncode != 0:  # try one by one, so one broken package does not cost the others
        for pkg in pkgs:
            subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env, capture_output=True, text=True)
    for b in missing:
        if shutil.which(b) is None:
            notes[b] = f"apt-get install {APT_PACKAGES[b]} failed; skipped"
            log(f"  ! {b}: install failed, that client is skipped")
    # (A system service the package may have started is left alone: this benchmark runs its own
    # instances with their own config directories and ports.)
    return notes


def machine_info(tmp: Path) -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    fs = ""
    try:
        out = subprocess.run(["df", "-T", str(tmp)], capture_output=True, text=True).stdout.splitlines()
        if len(out) > 1:
            parts = out[1].split()
            fs = f"{parts[1]} on {parts[0]}"
    except OSError:
        pass
    from importlib import metadata

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_mib": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "libtorrent": metadata.version("libtorrent"),
        "mamdl": metadata.version("mamdl"),
        "tmp_fs": fs,
        "tmp_dir": str(tmp),
    }


# ============================================================================ physical limit


def physical_limit(dest_dir: Path, size: int, repeats: int) -> dict[str, Any]:
    """Write `size` bytes to a new file on the benchmark's disk, then SHA-1 them in piece-sized
    chunks; limit = size / (write time + hash time). The write is timed without fsync (as the
    clients do: they leave the data in the page cache) and, separately, with fsync."""
    import hashlib

    buf = os.urandom(16 * MiB)
    mv = memoryview(buf)
    write_s, fsync_s, sha1_s = [], [], []
    for i in range(repeats):
        p = dest_dir / f"physical-{i}.bin"
        t0 = time.perf_counter()
        with open(p, "wb") as f:
            left = size
            while left:
                n = min(left, len(buf))
                f.write(mv[:n])
                left -= n
            t1 = time.perf_counter()
            f.flush()
            os.fsync(f.fileno())
            t2 = time.perf_counter()
        write_s.append(t1 - t0)
        fsync_s.append(t2 - t0)
        p.unlink()
        os.sync()
        h_t0 = time.perf_counter()
        piece = 512 * 1024
        left = size
        while left:
            for off in range(0, min(left, len(buf)), piece):
                hashlib.sha1(mv[off : off + piece]).digest()
            left -= min(left, len(buf))
        sha1_s.append(time.perf_counter() - h_t0)
    mib = size / MiB
    w, wf, h = statistics.median(write_s), statistics.median(fsync_s), statistics.median(sha1_s)
    return {
        "size_mib": mib,
        "write_mibps": mib / w,
        "write_fsync_mibps": mib / wf,
        "sha1_mibps": mib / h,
        "limit_mibps": mib / (w + h),
        "limit_fsync_mibps": mib / (wf + h),
        # Writing and hashing overlap on two cores, so a client can beat the serial figure; this
        # is the bound if they overlapped perfectly (and the network copy cost nothing).
        "overlapped_bound_mibps": mib / max(w, h),
        "repeats": repeats,
    }


# ============================================================================ throughput


def multi_sizes(total: int, n: int, seed: int = 11) -> list[int]:
    """An audiobook-like layout: n-1 chapter files of uneven size and a small cover, summing to
    total (no empty files: Transmission 3.00 does not create them)."""
    rng = random.Random(seed)
    cover = min(300 * 1024, total // 100)
    weights = [rng.uniform(0.5, 1.5) for _ in range(n - 1)]
    rest = total - cover
    sizes = [int(rest * w / sum(weights)) for w in weights]
    sizes[-1] += rest - sum(sizes)
    return sizes + [cover]


def audiobook_sizes(total: int, n: int, seed: int = 29) -> list[int]:
    """A many-file audiobook as people download them: n MP3 chapters (50–200 is common) of uneven
    size plus a cover, summing to total."""
    return multi_sizes(total, n, seed=seed)


def proc_cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def per_gib(cpu0: float | None, cpu1: float | None, mib: float) -> float | None:
    """CPU seconds per GiB from two `proc_cpu_s` readings around `mib` MiB of payload."""
    return (cpu1 - cpu0) * 1024 / mib if cpu0 is not None and cpu1 is not None else None


class Swarm:
    """The tracker and the seeder, shared by every run."""

    def __init__(self, tmp: Path, seeder_disk_io: str) -> None:
        from _seeder import Seeder
        from _tracker import Tracker

        self.tmp = tmp
        self.tracker = Tracker(interval=2)
        self.seeder = Seeder(seeder_disk_io)
        self.payloads: dict[str, Payload] = {}
        self.torrent_paths: dict[str, Path] = {}

    def add_payload(self, key: str, name: str, sizes: list[int]) -> Payload:
        t0 = time.monotonic()
        pl = make_payload(self.tmp / "source" / key, name, sizes, self.tracker.url)
        tp = self.tmp / "source" / f"{key}.torrent"
        tp.write_bytes(pl.torrent)
        os.sync()  # the source's writeback must not land in the middle of a timed run
        self.seeder.add(pl)
        self.payloads[key], self.torrent_paths[key] = pl, tp
        log(
            f"  payload {key}: {len(pl.files)} file(s), {pl.size / MiB:.0f} MiB, pieces of "
            f"{pl.piece_length // 1024} KiB, v1-only, private ({time.monotonic() - t0:.1f} s to make and seed)"
        )
        return pl

    def close(self) -> None:
        try:
            self.seeder.close()
        finally:
            self.tracker.close()


def one_run(swarm: Swarm, client: Client, key: str, tag: str) -> dict[str, Any]:
    pl, tp = swarm.payloads[key], swarm.torrent_paths[key]
    wd = swarm.tmp / "runs" / tag
    dest = wd / "data"
    dest.mkdir(parents=True)
    rec: dict[str, Any] = {"client": client.name, "variant": key, "tag": tag}
    timeout = 60 + pl.size / (4 * MiB)
    try:
        client.start(wd, dest, tp)
        fb = swarm.seeder.first_byte_watch()
        pid = client.proc.pid if client.proc else None
        cpu0 = proc_cpu_s(pid) if pid else None
        seeder_cpu0 = proc_cpu_s(os.getpid())  # the seeder is this process's libtorrent session
        t_add = time.monotonic()
        client.add(pl, tp, dest)
        client.kick(swarm.seeder, pl)
        client.wait_done(timeout)
        t_done = time.monotonic()
        cpu1 = proc_cpu_s(pid) if pid else None
        seeder_cpu1 = proc_cpu_s(os.getpid())
        fb.stop()
        t_first = fb.t_first if fb.t_first is not None and fb.t_first < t_done else t_add
        mib = pl.size / MiB
        rec.update(
            {
                "mibps": mib / (t_done - t_first),
                "mibps_from_add": mib / (t_done - t_add),
                "seconds": t_done - t_first,
                "ttfb_s": t_first - t_add,
                "seeder_sent_mib": fb.sent / MiB,
                "cpu_s_per_gib": per_gib(cpu0, cpu1, mib),
                # what the seeder cost the machine the client shares with it (add -> done)
                "seeder_cpu_s_per_gib": per_gib(seeder_cpu0, seeder_cpu1, mib),
            }
        )
    except Exception as exc:
        rec["error"] = str(exc)[:500]
    finally:
        client.stop()
    if isinstance(client, Mamdl) and client.maxrss_kib:
        rec["maxrss_mib"] = client.maxrss_kib / 1024
        for k in ("rssanon", "rssfile"):
            if f"{k}_kib" in client.done_info:
                rec[f"{k}_peak_mib"] = client.done_info[f"{k}_kib"] / 1024
    if "error" not in rec:
        bad = verify(pl, dest)
        if bad:
            rec["error"] = f"verification failed: {bad}"
            rec["verified"] = False
        else:
            rec["verified"] = True
    shutil.rmtree(wd, ignore_errors=True)
    swarm.tracker.forget_except(swarm.seeder.port)
    os.sync()
    return rec


def describe(rec: dict[str, Any]) -> str:
    if "error" in rec:
        return f"FAILED: {rec['error']}"
    cpu = f", CPU {rec['cpu_s_per_gib']:.1f} s/GiB" if rec.get("cpu_s_per_gib") is not None else ""
    rss = f", peak RSS {rec['maxrss_mib']:.0f} MiB" if rec.get("maxrss_mib") else ""
    return (
        f"{rec['mibps']:6.0f} MiB/s ({rec['seconds']:.2f} s after first byte at +{rec['ttfb_s']:.2f} s; "
        f"{rec['mibps_from_add']:.0f} MiB/s from add{cpu}{rss}) verified"
    )


def stats_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    s = summary([r["mibps"] for r in ok])
    out = {
        "median_mibps": s["median"],
        "min_mibps": s["min"],
        "max_mibps": s["max"],
        "median_mibps_from_add": summary([r["mibps_from_add"] for r in ok])["median"],
        "median_ttfb_s": summary([r["ttfb_s"] for r in ok])["median"],
        "median_cpu_s_per_gib": summary([r["cpu_s_per_gib"] for r in ok if r.get("cpu_s_per_gib") is not None])[
            "median"
        ],
        "median_seeder_cpu_s_per_gib": summary(
            [r["seeder_cpu_s_per_gib"] for r in ok if r.get("seeder_cpu_s_per_gib") is not None]
        )["median"],
        "ok": len(ok),
        "failed": len(runs) - len(ok),
        "runs": runs,
    }
    rss = [r["maxrss_mib"] for r in ok if r.get("maxrss_mib")]
    if rss:
        out["median_peak_rss_mib"] = statistics.median(rss)
    paired = [(r["mibps"], r["physical_limit_mibps"]) for r in ok if r.get("physical_limit_mibps")]
    if paired:
        out["physical_ratio_median"] = statistics.median(v / lim for v, lim in paired)
        out["physical_limit_median"] = statistics.median(lim for _, lim in paired)
    for k in ("rssanon", "rssfile"):
        v = [r[f"{k}_peak_mib"] for r in ok if r.get(f"{k}_peak_mib") is not None]
        if v:
            out[f"median_{k}_peak_mib"] = statistics.median(v)
    return out


def client_orders(names: list[str], keys: list[str], rounds: int, seed: int) -> list[dict[str, Any]]:
    """The order the clients run in, shuffled for every round and payload from one seeded RNG: no
    client always goes first (a warm page cache or a settled seeder favours whoever follows), and
    the same seed gives the same orders, so a run can be repeated exactly."""
    rng = random.Random(seed)
    out = []
    for r in range(1, rounds + 1):
        for key in keys:
            order = list(names)
            rng.shuffle(order)
            out.append({"round": r, "key": key, "clients": order})
    return out


def throughput(
    swarm: Swarm, clients: list[type[Client]], keys: list[str], rounds: int, seed: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every client on every payload, `rounds` times, interleaved in a seeded random order per
    round; returns the per-client figures and the orders used (recorded in the results)."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {c.name: {k: [] for k in keys} for c in clients}
    by_name = {c.name: c for c in clients}
    orders = client_orders([c.name for c in clients], keys, rounds, seed)
    (swarm.tmp / "physical").mkdir(exist_ok=True)
    for step in orders:
        r, key = step["round"], step["key"]
        # The physical limit again, right before this round's runs on this payload: a shared VM's
        # speed drifts (SHA-1 measured 714-1,190 MiB/s on one day), so each run is compared with the
        # machine as it was when that run was made, not with one figure from the start of the bench.
        lim = physical_limit(swarm.tmp / "physical", swarm.payloads[key].size, 2)["limit_mibps"]
        step["physical_limit_mibps"] = lim
        log(f"  round {r} {key:9s} physical limit {lim:.0f} MiB/s (median of 2, measured just before the runs below)")
        for name in step["clients"]:
            cls = by_name[name]
            rec = one_run(swarm, cls(), key, f"{cls.name}-{key}-{r}")
            rec["round"] = r
            rec["physical_limit_mibps"] = lim
            runs[cls.name][key].append(rec)
            log(f"  round {r} {key:9s} {cls.name:12s} {describe(rec)}")
    out: dict[str, Any] = {}
    for name, by_key in runs.items():
        main = stats_of(by_key[keys[0]])
        for key in keys[1:]:
            main[key] = stats_of(by_key[key])
        out[name] = main
    return out, orders


TUNING_VARIANTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # (label, EngineConfig overrides, raw libtorrent settings EngineConfig does not expose)
    ("default (pread, 16 MiB store buffer, 3 MiB socket receive buffer)", {}, {}),
    ("socket_recv_buffer=0 (the kernel's autotuning)", {"socket_recv_buffer": 0}, {}),
    ("disk_io=posix", {"disk_io": "posix"}, {}),
    ("disk_io=mmap", {"disk_io": "mmap"}, {}),
    ("pread + max_queued_disk_bytes=32 MiB", {"max_queued_disk_bytes": 32 * MiB}, {}),
    ("pread + max_queued_disk_bytes=100 MiB (libtorrent default)", {"max_queued_disk_bytes": 100 * MiB}, {}),
    ("pread + hashing_threads=2 (the default before 2026-12-01)", {"hashing_threads": 2}, {}),
    ("lt max_out_request_queue=1500 (not in EngineConfig)", {}, {"max_out_request_queue": 1500}),
    ("aio_threads=10 (libtorrent's default)", {"aio_threads": 10}, {}),
]


def tuning(
    swarm: Swarm, key: str, rounds: int, variants: list[tuple[str, dict[str, Any], dict[str, Any]]]
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in variants}
    for r in range(1, rounds + 1):
        for i, (label, cfg, extra) in enumerate(variants):
            client = Mamdl(cfg, extra, label=label)
            rec = one_run(swarm, client, key, f"tune{i}-{key}-{r}")
            rec["round"] = r
            runs[label].append(rec)
            log(f"  round {r} {label:58s} {describe(rec)}")
    out: dict[str, Any] = {}
    for label, cfg, extra in variants:
        s = stats_of(runs[label])
        s["engine_config"] = cfg
        s["libtorrent_settings"] = extra
        out[label] = s
    return out


# ============================================================================ memory


def memory(tmp: Path, counts: list[int], settle: float, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Peak RSS of a process running mamdl's Engine that seeds N small torrents (1 MiB epub-like
    single files, private, v1-only), each count in a fresh process."""
    from _tracker import Tracker

    n_max = max(counts)
    tracker = Tracker(interval=1800)
    base = tmp / "memory"
    try:
        items: list[list[str]] = []
        for i in range(n_max):
            pl = make_payload(base / "data", f"book-{i:03d}.epub", [1 * MiB], tracker.url, piece_length=256 * 1024)
            tp = base / "torrents" / f"book-{i:03d}.torrent"
            tp.parent.mkdir(parents=True, exist_ok=True)
            tp.write_bytes(pl.torrent)
            items.append([str(tp), str(base / "data")])
        os.sync()
        out: dict[str, Any] = {}
        for n in counts:
            lst = base / f"list-{n}.json"
            lst.write_text(json.dumps(items[:n]))
            state = base / f"state-{n}"
            p = PROCS.start(
                [
                    sys.executable,
                    str(HERE / "_mem_child.py"),
                    str(state),
                    str(lst),
                    str(settle),
                    json.dumps(config or {}),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            try:
                so, se = p.communicate(timeout=max(240, n))  # 1,000 torrents take longer to add
            finally:
                PROCS.stop(p)
            if p.returncode != 0:
                raise RuntimeError(f"memory child for {n} torrents failed: {se.decode(errors='replace')[-500:]}")
            row = json.loads(so.decode().strip().splitlines()[-1])
            shutil.rmtree(state, ignore_errors=True)
            out[str(n)] = {
                "peak_rss_mib": row["hwm_kib"] / 1024,
                "rss_mib": row["rss_kib"] / 1024,
                "engine_started_rss_mib": row["rss_engine_started_kib"] / 1024,
                "seeding_after_s": row["ready_s"],
            }
            log(
                f"  {n:4d} torrents seeding: peak RSS {row['hwm_kib'] / 1024:6.1f} MiB, now {row['rss_kib'] / 1024:6.1f} MiB "
                f"(engine alone {row['rss_engine_started_kib'] / 1024:.1f} MiB; all seeding after {row['ready_s']:.1f} s)"
            )
        lo, hi = str(min(counts)), str(n_max)
        span = n_max - min(counts)
        per_peak = (out[hi]["peak_rss_mib"] - out[lo]["peak_rss_mib"]) / span if span else None
        per_now = (out[hi]["rss_mib"] - out[lo]["rss_mib"]) / span if span else None
        # Least-squares slope over every count (not only the two ends): one noisy end cannot make it.
        fit = None
        if len(counts) >= 3:
            fit = statistics.linear_regression(
                [float(n) for n in counts], [out[str(n)]["peak_rss_mib"] for n in counts]
            ).slope
        return {
            "counts": out,
            "rss_per_torrent_mib": per_peak,
            "rss_per_torrent_fit_mib": fit,
            "rss_per_torrent_steady_mib": per_now,
            "torrent_size_mib": 1,
            "settle_s": settle,
        }
    finally:
        tracker.close()
        shutil.rmtree(base, ignore_errors=True)


# ============================================================================ start-up


def startup(tmp: Path, repeats: int) -> dict[str, Any]:
    mam = Path(sys.executable).parent / "mam"
    if not mam.exists():
        mam = Path(shutil.which("mam") or "mam")
    home = tmp / "mamdl-home"
    home.mkdir(parents=True, exist_ok=True)
    sb, env_vals = start_sandbox(tmp)
    try:
        env = dict(
            os.environ,
            **env_vals,
            MAMDL_HOME=str(home),
            MAMDL_MIN_INTERVAL="0",
            MAMDL_CACHE_TTL_SECONDS="0",
            NO_COLOR="1",
        )

        def timed(argv: list[str], check_json: bool) -> list[float]:
            times = []
            for i in range(repeats + 1):  # the first run warms the OS caches and is not counted
                t0 = time.perf_counter()
                p = subprocess.run(argv, env=env, capture_output=True, timeout=60)
                dt_ = time.perf_counter() - t0
                if p.returncode != 0:
                    raise RuntimeError(f"{' '.join(argv[1:])} exited {p.returncode}: {p.stderr.decode()[-300:]}")
                if check_json:
                    rows = json.loads(p.stdout)
                    if not rows:
                        raise RuntimeError("mam search returned no rows")
                if i:
                    times.append(dt_)
            return times

        helps = timed([str(mam), "--help"], False)
        searches = timed([str(mam), "search", "-t", "dune", "--json"], True)
    finally:
        PROCS.stop(sb)
    return {
        "help": statistics.median(helps),
        "search": statistics.median(searches),
        "help_runs": helps,
        "search_runs": searches,
        "repeats": repeats,
    }


# ============================================================================ search


def search_figures() -> dict[str, Any]:
    out: dict[str, Any] = {}
    p = subprocess.run([sys.executable, str(HERE / "bench_ranking.py")], capture_output=True, text=True, timeout=300)
    m = re.search(
        r"rank\(\) of (\d+) results: cold median ([\d.]+) ms \(max ([\d.]+)\), warm median ([\d.]+) ms", p.stdout
    )
    if m:
        out.update(
            ranking_results=int(m.group(1)),
            ranking_ms_1000=float(m.group(2)),
            ranking_ms_1000_cold_max=float(m.group(3)),
            ranking_ms_1000_warm=float(m.group(4)),
        )
    else:
        out["ranking_error"] = (p.stdout + p.stderr)[-400:]
    p = subprocess.run(
        [sys.executable, str(HERE / "ranking_devset.py"), "--in-process"], capture_output=True, text=True, timeout=600
    )
    m = re.search(r"top-1: (\d+)/(\d+) = ([\d.]+)%", p.stdout)
    if m:
        out.update(
            devset_hits=int(m.group(1)), devset_queries=int(m.group(2)), devset_top1=int(m.group(1)) / int(m.group(2))
        )
        m2 = re.search(r"requests per query: max (\d+), mean ([\d.]+)", p.stdout)
        if m2:
            out.update(devset_requests_max=int(m2.group(1)), devset_requests_mean=float(m2.group(2)))
        m3 = re.search(r"time per query: mean (\d+) ms", p.stdout)
        if m3:
            out["devset_ms_per_query"] = int(m3.group(1))
        out["devset_misses"] = [ln.strip() for ln in p.stdout.splitlines() if ln.strip().startswith("miss:")]
    else:
        out["devset_error"] = (p.stdout + p.stderr)[-400:]
    return out


# ============================================================================ report


def ratio_text(res: dict[str, Any]) -> tuple[str | None, float | None]:
    clients = res.get("clients", {})
    mam = clients.get("mamdl", {}).get("median_mibps")
    others = {n: c["median_mibps"] for n, c in clients.items() if n != "mamdl" and c.get("median_mibps")}
    if not mam or not others:
        return None, None
    best = max(others, key=others.get)
    return best, mam / others[best]


def payload_ratios(res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """From the first byte: mamdl's median ÷ the best other client's median, per payload (the
    throughput table keeps the single-file figures at the top level, the others under their key)."""
    clients = res.get("clients", {})
    out: dict[str, dict[str, Any]] = {}
    for key in PAYLOADS:

        def med(c: dict[str, Any], key: str = key) -> float | None:
            return (c if key == "single" else c.get(key, {})).get("median_mibps")

        mam = med(clients.get("mamdl", {}))
        others = {n: v for n, c in clients.items() if n != "mamdl" and (v := med(c))}
        if mam and others:
            best = max(others, key=lambda n: others[n])
            out[key] = {"best_other": best, "ratio": mam / others[best], "mamdl_mibps": mam, "best_mibps": others[best]}
    return out


PAYLOADS = ("single", "multi", "audiobook")
GOAL_RATIO, GOAL_RSS_MIB, GOAL_PHYSICAL = 1.0, 128.0, 0.8


def times(ratio: float, goal: float) -> str:
    """A ratio as "1.23×"; with a third decimal when two would print the goal itself for a ratio
    that misses it (0.797 is not "0.80×, not met")."""
    text = f"{ratio:.2f}×"
    return f"{ratio:.3f}×" if ratio < goal and text == f"{goal:.2f}×" else text


def summary_rows(res: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """Issue 16's goals, each as (what, measured, target, met); met is None when this run did not
    measure it (the part was left out)."""
    rows: list[tuple[str, str, str, bool | None]] = []
    names = {"single": "single file", "multi": "multi-file", "audiobook": "audiobook (many files)"}
    fb = payload_ratios(res) if "clients" in res else {}
    for key in PAYLOADS:
        r = fb.get(key)
        what = f"From the first byte, {names[key]}: mamdl ÷ best other"
        if r:
            rows.append(
                (
                    f"{what} ({r['best_other']})",
                    f"{times(r['ratio'], GOAL_RATIO)} ({r['mamdl_mibps']:.0f} vs {r['best_mibps']:.0f} MiB/s)",
                    f"≥ {GOAL_RATIO:.2f}×",
                    r["ratio"] >= GOAL_RATIO,
                )
            )
        else:
            rows.append((what, "not measured", f"≥ {GOAL_RATIO:.2f}×", None))
    wp = res.get("wholeprocess", {})
    for key in PAYLOADS:
        r = wp.get("ratios", {}).get(key)
        what = f"Whole process, {names[key]}: `mam download` (service running) ÷ best other"
        if r:
            mam = wp["clients"]["mamdl"][key]["median_mibps"]
            best = wp["clients"][r["best_other"]][key]["median_mibps"]
            rows.append(
                (
                    f"{what} ({r['best_other']})",
                    f"{times(r['ratio'], GOAL_RATIO)} ({mam:.0f} vs {best:.0f} MiB/s)",
                    f"≥ {GOAL_RATIO:.2f}×",
                    r["ratio"] >= GOAL_RATIO,
                )
            )
        else:
            rows.append((what, "not measured", f"≥ {GOAL_RATIO:.2f}×", None))
    mam = res.get("clients", {}).get("mamdl", {})
    rss = [
        r["maxrss_mib"]
        for k in PAYLOADS
        for r in (mam if k == "single" else mam.get(k, {})).get("runs", [])
        if "error" not in r and r.get("maxrss_mib")
    ]
    what = "Peak RSS of mamdl's engine process while downloading (max over every throughput run)"
    if rss:
        rows.append((what, f"{max(rss):.0f} MiB", f"≤ {GOAL_RSS_MIB:.0f} MiB", max(rss) <= GOAL_RSS_MIB))
    else:
        rows.append((what, "not measured", f"≤ {GOAL_RSS_MIB:.0f} MiB", None))
    serve = wp.get("serve_peak_rss_mib")
    what = "Peak RSS of `mam serve` over the whole-process part (VmHWM at its end)"
    if serve:
        rows.append((what, f"{serve:.0f} MiB", f"≤ {GOAL_RSS_MIB:.0f} MiB", serve <= GOAL_RSS_MIB))
    else:
        rows.append((what, "not measured", f"≤ {GOAL_RSS_MIB:.0f} MiB", None))
    lim = res.get("physical", {}).get("limit_mibps")
    for key in PAYLOADS:
        what = f"mamdl ÷ physical limit (same run), {names[key]}"
        st = mam if key == "single" else mam.get(key, {})
        v = st.get("median_mibps")
        if v and st.get("physical_ratio_median"):
            ratio, beside = st["physical_ratio_median"], st["physical_limit_median"]
            rows.append(
                (
                    f"{what}: each run ÷ the limit measured just before its round",
                    f"{times(ratio, GOAL_PHYSICAL)} (median of the runs' ratios; mamdl {v:.0f}, limit {beside:.0f} MiB/s)",
                    f"≥ {GOAL_PHYSICAL:.2f}×",
                    ratio >= GOAL_PHYSICAL,
                )
            )
        elif v and lim:
            rows.append(
                (
                    what,
                    f"{times(v / lim, GOAL_PHYSICAL)} ({v:.0f} of {lim:.0f} MiB/s)",
                    f"≥ {GOAL_PHYSICAL:.2f}×",
                    v / lim >= GOAL_PHYSICAL,
                )
            )
        else:
            rows.append((what, "not measured", f"≥ {GOAL_PHYSICAL:.2f}×", None))
    return rows


def _wholeprocess_section(L: list[str], res: dict[str, Any]) -> None:
    wp, sz = res["wholeprocess"], res["sizes"]
    L.append(
        f"## Whole process: command start to exit ({sz['payload_mib']:.0f} MiB, {wp.get('rounds', '?')} interleaved "
        + (
            f"round(s); Transmission {wp['transmission_rounds']})"
            if wp.get("transmission_rounds")
            else "round(s); Transmission not run)"
        )
    )
    L.append("")
    L.append(
        "MiB/s = payload ÷ wall time from the user's command start until the data is complete and the command "
        "has returned, as people run each client: mamdl `mam download FILE.torrent --to DIR` with `mam serve` "
        "already running (the CLI hands the torrent to the service and exits once it is complete and verified); "
        "aria2 a one-shot `aria2c --seed-time=0 FILE.torrent` from start to exit; qBittorrent and Transmission "
        "already running, from the add call until they report the torrent complete (polled every 20 ms). "
        f"Every run verified by SHA-256. Client order: random per round and payload, seed "
        f"{wp.get('client_order', {}).get('seed', '?')}."
    )
    L.append("")
    L.append(
        "| client | single median [min–max] | multi-file median [min–max] | audiobook median [min–max] | median s (single) | ok runs |"
    )
    L.append("|---|---|---|---|---:|---:|")
    for name, by_key in wp["clients"].items():
        cells = []
        for key in PAYLOADS:
            c = by_key.get(key, {})
            cells.append(
                f"{fmt(c.get('median_mibps'))} [{fmt(c.get('min_mibps'))}–{fmt(c.get('max_mibps'))}]" if c else "–"
            )
        ok = "+".join(str(by_key.get(k, {}).get("ok", 0)) for k in PAYLOADS)
        failed = sum(by_key.get(k, {}).get("failed", 0) for k in PAYLOADS)
        L.append(
            f"| {name} | {' | '.join(cells)} | {fmt(by_key.get('single', {}).get('median_s'), 2)} | "
            f"{ok}{f' ({failed} failed)' if failed else ''} |"
        )
    L.append("")
    for key in PAYLOADS:
        r = wp.get("ratios", {}).get(key)
        if r:
            L.append(f"- {key}: **mamdl ÷ best other ({r['best_other']}) = {r['ratio']:.2f}×** (medians)")
    m = wp["clients"].get("mamdl", {})
    phases = []
    for key in PAYLOADS:
        c = m.get(key, {})
        if c.get("median_start_to_add_s") is not None and c.get("median_finished_to_exit_s") is not None:
            phases.append(
                f"{key} {c['median_start_to_add_s']:.2f} / {c['median_add_to_finished_s']:.2f} / "
                f"{c['median_finished_to_exit_s']:.2f} s"
            )
    if phases:
        L.append(
            "- Where `mam download`'s time goes (medians, from the service's log): command start → the service adds "
            "the torrent (CLI start-up, hand-off) / add → the engine's `finished` (the bytes) / `finished` → "
            "command exit (following the status, exiting): " + "; ".join(phases)
        )
    cold = wp.get("mamdl_cold", {})
    if cold:
        parts = []
        for key, rec in cold.items():
            if "error" in rec:
                parts.append(f"{key} failed ({rec['error'][:80]})")
            else:
                parts.append(f"{key} {rec['mibps']:.0f} MiB/s ({rec['seconds']:.2f} s)")
        L.append(
            "- Cold, one run per payload (no service running, `auto_serve` on: the command starts it; not used "
            "in the ratio, since the other daemons are already running): " + "; ".join(parts)
        )
    if wp.get("serve_peak_rss_mib"):
        L.append(f"- Peak RSS of `mam serve` over the part (VmHWM at its end): **{wp['serve_peak_rss_mib']:.0f} MiB**")
    L.append("")


def _seeding_section(L: list[str], res: dict[str, Any]) -> None:
    sd = res["seeding"]
    L.append(
        f"## Seeding at scale: one seeder, {sd['leechers']} leechers at once ({sd['size_mib']} MiB, "
        f"{sd['rounds']} round(s))"
    )
    L.append("")
    L.append(
        "Aggregate upload = leechers × size ÷ (last leecher complete − dial). The leechers are plain libtorrent "
        "sessions given the torrent without its tracker, dialling only the seeder (no trading among "
        "themselves); each copy verified by SHA-256. Seeder peak RSS: its VmHWM at the end (checking the data "
        "plus serving every leecher)."
    )
    L.append("")
    L.append("| seeder | aggregate upload median MiB/s | min | max | seeder peak RSS MiB (max) | ok runs |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for kind in ("mamdl", "qbittorrent"):
        if kind in sd:
            c = sd[kind]
            failed = f" ({c['failed']} failed)" if c["failed"] else ""
            L.append(
                f"| {kind} | **{fmt(c['median_mibps'])}** | {fmt(c['min_mibps'])} | {fmt(c['max_mibps'])} | "
                f"{fmt(c['max_peak_rss_mib'])} | {c['ok']}{failed} |"
            )
    L.append("")
    m, q = sd.get("mamdl", {}).get("median_mibps"), sd.get("qbittorrent", {}).get("median_mibps")
    if m and q:
        L.append(f"**mamdl ÷ qBittorrent as the seeder: {m / q:.2f}×** (medians).")
        L.append("")


def summary_block(res: dict[str, Any]) -> list[str]:
    rows = summary_rows(res)
    met = sum(1 for r in rows if r[3] is True)
    measured = sum(1 for r in rows if r[3] is not None)
    L = [
        "## Summary: issue 16's goals",
        "",
        f"{met} of {measured} measured goals met (medians; the tables below give min–max and every run).",
        "",
        "| goal | measured | target | |",
        "|---|---|---|---|",
    ]
    for what, val, target, ok in rows:
        L.append(f"| {what} | {val} | {target} | {'–' if ok is None else ('met' if ok else '**not met**')} |")
    L.append("")
    return L


def _tuning_table(L: list[str], variants: dict) -> None:
    """One engine-tuning table; the first variant is the baseline for the "vs default" column."""
    L.append(
        "| variant | median MiB/s | min | max | CPU s per GiB | peak RSS MiB | peak anon / file-backed RSS MiB | vs default |"
    )
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = next(iter(variants.values())).get("median_mibps")
    for label, t in variants.items():
        rel = f"{t['median_mibps'] / base:.2f}×" if base and t.get("median_mibps") else "–"
        L.append(
            f"| {label} | {fmt(t['median_mibps'])} | {fmt(t['min_mibps'])} | {fmt(t['max_mibps'])} | "
            f"{fmt(t['median_cpu_s_per_gib'], 1)} | {fmt(t.get('median_peak_rss_mib'))} | "
            f"{fmt(t.get('median_rssanon_peak_mib'))} / {fmt(t.get('median_rssfile_peak_mib'))} | {rel} |"
        )
    L.append("")


def markdown(res: dict[str, Any]) -> str:
    sz = res["sizes"]
    L: list[str] = []
    L.append(f"# mamdl benchmarks — {res['date']}{' (quick)' if res['quick'] else ''}")
    m = res["machine"]
    L.append("")
    L.append(
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_mib']} MiB RAM, Linux {m['kernel']}, "
        f"disk {m['tmp_fs']}; Python {m['python']}, libtorrent {m['libtorrent']} (mamdl {m['mamdl']})."
    )
    L.append("")
    L.extend(summary_block(res))
    if "clients" in res:
        L.append(
            f"## Download throughput (loopback, TCP only, {sz['payload_mib']:.0f} MiB private v1 torrent, "
            f"{res['rounds']} interleaved round(s))"
        )
        L.append("")
        L.append(
            "MiB/s from the seeder's first payload byte to the client's own completion signal; every run "
            "verified by SHA-256 against the source. Multi-file: the same size in "
            f"{sz['multi_files']} files; audiobook: the same size in {sz.get('audiobook_files', '?')} files "
            f"(MP3 chapters). Client order: random per round and payload, seed {res.get('seed', '?')}."
        )
        L.append("")
        L.append(
            "| client | median MiB/s | min | max | ok runs (single+multi+audiobook) | multi-file median [min–max] "
            "| audiobook median [min–max] | first byte after add (s) | MiB/s from add | CPU s per GiB |"
        )
        L.append("|---|---:|---:|---:|---:|---|---|---:|---:|---:|")
        for name, c in res["clients"].items():
            mf = c.get("multi", {})
            mtxt = (
                f"{fmt(mf.get('median_mibps'))} [{fmt(mf.get('min_mibps'))}–{fmt(mf.get('max_mibps'))}]" if mf else "–"
            )
            ab = c.get("audiobook", {})
            atxt = (
                f"{fmt(ab.get('median_mibps'))} [{fmt(ab.get('min_mibps'))}–{fmt(ab.get('max_mibps'))}]" if ab else "–"
            )
            fails = c["failed"] + (mf.get("failed", 0) if mf else 0) + (ab.get("failed", 0) if ab else 0)
            ok = (
                f"{c['ok']}"
                + (f"+{mf.get('ok', 0)}" if mf else "")
                + (f"+{ab.get('ok', 0)}" if ab else "")
                + (f" ({fails} failed)" if fails else "")
            )
            L.append(
                f"| {name} ({res['client_versions'].get(name, '')}) | **{fmt(c['median_mibps'])}** | "
                f"{fmt(c['min_mibps'])} | {fmt(c['max_mibps'])} | {ok} | {mtxt} | {atxt} | {fmt(c['median_ttfb_s'], 2)} | "
                f"{fmt(c['median_mibps_from_add'])} | {fmt(c['median_cpu_s_per_gib'], 1)} |"
            )
        for n, note in res.get("skipped_clients", {}).items():
            L.append(f"| {n} | skipped: {note} | | | | | | | | |")
        L.append("")
        best, ratio = ratio_text(res)
        if best:
            L.append(f"**mamdl vs the best other client ({best}): {ratio:.2f}×** (medians).")
            L.append("")
    if "physical" in res:
        p = res["physical"]
        L.append(
            f"**Physical limit on this machine: {p['limit_mibps']:.0f} MiB/s** = {p['size_mib']:.0f} MiB written to the "
            f"benchmark's disk without fsync ({p['write_mibps']:.0f} MiB/s, page cache, as the clients do) plus "
            f"SHA-1 of it in 512 KiB pieces ({p['sha1_mibps']:.0f} MiB/s), done one after the other. "
            f"With fsync: writes {p['write_fsync_mibps']:.0f} MiB/s, limit {p['limit_fsync_mibps']:.0f} MiB/s. "
            "This is a serial figure: a client overlapping writes and hashing on two cores can exceed it "
            f"(perfect overlap would bound it at {p['overlapped_bound_mibps']:.0f} MiB/s)."
        )
        steps = [st.get("physical_limit_mibps") for st in res.get("client_order", {}).get("rounds", [])]
        steps = [v for v in steps if v]
        if steps:
            L.append("")
            L.append(
                f"The same limit measured again right before every round and payload ({len(steps)} times, median of 2 each"
                f"): median {statistics.median(steps):.0f}, range {min(steps):.0f}–{max(steps):.0f} "
                "MiB/s. The machine's speed drifts, so the goal's ratio divides each mamdl run by the limit "
                "measured just before it; the figure above (start of the run, median of 5) is for reference."
            )
        mam = res.get("clients", {}).get("mamdl", {})
        seeder, engine = mam.get("median_seeder_cpu_s_per_gib"), mam.get("median_cpu_s_per_gib")
        if seeder and engine and mam.get("median_mibps"):
            busy = (seeder + engine) * mam["median_mibps"] / 1024
            L.append("")
            L.append(
                f"What the limit leaves out: the seeder runs on the same {res.get('machine', {}).get('cores', '?')} "
                f"cores. While mamdl downloaded the single file, the seeder used {seeder:.1f} CPU s per GiB and "
                f"mamdl's engine {engine:.1f} (SHA-1 alone is {1024 / p['sha1_mibps']:.1f}); at mamdl's "
                f"{mam['median_mibps']:.0f} MiB/s that is {busy:.1f} CPU-seconds per second."
            )
        L.append("")
    if "wholeprocess" in res:
        _wholeprocess_section(L, res)
    if "seeding" in res:
        _seeding_section(L, res)
    if "tuning" in res:
        L.append(
            f"## Engine tuning (mamdl only, {sz['payload_mib']:.0f} MiB single file, {res['tuning_rounds']} "
            "interleaved round(s))"
        )
        L.append("")
        _tuning_table(L, res["tuning"])
        if res.get("tuning_multi"):
            L.append(f"Disk back-ends on the {sz['multi_files']}-file payload (same size, same rounds):")
            L.append("")
            _tuning_table(L, res["tuning_multi"])
        if res.get("tuning_recommendation"):
            L.append(res["tuning_recommendation"])
            L.append("")
    if "memory" in res:
        mm = res["memory"]
        L.append("## Memory: mamdl's engine seeding N small torrents (one process each)")
        L.append("")
        L.append("| torrents | peak RSS MiB | RSS after settling MiB |")
        L.append("|---:|---:|---:|")
        for n, row in mm["counts"].items():
            L.append(f"| {n} | {row['peak_rss_mib']:.1f} | {row['rss_mib']:.1f} |")
        L.append("")
        L.append(
            f"**{mm['rss_per_torrent_mib'] * 1024:.0f} KiB ({mm['rss_per_torrent_mib']:.3f} MiB) of peak RSS per added "
            f"torrent** (steady: {mm['rss_per_torrent_steady_mib'] * 1024:.0f} KiB"
            + (
                f"; least-squares slope over every count: {mm['rss_per_torrent_fit_mib'] * 1024:.0f} KiB"
                if mm.get("rss_per_torrent_fit_mib") is not None
                else ""
            )
            + "); the old design budgeted 50–100 MB per torrent."
        )
        L.append("")
    if "startup" in res:
        s = res["startup"]
        L.append(f"## Start-up (whole process, median of {s['repeats']})")
        L.append("")
        L.append(f"- `mam --help`: **{s['help'] * 1000:.0f} ms**")
        L.append(
            f"- `mam search -t dune --json` against a running sandbox (one real request, cache off): "
            f"**{s['search'] * 1000:.0f} ms**"
        )
        L.append("")
    if "search" in res:
        s = res["search"]
        L.append("## Search")
        L.append("")
        if "ranking_ms_1000" in s:
            L.append(
                f"- Ranking 1,000 results: **{s['ranking_ms_1000']:.1f} ms** cold (max {s['ranking_ms_1000_cold_max']:.1f}), "
                f"{s['ranking_ms_1000_warm']:.1f} ms warm (target < 50 ms)"
            )
        if "devset_top1" in s:
            L.append(
                f"- Dev set top-1: **{s['devset_top1']:.1%}** ({s['devset_hits']}/{s['devset_queries']}), "
                f"requests per query max {s.get('devset_requests_max')}, mean {s.get('devset_requests_mean')}"
            )
        L.append("")
    return "\n".join(L)


def chart(res: dict[str, Any], path: Path, clients: dict[str, Any] | None = None, title: str | None = None) -> None:
    """Bars per client and payload (median, min–max error bars). By default the throughput part with
    the physical-limit line; `clients` (same shape) and `title` draw another part without it."""
    try:
        import matplotlib
    except ImportError:  # `./dev bench` installs it (the bench extra); the tables do not need it
        log("matplotlib is not installed: no chart (`pip install -e '.[bench]'`)")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_limit = clients is None
    clients = res.get("clients", {}) if clients is None else clients
    names = [n for n, c in clients.items() if c.get("median_mibps")]
    if not names:
        return
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)
    width = 0.27
    variants = [
        ("single", "single file", "#3b75af"),
        ("multi", f"{res['sizes']['multi_files']} files", "#8fbbd9"),
        ("audiobook", f"{res['sizes'].get('audiobook_files', '?')} files (audiobook)", "#c7dcec"),
    ]
    for j, (key, label, color) in enumerate(variants):
        xs, med, lo, hi = [], [], [], []
        for i, n in enumerate(names):
            c = clients[n] if key == "single" else clients[n].get(key, {})
            if not c or not c.get("median_mibps"):
                continue
            xs.append(i + (j - (len(variants) - 1) / 2) * width)
            med.append(c["median_mibps"])
            lo.append(c["median_mibps"] - c["min_mibps"])
            hi.append(c["max_mibps"] - c["median_mibps"])
        bars = ax.bar(
            xs,
            med,
            width,
            yerr=[lo, hi],
            capsize=4,
            label=label,
            color=color,
            edgecolor="black",
            linewidth=0.5,
            error_kw={"elinewidth": 1},
        )
        for b, v, up in zip(bars, med, hi):
            ax.annotate(
                f"{v:.0f}",
                (b.get_x() + b.get_width() / 2, v + up),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    if with_limit and "physical" in res:
        lim = res["physical"]["limit_mibps"]
        ax.axhline(lim, color="#b03a2e", linestyle="--", linewidth=1)
        ax.text(
            len(names) - 0.5,
            lim,
            f"physical limit {lim:.0f} MiB/s (write + SHA-1)",
            color="#b03a2e",
            ha="right",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylabel("MiB/s (median, bars = min–max)")
    ax.set_title(
        title
        or (
            f"Loopback download of a {res['sizes']['payload_mib']:.0f} MiB private torrent, "
            f"{res['rounds']} round(s), {res['machine']['cores']} cores"
        )
    )
    ax.legend(loc="upper left", fontsize=8)
    tops = [
        clients[n][k]["max_mibps"]
        for n in names
        for k in ("multi", "audiobook")
        if clients[n].get(k, {}).get("max_mibps")
    ]
    tops += [clients[n]["max_mibps"] for n in names]
    if with_limit:
        tops.append(res.get("physical", {}).get("limit_mibps", 0))
    ax.set_ylim(0, max(tops) * 1.15)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def recommend(tune: dict[str, Any], tune_multi: dict[str, Any] | None, payload_mib: float) -> str:
    """Pick the variant with the best geometric mean of its speed-ups on the single-file and the
    multi-file payload; recommend it only if it beats the default by more than the default's own
    spread (and 10%), and never one whose memory grows with the data."""
    tune_multi = tune_multi or {}
    rows = [(label, t) for label, t in tune.items() if t.get("median_mibps")]
    if not rows:
        return ""
    base_label, base = rows[0]
    mbase = tune_multi.get(base_label, {})

    def score(label: str, t: dict[str, Any]) -> float:
        r = t["median_mibps"] / base["median_mibps"]
        m = tune_multi.get(label, {})
        if m.get("median_mibps") and mbase.get("median_mibps"):
            r = (r * m["median_mibps"] / mbase["median_mibps"]) ** 0.5
        return r

    best_label, best = max(rows, key=lambda r: score(*r))
    gain = score(best_label, best) - 1
    spread = (base["max_mibps"] - base["min_mibps"]) / base["median_mibps"]

    def line(label: str, t: dict[str, Any]) -> str:
        parts = [
            f"single file {t['median_mibps']:.0f} vs {base['median_mibps']:.0f} MiB/s "
            f"({t['median_mibps'] / base['median_mibps'] - 1:+.0%})"
        ]
        m = tune_multi.get(label, {})
        if m.get("median_mibps") and mbase.get("median_mibps"):
            parts.append(
                f"multi-file {m['median_mibps']:.0f} vs {mbase['median_mibps']:.0f} MiB/s "
                f"({m['median_mibps'] / mbase['median_mibps'] - 1:+.0%})"
            )
        if t.get("median_rssanon_peak_mib") is not None and base.get("median_rssanon_peak_mib") is not None:
            parts.append(
                f"peak RSS during the download {t.get('median_peak_rss_mib', 0):.0f} vs "
                f"{base.get('median_peak_rss_mib', 0):.0f} MiB (anonymous {t['median_rssanon_peak_mib']:.0f} vs "
                f"{base['median_rssanon_peak_mib']:.0f})"
            )
        return "; ".join(parts)

    if best_label == base_label or gain < max(0.10, spread / 2):
        return (
            f"Recommendation: keep the default ({base_label}): the best variant ({best_label}) gains "
            f"{gain:+.0%} overall, within this machine's run-to-run spread ({spread:.0%} of the default's median)."
        )
    if (
        best.get("median_peak_rss_mib")
        and base.get("median_peak_rss_mib")
        and best["median_peak_rss_mib"] - base["median_peak_rss_mib"] > max(0.75 * payload_mib, 128)
    ):
        return (
            f"Recommendation: keep the default ({base_label}). {best_label} was faster here ({line(best_label, best)}), "
            "but its memory grows with the data, which a long-running seeder cannot afford."
        )
    return (
        f"Recommendation: consider {best_label}: {line(best_label, best)}; default's spread {spread:.0%}. "
        "Not changed in src/ (report only)."
    )


# ============================================================================ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small payloads, fewer rounds (< 3 minutes)")
    ap.add_argument("--size", type=int, help="payload size in MiB (default 1024, quick 128)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds per client (default 3, quick 2)")
    ap.add_argument("--tuning-rounds", type=int, help="rounds per tuning variant (default 5, quick 2)")
    ap.add_argument(
        "--multi-files", type=int, default=None, help="files in the multi-file variant (default 24, quick 8)"
    )
    ap.add_argument(
        "--audiobook-files",
        type=int,
        default=None,
        help="files in the many-file audiobook payload (MP3 chapters + cover; default 120, quick 60)",
    )
    ap.add_argument("--seed", type=int, default=16, help="seed of the per-round random client order")
    ap.add_argument("--clients", default="mamdl,aria2,transmission,qbittorrent")
    ap.add_argument(
        "--only",
        default="throughput,wholeprocess,seeding,tuning,memory,startup,search",
        help="comma list of parts to run",
    )
    ap.add_argument("--wholeprocess-rounds", type=int, help="rounds of the whole-process part (default 3, quick 1)")
    ap.add_argument(
        "--wholeprocess-transmission-rounds",
        type=int,
        default=None,
        help="Transmission's rounds in the whole-process part (default 1, quick 0: ~15 s per run even at 128 MiB, "
        "~50 s at 1 GiB, and never the best other client)",
    )
    ap.add_argument("--seeding-size", type=int, help="MiB of the seeding-at-scale torrent (default 256, quick 64)")
    ap.add_argument("--seeding-leechers", type=int, default=4, help="leechers downloading from one seeder at once")
    ap.add_argument("--seeding-rounds", type=int, help="rounds of the seeding part (default 2, quick 1)")
    ap.add_argument("--memory-counts", default="1,50,200,1000")
    ap.add_argument("--seeder-disk-io", default="mmap", choices=["mmap", "pread", "posix"])
    ap.add_argument("--tmp", type=Path, help="where payloads and downloads go (default: system temp)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-install", action="store_true", help="never apt-get install missing clients")
    args = ap.parse_args()

    quick = args.quick
    size_mib = args.size or (128 if quick else 1024)
    rounds = args.rounds or (2 if quick else 3)
    t_rounds = args.tuning_rounds or (2 if quick else 5)
    n_files = args.multi_files or (8 if quick else 24)
    n_book = args.audiobook_files or (60 if quick else 120)
    wp_rounds = args.wholeprocess_rounds or (1 if quick else 3)
    wp_tr_rounds = (
        args.wholeprocess_transmission_rounds
        if args.wholeprocess_transmission_rounds is not None
        else (0 if quick else 1)
    )
    parts = set(args.only.split(","))
    wanted = [c for c in args.clients.split(",") if c]
    install_signal_handlers()
    t_start = time.monotonic()
    res: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "rounds": rounds,
        "tuning_rounds": t_rounds,
        "sizes": {"payload_mib": size_mib, "multi_files": n_files, "audiobook_files": n_book, "memory_torrent_mib": 1},
        "seed": args.seed,
        "method": {
            "throughput": "MiB/s = size / (client's completion signal - seeder's first payload byte); clients run "
            "in a random order per round and payload (seeded, see client_order); completion "
            "polled every 20 ms over RPC (aria2, Transmission, qBittorrent) or the engine's own "
            "'finished' event (mamdl); each client a fresh process with fresh ports per run; "
            "data verified by SHA-256 and deleted after each run",
            "physical_limit": "size / (write time without fsync + SHA-1 time), median of repeats",
            "seeder": f"libtorrent {args.seeder_disk_io} backend, high_performance_seed preset, TCP only",
            "wholeprocess": "MiB/s = size / wall time from the user's command start until the data is complete "
            "and the command has returned: `mam download FILE --to DIR` with `mam serve` already running "
            "(cold: no service, auto_serve on), one-shot `aria2c --seed-time=0`, qBittorrent/Transmission "
            "daemons already running timed from the add call to reported completion (polled every 20 ms); "
            "verified by SHA-256",
            "seeding": "aggregate upload = leechers x size / (last leecher complete - dial); leechers are plain "
            "libtorrent sessions without the tracker, dialling only the seeder; seeder peak RSS = VmHWM",
        },
    }
    tmp = Path(tempfile.mkdtemp(prefix="mamdl-bench-", dir=args.tmp))
    res["machine"] = machine_info(tmp)
    # An installed package carries its bytecode; a source checkout run with PYTHONDONTWRITEBYTECODE
    # (set here) would make every timed `mam` process compile mamdl again (~0.1 s each).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "mamdl")], check=False)
    swarm: Swarm | None = None
    interrupted = False
    try:
        need_swarm = bool(parts & {"throughput", "tuning", "wholeprocess"})
        clients: list[type[Client]] = [c for c in ALL_CLIENTS if c.name in wanted]
        if parts & {"throughput", "wholeprocess"}:
            notes = ensure_clients(args.no_install)
            skipped = {c.name: notes.get(c.binary or "", "binary not found") for c in clients if not c.available()}
            clients = [c for c in clients if c.available()]
            res["skipped_clients"] = skipped
            res["client_versions"] = {c.name: c.version() for c in clients}
            for n, why in skipped.items():
                log(f"! {n} skipped: {why}")
        if need_swarm:
            log(f"== physical limit ({size_mib} MiB, disk {res['machine']['tmp_fs']})")
            (tmp / "physical").mkdir()
            res["physical"] = physical_limit(tmp / "physical", size_mib * MiB, 5)
            p = res["physical"]
            log(
                f"  write {p['write_mibps']:.0f} MiB/s (no fsync; {p['write_fsync_mibps']:.0f} with fsync), "
                f"SHA-1 {p['sha1_mibps']:.0f} MiB/s -> limit {p['limit_mibps']:.0f} MiB/s "
                f"({p['limit_fsync_mibps']:.0f} with fsync)"
            )
            res["physical_limit_mibps"] = p["limit_mibps"]
            log("== swarm: tracker + seeder on 127.0.0.1")
            swarm = Swarm(tmp, args.seeder_disk_io)
            swarm.add_payload("single", "bench-single.bin", [size_mib * MiB])
            # throughput compares clients on it; tuning runs the disk back-ends on it
            swarm.add_payload("multi", "Bench Multi Audiobook", multi_sizes(size_mib * MiB, n_files))
            swarm.add_payload("audiobook", "Bench Many-File Audiobook", audiobook_sizes(size_mib * MiB, n_book))
        if swarm is not None:
            # One untimed download per payload: the seeder's first read of a file (page faults,
            # file pool) and the first engine start make whichever client comes first slower.
            for key in swarm.payloads:
                rec = one_run(swarm, Mamdl(), key, f"warmup-{key}")
                log(f"  warm-up {key:6s} (not counted) {describe(rec)}")
        if "throughput" in parts and swarm is not None:
            log(f"== download throughput: {', '.join(c.name for c in clients)}; {rounds} round(s)")
            res["clients"], orders = throughput(swarm, clients, ["single", "multi", "audiobook"], rounds, args.seed)
            res["client_order"] = {"seed": args.seed, "rounds": orders}
        if "wholeprocess" in parts and swarm is not None:
            from _wholeprocess import wholeprocess

            slow = {"transmission": wp_tr_rounds}
            names = [c.name for c in clients if slow.get(c.name, 1) > 0]
            log(
                f"== whole process (command start to exit; daemons already running): {', '.join(names)}; "
                f"{wp_rounds} round(s), transmission {min(wp_rounds, slow['transmission'])}"
            )
            # its own orders (seed + 1), so they are not the throughput part's orders again
            wp_orders = client_orders(names, list(swarm.payloads), wp_rounds, args.seed + 1)
            res["wholeprocess"] = wholeprocess(swarm, names, list(swarm.payloads), wp_orders, slow, log)
            res["wholeprocess"]["rounds"] = wp_rounds
            res["wholeprocess"]["transmission_rounds"] = min(wp_rounds, slow["transmission"])
            res["wholeprocess"]["client_order"] = {"seed": args.seed + 1, "rounds": wp_orders}
        if "tuning" in parts and swarm is not None:
            variants = TUNING_VARIANTS[:3] if quick else TUNING_VARIANTS
            log(f"== engine tuning (mamdl): {len(variants)} variants x {t_rounds} round(s)")
            res["tuning"] = tuning(swarm, "single", t_rounds, variants)
            if "multi" in swarm.payloads:
                disk = [v for v in variants if v[0].startswith(("default", "disk_io=", "pread + lt hashing"))]
                log(f"== engine tuning on the {n_files}-file payload: {len(disk)} variants x {t_rounds} round(s)")
                res["tuning_multi"] = tuning(swarm, "multi", t_rounds, disk)
            res["tuning_recommendation"] = recommend(res["tuning"], res.get("tuning_multi"), size_mib)
        if swarm is not None:
            swarm.close()
            swarm = None
        if "seeding" in parts:
            from _seeding import seeding

            kinds = ["mamdl"] + (["qbittorrent"] if "qbittorrent" in wanted and shutil.which("qbittorrent-nox") else [])
            s_size = args.seeding_size or (64 if quick else 256)
            s_rounds = args.seeding_rounds or (1 if quick else 2)
            log(
                f"== seeding at scale: {' vs '.join(kinds)} seeding {s_size} MiB to {args.seeding_leechers} "
                f"leechers at once; {s_rounds} round(s)"
            )
            res["seeding"] = seeding(tmp, s_size, args.seeding_leechers, s_rounds, kinds, args.seed + 2, log)
        if "memory" in parts:
            counts = [int(x) for x in args.memory_counts.split(",")]
            log(f"== memory: engine seeding {counts} torrents")
            res["memory"] = memory(tmp, counts, settle=2.0 if quick else 5.0)
            res["rss_per_torrent_mib"] = res["memory"]["rss_per_torrent_mib"]
            res["rss_mib"] = {n: row["peak_rss_mib"] for n, row in res["memory"]["counts"].items()}
        if "startup" in parts:
            log("== start-up")
            res["startup"] = startup(tmp, 3 if quick else 7)
            res["startup_s"] = {"help": res["startup"]["help"], "search": res["startup"]["search"]}
            log(
                f"  mam --help {res['startup']['help'] * 1000:.0f} ms, mam search {res['startup']['search'] * 1000:.0f} ms"
            )
        if "search" in parts:
            log("== search")
            res["search"] = search_figures()
            for k in ("ranking_ms_1000", "devset_top1"):
                if k in res["search"]:
                    res[k] = res["search"][k]
            log(f"  ranking 1,000 results {res.get('ranking_ms_1000')} ms; dev set top-1 {res.get('devset_top1')}")
    except KeyboardInterrupt:
        log("\ninterrupted: stopping every process this run started and removing its files")
        interrupted = True
    finally:
        if swarm is not None:
            try:
                swarm.close()
            except Exception:
                pass
        PROCS.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    if interrupted:
        log("stopped; no results written")
        return 130

    res["elapsed_s"] = time.monotonic() - t_start
    if "clients" in res:
        best, ratio = ratio_text(res)
        res["mamdl_vs_best_other"] = {"best_other": best, "ratio": ratio}
        res["mamdl_vs_best_other_by_payload"] = payload_ratios(res)
    res["goals"] = [{"goal": w, "measured": v, "target": t, "met": ok} for w, v, t, ok in summary_rows(res)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(dumps(res) + "\n")
    md = markdown(res)
    (args.out / "latest.md").write_text(md + "\n")
    if "clients" in res:
        chart(res, args.out / "throughput.png")
    if res.get("wholeprocess", {}).get("clients"):
        wp = res["wholeprocess"]
        chart(
            res,
            args.out / "wholeprocess.png",
            {n: {**by_key["single"], **{k: by_key[k] for k in PAYLOADS[1:]}} for n, by_key in wp["clients"].items()},
            f"Whole process, command start to exit, {res['sizes']['payload_mib']:.0f} MiB private torrent, "
            f"{wp.get('rounds', '?')} round(s)",
        )
    print()
    print(md)
    print(f"\n(wrote {args.out / 'latest.json'}, latest.md and the charts; {res['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
