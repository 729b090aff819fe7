"""The whole-process part: wall time from the user's command start until the data is complete
and the command has returned, each client the way people run it.

- mamdl through the service path: `mam serve` already running (its own MAMDL_HOME, listening on
  127.0.0.1 only, TCP, no DHT/LSD/UPnP/NAT-PMP, MAM = the project's sandbox on loopback), then
  `mam download FILE.torrent --to DIR` (the CLI hands the torrent to the service, follows it until
  it is complete and verified, and exits; the service keeps seeding). One cold figure per payload
  too: no service running, `auto_serve` on, so the command starts one.
- aria2: the one-shot `aria2c ... --seed-time=0 FILE.torrent`, start to exit.
- qBittorrent and Transmission: their daemon already running (started once, untimed), from the add
  call to the client reporting the torrent complete (RPC polled every 20 ms).

Every result is verified by SHA-256 of every file against the source. See bench/README.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _clients import ClientError, QBittorrent, Transmission, aria2_swarm_flags
from _util import PROCS, MiB, free_port, proc_hwm_mib, start_sandbox, summary, verify

DAEMONS = {"qbittorrent": QBittorrent, "transmission": Transmission}
PHASES = ("start_to_add_s", "add_to_finished_s", "finished_to_exit_s")


def mam_binary() -> Path:
    mam = Path(sys.executable).parent / "mam"
    return mam if mam.exists() else Path(shutil.which("mam") or "mam")


class MamdlService:
    """`mam serve` in its own state folder, the way a user's service runs; `mam download` is timed
    against it. The config written here is what a loopback-only install would set: the listen
    address (`listen_interfaces`), uTP off (`enable_utp`), no port mapping (`port_mapping`); DHT and
    LSD are always off in mamdl. MAM is the project's sandbox (`MAM_BASE_URL`/`MAM_ID` in the
    environment), so the service's own MAM checks stay on loopback too."""

    def __init__(self, home: Path, sandbox_env: dict[str, str]) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        cfg = home / "config.toml"
        cfg.write_text(
            "\n".join(
                [
                    'listen_interfaces = "127.0.0.1:0"',
                    "enable_utp = false",
                    "port_mapping = false",
                    "auto_serve = true",
                    'api_host = "127.0.0.1"',
                    "api_port = 0",
                    "seedbox_auto = false",
                    "",
                ]
            )
        )
        cfg.chmod(0o600)
        self.env = dict(os.environ, **sandbox_env, MAMDL_HOME=str(home), NO_COLOR="1")
        self.mam = mam_binary()
        self.proc: subprocess.Popen | None = None
        self.peak_rss_mib: float | None = None
        self.last_wall = (0.0, 0.0)
        self._log = home / "bench-serve.log"

    # -------------------------------------------------------------- the service

    def info(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.home / "serve.json").read_text())
        except (OSError, ValueError):
            return None

    def _api(self, method: str, path: str) -> tuple[int, bytes]:
        info = self.info()
        if info is None:
            raise ClientError("mamdl: no serve.json (service not running)")
        import urllib.error
        import urllib.request

        req = urllib.request.Request(
            info["url"].rstrip("/") + path, method=method, headers={"Authorization": f"Bearer {info['token']}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def start(self, timeout: float = 60.0) -> None:
        """Start `mam serve` (untimed) and wait until its API answers."""
        with open(self._log, "ab") as log:
            self.proc = PROCS.start([str(self.mam), "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ClientError(f"mam serve exited with {self.proc.returncode}: {self._tail()}")
            info = self.info()
            if info is not None and info.get("pid") == self.proc.pid:
                try:
                    if self._api("GET", "/api/health")[0] == 200:
                        return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise ClientError(f"mam serve not ready after {timeout:.0f} s: {self._tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the service this part started (SIGTERM: it saves and exits); its peak RSS first."""
        if self.proc is not None:
            self.peak_rss_mib = proc_hwm_mib(self.proc.pid)
            PROCS.stop(self.proc, timeout=30)
            self.proc = None

    def stop_detached(self) -> None:
        """Stop a service `mam download` started on its own (cold run), with the project's command."""
        subprocess.run([str(self.mam), "service", "stop"], env=self.env, capture_output=True, timeout=90)
        info = self.info()
        if info is None:
            return
        pid = int(info.get("pid", 0))
        try:  # still there: make sure nothing outlives the part (only if that pid is still a mamdl serve)
            if pid > 0 and b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def remove(self, info_hash: str) -> None:
        """Take the torrent out of the service (data kept; the run's folder is deleted after), so the
        next run downloads it afresh."""
        code, body = self._api("DELETE", f"/api/torrents/{info_hash}")
        if code != 200:
            raise ClientError(f"mamdl: removing {info_hash[:8]} failed: HTTP {code} {body[:200]!r}")

    def phases(self, info_hash: str, name: str) -> dict[str, float]:
        """Where the last command's wall time went, from the service's own log (millisecond
        timestamps, same clock): command start -> the service adds the torrent (CLI start-up and
        hand-off), add -> the engine's `finished` (the bytes), `finished` -> command exit (following
        the status until the command sees it complete, and exiting). Empty if the lines are missing."""
        t0, t1 = self.last_wall
        added = finished = None
        try:
            lines = (self.home / "logs" / "mamdl.log").read_text(errors="replace").splitlines()
        except OSError:
            return {}
        for ln in lines:
            try:
                ts = dt.datetime.strptime(ln[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            except ValueError:
                continue
            if ts < t0 - 0.01 or ts > t1 + 0.01:
                continue
            if added is None and f"added {name} ({info_hash}," in ln:
                added = ts
            elif added is not None and finished is None and f"{name} finished downloading" in ln:
                finished = ts
        if added is None or finished is None:
            return {}
        return {
            "start_to_add_s": added - t0,
            "add_to_finished_s": finished - added,
            "finished_to_exit_s": t1 - finished,
        }

    def _tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-400:].strip()
        except OSError:
            return ""

    # -------------------------------------------------------------- one timed command

    def download(self, torrent: Path, dest: Path, timeout: float) -> float:
        """Wall time of `mam download TORRENT --to DEST`, from start to exit."""
        with open(dest.parent / "mam-download.log", "wb") as log:
            t0, t0_wall = time.monotonic(), time.time()
            p = PROCS.start(
                [str(self.mam), "download", str(torrent), "--to", str(dest)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                raise ClientError(f"mam download not finished after {timeout:.0f} s") from None
            finally:
                t1, t1_wall = time.monotonic(), time.time()
                PROCS.stop(p)
        self.last_wall = (t0_wall, t1_wall)
        if rc != 0:
            tail = (dest.parent / "mam-download.log").read_text(errors="replace")[-400:].strip()
            raise ClientError(f"mam download exited {rc}: {tail}")
        return t1 - t0


def aria2_oneshot(torrent: Path, dest: Path, timeout: float) -> float:
    """Wall time of a one-shot `aria2c` (flags as in bench/clients.md, no RPC), start to exit."""
    argv = ["aria2c", *aria2_swarm_flags(free_port(), dest), str(torrent)]
    with open(dest.parent / "aria2.log", "wb") as log:
        t0 = time.monotonic()
        p = PROCS.start(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ClientError(f"aria2c not finished after {timeout:.0f} s") from None
        finally:
            t1 = time.monotonic()
            PROCS.stop(p)
    if rc != 0:
        tail = (dest.parent / "aria2.log").read_text(errors="replace")[-400:].strip()
        raise ClientError(f"aria2c exited {rc}: {tail}")
    return t1 - t0


def daemon_run(client: Any, swarm: Any, key: str, dest: Path, timeout: float) -> float:
    """A daemon that is already running: from the add call until it reports the torrent complete."""
    pl, tp = swarm.payloads[key], swarm.torrent_paths[key]
    t0 = time.monotonic()
    client.add(pl, tp, dest)
    client.kick(swarm.seeder, pl)
    client.wait_done(timeout)
    t1 = time.monotonic()
    client.remove()
    return t1 - t0


def _stats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    s = summary([r["mibps"] for r in ok])
    return {
        "median_mibps": s["median"],
        "min_mibps": s["min"],
        "max_mibps": s["max"],
        "median_s": summary([r["seconds"] for r in ok])["median"],
        "ok": len(ok),
        "failed": len(runs) - len(ok),
        **{f"median_{k}": summary([r[k] for r in ok if k in r])["median"] for k in PHASES if any(k in r for r in ok)},
        "runs": runs,
    }


def ratios(by_client: dict[str, dict[str, Any]], keys: list[str]) -> dict[str, dict[str, Any]]:
    """mamdl's median ÷ the best other client's median, per payload."""
    out: dict[str, dict[str, Any]] = {}
    for key in keys:
        mam = by_client.get("mamdl", {}).get(key, {}).get("median_mibps")
        others = {
            n: c[key]["median_mibps"]
            for n, c in by_client.items()
            if n != "mamdl" and c.get(key, {}).get("median_mibps")
        }
        if mam and others:
            best = max(others, key=lambda n: others[n])
            out[key] = {"best_other": best, "ratio": mam / others[best]}
    return out


def wholeprocess(
    swarm: Any,
    names: list[str],
    keys: list[str],
    orders: list[dict[str, Any]],
    slow_rounds: dict[str, int],
    log: Any,
) -> dict[str, Any]:
    """Every client on every payload in the given (seeded, shuffled) orders; `slow_rounds` caps
    the rounds of a client (Transmission: ~50 s per GiB, never the best other client)."""
    tmp: Path = swarm.tmp / "wholeprocess"
    tmp.mkdir(parents=True, exist_ok=True)
    sb, sandbox_env = start_sandbox(tmp)
    svc: MamdlService | None = None
    daemons: dict[str, Any] = {}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {n: {k: [] for k in keys} for n in names}
    out: dict[str, Any] = {}
    try:
        if "mamdl" in names:
            svc = MamdlService(tmp / "mamdl-home", sandbox_env)
            svc.start()
            log(f"  mam serve running (pid {svc.proc.pid if svc.proc else '?'}, MAMDL_HOME {svc.home})")
        for n in names:
            if n in DAEMONS:
                c = DAEMONS[n]()
                wd = tmp / f"daemon-{n}"
                (wd / "default").mkdir(parents=True)
                c.start(wd, wd / "default", swarm.torrent_paths[keys[0]])
                daemons[n] = c
                log(f"  {n} daemon running (pid {c.proc.pid if c.proc else '?'})")
        for step in orders:
            r, key = step["round"], step["key"]
            for name in step["clients"]:
                if name not in names or r > slow_rounds.get(name, r):
                    continue
                rec = _one(swarm, name, key, f"{name}-{key}-{r}", svc, daemons.get(name))
                rec["round"] = r
                runs[name][key].append(rec)
                log(f"  round {r} {key:9s} {name:12s} {_describe(rec)}")
        if svc is not None:
            svc.stop()  # its peak RSS (VmHWM) is read first
            out["serve_peak_rss_mib"] = svc.peak_rss_mib
            log(f"  mam serve stopped; its peak RSS over the part: {svc.peak_rss_mib:.0f} MiB")
            cold: dict[str, Any] = {}
            for key in keys:
                rec = _one(swarm, "mamdl", key, f"mamdl-cold-{key}", svc, None, cold=True)
                cold[key] = rec
                log(f"  cold      {key:9s} mamdl        {_describe(rec)} (service started by the command)")
            out["mamdl_cold"] = cold
    finally:
        for c in daemons.values():
            try:
                c.stop()
            except Exception:
                pass
        if svc is not None:
            svc.stop()
        PROCS.stop(sb)
    out["clients"] = {n: {k: _stats(runs[n][k]) for k in keys} for n in names}
    out["ratios"] = ratios(out["clients"], keys)
    return out


def _one(
    swarm: Any, name: str, key: str, tag: str, svc: MamdlService | None, daemon: Any, cold: bool = False
) -> dict[str, Any]:
    pl, tp = swarm.payloads[key], swarm.torrent_paths[key]
    wd = swarm.tmp / "wholeprocess" / "runs" / tag
    dest = wd / "data"
    dest.mkdir(parents=True)
    timeout = 60 + pl.size / (4 * MiB)
    rec: dict[str, Any] = {"client": name, "variant": key, "tag": tag}
    try:
        if name == "mamdl":
            assert svc is not None
            seconds = svc.download(tp, dest, timeout)
            rec.update(svc.phases(pl.info_hash, pl.name))
            if cold:
                info = svc.info() or {}
                rec["cold_serve_pid"] = info.get("pid")
                rec["cold_serve_peak_rss_mib"] = proc_hwm_mib(int(info["pid"])) if info.get("pid") else None
            svc.remove(pl.info_hash)
        elif name == "aria2":
            seconds = aria2_oneshot(tp, dest, timeout)
        else:
            seconds = daemon_run(daemon, swarm, key, dest, timeout)
        rec.update({"seconds": seconds, "mibps": pl.size / MiB / seconds})
    except Exception as exc:
        rec["error"] = str(exc)[:500]
    finally:
        if cold and svc is not None:
            svc.stop_detached()
    if "error" not in rec:
        bad = verify(pl, dest)
        rec["verified"] = bad is None
        if bad:
            rec["error"] = f"verification failed: {bad}"
    shutil.rmtree(wd, ignore_errors=True)
    swarm.tracker.forget_except(swarm.seeder.port)
    os.sync()
    return rec


def _describe(rec: dict[str, Any]) -> str:
    if "error" in rec:
        return f"FAILED: {rec['error']}"
    ph = ""
    if all(k in rec for k in PHASES):
        ph = (
            f"; start->add {rec['start_to_add_s']:.2f} s, add->finished {rec['add_to_finished_s']:.2f} s, "
            f"finished->exit {rec['finished_to_exit_s']:.2f} s"
        )
    return f"{rec['mibps']:6.0f} MiB/s ({rec['seconds']:.2f} s command start to done{ph}) verified"
