"""The four download clients, driven the same way: start fresh on 127.0.0.1 (new config, new
ports), add a torrent, poll the client's own completion signal, stop.

Recipes follow bench/clients.md: DHT, LSD/LPD, PEX, uTP and port mapping off
everywhere; completion read through each client's RPC (never process exit); Transmission is
dialled by the seeder because it ignores 127.x peers from a tracker.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _util import PROCS, Payload, free_port, http, multipart, wait_port

HERE = Path(__file__).resolve().parent
POLL = 0.02  # seconds between completion polls (RPC clients)


class ClientError(RuntimeError):
    pass


class Client:
    name = "?"
    binary: str | None = None

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self.log: Any = None

    @classmethod
    def available(cls) -> bool:
        return cls.binary is None or shutil.which(cls.binary) is not None

    @classmethod
    def version(cls) -> str:
        return ""

    def start(self, workdir: Path, dest: Path, torrent_path: Path) -> None:
        raise NotImplementedError

    def add(self, payload: Payload, torrent_path: Path, dest: Path) -> None:
        raise NotImplementedError

    def kick(self, seeder: Any, payload: Payload) -> None:
        """After add: anything the swarm needs to find this client (Transmission: a dial)."""

    def poll_done(self) -> bool:
        raise NotImplementedError

    def wait_done(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.poll_done():
            if self.proc is not None and self.proc.poll() is not None:
                raise ClientError(f"{self.name} exited with {self.proc.returncode}{self._log_tail()}")
            if time.monotonic() > deadline:
                raise ClientError(f"{self.name}: not complete after {timeout:.0f} s ({self.progress()})")
            time.sleep(POLL)

    def progress(self) -> str:
        return "?"

    def remove(self, timeout: float = 30.0) -> None:
        """Drop the torrent added last (data kept: the bench deletes the run's folder itself) and
        wait until the client no longer lists it, so a long-running client can take the same
        torrent again in the next run (the whole-process part keeps daemons running)."""
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None:
            PROCS.stop(self.proc, timeout=10)
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def _spawn(self, argv: list[str], **kw: Any) -> subprocess.Popen:
        assert self.workdir is not None
        self.log = open(self.workdir / f"{self.name}.log", "wb")
        kw.setdefault("stdout", self.log)
        kw.setdefault("stderr", subprocess.STDOUT)
        self.proc = PROCS.start(argv, **kw)
        return self.proc

    def _log_tail(self) -> str:
        if self.workdir is None:
            return ""
        p = self.workdir / f"{self.name}.log"
        try:
            tail = p.read_text(errors="replace")[-600:].strip()
        except OSError:
            return ""
        return f"; log: {tail}" if tail else ""


# ---------------------------------------------------------------------------- mamdl


class Mamdl(Client):
    """mamdl's Engine (EngineConfig.loopback() + overrides) in a child process, see _mamdl_leech.py."""

    name = "mamdl"

    def __init__(
        self, config: dict[str, Any] | None = None, lt_extra: dict[str, Any] | None = None, label: str = "mamdl"
    ) -> None:
        super().__init__()
        self.config = config or {}
        self.lt_extra = lt_extra or {}
        self.label = label
        self.maxrss_kib: int | None = None
        self.done_info: dict[str, Any] = {}
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()

    @classmethod
    def version(cls) -> str:
        from importlib import metadata

        return f"mamdl {metadata.version('mamdl')}, libtorrent {metadata.version('libtorrent')}"

    def start(self, workdir: Path, dest: Path, torrent_path: Path) -> None:
        self.workdir = workdir
        argv = [
            sys.executable,
            str(HERE / "_mamdl_leech.py"),
            str(workdir / "state"),
            str(dest),
            str(torrent_path),
            json.dumps(self.config),
            json.dumps(self.lt_extra),
        ]
        self.log = open(workdir / f"{self.name}.log", "wb")
        self.proc = PROCS.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        threading.Thread(target=self._reader, args=(self.proc,), daemon=True).start()
        msg = self._next(60)
        if "ready" not in msg:
            raise ClientError(f"mamdl engine did not start: {msg}{self._log_tail()}")

    def add(self, payload: Payload, torrent_path: Path, dest: Path) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def _reader(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            try:
                self._lines.put(json.loads(line))
            except ValueError:
                pass
        self._lines.put(None)

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            msg = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise ClientError(f"mamdl: no answer within {timeout:.0f} s{self._log_tail()}") from None
        if msg is None:
            raise ClientError(f"mamdl engine process ended{self._log_tail()}")
        return msg

    def wait_done(self, timeout: float) -> None:
        msg = self._next(timeout)
        if "done" not in msg:
            raise ClientError(f"mamdl: {msg}")
        self.done_info = msg

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                msg = self._next(30)  # closed: resume data saved, files closed
                self.maxrss_kib = msg.get("maxrss_kib")
            except (OSError, ClientError):
                pass
        super().stop()


# ---------------------------------------------------------------------------- aria2


def aria2_swarm_flags(listen_port: int, dest: Path) -> list[str]:
    """aria2's flags from bench/clients.md, shared by the RPC daemon of the throughput part and the
    one-shot `aria2c` of the whole-process part, so both runs measure the same client."""
    return [
        f"--listen-port={listen_port}",
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--interface=127.0.0.1",
        "--disable-ipv6=true",
        "--seed-time=0",
        f"--dir={dest}",
        "--file-allocation=none",
        "--bt-save-metadata=false",
        "--auto-save-interval=0",
        "--console-log-level=warn",
        "--summary-interval=0",
        "--check-certificate=false",
        f"--stop-with-process={os.getpid()}",
        "--no-conf=true",
    ]


class Aria2(Client):
    name = "aria2"
    binary = "aria2c"

    @classmethod
    def version(cls) -> str:
        out = subprocess.run(["aria2c", "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else ""

    def start(self, workdir: Path, dest: Path, torrent_path: Path) -> None:
        self.workdir = workdir
        self.rpc = free_port()
        self.bt_port = free_port()
        self._spawn(
            [
                "aria2c",
                "--enable-rpc",
                "--rpc-listen-all=false",
                f"--rpc-listen-port={self.rpc}",
                "--rpc-save-upload-metadata=false",
                *aria2_swarm_flags(self.bt_port, dest),
            ]
        )
        wait_port(self.rpc, proc=self.proc)

    def _call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": "b", "method": method, "params": list(params)}).encode()
        code, _, data = http(f"http://127.0.0.1:{self.rpc}/jsonrpc", body, {"Content-Type": "application/json"})
        out = json.loads(data)
        if "error" in out:
            raise ClientError(f"aria2 {method}: {out['error']}")
        return out["result"]

    def add(self, payload: Payload, torrent_path: Path, dest: Path) -> None:
        self.gid = self._call("aria2.addTorrent", base64.b64encode(payload.torrent).decode(), [], {"dir": str(dest)})

    def _status(self) -> dict[str, Any]:
        return self._call("aria2.tellStatus", self.gid, ["status", "completedLength", "totalLength", "errorMessage"])

    def poll_done(self) -> bool:
        st = self._status()
        if st.get("status") == "error":
            raise ClientError(f"aria2: {st.get('errorMessage')}")
        total = int(st["totalLength"])
        return total > 0 and int(st["completedLength"]) == total

    def progress(self) -> str:
        try:
            st = self._status()
            return f"{int(st['completedLength']) / max(1, int(st['totalLength'])):.0%} {st['status']}"
        except Exception as exc:
            return str(exc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self._call("aria2.forceShutdown")
                self.proc.wait(5)
            except Exception:
                pass
        super().stop()


# ---------------------------------------------------------------------------- Transmission


class Transmission(Client):
    name = "transmission"
    binary = "transmission-daemon"

    @classmethod
    def version(cls) -> str:
        p = subprocess.run(["transmission-daemon", "--version"], capture_output=True, text=True)
        return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr) else ""

    def start(self, workdir: Path, dest: Path, torrent_path: Path) -> None:
        self.workdir = workdir
        self.rpc = free_port()
        self.peer_port = free_port()
        cfg = workdir / "transmission"
        cfg.mkdir(parents=True, exist_ok=True)
        settings = {
            "bind-address-ipv4": "127.0.0.1",
            "bind-address-ipv6": "::1",
            "rpc-enabled": True,
            "rpc-bind-address": "127.0.0.1",
            "rpc-port": self.rpc,
            "rpc-whitelist": "127.0.0.1",
            "rpc-whitelist-enabled": True,
            "rpc-host-whitelist-enabled": False,
            "rpc-authentication-required": False,
            "dht-enabled": False,
            "lpd-enabled": False,
            "pex-enabled": False,
            "utp-enabled": False,
            "port-forwarding-enabled": False,
            "peer-port": self.peer_port,
            "peer-port-random-on-start": False,
            "download-dir": str(dest),
            "incomplete-dir-enabled": False,
            "rename-partial-files": False,
            "start-added-torrents": True,
            "speed-limit-down-enabled": False,
            "speed-limit-up-enabled": False,
            "alt-speed-enabled": False,
            "alt-speed-time-enabled": False,
            "download-queue-enabled": False,
            "seed-queue-enabled": False,
            "queue-stalled-enabled": False,
            "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False,
            "watch-dir-enabled": False,
            "blocklist-enabled": False,
            "script-torrent-done-enabled": False,
            "trash-original-torrent-files": False,
            "encryption": 0,
            "preallocation": 1,
            "peer-limit-global": 200,
            "peer-limit-per-torrent": 60,
            "message-level": 1,
            "umask": 18,
        }
        (cfg / "settings.json").write_text(json.dumps(settings, indent=1))
        self._sid = ""
        self._spawn(["transmission-daemon", "-f", "-g", str(cfg)])
        wait_port(self.rpc, proc=self.proc)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        for _ in range(3):
            code, headers, data = http(
                f"http://127.0.0.1:{self.rpc}/transmission/rpc",
                body,
                {"X-Transmission-Session-Id": self._sid, "Content-Type": "application/json"},
            )
            if code == 409:
                self._sid = headers.get("X-Transmission-Session-Id", "")
                continue
            out = json.loads(data)
            if out.get("result") != "success":
                raise ClientError(f"transmission {method}: {out.get('result')}")
            return out.get("arguments", {})
        raise ClientError("transmission: no RPC session id")

    def add(self, payload: Payload, torrent_path: Path, dest: Path) -> None:
        out = self._call(
            "torrent-add",
            metainfo=base64.b64encode(payload.torrent).decode(),
            **{"download-dir": str(dest), "paused": False},
        )
        t = out.get("torrent-added") or out.get("torrent-duplicate")
        self.tid = t["id"]

    def kick(self, seeder: Any, payload: Payload) -> None:
        """Transmission 3.00 ignores 127.x peers from a tracker: the seeder dials it, once the
        torrent is downloading (a dial before that is refused), and again every second until
        bytes flow (see poll_done)."""
        self._seeder, self._ih = seeder, payload.info_hash
        self._last_dial = 0.0
        deadline = time.monotonic() + 10
        while self._status()["status"] != 4 and time.monotonic() < deadline:  # 4 = downloading
            time.sleep(POLL)
        self._dial()

    def _dial(self) -> None:
        self._seeder.connect(self._ih, self.peer_port)
        self._last_dial = time.monotonic()

    def _status(self) -> dict[str, Any]:
        ts = self._call(
            "torrent-get",
            ids=[self.tid],
            fields=["leftUntilDone", "sizeWhenDone", "percentDone", "status", "error", "errorString", "peersConnected"],
        )
        return ts["torrents"][0]

    def poll_done(self) -> bool:
        t = self._status()
        if t.get("error") in (3,):  # local error
            raise ClientError(f"transmission: {t.get('errorString')}")
        if t["peersConnected"] == 0 and time.monotonic() - self._last_dial > 1.0:
            self._dial()
        return t["sizeWhenDone"] > 0 and t["leftUntilDone"] == 0

    def remove(self, timeout: float = 30.0) -> None:
        self._call("torrent-remove", ids=[self.tid], **{"delete-local-data": False})
        deadline = time.monotonic() + timeout
        while self._call("torrent-get", ids=[self.tid], fields=["id"]).get("torrents"):
            if time.monotonic() > deadline:
                raise ClientError(f"transmission: torrent {self.tid} still listed {timeout:.0f} s after removal")
            time.sleep(POLL)

    def progress(self) -> str:
        try:
            t = self._status()
            return f"{t['percentDone']:.0%} status {t['status']} {t.get('errorString', '')}"
        except Exception as exc:
            return str(exc)


# ---------------------------------------------------------------------------- qBittorrent


class QBittorrent(Client):
    name = "qbittorrent"
    binary = "qbittorrent-nox"

    def __init__(self, extra_bittorrent: list[str] | None = None) -> None:
        super().__init__()
        # more `[BitTorrent]` lines (the seeding part lets several leechers on 127.0.0.1 in at once)
        self.extra_bittorrent = extra_bittorrent or []

    @classmethod
    def version(cls) -> str:
        p = subprocess.run(["qbittorrent-nox", "--version"], capture_output=True, text=True)
        return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr) else ""

    def start(self, workdir: Path, dest: Path, torrent_path: Path) -> None:
        self.workdir = workdir
        self.web = free_port()
        self.bt_port = free_port()
        prof = workdir / "qbt"
        conf = prof / "qBittorrent" / "config"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "qBittorrent.conf").write_text(
            "\n".join(
                [
                    "[LegalNotice]",
                    "Accepted=true",
                    "",
                    "[BitTorrent]",
                    f"Session\\Port={self.bt_port}",
                    "Session\\Interface=lo",
                    "Session\\InterfaceName=lo",
                    "Session\\InterfaceAddress=127.0.0.1",
                    "Session\\DHTEnabled=false",
                    "Session\\LSDEnabled=false",
                    "Session\\PeXEnabled=false",
                    "Session\\BTProtocol=TCP",
                    "Session\\RefreshInterval=100",
                    "Session\\QueueingSystemEnabled=false",
                    "Session\\AddTorrentPaused=false",
                    f"Session\\DefaultSavePath={dest}",
                    "Session\\TempPathEnabled=false",
                    "Session\\AddExtensionToIncompleteFiles=false",
                    "Session\\Preallocation=false",
                    "Session\\Encryption=0",
                    "Session\\AnonymousModeEnabled=false",
                    "Session\\GlobalMaxRatio=-1",
                    "Session\\GlobalMaxSeedingMinutes=-1",
                    *self.extra_bittorrent,
                    "",
                    "[Network]",
                    "PortForwardingEnabled=false",
                    "",
                    "[Preferences]",
                    "WebUI\\Enabled=true",
                    "WebUI\\Address=127.0.0.1",
                    f"WebUI\\Port={self.web}",
                    "WebUI\\LocalHostAuth=false",
                    "WebUI\\HostHeaderValidation=false",
                    "WebUI\\CSRFProtection=false",
                    "WebUI\\ClickjackingProtection=false",
                    "WebUI\\UseUPnP=false",
                    "Connection\\UPnP=false",
                    f"Connection\\PortRangeMin={self.bt_port}",
                    "Bittorrent\\DHT=false",
                    "Bittorrent\\LSD=false",
                    "Bittorrent\\PeX=false",
                    "General\\Locale=en",
                    "",
                ]
            )
        )
        env = dict(
            os.environ, HOME=str(prof), XDG_CONFIG_HOME=str(prof), XDG_DATA_HOME=str(prof), XDG_CACHE_HOME=str(prof)
        )
        self._spawn(["qbittorrent-nox", f"--profile={prof}", f"--webui-port={self.web}"], env=env)
        wait_port(self.web, proc=self.proc)
        deadline = time.monotonic() + 15
        while True:
            try:
                code, _, _ = http(self._url("/api/v2/app/version"))
                if code == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ClientError(f"qbittorrent: WebUI API not answering{self._log_tail()}")
            time.sleep(0.05)

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web}{path}"

    def add(self, payload: Payload, torrent_path: Path, dest: Path) -> None:
        self.hash = payload.info_hash
        body, ctype = multipart(
            {"savepath": str(dest), "paused": "false", "root_folder": "true", "contentLayout": "Original"},
            {"torrents": (torrent_path.name, payload.torrent)},
        )
        code, _, data = http(self._url("/api/v2/torrents/add"), body, {"Content-Type": ctype})
        if code != 200 or b"Fails" in data:
            raise ClientError(f"qbittorrent add: HTTP {code} {data[:200]!r}")

    def _info(self) -> dict[str, Any] | None:
        code, _, data = http(self._url(f"/api/v2/torrents/info?hashes={self.hash}"))
        rows = json.loads(data) if code == 200 else []
        return rows[0] if rows else None

    def poll_done(self) -> bool:
        t = self._info()
        if t is None:
            return False
        if t.get("state") in ("error", "missingFiles"):
            raise ClientError(f"qbittorrent: state {t['state']}")
        return t["amount_left"] == 0 and t["progress"] >= 1.0

    def remove(self, timeout: float = 30.0) -> None:
        body = f"hashes={self.hash}&deleteFiles=false".encode()
        code, _, data = http(
            self._url("/api/v2/torrents/delete"), body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if code != 200:
            raise ClientError(f"qbittorrent delete: HTTP {code} {data[:200]!r}")
        deadline = time.monotonic() + timeout
        while self._info() is not None:
            if time.monotonic() > deadline:
                raise ClientError(f"qbittorrent: {self.hash} still listed {timeout:.0f} s after removal")
            time.sleep(POLL)

    def progress(self) -> str:
        try:
            t = self._info()
            return "not added" if t is None else f"{t['progress']:.0%} {t['state']}"
        except Exception as exc:
            return str(exc)


ALL_CLIENTS: list[type[Client]] = [Mamdl, Aria2, Transmission, QBittorrent]
